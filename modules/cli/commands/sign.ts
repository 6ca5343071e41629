/**
 * `modelship sign`: an OpenSSF Model Signing bundle for a model folder (model.sig), as model_signing
 * writes it, or for a packed artifact (REF), attached as cosign v3 referrers.
 */
import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { UsageError, ModelshipError, describeError } from '../../errors/index.js';
import {
  identityFromEnvironment,
  isEncryptedPem,
  loadPrivateKey,
  signModelFolder,
  splitPem,
  type OmsHashType,
  type SerializationMethod,
  type SigningMethod,
} from '../../sign/index.js';
import { readKeyPassword } from '../../sign/password.js';
import { artifactRepository, signArtifact, type NotationSigning } from '../../sign/artifact/index.js';
import { describeCopy, openCopy, openStore, remoteOf } from '../../store/index.js';
import { flagBoolean, flagList, flagString, type Command, type CommandContext, type CommandResult } from '../command.js';
import { REGISTRY_OPTIONS } from '../plumbing/registry-flags.js';
import { openContextOf, REFERENCE_FORMS_HELP } from '../plumbing/references.js';

export const command = {
  name: 'sign',
  summary: 'Sign a model folder or a packed artifact (OpenSSF Model Signing, cosign v3 referrers)',
  usage: 'sign DIR|REF (--key KEY.pem | --keyless | --cert CERT.pem [--chain CHAIN.pem] --key KEY.pem) [--output model.sig] [--provenance]',
  help: `
Hashes every file of DIR once and writes an OpenSSF Model Signing v1.0 Sigstore bundle, by default
DIR/model.sig, which the Python model_signing tool verifies too. model.sig and .git* are left out.

Methods:
  --key KEY.pem                ECDSA P-256 (P-384/P-521 accepted); an encrypted key's password comes
                               from MODELSHIP_KEY_PASSWORD or a terminal prompt
  --cert CERT.pem --key KEY.pem [--chain CHAIN.pem]
                               X.509: the certificate and its intermediates go into the bundle
  --keyless                    Fulcio certificate and Rekor entry; OIDC token from SIGSTORE_ID_TOKEN or
                               GitHub Actions (id-token: write); --fulcio-url/--rekor-url for private
                               instances, --rekor-entry-type dsse|intoto (dsse unless told)

Serialization: --method files|shards, --shard-size BYTES, --hash-type sha256|blake2b,
--allow-symlinks, --ignore-paths PATH (repeatable).

A packed artifact REF (the local store, oci:PATH:TAG, or HOST/REPO:TAG) is signed where it lives,
the local store's copy when it holds REF (push it afterwards to publish), else the registry's,
from its manifest's digests: no weight is read again, so signing takes the same time for any size.
Attached as Sigstore bundle referrers (cosign v3 layout): the model signature (OpenSSF), an image
signature over the manifest digest (https://sigstore.dev/cosign/sign/v1, what cosign verify,
Kyverno and policy-controller check), and attestations of SBOM and MOF report referrers found.
  --provenance                 also SLSA v1 provenance of the pack step: the git commit of --project
                               DIR (default .), the spec file's digest (--spec FILE, found in DIR
                               when absent), the builder (GitHub Actions, MODELSHIP_BUILDER=hook|dagger,
                               else laptop)
  --no-attest-documents        leave SBOM and MOF report referrers unattested
  --no-simple-signing          leave out cosign's tag signature: by default the manifest (and a
                               ModelCar's index and image) is also signed as "cosign sign" does without
                               the new bundle format, a simple-signing layer in the image tagged
                               sha256-<hex>.sig, the form policy-controller, Kyverno type Cosign and
                               Flux before 2.8 verify (docs/signing.md)
  --notation                   with --cert/--chain/--key, also a Notation (notary.x509) JWS signature
                               referrer; the chain must end at the root the verifier's trust store holds

${REFERENCE_FORMS_HELP}

Examples:
  modelship sign ./my-model --key signing.key
  modelship sign llama:v1 --key signing.key --provenance
  modelship sign 127.0.0.1:5000/models/llama:v1 --plain-http --keyless`,
  options: {
    key: { type: 'string' },
    keyless: { type: 'boolean' },
    cert: { type: 'string' },
    chain: { type: 'string' },
    output: { type: 'string', short: 'o' },
    'fulcio-url': { type: 'string' },
    'rekor-url': { type: 'string' },
    'rekor-entry-type': { type: 'string' },
    method: { type: 'string' },
    'shard-size': { type: 'string' },
    'hash-type': { type: 'string' },
    'allow-symlinks': { type: 'boolean' },
    'ignore-paths': { type: 'string', multiple: true },
    provenance: { type: 'boolean' },
    project: { type: 'string' },
    spec: { type: 'string' },
    'no-attest-documents': { type: 'boolean' },
    'no-simple-signing': { type: 'boolean' },
    notation: { type: 'boolean' },
    ...REGISTRY_OPTIONS,
  },
  async run(ctx) {
    const [target, ...extra] = ctx.args;
    if (!target || extra.length) throw new UsageError(`usage: modelship ${command.usage}`);
    const path = resolve(ctx.cwd, target);
    // What is not a file or folder here is an artifact reference.
    if (!(await isLocalPath(path))) return signReference(ctx, target);
    const signing = await signingMethod(ctx);
    const output = flagString(ctx, 'output');
    const shardSize = flagString(ctx, 'shard-size');
    const result = await signModelFolder(path, {
      signing,
      ...(output ? { output: resolve(ctx.cwd, output) } : {}),
      method: serializationMethod(flagString(ctx, 'method')),
      hashType: hashType(flagString(ctx, 'hash-type')),
      allowSymlinks: flagBoolean(ctx, 'allow-symlinks'),
      ...(shardSize ? { shardSize: positiveInteger(shardSize, '--shard-size') } : {}),
      ignorePaths: flagList(ctx, 'ignore-paths'),
      reporter: ctx.reporter,
    });
    const subject = result.statement.subject[0]!;
    return {
      json: {
        signature: result.bundlePath,
        method: signing.kind,
        subject: { name: subject.name, digest: subject.digest },
        resources: result.statement.predicate.resources.length,
      },
      text: `signed ${subject.name}: ${result.statement.predicate.resources.length} resources, sha256:${subject.digest['sha256']}\nwrote ${result.bundlePath}`,
    };
  },
} satisfies Command;

async function signReference(ctx: CommandContext, input: string): Promise<CommandResult> {
  for (const flag of ['output', 'method', 'shard-size', 'hash-type', 'allow-symlinks', 'ignore-paths']) {
    if (ctx.flags[flag] !== undefined) throw new UsageError(`--${flag} applies to a model folder; a packed artifact is signed from its manifest`);
  }
  const signing = await signingMethod(ctx);
  const store = openStore(ctx.env, ctx.cwd);
  // Sign where it lives: the store's copy before it is pushed, else the registry's (not pulled; its referrers go there).
  const { opened, descriptor, where } = await openCopy(input, { ...openContextOf(ctx, store), store, prefer: 'local-first' });
  const notation = flagBoolean(ctx, 'notation') ? notationSigning(signing) : undefined;
  const repository = artifactRepository(opened);
  const projectDir = resolve(ctx.cwd, flagString(ctx, 'project') ?? '.');
  const spec = flagString(ctx, 'spec');
  const result = await signArtifact(opened.target, descriptor.digest, signing, {
    ...(repository ? { repository } : {}),
    ...(flagBoolean(ctx, 'provenance') ? { provenance: { projectDir, env: ctx.env, ...(spec ? { specFile: resolve(ctx.cwd, spec) } : {}) } } : {}),
    attestDocuments: !flagBoolean(ctx, 'no-attest-documents'),
    simpleSigning: !flagBoolean(ctx, 'no-simple-signing'),
    ...(notation ? { notation } : {}),
  });
  const subject = result.statement.subject[0]!;
  const lines = [`signed ${describeCopy(opened, result.descriptor.digest)}: ${result.statement.predicate.resources.length} files, model ${subject.name}`];
  for (const a of result.attached) lines.push(`  attached ${a.referrer.digest} ${a.tag ? `cosign signature (tag ${a.tag})` : (a.predicateType ?? a.artifactType)}${a.subject.digest === result.descriptor.digest ? '' : ` to ${a.subject.digest}`}`);
  if (where === 'local') lines.push(`signed the local copy; push to publish (modelship push ${opened.display}${remoteOf(opened.display) ? '' : ' HOST/REPO:TAG'})`);
  return {
    json: {
      reference: opened.display,
      digest: result.descriptor.digest,
      copy: where,
      method: signing.kind,
      subject: { name: subject.name, digest: subject.digest },
      resources: result.statement.predicate.resources.length,
      attached: result.attached.map((a) => ({ digest: a.referrer.digest, artifactType: a.artifactType, ...(a.predicateType ? { predicateType: a.predicateType } : {}), subject: a.subject.digest, ...(a.tag ? { tag: a.tag } : {}) })),
    },
    text: lines.join('\n'),
  };
}

/** Notation signs with X.509 only: the --cert leaf and its --chain up to the root. */
function notationSigning(signing: SigningMethod): NotationSigning {
  if (signing.kind !== 'certificate') throw new UsageError('--notation signs with a certificate: give --cert CERT.pem --chain CHAIN.pem --key KEY.pem');
  return { key: signing.privateKey, certChain: [...splitPem(signing.certificatePem), ...splitPem(signing.chainPem ?? '')] };
}

async function isLocalPath(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function signingMethod(ctx: CommandContext): Promise<SigningMethod> {
  const keyPath = flagString(ctx, 'key');
  const certPath = flagString(ctx, 'cert');
  const keyless = flagBoolean(ctx, 'keyless');
  if (keyless && (keyPath || certPath)) throw new UsageError('--keyless takes no --key or --cert');
  if (keyless) {
    const fulcioURL = flagString(ctx, 'fulcio-url');
    const rekorURL = flagString(ctx, 'rekor-url');
    const entryType = flagString(ctx, 'rekor-entry-type');
    if (entryType !== undefined && entryType !== 'dsse' && entryType !== 'intoto') throw new UsageError(`--rekor-entry-type must be dsse or intoto, not "${entryType}"`);
    return {
      kind: 'keyless',
      identity: identityFromEnvironment(ctx.env),
      ...(fulcioURL ? { fulcioURL } : {}),
      ...(rekorURL ? { rekorURL } : {}),
      ...(entryType ? { rekorEntryType: entryType } : {}),
    };
  }
  if (!keyPath) throw new UsageError('choose a method: --key KEY.pem, --cert CERT.pem --key KEY.pem, or --keyless');
  const privateKey = await readPrivateKey(ctx, resolve(ctx.cwd, keyPath));
  if (!certPath) return { kind: 'key', privateKey };
  const chainPath = flagString(ctx, 'chain');
  return {
    kind: 'certificate',
    privateKey,
    certificatePem: await readText(resolve(ctx.cwd, certPath), '--cert'),
    ...(chainPath ? { chainPem: await readText(resolve(ctx.cwd, chainPath), '--chain') } : {}),
  };
}

async function readPrivateKey(ctx: CommandContext, path: string) {
  const pem = await readText(path, '--key');
  const password = isEncryptedPem(pem)
    ? await readKeyPassword({ env: ctx.env, stdin: ctx.stdin, stderr: ctx.stderr }, `Password for ${path}: `)
    : undefined;
  return loadPrivateKey(pem, path, password);
}

async function readText(path: string, flag: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new ModelshipError('INPUT_INVALID', `cannot read ${path} given with ${flag}: ${describeError(err)}`, { cause: err });
  }
}

function serializationMethod(value: string | undefined): SerializationMethod {
  if (value === undefined || value === 'files' || value === 'shards') return value ?? 'files';
  throw new UsageError(`--method must be files or shards, not "${value}"`);
}

function hashType(value: string | undefined): OmsHashType {
  if (value === undefined || value === 'sha256' || value === 'blake2b' || value === 'blake3') return value ?? 'sha256';
  throw new UsageError(`--hash-type must be sha256 or blake2b, not "${value}"`);
}

function positiveInteger(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new UsageError(`${flag} must be a positive whole number of bytes, not "${value}"`);
  return n;
}
