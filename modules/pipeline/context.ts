/**
 * One context for every step: the project, the reference it is packed to, where it is pushed, how
 * it is signed and verified. Built once from modelship.yaml, the environment and the door's flags.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createPublicKey, type KeyObject } from 'node:crypto';
import { ModelshipError, describeError } from '../errors/index.js';
import { silentReporter, type Reporter } from '../progress/index.js';
import { loadSpec, type ModelSpec } from '../project/index.js';
import type { ModelCarBase } from '../modelpack/index.js';
import { identityFromEnvironment, isEncryptedPem, loadPrivateKey, type SigningMethod, type VerificationPolicy } from '../sign/index.js';
import { openStore, remoteOf, storeReference, type LocalStore } from '../store/index.js';
import type { StepName, StepOutcome } from './steps.js';
import { escapeRegExp } from '../text/regexp.js';

/** How the pipeline signs: a key it read, keyless (CI), or not at all (and says so). */
export type PipelineSigning =
  | { kind: 'signed'; method: SigningMethod; policy?: VerificationPolicy; describe: string }
  | { kind: 'none'; reason: string; /** True when the door said not to sign (--no-sign), false when nothing to sign with was found. */ declined: boolean };

export interface PipelineInput {
  /** The model project folder (Kitfile, Modelfile or modelship.yaml, or none). */
  projectDir: string;
  /** Store reference to pack to; default NAME:VERSION from the spec (under `pipeline.registry` when set). */
  reference?: string;
  /** Registry reference to push to; default the reference itself when it names a registry. */
  pushTo?: string;
  /** False keeps the artifact in the local store even when its reference names a registry. */
  push?: boolean;
  /** A signing key (PEM path); default `pipeline.signing.key` or MODELSHIP_SIGNING_KEY. */
  signingKey?: string;
  /** Sign keylessly (Sigstore) even when a key is configured. */
  keyless?: boolean;
  /** False: do not sign at all (--no-sign), even where a key or an OIDC token is at hand. */
  sign?: boolean;
  plainHttp?: boolean;
  caFile?: string;
  env: NodeJS.ProcessEnv;
  cwd: string;
  reporter?: Reporter;
  /** The MOF class to require; default `pipeline.mof.require`. */
  mofRequire?: 1 | 2 | 3;
  /** Also pack the ModelCar view (the runnable image KServe starts) on this base. */
  modelcar?: ModelCarBase;
}

export interface PipelineContext {
  projectDir: string;
  spec: ModelSpec;
  reference: string;
  pushTo?: string;
  signing: PipelineSigning;
  mofRequire?: 1 | 2 | 3;
  plainHttp: boolean;
  caFile?: string;
  env: NodeJS.ProcessEnv;
  cwd: string;
  reporter: Reporter;
  store: LocalStore;
  modelcar?: ModelCarBase;
  /** Outcomes so far, by step: later steps read earlier results (the packed digest, the class). */
  results: Partial<Record<StepName, StepOutcome>>;
}

export async function createPipelineContext(input: PipelineInput): Promise<PipelineContext> {
  const projectDir = path.resolve(input.cwd, input.projectDir);
  const spec = await loadSpec(projectDir);
  const reference = storeReference(input.reference ?? defaultReference(spec));
  const pushTo = input.push === false ? undefined : input.pushTo ?? remoteOf(reference);
  const mofRequire = input.mofRequire ?? spec.pipeline.mof?.require;
  return {
    projectDir,
    spec,
    reference,
    ...(pushTo ? { pushTo } : {}),
    signing: await signingOf(spec, input),
    ...(mofRequire ? { mofRequire } : {}),
    plainHttp: input.plainHttp ?? false,
    ...(input.caFile ? { caFile: input.caFile } : {}),
    env: input.env,
    cwd: input.cwd,
    reporter: input.reporter ?? silentReporter,
    store: openStore(input.env, input.cwd),
    ...(input.modelcar ? { modelcar: input.modelcar } : {}),
    results: {},
  };
}

/** NAME:VERSION, under the configured registry when there is one. */
function defaultReference(spec: ModelSpec): string {
  const name = (spec.descriptor.name ?? path.basename(spec.contextDir)).toLowerCase().replace(/[^a-z0-9._-]+/g, '-');
  const version = (spec.descriptor.version ?? 'latest').replace(/[^A-Za-z0-9_.-]+/g, '-');
  const registry = spec.pipeline.registry?.replace(/\/+$/, '');
  return `${registry ? `${registry}/` : ''}${name}:${version}`;
}

/** What the pipeline lacks to sign, and where each door takes it from. */
export const NO_SIGNER = 'no signing key or identity: give --key KEY.pem (or MODELSHIP_SIGNING_KEY, as a path or the PEM text, or pipeline.signing.key in modelship.yaml; "modelship keys generate" makes one), or --keyless with an OIDC token (SIGSTORE_ID_TOKEN, or GitHub Actions with "id-token: write")';

/** In CI with an OIDC token and no key, sign keylessly; with neither, skip signing and say why. */
async function signingOf(spec: ModelSpec, input: PipelineInput): Promise<PipelineSigning> {
  const env = input.env;
  if (input.sign === false) return { kind: 'none', reason: 'not signed: --no-sign', declined: true };
  const settings = spec.pipeline.signing ?? {};
  const keyless = input.keyless || settings.method === 'keyless';
  const keyPath = input.signingKey ?? env['MODELSHIP_SIGNING_KEY'] ?? (settings.key ? path.resolve(spec.contextDir, settings.key) : undefined);
  const hasOidc = Boolean(env['SIGSTORE_ID_TOKEN'] || (env['ACTIONS_ID_TOKEN_REQUEST_URL'] && env['ACTIONS_ID_TOKEN_REQUEST_TOKEN']));
  if (keyless || (!keyPath && hasOidc)) {
    const fulcioURL = env['MODELSHIP_FULCIO_URL'];
    const rekorURL = env['MODELSHIP_REKOR_URL'];
    const entryType = env['MODELSHIP_REKOR_ENTRY_TYPE'];
    if (entryType !== undefined && entryType !== 'dsse' && entryType !== 'intoto') {
      throw new ModelshipError('USAGE', `MODELSHIP_REKOR_ENTRY_TYPE must be dsse or intoto, not "${entryType}"`);
    }
    return {
      kind: 'signed',
      method: { kind: 'keyless', identity: identityFromEnvironment(env), ...(fulcioURL ? { fulcioURL } : {}), ...(rekorURL ? { rekorURL } : {}), ...(entryType ? { rekorEntryType: entryType } : {}) },
      ...(await keylessPolicy(settings, env, input.cwd)),
      describe: 'keyless (Sigstore)',
    };
  }
  if (!keyPath) {
    return { kind: 'none', reason: NO_SIGNER, declined: false };
  }
  // A CI secret arrives as the key's PEM text, not a path: read it as the key, and never print it.
  const inline = input.signingKey === undefined && keyPath === env['MODELSHIP_SIGNING_KEY'] && keyPath.includes('-----BEGIN');
  const full = inline ? 'the key in MODELSHIP_SIGNING_KEY' : path.resolve(input.cwd, keyPath);
  const pem = inline ? keyPath : await readFile(full, 'utf8').catch((err: unknown) => {
    throw new ModelshipError('SIGN_KEY_INVALID', `cannot read the signing key ${full}: ${describeError(err)}`, { cause: err });
  });
  if (isEncryptedPem(pem) && env['MODELSHIP_KEY_PASSWORD'] === undefined) {
    throw new ModelshipError('SIGN_KEY_PASSWORD', `${full} is encrypted: set MODELSHIP_KEY_PASSWORD for the pipeline (it never prompts)`);
  }
  const privateKey = loadPrivateKey(pem, full, env['MODELSHIP_KEY_PASSWORD']);
  const publicKey: KeyObject = createPublicKey(privateKey);
  return { kind: 'signed', method: { kind: 'key', privateKey }, policy: { kind: 'key', publicKey }, describe: `key ${full}` };
}

/** Keyless signatures verify here only with the expected identity and a trusted root file. */
async function keylessPolicy(settings: NonNullable<ModelSpec['pipeline']['signing']>, env: NodeJS.ProcessEnv, cwd: string): Promise<{ policy?: VerificationPolicy }> {
  const rootFile = env['MODELSHIP_TRUSTED_ROOT'];
  const identity = settings.identity ?? env['MODELSHIP_CERT_IDENTITY'];
  const issuer = settings.issuer ?? env['MODELSHIP_CERT_OIDC_ISSUER'];
  if (!rootFile || !identity || !issuer) return {};
  const trustedRoot = JSON.parse(await readFile(path.resolve(cwd, rootFile), 'utf8')) as unknown;
  return { policy: { kind: 'keyless', identity: new RegExp(`^${escapeRegExp(identity)}$`), issuer, trustedRoot } };
}
