/**
 * `modelship handoff REF --gitops DIR|URL`: hand a signed model in a registry to the cluster through
 * GitOps: KServe, Flux or Argo CD and admission-policy manifests for its digest, committed and pushed.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describeError, ModelshipError, UsageError } from '../../errors/index.js';
import {
  DEFAULT_GITOPS_AUTHOR, DEFAULT_VERSIONS, ENVIRONMENTS, formatRelease, githubRepositoryOf, handoff, loadRegisterModelVersion, mofVerdict, parseRelease,
  type AdmissionPolicy, type ClusterVersions, type Delivery, type Environment, type HandoffResult, type Mount, type SignerIdentity,
} from '../../gitops/index.js';
import { openReference } from '../../oci/index.js';
import { findSpecFile, loadSpec, type PipelineSettings } from '../../project/index.js';
import { loadPublicKey, publicKeyPem } from '../../sign/index.js';
import { modelshipHome } from '../../store/index.js';
import { flagBoolean, flagString, type Command, type CommandContext } from '../command.js';
import { parseRequire } from '../plumbing/documents.js';
import { REGISTRY_OPTIONS } from '../plumbing/registry-flags.js';
import { destinationContextOf } from '../plumbing/references.js';
import { SIGNER_OPTIONS, verificationPolicy } from '../plumbing/verification.js';


export const command = {
  name: 'handoff',
  summary: 'Hand a signed model to the cluster: KServe, Flux/Argo CD and admission-policy manifests committed to a GitOps repository',
  usage: 'handoff HOST/REPO[:TAG|@DIGEST] --gitops DIR|URL (--key PUB.pem | --cert-identity REGEX --cert-oidc-issuer URL --trusted-root FILE) [--env dev|staging|prod] [--argocd] [--pr] [--check]',
  help: `
Resolves REF to its digest (never a moving tag), refuses it unless it verifies (as "modelship verify"
does, and the digest the cluster pulls carries the image signature the admission policy will check)
and meets the project's MOF gate, then writes under --path/NAME in the GitOps repository:
  base/                 KServe InferenceService (and a llama.cpp ServingRuntime for GGUF)
  overlays/ENV/         the Namespace, the digest (storageUri oci://HOST/REPO@sha256:...) and, for a
                        model registry the cluster can reach, its modelregistry.kubeflow.org labels
  policy/ENV/           Kyverno ClusterPolicy (default) or sigstore policy-controller ClusterImagePolicy
                        refusing the image unless its signature verifies against the signer below
  delivery/ENV/         the entry point, applied once: Flux GitRepository, OCIRepository (cosign
                        verify) and Kustomizations (policy, then model), or one Argo CD Application
                        (--argocd) syncing the policy (wave -1) before the model
Every object is validated offline against its CRD (unknown fields rejected) before anything is
written. The commit names model, version and digest; a push that loses a race is replayed on the
new tip; a refused push keeps the commit in a local clone and prints how to push it.

Signer (the same identity goes into the admission policy and Flux's verify):
  --key PUB.pem | --cert-identity REGEX --cert-oidc-issuer URL --trusted-root FILE
GitOps repository (defaults from modelship.yaml pipeline.gitops):
  --gitops DIR|URL --branch main --path models --namespace models --env dev|staging|prod
  --cluster-url URL      the URL the cluster clones, when it differs from --gitops
  --argocd | --flux      delivery (default flux); --policy kyverno|policy-controller
Model:
  --name NAME            object name (default: the model's name); --gpus N (default 1 for
                         safetensors, 0 for GGUF); --mount modelcar|image-volume (default
                         modelcar; both need an artifact packed with --modelcar)
Cluster releases (MAJOR.MINOR; defaults: the current stable releases). What they cannot run is
refused with the reason and the option that works (docs/outer-loop.md has the matrix):
  --kserve ${formatRelease(DEFAULT_VERSIONS.kserve)}  --kubernetes ${formatRelease(DEFAULT_VERSIONS.kubernetes)}  --kyverno ${formatRelease(DEFAULT_VERSIONS.kyverno)}  --flux-version ${formatRelease(DEFAULT_VERSIONS.flux)}
  --no-register          do not record the version in the model registry; by default it is
                         recorded (--registry-url URL, MODELSHIP_MODEL_REGISTRY_URL or
                         pipeline.modelRegistry.url, token from MODEL_REGISTRY_TOKEN; the embedded
                         registry without a URL) and its ids label the InferenceService
Checks:
  --skip-verify, --skip-gate, --require 1|2|3 (default modelship.yaml pipeline.mof.require)
  --check                build and validate only: nothing is registered, committed or pushed
Pull request:
  --pr                   push to a branch and open a pull request (token from GITHUB_TOKEN, API from
                         GITHUB_API_URL); --github-repo OWNER/NAME when --gitops is not a GitHub URL

Examples:
  modelship handoff ghcr.io/acme/tiny-chat:v1 --gitops https://github.com/acme/gitops.git --key cosign.pub --pr
  modelship handoff ghcr.io/acme/tiny-chat:v1 --gitops ../gitops.git --argocd --policy policy-controller \\
    --cert-identity '^https://github.com/acme/.*$' --cert-oidc-issuer https://token.actions.githubusercontent.com --trusted-root trusted_root.json
  modelship handoff ghcr.io/acme/tiny-chat:v1 --gitops ../gitops.git --key cosign.pub --check --json`,
  options: {
    gitops: { type: 'string' },
    branch: { type: 'string' },
    path: { type: 'string' },
    namespace: { type: 'string' },
    env: { type: 'string' },
    'cluster-url': { type: 'string' },
    argocd: { type: 'boolean' },
    flux: { type: 'boolean' },
    policy: { type: 'string' },
    name: { type: 'string' },
    gpus: { type: 'string' },
    mount: { type: 'string' },
    kserve: { type: 'string' },
    kubernetes: { type: 'string' },
    kyverno: { type: 'string' },
    'flux-version': { type: 'string' },
    'no-register': { type: 'boolean' },
    'registry-url': { type: 'string' },
    'skip-verify': { type: 'boolean' },
    'skip-gate': { type: 'boolean' },
    require: { type: 'string' },
    check: { type: 'boolean' },
    pr: { type: 'boolean' },
    'github-repo': { type: 'string' },
    workdir: { type: 'string' },
    ...SIGNER_OPTIONS,
    ...REGISTRY_OPTIONS,
  },
  async run(ctx) {
    const [input, ...extra] = ctx.args;
    if (!input || extra.length) throw new UsageError(`usage: modelship ${command.usage}`);
    const pipeline = await projectPipeline(ctx);
    const gitops = pipeline.gitops ?? {};
    const env = oneOf<Environment>(flagString(ctx, 'env') ?? 'dev', ENVIRONMENTS, '--env');
    const delivery = deliveryOf(ctx, gitops.flavor);
    const policy = oneOf<AdmissionPolicy>(flagString(ctx, 'policy') ?? 'kyverno', ['kyverno', 'policy-controller'], '--policy');
    const mountFlag = flagString(ctx, 'mount');
    const mount = mountFlag === undefined ? undefined : oneOf<Mount>(mountFlag, ['modelcar', 'image-volume'], '--mount');
    const gpus = gpusOf(flagString(ctx, 'gpus'));
    const repositoryFlag = flagString(ctx, 'gitops') ?? gitops.repository;
    if (!repositoryFlag) throw new UsageError('handoff needs the GitOps repository: --gitops DIR|URL (or pipeline.gitops.repository in modelship.yaml)');
    const isUrl = /^[\w+.-]+:\/\/|^[\w.-]+@[\w.-]+:/.test(repositoryFlag);
    const repository = isUrl ? repositoryFlag : resolve(ctx.cwd, repositoryFlag);
    if (!isUrl && existsSync(join(repository, '.git'))) {
      throw new UsageError(`--gitops ${repositoryFlag} is a working tree: give the repository it pushes to (its remote URL, or a bare repository), so the hand-off never touches your checkout`);
    }
    if (flagString(ctx, 'ca') ?? flagString(ctx, 'cert-chain')) throw new UsageError('handoff writes a Kyverno or policy-controller policy for a key or a keyless identity: use --key or --cert-identity, not --ca or --cert-chain');

    const opened = await openReference(input, destinationContextOf(ctx));
    if (opened.reference.kind !== 'remote') throw new ModelshipError('GITOPS_NOT_REMOTE', `${input} is not in a registry the cluster can pull from: push it first ("modelship push ${input} HOST/REPO:TAG") and hand off HOST/REPO:TAG`);
    const { registry, repository: imageRepository } = opened.reference;

    const skipVerify = flagBoolean(ctx, 'skip-verify');
    const identity = await signerIdentity(ctx);
    const verification = skipVerify ? undefined : await verificationPolicy(ctx);
    const require = parseRequire(flagString(ctx, 'require'), pipeline.mof?.require);
    const mofGate = flagBoolean(ctx, 'skip-gate') ? undefined : (digest: string) => mofVerdict(opened.target, digest, opened.display, require);

    const registryUrl = flagString(ctx, 'registry-url') ?? ctx.env['MODELSHIP_MODEL_REGISTRY_URL'] ?? pipeline.modelRegistry?.url;
    const register = !flagBoolean(ctx, 'no-register') && !flagBoolean(ctx, 'check')
      ? await loadRegisterModelVersion({
          ...(registryUrl ? { url: registryUrl } : {}),
          ...(ctx.env['MODEL_REGISTRY_TOKEN'] ? { token: ctx.env['MODEL_REGISTRY_TOKEN'] } : {}),
          home: modelshipHome(ctx.env, ctx.cwd),
        })
      : undefined;

    const pr = flagBoolean(ctx, 'pr') && !flagBoolean(ctx, 'check');
    let pullRequest: { githubRepository: string; token: string; apiUrl?: string } | undefined;
    if (pr) {
      const token = ctx.env['GITHUB_TOKEN'];
      if (!token) throw new ModelshipError('GITOPS_TOKEN_MISSING', '--pr opens a pull request with GITHUB_TOKEN: set it to a token with contents: write and pull-requests: write on the GitOps repository');
      const githubRepository = flagString(ctx, 'github-repo') ?? githubRepositoryOf(repository);
      if (!githubRepository) throw new UsageError(`--pr needs the GitHub repository of ${repository}: pass --github-repo OWNER/NAME`);
      pullRequest = { githubRepository, token, ...(ctx.env['GITHUB_API_URL'] ? { apiUrl: ctx.env['GITHUB_API_URL'] } : {}) };
    }
    const workdir = flagString(ctx, 'workdir');
    const result = await handoff({
      target: opened.target, registry, repository: imageRepository, selector: opened.selector,
      ...(flagString(ctx, 'name') ? { name: flagString(ctx, 'name')! } : {}),
      namespace: flagString(ctx, 'namespace') ?? gitops.namespace ?? 'models',
      env, delivery, policy, identity,
      ...(mount ? { mount } : {}),
      versions: versionsOf(ctx),
      ...(gpus !== undefined ? { gpus } : {}),
      ...(verification ? { verification } : {}),
      ...(mofGate ? { mofGate } : {}),
      ...(register ? { register } : {}),
      gitops: {
        repository,
        ...(flagString(ctx, 'cluster-url') ? { clusterUrl: flagString(ctx, 'cluster-url')! } : {}),
        branch: flagString(ctx, 'branch') ?? gitops.branch ?? 'main',
        root: flagString(ctx, 'path') ?? gitops.path ?? 'models',
        author: authorOf(ctx.env),
        ...(workdir ? { workdir: resolve(ctx.cwd, workdir) } : {}),
      },
      ...(pullRequest ? { pullRequest } : {}),
      ...(flagBoolean(ctx, 'check') ? { check: true } : {}),
      ...(flagBoolean(ctx, 'plain-http') ? { insecureRegistry: true } : {}),
    });
    const { layout, ...json } = result;
    return { json: { ...json, ...(layout ? { manifests: layout.map((f) => ({ path: f.path, text: f.text })) } : {}) }, text: render(result, flagBoolean(ctx, 'check')) };
  },
} satisfies Command;

function render(r: HandoffResult, check: boolean): string {
  const lines = [
    `${r.name} ${r.version}: ${r.storageUri} (${r.format}, ${r.mount}) to ${r.env}`,
    `for: KServe ${r.versions.kserve}, Kubernetes ${r.versions.kubernetes}, Kyverno ${r.versions.kyverno}, Flux ${r.versions.flux}`,
    `verify: ${r.verification.skipped ? 'skipped' : `ok; ${(r.verification.admission?.consumers ?? []).map((c) => `${c.consumer}: ${c.form} on ${c.digest}`).join('; ')}`}`,
    `mof: ${r.mof ? `${r.mof.label}${r.mof.require ? ` (requires Class ${r.mof.require}: passed)` : ''}` : 'skipped'}`,
  ];
  if (r.registered) lines.push(`model registry: ${r.registered.registry} registered model ${r.registered.registeredModelId}, version ${r.registered.modelVersionId}${r.registered.created.modelVersion ? ' (new)' : ''}`);
  if (check) {
    lines.push('check: every manifest validates against its CRD; nothing written', ...r.files.map((f) => `  ${f}`));
    return lines.join('\n');
  }
  lines.push(r.publish?.committed ? `committed ${r.publish.commit.slice(0, 12)} on ${r.publish.branch} (${r.publish.changed.length} files changed, ${r.publish.attempts} push attempt${r.publish.attempts > 1 ? 's' : ''})` : `no change: the GitOps repository already deploys ${r.digest} to ${r.env}`);
  if (r.pullRequest) lines.push(`pull request #${r.pullRequest.number}${r.pullRequest.created ? '' : ' (updated)'}: ${r.pullRequest.url}`);
  return lines.join('\n');
}

/** --kserve, --kubernetes, --kyverno and --flux-version, as given. */
function versionsOf(ctx: CommandContext): Partial<ClusterVersions> {
  const versions: Partial<ClusterVersions> = {};
  for (const [key, flag] of [['kserve', 'kserve'], ['kubernetes', 'kubernetes'], ['kyverno', 'kyverno'], ['flux', 'flux-version']] as const) {
    const raw = flagString(ctx, flag);
    if (raw !== undefined) versions[key] = parseRelease(raw, `--${flag}`);
  }
  return versions;
}

function oneOf<T extends string>(value: string, allowed: readonly string[], flag: string): T {
  if (!allowed.includes(value)) throw new UsageError(`${flag} takes ${allowed.join(', ')}, not "${value}"`);
  return value as T;
}

function deliveryOf(ctx: CommandContext, fallback: Delivery | undefined): Delivery {
  if (flagBoolean(ctx, 'argocd') && flagBoolean(ctx, 'flux')) throw new UsageError('choose one of --flux and --argocd');
  if (flagBoolean(ctx, 'argocd')) return 'argocd';
  if (flagBoolean(ctx, 'flux')) return 'flux';
  return fallback ?? 'flux';
}

function gpusOf(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d{1,2}$/.test(raw)) throw new UsageError(`--gpus takes a whole number of GPUs per replica (0 for CPU), not "${raw}"`);
  return Number(raw);
}

function authorOf(env: NodeJS.ProcessEnv): { name: string; email: string } {
  return { name: env['GIT_AUTHOR_NAME'] ?? DEFAULT_GITOPS_AUTHOR.name, email: env['GIT_AUTHOR_EMAIL'] ?? DEFAULT_GITOPS_AUTHOR.email };
}

/** The identity the admission policy trusts: the public key as PEM, or the keyless subject and issuer. */
async function signerIdentity(ctx: CommandContext): Promise<SignerIdentity> {
  const key = flagString(ctx, 'key');
  const subject = flagString(ctx, 'cert-identity');
  const issuer = flagString(ctx, 'cert-oidc-issuer');
  if (key && (subject || issuer)) throw new UsageError('choose one signer: --key PUB.pem, or --cert-identity REGEX --cert-oidc-issuer URL');
  if (key) {
    const path = resolve(ctx.cwd, key);
    const text = await readFile(path, 'utf8').catch((err: unknown) => {
      throw new ModelshipError('INPUT_INVALID', `cannot read ${path} given with --key: ${describeError(err)}`, { cause: err });
    });
    return { kind: 'key', publicKeyPem: publicKeyPem(loadPublicKey(text, path)) };
  }
  if (subject && issuer) return { kind: 'keyless', subjectRegExp: subject, issuer };
  throw new UsageError('handoff needs the signer the admission policy trusts: --key PUB.pem, or --cert-identity REGEX --cert-oidc-issuer URL');
}

/** modelship.yaml's pipeline settings from the working folder, when there is one. */
async function projectPipeline(ctx: CommandContext): Promise<PipelineSettings> {
  const found = await findSpecFile(ctx.cwd);
  return found ? (await loadSpec(ctx.cwd, found.file)).pipeline : {};
}

