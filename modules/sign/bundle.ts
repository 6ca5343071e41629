/**
 * The Sigstore bundle as model_signing writes it (`model.sig`): read from untrusted JSON with every
 * bad field gathered, and written in the reference shape.
 */
import { X509Certificate } from 'node:crypto';
import { ModelshipError, describeError } from '../errors/index.js';

export const BUNDLE_V03_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
const KNOWN_BUNDLE_MEDIA_TYPES = [
  BUNDLE_V03_MEDIA_TYPE,
  'application/vnd.dev.sigstore.bundle+json;version=0.3',
  'application/vnd.dev.sigstore.bundle+json;version=0.2',
  'application/vnd.dev.sigstore.bundle+json;version=0.1',
];

export interface RawBytes {
  rawBytes: string;
}

export interface SerializedVerificationMaterial {
  publicKey?: { hint?: string; rawBytes?: string; keyDetails?: string };
  certificate?: RawBytes;
  x509CertificateChain?: { certificates: RawBytes[] };
  tlogEntries?: unknown[];
  timestampVerificationData?: unknown;
}

export interface SerializedEnvelope {
  payload: string;
  payloadType: string;
  signatures: { sig: string; keyid?: string | null }[];
}

export interface SerializedOmsBundle {
  mediaType: string;
  verificationMaterial: SerializedVerificationMaterial;
  dsseEnvelope: SerializedEnvelope;
}

/** The key material a bundle names, told apart by `kind`. */
export type BundleKeyMaterial =
  | { kind: 'publicKey'; hint?: string; rawBytes?: Buffer }
  | { kind: 'certificate'; certificates: Buffer[] };

export function parseBundle(bytes: Uint8Array | string, where: string): SerializedOmsBundle {
  let value: unknown;
  try {
    value = JSON.parse(typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    throw new ModelshipError('VERIFY_FAILED', `${where} is not JSON: ${(err as Error).message}`, { cause: err });
  }
  const problems: string[] = [];
  const b = value as Partial<SerializedOmsBundle> | null;
  if (!b || typeof b !== 'object') throw new ModelshipError('VERIFY_FAILED', `${where} is not a Sigstore bundle object`);
  if (typeof b.mediaType !== 'string' || !KNOWN_BUNDLE_MEDIA_TYPES.includes(b.mediaType)) problems.push(`mediaType (${String(b.mediaType)})`);
  const vm = b.verificationMaterial;
  if (!vm || typeof vm !== 'object') problems.push('verificationMaterial');
  else if (!vm.publicKey && !vm.certificate && !vm.x509CertificateChain) problems.push('verificationMaterial: publicKey, certificate or x509CertificateChain');
  const env = b.dsseEnvelope;
  if (!env || typeof env !== 'object') problems.push('dsseEnvelope (only DSSE bundles sign models)');
  else {
    if (typeof env.payload !== 'string') problems.push('dsseEnvelope.payload');
    if (typeof env.payloadType !== 'string') problems.push('dsseEnvelope.payloadType');
    if (!Array.isArray(env.signatures) || env.signatures.length === 0 || env.signatures.some((s) => typeof s?.sig !== 'string')) {
      problems.push('dsseEnvelope.signatures[].sig');
    }
  }
  if (problems.length) {
    throw new ModelshipError('VERIFY_FAILED', `${where} is not a valid Sigstore DSSE bundle; bad or missing fields: ${problems.join(', ')}`);
  }
  return b as SerializedOmsBundle;
}

export function bundleKeyMaterial(bundle: SerializedOmsBundle): BundleKeyMaterial {
  const vm = bundle.verificationMaterial;
  if (vm.x509CertificateChain) return { kind: 'certificate', certificates: vm.x509CertificateChain.certificates.map((c) => Buffer.from(c.rawBytes, 'base64')) };
  if (vm.certificate) return { kind: 'certificate', certificates: [Buffer.from(vm.certificate.rawBytes, 'base64')] };
  const pk = vm.publicKey ?? {};
  return {
    kind: 'publicKey',
    ...(pk.hint ? { hint: pk.hint } : {}),
    ...(pk.rawBytes ? { rawBytes: Buffer.from(pk.rawBytes, 'base64') } : {}),
  };
}

/**
 * Who the bundle says signed, as it states it (not verified): the key's hint, or the certificate's
 * first subject alternative name (the Fulcio identity: an email or a workflow URI).
 */
export function bundleSignerName(material: BundleKeyMaterial, where: string): string {
  if (material.kind === 'publicKey') return material.hint ? `key ${material.hint}` : 'key';
  const leaf = material.certificates[0];
  if (!leaf) return 'certificate';
  try {
    const cert = new X509Certificate(leaf);
    // "email:alice@example.com, URI:https://…": the first name is the signer's identity.
    const san = cert.subjectAltName?.split(', ')[0]?.replace(/^[A-Za-z ]+:/, '');
    return `certificate ${san || cert.subject.replaceAll('\n', ', ')}`;
  } catch (err) {
    throw new ModelshipError('OCI_INVALID_MANIFEST', `${where}: the bundle's certificate cannot be read: ${describeError(err)}`, { cause: err });
  }
}

/** Serialize in the field order model_signing writes, newline-terminated. */
export function serializeBundle(bundle: SerializedOmsBundle): string {
  return JSON.stringify({ mediaType: bundle.mediaType, verificationMaterial: bundle.verificationMaterial, dsseEnvelope: bundle.dsseEnvelope }, null, 2) + '\n';
}
