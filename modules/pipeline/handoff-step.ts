/**
 * The pipeline's hand-off: the signed artifact's manifests committed to the GitOps repository and
 * its version registered, from the pipeline's own context (signer, MOF gate, registry settings).
 */
import { createPublicKey } from 'node:crypto';
import path from 'node:path';
import { DEFAULT_GITOPS_AUTHOR, handoff, loadRegisterModelVersion, mofVerdict, type Delivery, type HandoffResult, type SignerIdentity } from '../gitops/index.js';
import { readArtifact } from '../modelpack/index.js';
import { openReference } from '../oci/open.js';
import { parseRemoteReference } from '../oci/reference.js';
import { publicKeyPem } from '../sign/index.js';
import { modelshipHome } from '../store/index.js';
import type { PipelineContext } from './context.js';
import type { StepResult, StepRunner } from './step-runners.js';
import { escapeRegExp } from '../text/regexp.js';

export interface HandoffTarget {
  /** The GitOps repository: a URL or a bare repository on disk. */
  repository: string;
  delivery?: Delivery;
  /** Open a pull request (GITHUB_TOKEN) instead of pushing to the branch. */
  pullRequest?: boolean;
  /** The URL the cluster clones, when it differs from `repository` (e.g. a local mirror of it). */
  clusterUrl?: string;
}

/** The admission policy trusts whoever signed in this pipeline: its public key, or its keyless identity. */
function signerOf(ctx: PipelineContext): SignerIdentity | string {
  if (ctx.signing.kind === 'none') return `the artifact is not signed (${ctx.signing.reason})`;
  const method = ctx.signing.method;
  if (method.kind !== 'keyless') return { kind: 'key', publicKeyPem: publicKeyPem(createPublicKey(method.privateKey)) };
  const settings = ctx.spec.pipeline.signing ?? {};
  const subject = settings.identity ?? ctx.env['MODELSHIP_CERT_IDENTITY'];
  const issuer = settings.issuer ?? ctx.env['MODELSHIP_CERT_OIDC_ISSUER'];
  if (!subject || !issuer) return 'keyless signing needs the identity the cluster trusts: set pipeline.signing.identity and issuer in modelship.yaml';
  return { kind: 'keyless', subjectRegExp: `^${escapeRegExp(subject)}$`, issuer };
}

export function handoffStep(target: HandoffTarget): StepRunner {
  return async (ctx): Promise<StepResult> => {
    const identity = signerOf(ctx);
    if (typeof identity === 'string') return { status: 'failed', summary: `hand-off refused: ${identity}`, data: { code: 'VERIFY_FAILED' } };
    // What the cluster pulls: the registry's copy once pushed, else the store's copy under the name it was packed with.
    const pushed = ctx.results.push?.status === 'passed' ? ctx.pushTo : undefined;
    const reference = parseRemoteReference(pushed ?? ctx.reference);
    if (!reference.registry || !/[.:]|^localhost$/.test(reference.registry)) {
      return { status: 'failed', summary: `hand-off needs a registry reference the cluster can pull (HOST/REPO:TAG), not "${ctx.reference}"`, data: { code: 'GITOPS_NOT_REMOTE' } };
    }
    const opened = pushed
      ? await openReference(pushed, { cwd: ctx.cwd, env: ctx.env, plainHttp: ctx.plainHttp, ...(ctx.caFile ? { caFile: ctx.caFile } : {}) })
      : { target: ctx.store.layout, selector: ctx.reference, display: ctx.reference };
    const view = await readArtifact(opened.target, opened.selector);
    if (!view.images.length) {
      // KServe mounts OCI models from their models/ folder, which only a ModelCar has: nothing written would start.
      const reason = `${opened.display} is a plain ModelPack artifact, which KServe cannot start (it mounts OCI models from a models/ folder only a ModelCar has); nothing was handed off: pack it with "modelship pack --modelcar" (a base the machine can reach with --modelcar-base), push it, and run "modelship handoff"`;
      return { status: 'failed', summary: `hand-off refused: ${reason}`, data: { code: 'GITOPS_UNSUPPORTED' } };
    }
    const gitops = ctx.spec.pipeline.gitops ?? {};
    const registryUrl = ctx.env['MODELSHIP_MODEL_REGISTRY_URL'] ?? ctx.spec.pipeline.modelRegistry?.url;
    const token = ctx.env['MODEL_REGISTRY_TOKEN'];
    const githubRepository = target.pullRequest ? /github\.com[:/]([^/]+\/[^/]+?)(?:\.git)?$/.exec(target.repository)?.[1] : undefined;
    const result: HandoffResult = await handoff({
      target: opened.target,
      registry: reference.registry,
      repository: reference.repository,
      selector: opened.selector,
      namespace: gitops.namespace ?? 'models',
      env: 'dev',
      delivery: target.delivery ?? gitops.flavor ?? 'flux',
      policy: 'kyverno',
      // The ModelCar sidecar (oci://) runs on every KServe release in the matrix; image volumes need KServe 0.20 and Kubernetes 1.35.
      mount: 'modelcar',
      identity,
      ...(ctx.signing.kind === 'signed' && ctx.signing.policy ? { verification: ctx.signing.policy } : {}),
      mofGate: (digest) => mofVerdict(opened.target, digest, opened.display, ctx.mofRequire),
      register: await loadRegisterModelVersion({ ...(registryUrl ? { url: registryUrl } : {}), ...(token ? { token } : {}), home: modelshipHome(ctx.env, ctx.cwd) }),
      gitops: {
        repository: /^[\w+.-]+:\/\/|^[\w.-]+@[\w.-]+:/.test(target.repository) ? target.repository : path.resolve(ctx.cwd, target.repository),
        ...(target.clusterUrl ? { clusterUrl: target.clusterUrl } : {}),
        branch: gitops.branch ?? 'main',
        root: gitops.path ?? 'models',
        author: { name: ctx.env['GIT_AUTHOR_NAME'] ?? DEFAULT_GITOPS_AUTHOR.name, email: ctx.env['GIT_AUTHOR_EMAIL'] ?? DEFAULT_GITOPS_AUTHOR.email },
      },
      ...(githubRepository && ctx.env['GITHUB_TOKEN'] ? { pullRequest: { githubRepository, token: ctx.env['GITHUB_TOKEN'], ...(ctx.env['GITHUB_API_URL'] ? { apiUrl: ctx.env['GITHUB_API_URL'] } : {}) } } : {}),
      ...(ctx.plainHttp ? { insecureRegistry: true } : {}),
    });
    const committed = !result.publish ? 'not published' : result.publish.committed ? `commit ${result.publish.commit.slice(0, 12)}` : 'unchanged, no new commit';
    return {
      status: 'passed',
      summary: `${result.files.length} manifests for ${result.storageUri} committed to ${target.repository} (${committed})${result.registered ? `; registered version ${result.registered.modelVersionId} in ${result.registered.registry}` : ''}`,
      data: { storageUri: result.storageUri, digest: result.digest, files: result.files, publish: result.publish ?? null, registered: result.registered ?? null, mof: result.mof ?? null },
    };
  };
}
