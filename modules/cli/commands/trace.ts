/**
 * `modelship trace INFERENCESERVICE.yaml|oci://HOST/REPO@sha256:…`: what runs in the cluster, who
 * signed it, what is in it and where it came from, one link at a time.
 */
import { join, relative, resolve } from 'node:path';
import { ModelshipError, UsageError, describeError } from '../../errors/index.js';
import { pathExists } from '../../fs/exists.js';
import { loadClusterPolicy } from '../../gitops/index.js';
import { formatReference } from '../../oci/reference.js';
import { lookUpDigest } from '../../registry/index.js';
import { modelshipHome, openCopy, openStore } from '../../store/index.js';
import { brokenLine, readTraceInput, renderTrace, trace, type TraceInput, type TracePolicy } from '../../trace/index.js';
import { flagBoolean, flagString, type Command, type CommandContext } from '../command.js';
import { parseRequire } from '../plumbing/documents.js';
import { readFlagFile } from '../plumbing/flag-files.js';
import { MODEL_REGISTRY_OPTIONS, REGISTRY_TOKEN_ENV, REGISTRY_URL_ENV, modelRegistryToken, modelRegistryUrl } from '../plumbing/model-registry.js';
import { REGISTRY_OPTIONS } from '../plumbing/registry-flags.js';
import { openContextOf } from '../plumbing/references.js';
import { SIGNER_OPTIONS, verificationPolicy } from '../plumbing/verification.js';

const USAGE = 'trace FILE|oci://HOST/REPO@sha256:… [--policy GITOPS_DIR|FILE [--env ENV] | --key PUB.pem | --cert-identity REGEX --cert-oidc-issuer URL --trusted-root FILE] [--registry-url URL] [--require 1|2|3] [--local] [--plain-http] [--ca-file F]';

export const command = {
  name: 'trace',
  summary: 'Trace what runs in the cluster back to its registry record, signatures, SBOM, MOF class and source',
  usage: USAGE,
  help: `Answers "what is this, who signed it, what is in it, where did it come from" for a model the
cluster runs, from one of:
  FILE                  an InferenceService: the hand-off's overlays/ENV/inferenceservice-pin.yaml in
                        the GitOps repository, or "kubectl get inferenceservice NAME -o yaml" (a List
                        too; --name NAME picks one of several)
  oci://HOST/REPO@sha256:…   the storageUri itself (oci+native:// for an image volume)

and follows the chain, printing each link as a tree (--json: the same as data):
  artifact          the digest the storageUri pins, and what it is (ModelCar index, model manifest)
  registry-record   the Kubeflow Model Registry's registered model and version recording that digest
                    (by the InferenceService's modelregistry.kubeflow.org labels when it has them)
  signatures        each signature, the identity it names and whether it verifies against the signer
  sbom              the SBOMs attached (and whether the trusted signer attested them)
  mof               the MOF class, and the MOF report attached
  source            the Hugging Face commit it was imported from, or the git commit the SLSA
                    provenance names (modelship sign --provenance)

Exits 0 only when every link holds; otherwise with the exit status of the first broken link and its
reason: 8 unsigned or not verifying (TRACE_UNSIGNED, VERIFY_FAILED), 4 not registered
(TRACE_NOT_REGISTERED) or no SBOM, MOF report or source, 6 a registry unreachable, 9 below
--require (docs/exit-codes.md, docs/trace.md).

Whom to trust, one of:
  --policy GITOPS_DIR|FILE [--env ENV]
                        the admission policy the GitOps repository holds (Kyverno ClusterPolicy or
                        policy-controller ClusterImagePolicy, as the hand-off writes them), judged as
                        the controller would, with its MOF minimum; --trusted-root FILE for keyless
                        signers. An InferenceService file in the hand-off's layout
                        (<model>/overlays/<env>/) uses <model>/policy/<env>/ without being told
  --key PUB.pem | --ca CA.pem | --cert-identity REGEX --cert-oidc-issuer URL --trusted-root FILE
                        a signer, as "modelship verify" takes it
Without any, the signatures are listed unchecked and the trace is incomplete (TRACE_UNVERIFIED, 8).
Model registry: --registry-url URL, else the InferenceService's modelregistry.kubeflow.org/url
annotation, else $${REGISTRY_URL_ENV}, else pipeline.modelRegistry.url in ./modelship.yaml, else
the embedded registry under $MODELSHIP_HOME; token from --token-env NAME or $${REGISTRY_TOKEN_ENV}.
Artifact: read from the registry the storageUri names (--plain-http, --ca-file as elsewhere);
--local reads the local store's copy instead (a quickstart run without --registry pins localhost:5000).

Examples:
  modelship trace gitops/models/tiny-chat/overlays/dev/inferenceservice-pin.yaml
  kubectl get inferenceservice tiny-chat -n models -o yaml > isvc.yaml
  modelship trace isvc.yaml --policy ./gitops --env prod
  modelship trace oci://127.0.0.1:5000/team/tiny-chat@sha256:… --plain-http --key cosign.pub --json`,
  options: {
    name: { type: 'string' },
    policy: { type: 'string' },
    env: { type: 'string' },
    ...SIGNER_OPTIONS,
    require: { type: 'string' },
    local: { type: 'boolean' },
    ...MODEL_REGISTRY_OPTIONS,
    ...REGISTRY_OPTIONS,
  },
  async run(ctx) {
    const [given, ...extra] = ctx.args;
    if (!given || extra.length) throw new UsageError(`usage: modelship ${USAGE}`);
    const name = flagString(ctx, 'name');
    const input = await readTraceInput(given, ctx.cwd, name === undefined ? {} : { name });
    const policy = await tracePolicy(ctx, input);
    const require = parseRequire(flagString(ctx, 'require'), undefined);
    const url = flagString(ctx, 'registry-url') !== undefined ? await modelRegistryUrl(ctx) : (input.inferenceService?.registry.url ?? (await modelRegistryUrl(ctx)));
    const token = modelRegistryToken(ctx);
    const home = modelshipHome(ctx.env, ctx.cwd);
    const result = await trace({
      input,
      open: () => openArtifact(ctx, input),
      ...(policy ? { policy } : {}),
      lookUp: (digest, modelVersionId) => lookUpDigest({ ...(url ? { url } : {}), ...(token ? { token } : {}), home, ...(modelVersionId ? { modelVersionId } : {}) }, digest),
      ...(require ? { requireMof: require } : {}),
    });
    const svc = input.inferenceService;
    // With --json the reason still reaches a person: a door that keeps stdout (Dagger, the Action) shows stderr.
    const first = result.links.find((l) => l.name === result.brokenLink);
    if (ctx.json && first) ctx.stderr.write(`error: ${brokenLine(first)}\n`);
    return {
      json: {
        ok: result.ok,
        ...(result.brokenLink ? { brokenLink: result.brokenLink } : {}),
        exitCode: result.exitCode,
        input: { given: input.given, kind: input.kind, ...(svc ? { inferenceService: svc } : {}) },
        storageUri: result.storageUri,
        mount: input.mount,
        ...(result.digest ? { digest: result.digest } : {}),
        links: result.links,
      },
      text: renderTrace(input, result),
      ...(result.ok ? {} : { exitCode: result.exitCode }),
    };
  },
} satisfies Command;

/**
 * Whom to trust: --policy (the GitOps repository's admission policy), else the signer from --key,
 * --ca or --cert-identity as verify reads them, else the policy beside the InferenceService in the
 * hand-off's layout (<model>/policy/<env>/); none of them: the signatures stay unchecked.
 */
async function tracePolicy(ctx: CommandContext, input: TraceInput): Promise<TracePolicy | undefined> {
  const policyFlag = flagString(ctx, 'policy');
  const flags = ['key', 'ca', 'cert-chain', 'cert-identity', 'cert-oidc-issuer'].filter((f) => flagString(ctx, f) !== undefined);
  if (policyFlag !== undefined && flags.length) throw new UsageError(`choose one: --policy ${policyFlag} (the cluster's admission policy names the signer), or ${flags.map((f) => `--${f}`).join(' ')}`);
  const gitops = input.inferenceService?.gitops;
  const env = flagString(ctx, 'env') ?? gitops?.env;
  if (policyFlag !== undefined) {
    if (policyFlag === '') throw new UsageError('--policy needs the GitOps repository folder or a policy file');
    const path = resolve(ctx.cwd, policyFlag);
    return { kind: 'cluster', set: await loadClusterPolicy(path, env ? { env } : {}), source: policyFlag, ...(await trustedRoot(ctx)) };
  }
  if (flags.length) return { kind: 'signer', policy: await verificationPolicy(ctx), source: flags.filter((f) => f !== 'cert-oidc-issuer').map((f) => `--${f} ${flagString(ctx, f)}`).join(' ') };
  if (!gitops) return undefined;
  const beside = join(gitops.modelFolder, 'policy', gitops.env);
  if (!(await pathExists(beside))) return undefined;
  return { kind: 'cluster', set: await loadClusterPolicy(beside, { env: gitops.env }), source: shownPath(ctx.cwd, beside), ...(await trustedRoot(ctx)) };
}

/** A path as the user would type it from here: relative inside the working folder, else absolute. */
function shownPath(cwd: string, path: string): string {
  const rel = relative(cwd, path);
  return rel && !rel.startsWith('..') ? rel : path;
}

/** --trusted-root for a policy's keyless signers. */
async function trustedRoot(ctx: CommandContext): Promise<{ trustedRoot?: unknown }> {
  const flag = flagString(ctx, 'trusted-root');
  if (!flag) return {};
  const path = resolve(ctx.cwd, flag);
  const text = await readFlagFile(path, '--trusted-root');
  try {
    return { trustedRoot: JSON.parse(text) as unknown };
  } catch (err) {
    throw new ModelshipError('INPUT_INVALID', `${path} given with --trusted-root is not JSON: ${describeError(err)}`, { cause: err });
  }
}

/** What the cluster pulls (the registry's copy), or with --local the store's copy of the same digest. */
async function openArtifact(ctx: CommandContext, input: TraceInput) {
  const store = openStore(ctx.env, ctx.cwd);
  const reference = formatReference(input.image);
  const copy = await openCopy(reference, { ...openContextOf(ctx, store), store, prefer: flagBoolean(ctx, 'local') ? 'local' : 'registry' });
  return { target: copy.opened.target, selector: copy.descriptor.digest, display: copy.opened.display, where: copy.where };
}
