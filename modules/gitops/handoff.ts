/**
 * The hand-off: refuse what fails verification or the MOF gate, record the version in the model
 * registry, write the manifests for the artifact's digest, commit and push them, and optionally
 * open a pull request. Every check runs before anything is written.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mkdtemp, rm } from 'node:fs/promises';
import { describeError, hasCode, ModelshipError } from '../errors/index.js';
import type { RegisterModelVersion, RegisterResult } from '../registry/contract.js';
import { verifyArtifact } from '../sign/artifact/index.js';
import type { VerificationPolicy } from '../sign/index.js';
import type { ReadOnlyTarget } from '../oci/types.js';
import { checkAdmission, readArtifactFacts, sbomSummary, signatureConsumers, type AdmissionCheck } from './artifact-facts.js';
import { clusterVersions, compatPlan, formatRelease, type ClusterVersions } from './compat.js';
import { buildLayout, type LayoutFile } from './layout.js';
import {
  assertDeploymentName, toDeploymentName, storageUri,
  type AdmissionPolicy, type Delivery, type Environment, type ModelDeployment, type Mount, type SignerIdentity,
} from './model-ref.js';
import { assertBranchName, assertNoGitComponent, prepareClone, publishLayout, type PublishResult } from './publish.js';
import { publicRepositoryUrl } from './repository-url.js';
import { registryLink } from './serving.js';
import { openPullRequest, type PullRequestResult } from './pull-request.js';

export interface MofVerdict {
  class: number;
  label: string;
  /** The class required (1 most open); undefined: no gate. */
  require?: 1 | 2 | 3;
  passed?: boolean;
  missing?: string[];
}

export interface HandoffOptions {
  /** The registry repository holding the artifact. */
  target: ReadOnlyTarget;
  registry: string;
  repository: string;
  /** Tag or digest as given; the hand-off always writes the digest it resolves to. */
  selector: string;
  name?: string;
  namespace: string;
  env: Environment;
  delivery: Delivery;
  policy: AdmissionPolicy;
  /** Default: the ModelCar view (oci://). */
  mount?: Mount;
  /** The releases the cluster runs (compat.ts); the current stable releases where not given. */
  versions?: Partial<ClusterVersions>;
  /** Default: 1 for safetensors (vLLM), 0 otherwise. */
  gpus?: number;
  identity: SignerIdentity;
  /** The signer policy `verify` uses; undefined skips verification (--skip-verify). */
  verification?: VerificationPolicy;
  /** Computes the MOF class and gate of the artifact at this digest; undefined skips the gate (--skip-gate). */
  mofGate?: (digest: string) => Promise<MofVerdict>;
  /** Records the version; undefined writes no registry labels. */
  register?: RegisterModelVersion;
  gitops: {
    repository: string;
    /** The URL the cluster clones (default: `repository`). */
    clusterUrl?: string;
    branch: string;
    root: string;
    author: { name: string; email: string };
    /** Where to clone; a temporary folder when absent (kept when a push fails). */
    workdir?: string;
  };
  pullRequest?: { githubRepository: string; token: string; apiUrl?: string; fetch?: typeof fetch };
  /** Build and validate only: no registry write, no commit. */
  check?: boolean;
  insecureRegistry?: boolean;
}

export interface HandoffResult {
  name: string;
  version: string;
  digest: string;
  storageUri: string;
  mount: Mount;
  format: string;
  env: Environment;
  files: string[];
  verification: { skipped: boolean; ok?: boolean; admission?: AdmissionCheck };
  /** The releases the manifests are written for, MAJOR.MINOR. */
  versions: Record<keyof ClusterVersions, string>;
  mof?: MofVerdict;
  registered?: RegisterResult;
  publish?: PublishResult;
  pullRequest?: PullRequestResult;
  /** --check: what would be written. */
  layout?: LayoutFile[];
}

export async function handoff(opts: HandoffOptions): Promise<HandoffResult> {
  if (opts.name !== undefined) assertDeploymentName(opts.name, '--name');
  assertDeploymentName(opts.namespace, '--namespace');
  // Checked before any network or registry work: these only ever fail.
  assertBranchName(opts.gitops.branch);
  assertNoGitComponent(opts.gitops.root);
  const where = `${opts.registry}/${opts.repository}`;
  const facts = await readArtifactFacts(opts.target, opts.selector, opts.repository);
  const digest = facts.pulled.digest;
  const name = opts.name ?? toDeploymentName(facts.modelName ?? opts.repository.split('/').pop() ?? '');
  if (!name) throw new ModelshipError('GITOPS_INVALID_NAME', `cannot derive a Kubernetes name from "${facts.modelName ?? opts.repository}": pass --name (lower-case letters, digits and "-")`);
  if (!facts.format) throw new ModelshipError('MODEL_INVALID', `${where}@${digest} has no weight file whose format a serving runtime takes (gguf, safetensors, onnx…); pack the model with its weights`);
  const mount = opts.mount ?? 'modelcar';
  // The compatibility matrix refuses what the cluster's releases could not start or would not check.
  const plan = compatPlan({ versions: clusterVersions(opts.versions), mount, hasModelCar: facts.hasModelCar, policy: opts.policy, delivery: opts.delivery, artifact: `${where}@${digest}` });

  const verification: HandoffResult['verification'] = { skipped: opts.verification === undefined };
  if (opts.verification) {
    const verified = await verifyArtifact(opts.target, digest, opts.verification);
    verification.ok = verified.ok;
    if (!verified.ok) throw new ModelshipError('VERIFY_FAILED', `${where}@${digest} does not verify: ${verified.reason}; hand-off refuses it (--skip-verify to override)`, { details: { bundles: verified.bundles } });
    // Each verifier written for must find the signature form it reads on the digest it looks at.
    const consumers = signatureConsumers({ plan, policy: opts.policy, delivery: opts.delivery, podDigest: digest, fluxDigest: facts.view.descriptor.digest });
    const admission = checkAdmission(verified, consumers);
    verification.admission = admission;
    if (!admission.ok) throw new ModelshipError('VERIFY_FAILED', `${where}@${digest}: ${admission.reason} (--skip-verify to override)`, { details: { admission } });
  }
  const mof = opts.mofGate ? await opts.mofGate(digest) : undefined;
  if (mof?.passed === false) {
    throw new ModelshipError('GATE_FAILED', `${where}@${digest} is ${mof.label}, not Class ${mof.require} or better as the project requires${mof.missing?.length ? `; missing: ${mof.missing.join(', ')}` : ''} (--skip-gate to override)`, { details: { mof } });
  }

  // The tag names the version; a selector that is a whole reference (a store's) ends with it.
  const tag = opts.selector.slice(opts.selector.lastIndexOf('/') + 1).split(':').slice(1).join(':') || opts.selector;
  const version = /^sha256:/.test(opts.selector) || opts.selector.includes('@') ? `sha256-${digest.slice(7, 19)}` : tag;
  const uri = storageUri({ registry: opts.registry, repository: opts.repository, digest }, 'modelcar');
  const deployment: ModelDeployment = {
    name, version, image: { registry: opts.registry, repository: opts.repository, digest }, format: facts.format,
    ...(facts.modelFile ? { modelFile: facts.modelFile } : {}),
    mount, gpus: opts.gpus ?? (facts.format === 'safetensors' ? 1 : 0), namespace: opts.namespace,
  };
  const layoutInput = {
    deployment, env: opts.env, delivery: opts.delivery, policy: opts.policy, identity: opts.identity, root: opts.gitops.root,
    // What the cluster clones is committed to the repository: never with the credentials the push uses.
    repositoryUrl: publicRepositoryUrl(opts.gitops.clusterUrl ?? opts.gitops.repository), branch: opts.gitops.branch,
    ...(opts.insecureRegistry ? { insecureRegistry: true } : {}),
    ...(facts.probeLayerMediaType ? { probeLayerMediaType: facts.probeLayerMediaType } : {}),
    verifyDigest: facts.view.descriptor.digest,
    plan,
    ...(mof?.require !== undefined ? { mofMinimum: mof.require } : {}),
  };
  const versions = Object.fromEntries(Object.entries(plan.versions).map(([k, r]) => [k, formatRelease(r)])) as HandoffResult['versions'];
  const base: HandoffResult = { name, version, digest, storageUri: storageUri(deployment.image, mount), mount, format: facts.format, env: opts.env, files: [], verification, versions, ...(mof ? { mof } : {}) };
  if (opts.check) {
    // Validated without registry ids: those are only known once the version is recorded.
    const layout = buildLayout(layoutInput);
    return { ...base, files: layout.map((f) => f.path), layout };
  }
  // Validate once before the registry write, so a bad manifest records nothing.
  for (const f of buildLayout(layoutInput)) assertNoGitComponent(f.path);

  const prBranch = opts.pullRequest ? `modelship/${name}-${opts.env}-${digest.slice(7, 19)}` : undefined;
  const owned = opts.gitops.workdir === undefined;
  const workdir = opts.gitops.workdir ?? (await mkdtemp(join(tmpdir(), 'modelship-gitops-')));
  let keep = false;
  let registered: RegisterResult | undefined;
  let publish: PublishResult;
  let layout: LayoutFile[];
  try {
    // The repository is reached before the registry is written: a hand-off that cannot clone records nothing.
    await prepareClone(opts.gitops.repository, workdir);
    const properties = {
      'modelship.signer': describeIdentity(opts.identity),
      'modelship.verified': verification.skipped ? 'skipped' : 'true',
      ...(mof ? { 'modelship.mof.class': String(mof.class) } : {}),
      'modelship.environment': opts.env,
    };
    const record = (handoffState: string) =>
      opts.register!({
        name, version, uri, digest, modelFormatName: facts.format,
        ...(facts.modelName ? { description: `${facts.modelName} handed off by modelship` } : {}),
        properties: { ...properties, [HANDOFF_STATE_PROPERTY]: handoffState },
      });
    if (opts.register) {
      // Pending until the push lands: the ids label the manifests, so they are needed before the commit.
      registered = await record('pending');
      deployment.registry = { registeredModelId: registered.registeredModelId, modelVersionId: registered.modelVersionId, modelArtifactId: registered.modelArtifactId, url: registered.registry };
    }
    layout = buildLayout(layoutInput);
    publish = await publishLayout({
      repository: opts.gitops.repository,
      branch: prBranch ?? opts.gitops.branch,
      baseBranch: opts.gitops.branch,
      files: layout,
      message: `handoff: ${name} ${version} (${digest}) to ${opts.env}\n\nstorageUri: ${base.storageUri}\n${registered ? `model registry: ${clusterRegistry(registered)} registered model ${registered.registeredModelId}, version ${registered.modelVersionId}\n` : ''}`,
      workdir,
      author: opts.gitops.author,
    });
    if (opts.register) {
      const landed = `${prBranch ? 'pull request branch' : 'pushed'} ${publish.branch}@${publish.commit.slice(0, 12)}`;
      await record(landed).catch((err: unknown) => {
        throw new ModelshipError('GITOPS_REGISTRY_PENDING', `the hand-off landed (${landed}) but the model registry still marks ${name} ${version} "pending": ${describeError(err)}; run the hand-off again to record it`, { details: { publish } });
      });
    }
  } catch (err) {
    // A refused push keeps its clone on purpose (the message says where); no other failure leaves one behind.
    keep = hasCode(err, 'GITOPS_PUSH_REJECTED');
    throw err;
  } finally {
    if (owned && !keep) await rm(workdir, { recursive: true, force: true });
  }

  let pullRequest: PullRequestResult | undefined;
  if (opts.pullRequest && prBranch) {
    const sbom = await sbomSummary(opts.target, facts.view.descriptor);
    pullRequest = await openPullRequest({
      repository: opts.pullRequest.githubRepository, token: opts.pullRequest.token, head: prBranch, base: opts.gitops.branch,
      title: `Deploy ${name} ${version} to ${opts.env}`,
      body: pullRequestBody({ ...base, files: layout.map((f) => f.path), ...(registered ? { registered } : {}) }, opts.identity, sbom),
      ...(opts.pullRequest.apiUrl ? { apiUrl: opts.pullRequest.apiUrl } : {}),
      ...(opts.pullRequest.fetch ? { fetch: opts.pullRequest.fetch } : {}),
    });
  }
  return { ...base, files: layout.map((f) => f.path), ...(registered ? { registered } : {}), publish, ...(pullRequest ? { pullRequest } : {}) };
}

/** The registry as the GitOps repository may name it: never a path on the machine that handed off. */
function clusterRegistry(r: RegisterResult): string {
  return registryLink({ registeredModelId: r.registeredModelId, modelVersionId: r.modelVersionId, modelArtifactId: r.modelArtifactId, url: r.registry })
    ? r.registry
    : 'a registry the cluster cannot reach (no registry labels written)';
}

/** Registry property saying whether the hand-off's commit landed ("pending" until it has). */
export const HANDOFF_STATE_PROPERTY = 'modelship.handoff';

export function describeIdentity(identity: SignerIdentity): string {
  return identity.kind === 'key' ? 'key' : `keyless ${identity.subjectRegExp} from ${identity.issuer}`;
}

function pullRequestBody(r: HandoffResult, identity: SignerIdentity, sbom: string[]): string {
  const v = r.verification;
  return [
    `Hand-off of **${r.name}** ${r.version} to **${r.env}**.`,
    '',
    `- Artifact: \`${r.storageUri}\``,
    `- Format: ${r.format}, mounted as ${r.mount === 'modelcar' ? 'a ModelCar' : 'an image volume'}`,
    `- MOF class: ${r.mof ? `${r.mof.label}${r.mof.require ? ` (project requires Class ${r.mof.require}: ${r.mof.passed ? 'met' : 'not met'})` : ''}` : 'not evaluated (--skip-gate)'}`,
    `- Signature check: ${v.skipped ? 'skipped (--skip-verify)' : `verified against ${describeIdentity(identity)}; ${(v.admission?.consumers ?? []).map((c) => `${c.consumer} finds its ${c.form} signature on ${c.digest} in ${c.referrer}`).join('; ')}`}`,
    `- SBOM: ${sbom.length ? sbom.join('; ') : 'none attached'}`,
    r.registered ? `- Model registry: ${clusterRegistry(r.registered)}, registered model ${r.registered.registeredModelId}, version ${r.registered.modelVersionId}, artifact ${r.registered.modelArtifactId}` : '- Model registry: not recorded',
    '',
    'Files:',
    ...r.files.map((f) => `- \`${f}\``),
  ].join('\n');
}
