/**
 * What each cluster controller does with the hand-off's output, by its own rules (consumer-rules.ts,
 * each ported from the named upstream file and release), on the layout as `kubectl kustomize` builds it.
 */
import { describe, expect, it } from 'vitest';
import { isModelshipError } from '../../modules/errors/index.js';
import {
  buildLayout, clusterVersions, compatPlan, parseRelease, registryLink,
  type AdmissionPolicy, type ClusterVersions, type Delivery, type Environment, type LayoutInput, type ModelDeployment, type Mount, type SignerIdentity,
} from '../../modules/gitops/index.js';
import {
  argoWave, kyvernoVerifies, kyvernoWildcardMatch, policyControllerAuthorityError, policyControllerGlobMatch, policyControllerPodImages, policyControllerWebhookActs,
} from './consumer-rules.js';
import { idOf, kustomizationFolders, kustomizeBuild, writeLayout, type K8sObject } from './kustomize.js';

const DIGEST = `sha256:${'4e'.repeat(32)}`;
const MANIFEST = `sha256:${'5f'.repeat(32)}`;
const REGISTRY = 'registry.example:5000';
const REPO = 'acme/tiny-chat';
const KEY: SignerIdentity = { kind: 'key', publicKeyPem: '-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n' };
const KEYLESS: SignerIdentity = { kind: 'keyless', subjectRegExp: '^https://github\\.com/acme/.*$', issuer: 'https://token.actions.githubusercontent.com' };

interface Case { mount?: Mount; policy?: AdmissionPolicy; delivery?: Delivery; env?: Environment; identity?: SignerIdentity; versions?: Partial<ClusterVersions>; registryUrl?: string }

function input(c: Case = {}): LayoutInput {
  const mount = c.mount ?? 'modelcar';
  const policy = c.policy ?? 'kyverno';
  const delivery = c.delivery ?? 'flux';
  const deployment: ModelDeployment = {
    name: 'tiny-chat', version: 'v1', image: { registry: REGISTRY, repository: REPO, digest: DIGEST }, format: 'gguf', modelFile: 'tiny-chat.gguf',
    mount, gpus: 0, namespace: 'models',
    ...(c.registryUrl ? { registry: { registeredModelId: '3', modelVersionId: '12', modelArtifactId: '40', url: c.registryUrl } } : {}),
  };
  return {
    deployment, env: c.env ?? 'dev', delivery, policy, identity: c.identity ?? KEY, root: 'models',
    repositoryUrl: 'https://github.com/acme/gitops.git', branch: 'main', probeLayerMediaType: 'application/vnd.cncf.model.doc.v1.tar', verifyDigest: MANIFEST,
    plan: compatPlan({ versions: clusterVersions(c.versions), mount, hasModelCar: true, policy, delivery }),
  };
}

/** The layout on disk, each kustomization in it built by kubectl kustomize when asked for (every one must build). */
async function built(c: Case = {}): Promise<{ root: string; builds: { get(folder: string): Promise<K8sObject[]> } }> {
  const files = buildLayout(input(c));
  const root = await writeLayout(files);
  const folders = new Set(kustomizationFolders(files));
  const cache = new Map<string, Promise<K8sObject[]>>();
  const get = (folder: string) => {
    if (!folders.has(folder)) throw new Error(`${folder} holds no kustomization in the layout`);
    if (!cache.has(folder)) cache.set(folder, kustomizeBuild(root, folder));
    return cache.get(folder)!;
  };
  return { root, builds: { get } };
}

/** The images of the model in a Pod (the runtime's own image is not the policy's business). */
const modelImages = (pod: K8sObject) => policyControllerPodImages(pod).filter((i) => i.startsWith(`${REGISTRY}/`));

/** The Pod KServe makes of the InferenceService: the ModelCar sidecar runs the image; an image volume mounts it. */
function kservePod(isvc: K8sObject): K8sObject {
  const uri: string = isvc.spec.predictor.model.storageUri;
  const image = uri.replace(/^oci(\+native)?:\/\//, '');
  const main = { name: 'kserve-container', image: 'ghcr.io/ggml-org/llama.cpp:server' };
  return uri.startsWith('oci+native://')
    ? { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: isvc.metadata.namespace }, spec: { containers: [main], volumes: [{ name: 'mnt-models', image: { reference: image } }] } }
    : { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: isvc.metadata.namespace }, spec: { initContainers: [{ name: 'modelcar-init', image }], containers: [main, { name: 'modelcar', image }] } };
}

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (err) {
    return isModelshipError(err) ? err.code : String(err);
  }
  return undefined;
}

describe('policy-controller (v0.15.1) with the hand-off output', () => {
  it.each([['key', KEY], ['keyless', KEYLESS]] as const)('accepts the %s authority and verifies the cosign signature form, never a key with bundle', async (_n, identity) => {
    const { builds } = await built({ policy: 'policy-controller', identity });
    const cip = (await builds.get('models/tiny-chat/policy/dev')).find((o) => o.kind === 'ClusterImagePolicy')!;
    for (const authority of cip.spec.authorities) {
      expect(policyControllerAuthorityError(authority)).toBeUndefined();
      expect(authority.signatureFormat).toBeUndefined();
    }
  });

  it('acts in the model namespace: the overlay creates it with policy.sigstore.dev/include=true', async () => {
    const { builds } = await built({ policy: 'policy-controller' });
    const overlay = (await builds.get('models/tiny-chat/overlays/dev'));
    const isvc = overlay.find((o) => o.kind === 'InferenceService')!;
    const ns = overlay.find((o) => o.kind === 'Namespace' && o.metadata.name === isvc.metadata.namespace);
    expect(policyControllerWebhookActs(ns)).toBe(true);
    // Kyverno's webhook needs no label: the namespace is still created, unlabelled.
    const kyverno = (await (await built()).builds.get('models/tiny-chat/overlays/dev')).find((o) => o.kind === 'Namespace')!;
    expect(kyverno.metadata.name).toBe('models');
    expect(policyControllerWebhookActs(kyverno)).toBe(false);
  });

  it('matches this repository exactly, by digest or tag, and no repository that starts with its name', async () => {
    const { builds } = await built({ policy: 'policy-controller' });
    const cip = (await builds.get('models/tiny-chat/policy/dev')).find((o) => o.kind === 'ClusterImagePolicy')!;
    const isvc = (await builds.get('models/tiny-chat/overlays/dev')).find((o) => o.kind === 'InferenceService')!;
    const globs = (cip.spec.images as { glob: string }[]).map((i) => i.glob);
    const matches = (image: string) => globs.some((g) => policyControllerGlobMatch(g, image));
    expect(modelImages(kservePod(isvc))).toHaveLength(2);
    for (const image of modelImages(kservePod(isvc))) expect(matches(image), image).toBe(true);
    expect(matches(`${REGISTRY}/${REPO}:v2`)).toBe(true);
    for (const other of [`${REGISTRY}/${REPO}car@${DIGEST}`, `${REGISTRY}/${REPO}-foo:v1`, `${REGISTRY}/${REPO}/sub@${DIGEST}`]) expect(matches(other), other).toBe(false);
  });

  it('is refused with image volumes, which it never checks', () => {
    expect(policyControllerPodImages(kservePod({ apiVersion: 'serving.kserve.io/v1beta1', kind: 'InferenceService', metadata: { name: 'x' }, spec: { predictor: { model: { storageUri: `oci+native://${REGISTRY}/${REPO}@${DIGEST}` } } } }))).not.toContain(`${REGISTRY}/${REPO}@${DIGEST}`);
    expect(codeOf(() => compatPlan({ versions: clusterVersions(), mount: 'image-volume', hasModelCar: true, policy: 'policy-controller', delivery: 'flux' }))).toBe('GITOPS_UNSUPPORTED');
  });
});

describe('Kyverno with the hand-off output', () => {
  it.each([
    ['1.19', 'SigstoreBundle', '1.19.0'],
    ['1.18', 'Cosign', '1.13.0'],
    ['1.13', 'Cosign', '1.13.0'],
  ] as const)('--kyverno %s writes type %s, verified by that release, and states its minimum version', async (release, type, minimum) => {
    const version = parseRelease(release, '--kyverno');
    const { builds } = await built({ versions: { kyverno: version } });
    const policy = (await builds.get('models/tiny-chat/policy/dev')).find((o) => o.kind === 'ClusterPolicy')!;
    const entry = policy.spec.rules[0].verifyImages[0];
    expect(entry.type).toBe(type);
    expect(kyvernoVerifies(entry, [version.major, version.minor])).toBe(true);
    expect(policy.metadata.annotations?.['kyverno.io/kyverno-version']).toBe(minimum);
    expect(policy.metadata.annotations?.['policies.kyverno.io/minversion']).toBe(minimum);
    const isvc = (await builds.get('models/tiny-chat/overlays/dev')).find((o) => o.kind === 'InferenceService')!;
    const images = modelImages(kservePod(isvc));
    expect(images).toHaveLength(2);
    expect(images.every((i) => (entry.imageReferences as string[]).some((p) => kyvernoWildcardMatch(p, i)))).toBe(true);
    expect((entry.imageReferences as string[]).some((p) => kyvernoWildcardMatch(p, `${REGISTRY}/${REPO}car@${DIGEST}`))).toBe(false);
  });

  it('refuses a Kyverno older than 1.13', () => {
    expect(codeOf(() => clusterVersions({ kyverno: parseRelease('1.12', '--kyverno') }))).toBe('GITOPS_UNSUPPORTED');
  });

  it('checks the image volume of the Pod KServe makes with oci+native://', async () => {
    const { builds } = await built({ mount: 'image-volume' });
    const policy = (await builds.get('models/tiny-chat/policy/dev')).find((o) => o.kind === 'ClusterPolicy')!;
    const extractors = policy.spec.rules[0].imageExtractors.Pod as { path: string; value?: string }[];
    expect(extractors).toContainEqual(expect.objectContaining({ path: '/spec/volumes/*/image', value: 'reference' }));
    expect(extractors.map((e) => e.path)).toEqual(expect.arrayContaining(['/spec/containers/*', '/spec/initContainers/*']));
  });
});

describe('KServe and Kubernetes releases', () => {
  it('refuses a plain ModelPack artifact in either mount: KServe mounts the models/ folder only a ModelCar has', () => {
    for (const mount of ['modelcar', 'image-volume'] as const) {
      expect(codeOf(() => compatPlan({ versions: clusterVersions(), mount, hasModelCar: false, policy: 'kyverno', delivery: 'flux' }))).toBe('GITOPS_UNSUPPORTED');
    }
  });

  it.each([
    [{ kserve: '0.19' }, /KServe reads from 0\.20/],
    [{ kubernetes: '1.34' }, /on by default from 1\.35/],
  ])('refuses --mount image-volume for %o, naming the mount that works', (given, reason) => {
    const versions = Object.fromEntries(Object.entries(given).map(([k, v]) => [k, parseRelease(v, `--${k}`)]));
    let message = '';
    try {
      compatPlan({ versions: clusterVersions(versions), mount: 'image-volume', hasModelCar: true, policy: 'kyverno', delivery: 'flux' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(reason);
    expect(message).toContain('--mount modelcar');
  });

  it('writes deploymentMode RawDeployment before KServe 0.16 and Standard from it', async () => {
    const old = (await (await built({ versions: { kserve: parseRelease('0.15', '--kserve') } })).builds.get('models/tiny-chat/overlays/dev')).find((o) => o.kind === 'InferenceService')!;
    expect(old.metadata.annotations?.['serving.kserve.io/deploymentMode']).toBe('RawDeployment');
    const now = (await (await built()).builds.get('models/tiny-chat/overlays/dev')).find((o) => o.kind === 'InferenceService')!;
    expect(now.metadata.annotations?.['serving.kserve.io/deploymentMode']).toBe('Standard');
  });
});

describe('Flux reconciles the layout as written', () => {
  it('one entry point per environment reconciles itself, the policy and the model, which waits for both the policy and the verified source', async () => {
    const { builds } = await built();
    const entry = (await builds.get('models/tiny-chat/delivery/dev'));
    const kustomizations = entry.filter((o) => o.kind === 'Kustomization');
    const paths = kustomizations.map((k) => k.spec.path);
    expect(paths).toEqual(expect.arrayContaining(['./models/tiny-chat/delivery/dev', './models/tiny-chat/policy/dev', './models/tiny-chat/overlays/dev']));
    for (const k of kustomizations) expect(k.spec.sourceRef.name).toBe(entry.find((o) => o.kind === 'GitRepository')!.metadata.name);
    const model = kustomizations.find((k) => k.spec.path === './models/tiny-chat/overlays/dev')!;
    const policy = kustomizations.find((k) => k.spec.path === './models/tiny-chat/policy/dev')!;
    // kustomize-controller applies a Kustomization only when each dependsOn is Ready; wait makes Ready mean healthy.
    expect(model.spec.dependsOn).toEqual([{ name: policy.metadata.name }]);
    expect(policy.spec.wait).toBe(true);
    const oci = entry.find((o) => o.kind === 'OCIRepository')!;
    expect(policy.spec.healthChecks).toContainEqual({ apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'OCIRepository', name: oci.metadata.name, namespace: 'flux-system' });
    // kustomize-controller does not create targetNamespace: the overlay carries the Namespace.
    expect((await builds.get('models/tiny-chat/overlays/dev')).some((o) => o.kind === 'Namespace' && o.metadata.name === model.spec.targetNamespace)).toBe(true);
    // The cosign key Secret the OCIRepository names is generated in the same namespace.
    expect(entry.some((o) => o.kind === 'Secret' && o.metadata.name === oci.spec.verify.secretRef.name && o.metadata.namespace === 'flux-system')).toBe(true);
  });

  it('dev and prod in one repository (and one cluster) share no object name', async () => {
    const files = [...buildLayout(input({ env: 'dev' })), ...buildLayout(input({ env: 'prod' }))];
    const root = await writeLayout(files);
    const ids = async (env: string) => [
      ...(await kustomizeBuild(root, `models/tiny-chat/delivery/${env}`)),
      ...(await kustomizeBuild(root, `models/tiny-chat/policy/${env}`)),
    ].filter((o) => o.kind !== 'Namespace').map(idOf);
    const dev = await ids('dev');
    const prod = new Set(await ids('prod'));
    expect(dev.length).toBeGreaterThan(4);
    expect(dev.filter((id) => prod.has(id))).toEqual([]);
  });

  it('needs Flux 2.6 for OCIRepository v1', () => {
    expect(codeOf(() => clusterVersions({ flux: parseRelease('2.5', '--flux-version') }))).toBe('GITOPS_UNSUPPORTED');
    expect(compatPlan({ versions: clusterVersions({ flux: parseRelease('2.7', '--flux-version') }), mount: 'modelcar', hasModelCar: true, policy: 'kyverno', delivery: 'flux' }).fluxReadsBundles).toBe(false);
  });
});

describe('Argo CD syncs the policy before the model', () => {
  it('one Application per environment syncs its own folder: itself, the policy in an earlier wave, the model', async () => {
    const { builds } = await built({ delivery: 'argocd', policy: 'policy-controller' });
    const entry = (await builds.get('models/tiny-chat/delivery/dev'));
    const apps = entry.filter((o) => o.kind === 'Application');
    expect(apps).toHaveLength(1);
    const app = apps[0]!;
    // The objects of that one Application (waves order only the resources of one Application).
    const synced = (await builds.get(app.spec.source.path));
    expect(synced.map(idOf)).toContain(idOf(app));
    const policy = synced.find((o) => o.kind === 'ClusterImagePolicy')!;
    const model = synced.find((o) => o.kind === 'InferenceService')!;
    expect(argoWave(policy)).toBeLessThan(argoWave(model));
    expect(model.metadata.namespace).toBe('models');
    expect(synced.find((o) => o.kind === 'Namespace')?.metadata.labels?.['policy.sigstore.dev/include']).toBe('true');
    expect(policy.metadata.namespace).toBeUndefined();
  });

  it('refuses a repository URL the cluster cannot clone (a local path), naming --cluster-url', () => {
    const local = { ...input({ delivery: 'argocd' }), repositoryUrl: '/home/me/gitops.git' };
    expect(codeOf(() => buildLayout(local))).toBe('GITOPS_MANIFEST_INVALID');
    expect(() => buildLayout(local)).toThrow(/--cluster-url/);
  });
});

describe('model registry links', () => {
  it('writes none for the embedded registry or a loopback address, and the Kubeflow labels for one the cluster reaches', async () => {
    for (const url of ['embedded:/home/me/.modelship/model-registry/registry.sqlite', 'http://127.0.0.1:8080', 'http://localhost:8080']) {
      const { builds } = await built({ registryUrl: url });
      const isvc = (await builds.get('models/tiny-chat/overlays/dev')).find((o) => o.kind === 'InferenceService')!;
      expect(JSON.stringify(isvc), url).not.toMatch(/modelregistry\.kubeflow\.org|registry\.sqlite|127\.0\.0\.1|localhost/);
    }
    const { builds } = await built({ registryUrl: 'http://model-registry-service.kubeflow.svc.cluster.local:8080' });
    const isvc = (await builds.get('models/tiny-chat/overlays/dev')).find((o) => o.kind === 'InferenceService')!;
    expect(isvc.metadata.labels).toMatchObject({
      'modelregistry.kubeflow.org/registered-model-id': '3', 'modelregistry.kubeflow.org/model-version-id': '12',
      'modelregistry.kubeflow.org/name': 'model-registry-service', 'modelregistry.kubeflow.org/namespace': 'kubeflow',
    });
    expect(isvc.metadata.annotations?.['modelregistry.kubeflow.org/url']).toBe('http://model-registry-service.kubeflow.svc.cluster.local:8080');
    expect(registryLink({ registeredModelId: '1', modelVersionId: '2', modelArtifactId: '3', url: 'https://registry.example.com' })?.labels).not.toHaveProperty('modelregistry.kubeflow.org/name');
  });
});
