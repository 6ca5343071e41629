/**
 * The kustomize layout a hand-off writes into the GitOps repository, one folder per model:
 *
 *   <root>/<name>/base/                    InferenceService without storage (and the llama.cpp runtime)
 *   <root>/<name>/overlays/<env>/          the Namespace, the digest and registry ids this environment runs
 *   <root>/<name>/policy/<env>/            the admission policy (cluster-scoped, outside the overlays' namespace)
 *   <root>/<name>/delivery/<env>/          the environment's entry point: Flux objects or one Argo CD
 *                                          Application that reconcile itself, the policy, then the overlay
 */
import { posix } from 'node:path';
import { parse as parseYaml, stringify } from 'yaml';
import { ModelshipError } from '../errors/index.js';
import { admissionPolicy, POLICY_CONTROLLER_INCLUDE_LABEL } from './admission.js';
import type { CompatPlan } from './compat.js';
import { assertManifestsValid } from './crd-validate.js';
import { argoApplication, COSIGN_KEY_FILE, fluxObjects, type DeliveryInput } from './delivery.js';
import { assertDeploymentName, type AdmissionPolicy, type Delivery, type Environment, type ModelDeployment, type SignerIdentity } from './model-ref.js';
import { baseInferenceService, inferenceServicePin, llamaCppServingRuntime, mergeObjects } from './serving.js';

type Obj = Record<string, unknown>;

export interface LayoutFile {
  /** Path inside the GitOps repository (POSIX). */
  path: string;
  text: string;
  /** The Kubernetes objects the file holds, for validation. */
  objects?: Obj[];
}

export interface LayoutInput {
  deployment: ModelDeployment;
  env: Environment;
  delivery: Delivery;
  policy: AdmissionPolicy;
  identity: SignerIdentity;
  /** Folder inside the repository that holds one folder per model (default "models"). */
  root: string;
  repositoryUrl: string;
  branch: string;
  insecureRegistry?: boolean;
  probeLayerMediaType?: string;
  /** The manifest Flux verifies (the ModelPack manifest; inside the index for a ModelCar). */
  verifyDigest: string;
  /** What the cluster's releases run (compat.ts). */
  plan: CompatPlan;
  /** The MOF class the hand-off's gate required, recorded on the admission policy. */
  mofMinimum?: 1 | 2 | 3;
}

const KUSTOMIZE_API = { apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization' };
const HEADER = '# Written by modelship handoff; edit the model project and hand off again rather than this file.\n';

function yamlFile(path: string, objects: Obj[]): LayoutFile {
  return { path, text: HEADER + objects.map((o) => stringify(o, { lineWidth: 0 })).join('---\n'), objects };
}

function kustomization(path: string, body: Obj): LayoutFile {
  return { path, text: HEADER + stringify({ ...KUSTOMIZE_API, ...body }, { lineWidth: 0 }) };
}

export function modelFolder(root: string, name: string): string {
  const clean = posix.normalize(root.replace(/\\/g, '/')).replace(/^\/+|\/+$/g, '');
  if (clean.startsWith('..') || clean.split('/').includes('..')) throw new ModelshipError('GITOPS_INVALID_PATH', `--path "${root}" leaves the GitOps repository: give a folder inside it, e.g. models`);
  return clean === '.' || clean === '' ? name : `${clean}/${name}`;
}

/** Every file of the layout, CRD-validated (the overlay as kustomize would build it, too) before anything is written. */
export function buildLayout(input: LayoutInput): LayoutFile[] {
  const d = input.deployment;
  assertDeploymentName(d.name);
  assertDeploymentName(d.namespace, 'namespace');
  const folder = modelFolder(input.root, d.name);
  const files: LayoutFile[] = [];

  const base = baseInferenceService(d, input.plan.deploymentMode);
  const runtime = llamaCppServingRuntime(d);
  files.push(yamlFile(`${folder}/base/inferenceservice.yaml`, [base]));
  if (runtime) files.push(yamlFile(`${folder}/base/servingruntime.yaml`, [runtime]));
  files.push(kustomization(`${folder}/base/kustomization.yaml`, { resources: ['inferenceservice.yaml', ...(runtime ? ['servingruntime.yaml'] : [])] }));

  const overlay = `${folder}/overlays/${input.env}`;
  const pin = inferenceServicePin(d);
  files.push({ path: `${overlay}/inferenceservice-pin.yaml`, text: HEADER + stringify(pin, { lineWidth: 0 }) });
  // The namespace is created with the model (kustomize-controller does not create targetNamespace);
  // policy-controller's webhooks act only in namespaces that carry its label.
  // A core object (no CRD schema to check it against): its name is the checked namespace.
  files.push({ path: `${overlay}/namespace.yaml`, text: HEADER + stringify(namespaceObject(d.namespace, input.policy === 'policy-controller'), { lineWidth: 0 }) });
  files.push(kustomization(`${overlay}/kustomization.yaml`, {
    namespace: d.namespace,
    resources: ['namespace.yaml', '../../base'],
    labels: [{ pairs: { 'app.kubernetes.io/instance': `${d.name}-${input.env}` }, includeSelectors: false }],
    patches: [{ path: 'inferenceservice-pin.yaml' }],
  }));

  const policyFolder = `${folder}/policy/${input.env}`;
  const policyFile = input.policy === 'kyverno' ? 'clusterpolicy.yaml' : 'clusterimagepolicy.yaml';
  files.push(yamlFile(`${policyFolder}/${policyFile}`, [admissionPolicy(input.policy, d, input.identity, input.plan, input.env, input.mofMinimum)]));
  files.push(kustomization(`${policyFolder}/kustomization.yaml`, { resources: [policyFile] }));

  const deliveryFolder = `${folder}/delivery/${input.env}`;
  const deliveryInput: DeliveryInput = {
    deployment: d, env: input.env, repositoryUrl: input.repositoryUrl, branch: input.branch, overlayPath: overlay, policyPath: policyFolder, deliveryPath: deliveryFolder,
    identity: input.identity, verifyDigest: input.verifyDigest,
    ...(input.insecureRegistry ? { insecureRegistry: true } : {}),
    ...(input.probeLayerMediaType ? { probeLayerMediaType: input.probeLayerMediaType } : {}),
  };
  if (input.delivery === 'flux') {
    const flux = fluxObjects(deliveryInput);
    files.push(yamlFile(`${deliveryFolder}/flux.yaml`, flux.objects));
    if (flux.cosignSecret && input.identity.kind === 'key') files.push({ path: `${deliveryFolder}/${COSIGN_KEY_FILE}`, text: input.identity.publicKeyPem });
    files.push(kustomization(`${deliveryFolder}/kustomization.yaml`, {
      namespace: 'flux-system',
      resources: ['flux.yaml'],
      ...(flux.cosignSecret ? { secretGenerator: [{ name: flux.cosignSecret, files: [COSIGN_KEY_FILE], options: { disableNameSuffixHash: true } }] } : {}),
    }));
  } else {
    // One Application syncs its own folder: itself, the policy (wave -1), then the overlay (wave 0).
    files.push(yamlFile(`${deliveryFolder}/argocd.yaml`, [argoApplication(deliveryInput)]));
    files.push(kustomization(`${deliveryFolder}/kustomization.yaml`, { resources: ['argocd.yaml', posix.relative(deliveryFolder, policyFolder), posix.relative(deliveryFolder, overlay)] }));
  }

  checkLayout(files);
  // What kustomize builds for the overlay: the base with this environment's pin merged in.
  const built = [{ path: `${overlay} (built)`, object: mergeObjects(base, pin) }];
  assertManifestsValid([...files.flatMap((f) => (f.objects ?? []).map((object) => ({ path: f.path, object }))), ...built]);
  return files;
}

function namespaceObject(name: string, policyController: boolean): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, ...(policyController ? { labels: { [POLICY_CONTROLLER_INCLUDE_LABEL]: 'true' } } : {}) },
  };
}

/** Every kustomization's resources, patches and generator files exist, and each overlay builds on the base. */
export function checkLayout(files: LayoutFile[], existing: ReadonlySet<string> = new Set()): void {
  const paths = new Set([...existing, ...files.map((f) => f.path)]);
  const problems: string[] = [];
  for (const f of files.filter((x) => posix.basename(x.path) === 'kustomization.yaml')) {
    const dir = posix.dirname(f.path);
    const k = parseKustomization(f);
    const refs = [...(k.resources ?? []), ...(k.patches ?? []).map((p) => p.path), ...(k.secretGenerator ?? []).flatMap((g) => g.files ?? [])];
    for (const ref of refs) {
      const target = posix.normalize(posix.join(dir, ref));
      if (!paths.has(target) && !paths.has(`${target}/kustomization.yaml`)) problems.push(`${f.path}: "${ref}" is neither a file nor a kustomization folder in the layout`);
    }
    if (dir.includes('/overlays/') && !(k.resources ?? []).some((r) => posix.normalize(posix.join(dir, r)).endsWith('/base'))) problems.push(`${f.path}: the overlay does not build on ../../base`);
  }
  if (problems.length) throw new ModelshipError('GITOPS_MANIFEST_INVALID', `the kustomize layout does not build:\n  ${problems.join('\n  ')}`, { details: { problems } });
}

interface KustomizationFile {
  resources?: string[];
  patches?: { path: string }[];
  secretGenerator?: { files?: string[] }[];
}

function parseKustomization(f: LayoutFile): KustomizationFile {
  const body = f.text.split('\n').filter((l) => !l.startsWith('#')).join('\n');
  return (parseYaml(body) ?? {}) as KustomizationFile;
}

