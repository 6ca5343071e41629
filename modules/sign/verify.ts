/**
 * Verify an OMS bundle and, for a folder, the files it names. Every check performed is reported,
 * and the first one that fails gives the reason.
 */
import { verify as cryptoVerify, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ModelshipError, describeError } from '../errors/index.js';
import { bundleKeyMaterial, parseBundle, type SerializedOmsBundle } from './bundle.js';
import { verifyCertificateChain } from './cert-chain.js';
import { IN_TOTO_PAYLOAD_TYPE, preAuthEncoding } from './dsse.js';
import { hashForKey, publicKeyHint } from './keys.js';
import { verifyKeylessBundle, type KeylessIdentityPolicy } from './keyless-verify.js';
import { hashModelFolder } from './oms/hash-folder.js';
import {
  IN_TOTO_STATEMENT_TYPE,
  OMS_PREDICATE_TYPE,
  OMS_V02_PREDICATE_TYPE,
  sortResources,
  subjectDigest,
  type InTotoStatement,
  type OmsHashType,
  type OmsResource,
  type OmsSerialization,
} from './oms/statement.js';

export type VerificationPolicy =
  | { kind: 'key'; publicKey: KeyObject }
  /** `validAt`: when the chain must be valid; the leaf's notBefore by default, as model_signing judges it. */
  | { kind: 'certificate'; trustAnchorsPem: string[]; validAt?: Date }
  | ({ kind: 'keyless' } & KeylessIdentityPolicy);

export interface VerificationCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface VerificationResult {
  ok: boolean;
  checks: VerificationCheck[];
  /** The first failed check's detail. */
  reason?: string;
  /** The signed statement, once its signature checked out. */
  statement?: InTotoStatement;
}

/** What was signed, as the files on disk should reproduce it. */
export type SignedContent =
  | { format: 'v1.0'; resources: OmsResource[]; serialization: OmsSerialization }
  | { format: 'v0.2'; resources: OmsResource[] };

class Checks {
  readonly list: VerificationCheck[] = [];
  add(name: string, ok: boolean, detail: string): boolean {
    this.list.push({ name, ok, detail });
    return ok;
  }
  result(statement?: InTotoStatement): VerificationResult {
    const failed = this.list.find((c) => !c.ok);
    return { ok: !failed, checks: this.list, ...(failed ? { reason: failed.detail } : {}), ...(statement ? { statement } : {}) };
  }
}

/** Check a bundle's signature, signer and statement; does not look at any file. */
export function verifyBundle(bundleBytes: Uint8Array | string, policy: VerificationPolicy, where = 'signature'): VerificationResult & { content?: SignedContent } {
  const checks = new Checks();
  let bundle: SerializedOmsBundle;
  try {
    bundle = parseBundle(bundleBytes, where);
  } catch (err) {
    checks.add('bundle', false, describeError(err));
    return checks.result();
  }
  checks.add('bundle', true, `${where} is a ${bundle.mediaType} DSSE bundle`);
  const env = bundle.dsseEnvelope;
  if (!checks.add('payload-type', env.payloadType === IN_TOTO_PAYLOAD_TYPE, `payloadType is ${env.payloadType}`)) return checks.result();
  const payload = Buffer.from(env.payload, 'base64');
  if (!verifySigner(bundle, payload, policy, checks)) return checks.result();
  let statement: InTotoStatement;
  try {
    statement = JSON.parse(payload.toString('utf8')) as InTotoStatement;
  } catch (err) {
    checks.add('statement', false, `the signed payload is not JSON: ${describeError(err)}`);
    return checks.result();
  }
  const content = readSignedContent(statement, checks);
  const result = checks.result(statement);
  return content ? { ...result, content } : result;
}

function verifySigner(bundle: SerializedOmsBundle, payload: Buffer, policy: VerificationPolicy, checks: Checks): boolean {
  const pae = preAuthEncoding(bundle.dsseEnvelope.payloadType, payload);
  const sig = Buffer.from(bundle.dsseEnvelope.signatures[0]!.sig, 'base64');
  const material = bundleKeyMaterial(bundle);
  switch (policy.kind) {
    case 'key': {
      if (material.kind !== 'publicKey') return checks.add('key', false, 'the bundle is signed with a certificate, not a key; verify with --ca or --cert-identity');
      const hint = publicKeyHint(policy.publicKey);
      if (material.hint && material.hint !== hint) {
        return checks.add('key', false, `the bundle was signed by another key (hint ${material.hint}, the given key is ${hint})`);
      }
      if (material.rawBytes && !sameKey(material.rawBytes, policy.publicKey)) return checks.add('key', false, 'the bundle names another public key than the given one');
      checks.add('key', true, `the bundle names the given key (${hint.slice(0, 16)}…)`);
      return checks.add('signature', ecdsaVerifies(policy.publicKey, pae, sig), 'DSSE signature over the payload verifies with the given key') || failSignature(checks);
    }
    case 'certificate': {
      if (material.kind !== 'certificate') return checks.add('certificate', false, 'the bundle is signed with a bare key, not a certificate; verify with --key');
      const leaf = new X509Certificate(material.certificates[0]!);
      if (!checks.add('signature', ecdsaVerifies(leaf.publicKey, pae, sig), 'DSSE signature over the payload verifies with the leaf certificate')) return failSignature(checks);
      const chain = verifyCertificateChain(material.certificates, policy.trustAnchorsPem, policy.validAt);
      return checks.add('certificate-chain', chain.ok, chain.detail);
    }
    case 'keyless': {
      if (material.kind !== 'certificate') return checks.add('sigstore', false, 'the bundle is signed with a bare key, not a Fulcio certificate; verify with --key');
      const outcome = verifyKeylessBundle(bundle, policy);
      if (!checks.add('sigstore', outcome.sigstore.ok, outcome.sigstore.detail)) return false;
      return checks.add('identity', outcome.identity!.ok, outcome.identity!.detail);
    }
    default:
      throw new ModelshipError('VERIFY_FAILED', `unknown verification policy ${JSON.stringify(policy satisfies never)}`);
  }
}

function failSignature(checks: Checks): false {
  const last = checks.list[checks.list.length - 1]!;
  last.detail = 'the DSSE signature does not verify: the payload or the signature was changed after signing, or another key signed it';
  return false;
}

function ecdsaVerifies(key: KeyObject, data: Buffer, sig: Buffer): boolean {
  try {
    return cryptoVerify(hashForKey(key, 'verification key'), data, key, sig);
  } catch {
    return false;
  }
}

function sameKey(rawBytes: Buffer, key: KeyObject): boolean {
  try {
    // model_signing 1.0 put the PEM text here; DER SPKI is the protobuf's meaning.
    const text = rawBytes.toString('utf8');
    const other = text.includes('BEGIN PUBLIC KEY') ? createPublicKey(text) : createPublicKey({ key: rawBytes, format: 'der', type: 'spki' });
    return other.equals(key);
  } catch {
    return false;
  }
}

function readSignedContent(statement: InTotoStatement, checks: Checks): SignedContent | undefined {
  if (!checks.add('statement', statement?._type === IN_TOTO_STATEMENT_TYPE && Array.isArray(statement.subject), `in-toto statement ${String(statement?._type)}`)) return undefined;
  if (statement.predicateType === OMS_V02_PREDICATE_TYPE) {
    const resources = statement.subject.map((s) => ({ name: s.name, algorithm: 'sha256', digest: s.digest['sha256'] ?? '' }));
    const unsupported = statement.subject.find((s) => (s.annotations?.['actual_hash_algorithm'] ?? 'file-sha256') !== 'file-sha256');
    if (!checks.add('predicate', !unsupported, unsupported ? `v0.2 subject ${unsupported.name} uses ${String(unsupported.annotations?.['actual_hash_algorithm'])}, which is not supported` : 'deprecated model_signing v0.2 digests (read-only)')) return undefined;
    return { format: 'v0.2', resources };
  }
  if (!checks.add('predicate', statement.predicateType === OMS_PREDICATE_TYPE, `predicateType ${statement.predicateType}`)) return undefined;
  const predicate = statement.predicate as { resources?: OmsResource[]; serialization?: OmsSerialization };
  const resources = predicate.resources;
  const serialization = predicate.serialization;
  if (!Array.isArray(resources) || !serialization || typeof serialization.method !== 'string') {
    checks.add('predicate', false, 'predicate lacks resources or serialization');
    return undefined;
  }
  const expected = statement.subject[0]?.digest['sha256'];
  const listed = subjectDigest(resources);
  const sorted = subjectDigest(sortResources(resources));
  // The spec hashes in listed order; also accept the reference order when a writer listed another.
  const ok = expected === listed || expected === sorted;
  if (!checks.add('subject-digest', ok, ok ? `subject ${statement.subject[0]!.name} digest matches its ${resources.length} resources` : `subject digest ${String(expected)} is not the digest of the listed resources (${listed})`)) return undefined;
  return { format: 'v1.0', resources, serialization };
}

export interface VerifyFolderOptions {
  /** More paths to leave out, relative to the model (model_signing's --ignore-paths). */
  ignorePaths?: string[];
}

/** Verify the bundle, then hash the folder as it was serialized and compare the file sets. */
export async function verifyModelFolder(modelPath: string, bundlePath: string, policy: VerificationPolicy, opts: VerifyFolderOptions = {}): Promise<VerificationResult> {
  let bytes: Buffer;
  try {
    bytes = await readFile(bundlePath);
  } catch (err) {
    throw new ModelshipError('VERIFY_FAILED', `cannot read the signature ${bundlePath}: ${describeError(err)}; sign first or pass --signature`, { cause: err });
  }
  const verified = verifyBundle(bytes, policy, bundlePath);
  if (!verified.ok || !verified.content) return verified;
  const checks = new Checks();
  checks.list.push(...verified.checks);
  const content = verified.content;
  const serialization: OmsSerialization =
    content.format === 'v1.0' ? content.serialization : { method: 'files', hash_type: 'sha256', allow_symlinks: false };
  let actual: OmsResource[];
  try {
    const hashed = await hashModelFolder(modelPath, {
      method: serialization.method,
      hashType: serialization.hash_type as OmsHashType,
      allowSymlinks: serialization.allow_symlinks,
      ...(serialization.shard_size !== undefined ? { shardSize: Number(serialization.shard_size) } : {}),
      ignorePaths: [...(serialization.ignore_paths ?? []), ...(opts.ignorePaths ?? [])],
      signatureFile: resolve(bundlePath),
    });
    actual = hashed.resources;
  } catch (err) {
    checks.add('files', false, describeError(err));
    return checks.result(verified.statement);
  }
  const diff = compareResources(content.resources, actual);
  checks.add('files', diff === undefined, diff ?? `all ${actual.length} ${serialization.method === 'shards' ? 'shards' : 'files'} match the signature`);
  return checks.result(verified.statement);
}

/** Compare as sets: the reference and the spec disagree on order. First difference wins, in sorted order. */
export function compareResources(signed: OmsResource[], actual: OmsResource[]): string | undefined {
  const want = new Map(signed.map((r) => [r.name, r.digest.toLowerCase()]));
  const have = new Map(actual.map((r) => [r.name, r.digest]));
  for (const r of sortResources(actual)) {
    const d = want.get(r.name);
    if (d === undefined) return `${r.name} is not in the signature (a file was added; sign again or ignore it with --ignore-paths)`;
    if (d !== r.digest) return `${r.name} has changed: its digest is ${r.digest}, the signature says ${d}`;
  }
  for (const r of sortResources(signed)) {
    if (!have.has(r.name)) return `${r.name} is in the signature but missing from the model (a file was removed)`;
  }
  return undefined;
}
