/**
 * The Notary Project JWS envelope (specs/signature-envelope-jws.md): flattened JWS JSON with the
 * payload `{"targetArtifact": <descriptor>}`, Notary protected headers and an `x5c` chain.
 */
import type { KeyObject, X509Certificate } from 'node:crypto';
import { base64url, decodeProtectedHeader, errors as joseErrors, FlattenedSign, flattenedVerify } from 'jose';
import { ModelshipError } from '../../errors/index.js';
import type { Descriptor } from '../../oci/types.js';
import { decodeCertificateChain } from './certificates.js';

export const NOTATION_PAYLOAD_MEDIA_TYPE = 'application/vnd.cncf.notary.payload.v1+json';
export const NOTATION_JWS_MEDIA_TYPE = 'application/jose+json';
export const HEADER_SIGNING_SCHEME = 'io.cncf.notary.signingScheme';
export const HEADER_SIGNING_TIME = 'io.cncf.notary.signingTime';
export const HEADER_AUTHENTIC_SIGNING_TIME = 'io.cncf.notary.authenticSigningTime';
export const HEADER_EXPIRY = 'io.cncf.notary.expiry';
export const HEADER_SIGNING_AGENT = 'io.cncf.notary.signingAgent';
export const HEADER_VERIFICATION_PLUGIN = 'io.cncf.notary.verificationPlugin';
export const HEADER_VERIFICATION_PLUGIN_MIN_VERSION = 'io.cncf.notary.verificationPluginMinVersion';

export type SigningScheme = 'notary.x509' | 'notary.x509.signingAuthority';
export type JwsAlgorithm = 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512';

const JWS_ALGORITHMS: readonly JwsAlgorithm[] = ['PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'];
const ALG_BY_CURVE: Record<string, JwsAlgorithm> = { prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' };
const ALG_BY_RSA_BITS: Record<number, JwsAlgorithm> = { 2048: 'PS256', 3072: 'PS384', 4096: 'PS512' };

/** The protected header as signed; keys other than these are extended attributes. */
export interface NotationProtectedHeader {
  alg: JwsAlgorithm;
  cty: string;
  crit: string[];
  'io.cncf.notary.signingScheme': SigningScheme;
  'io.cncf.notary.signingTime'?: string;
  'io.cncf.notary.authenticSigningTime'?: string;
  'io.cncf.notary.expiry'?: string;
  [extended: string]: unknown;
}

/** The envelope as stored in the `application/jose+json` layer. */
export interface NotationJws {
  payload: string;
  protected: string;
  header: { x5c: string[]; 'io.cncf.notary.signingAgent'?: string; 'io.cncf.notary.timestampSignature'?: string };
  signature: string;
}

export interface NotationPayload {
  targetArtifact: Descriptor;
}

/** A parsed envelope: what it says, the signed bytes, and its certificate chain (leaf first). */
export interface ParsedNotationEnvelope {
  jws: NotationJws;
  protectedHeader: NotationProtectedHeader;
  payload: NotationPayload;
  certificates: X509Certificate[];
  signingTime: Date;
  expiry?: Date;
}

/** The JWS `alg` the specification assigns to a public key (its "Algorithm Selection" table). */
export function algorithmForKey(key: KeyObject, where: string): JwsAlgorithm {
  const details = key.asymmetricKeyDetails;
  const alg =
    key.asymmetricKeyType === 'ec'
      ? ALG_BY_CURVE[details?.namedCurve ?? '']
      : key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss'
        ? ALG_BY_RSA_BITS[details?.modulusLength ?? 0]
        : undefined;
  if (!alg) {
    throw new ModelshipError(
      'NOTATION_KEY_UNSUPPORTED',
      `${where}: Notation signs with RSA 2048/3072/4096 (PSS) or ECDSA P-256/P-384/P-521 keys, not ${key.asymmetricKeyType ?? 'unknown'} ${details?.namedCurve ?? details?.modulusLength ?? ''}`,
    );
  }
  return alg;
}

/** The critical headers this verifier understands; jose refuses any other name listed in `crit`. */
const UNDERSTOOD_CRITICAL = { [HEADER_SIGNING_SCHEME]: true, [HEADER_AUTHENTIC_SIGNING_TIME]: true, [HEADER_EXPIRY]: true };

/** Sign the protected header and payload as flattened JWS JSON (jose: raw r||s for ECDSA, PSS salt the size of the hash). */
export async function signJws(protectedHeader: Record<string, unknown> & { alg: JwsAlgorithm }, payload: Uint8Array, unprotectedHeader: NotationJws['header'], key: KeyObject): Promise<NotationJws> {
  const jws = await new FlattenedSign(payload).setProtectedHeader(protectedHeader).setUnprotectedHeader(unprotectedHeader).sign(key, { crit: UNDERSTOOD_CRITICAL });
  return { payload: jws.payload, protected: jws.protected!, header: unprotectedHeader, signature: jws.signature };
}

/** Verify with jose, accepting only `alg` (the one the leaf key dictates); returns a reason or undefined. */
export async function jwsSignatureProblem(jws: NotationJws, alg: JwsAlgorithm, publicKey: KeyObject): Promise<string | undefined> {
  try {
    await flattenedVerify({ payload: jws.payload, protected: jws.protected, header: jws.header, signature: jws.signature }, publicKey, { algorithms: [alg], crit: UNDERSTOOD_CRITICAL });
    return undefined;
  } catch (err) {
    if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'the signature does not verify with the signing certificate: the envelope was altered or signed with another key';
    if (err instanceof joseErrors.JOSEError) return `the JWS is refused: ${err.message}`;
    throw err;
  }
}

/** RFC 3339 without fractional seconds, as the specification recommends. */
export function formatNotaryTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

function parseNotaryTime(value: unknown, header: string, where: string): Date {
  const date = typeof value === 'string' && RFC3339.test(value) ? new Date(value) : undefined;
  if (!date || Number.isNaN(date.getTime())) throw new ModelshipError('NOTATION_ENVELOPE_INVALID', `${where}: protected header ${header} must be an RFC 3339 time, got ${JSON.stringify(value)}`);
  return date;
}

function decodeProtected(segment: unknown, where: string): Record<string, unknown> {
  if (typeof segment !== 'string' || segment === '') throw new ModelshipError('NOTATION_ENVELOPE_INVALID', `${where}: protected must be a base64url string`);
  try {
    return decodeProtectedHeader({ protected: segment, payload: '', signature: '' }) as Record<string, unknown>;
  } catch (err) {
    throw new ModelshipError('NOTATION_ENVELOPE_INVALID', `${where}: protected is not a base64url-encoded JSON object (${(err as Error).message})`, { cause: err });
  }
}

function decodePayload(segment: unknown, where: string): Record<string, unknown> {
  let value: unknown;
  try {
    if (typeof segment !== 'string') throw new TypeError('not a string');
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(base64url.decode(segment)));
  } catch (err) {
    throw new ModelshipError('NOTATION_ENVELOPE_INVALID', `${where}: payload is not base64url-encoded JSON`, { cause: err });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ModelshipError('NOTATION_ENVELOPE_INVALID', `${where}: payload must be a JSON object`);
  return value as Record<string, unknown>;
}

const KNOWN_CRITICAL = new Set([HEADER_SIGNING_SCHEME, HEADER_AUTHENTIC_SIGNING_TIME, HEADER_EXPIRY]);

/** Check the protected header's fields and critical list (signature-envelope-jws.md "Protected Headers"). */
function checkProtectedHeader(header: Record<string, unknown>, where: string): NotationProtectedHeader {
  const fail = (message: string): never => {
    throw new ModelshipError('NOTATION_ENVELOPE_INVALID', `${where}: ${message}`);
  };
  if (typeof header.alg !== 'string' || !JWS_ALGORITHMS.includes(header.alg as JwsAlgorithm)) fail(`protected header alg ${JSON.stringify(header.alg)} is not one of ${JWS_ALGORITHMS.join(', ')}`);
  if (header.cty !== NOTATION_PAYLOAD_MEDIA_TYPE) fail(`protected header cty must be ${NOTATION_PAYLOAD_MEDIA_TYPE}, got ${JSON.stringify(header.cty)}`);
  const scheme = header[HEADER_SIGNING_SCHEME];
  if (scheme !== 'notary.x509' && scheme !== 'notary.x509.signingAuthority') fail(`protected header ${HEADER_SIGNING_SCHEME} must be notary.x509 or notary.x509.signingAuthority, got ${JSON.stringify(scheme)}`);
  if (scheme === 'notary.x509') {
    if (header[HEADER_AUTHENTIC_SIGNING_TIME] !== undefined) fail(`${HEADER_AUTHENTIC_SIGNING_TIME} must not be present with signing scheme notary.x509`);
    if (header[HEADER_SIGNING_TIME] === undefined) fail(`${HEADER_SIGNING_TIME} is required with signing scheme notary.x509`);
  } else {
    if (header[HEADER_SIGNING_TIME] !== undefined) fail(`${HEADER_SIGNING_TIME} must not be present with signing scheme notary.x509.signingAuthority`);
    if (header[HEADER_AUTHENTIC_SIGNING_TIME] === undefined) fail(`${HEADER_AUTHENTIC_SIGNING_TIME} is required with signing scheme notary.x509.signingAuthority`);
  }
  const crit = header.crit;
  if (!Array.isArray(crit) || crit.length === 0 || !crit.every((c) => typeof c === 'string')) fail('protected header crit must be a non-empty array of header names');
  const critical = crit as string[];
  const mustBeCritical = [HEADER_SIGNING_SCHEME];
  if (header[HEADER_EXPIRY] !== undefined) mustBeCritical.push(HEADER_EXPIRY);
  if (scheme === 'notary.x509.signingAuthority') mustBeCritical.push(HEADER_AUTHENTIC_SIGNING_TIME);
  const unmarked = mustBeCritical.filter((h) => !critical.includes(h));
  if (unmarked.length) fail(`headers ${unmarked.join(', ')} must be listed in crit`);
  for (const name of critical) {
    if (name === 'alg' || name === 'cty' || name === 'crit') fail(`crit must not list the registered header ${name}`);
    if (header[name] === undefined) fail(`header ${name} is marked critical but not present`);
    // Plugin headers need a verification plugin; any other unknown critical header must fail verification.
    if (!KNOWN_CRITICAL.has(name)) {
      const plugin = name === HEADER_VERIFICATION_PLUGIN || name === HEADER_VERIFICATION_PLUGIN_MIN_VERSION ? ` (the signature asks for verification plugin ${JSON.stringify(header[HEADER_VERIFICATION_PLUGIN])}, which modelship cannot run)` : '';
      fail(`critical header ${name} is not understood${plugin}`);
    }
  }
  return header as NotationProtectedHeader;
}

function checkPayload(payload: Record<string, unknown>, where: string): NotationPayload {
  const target = payload.targetArtifact as Record<string, unknown> | undefined;
  if (typeof target !== 'object' || target === null) throw new ModelshipError('NOTATION_ENVELOPE_INVALID', `${where}: payload has no targetArtifact descriptor`);
  if (typeof target.mediaType !== 'string' || typeof target.digest !== 'string' || typeof target.size !== 'number' || !Number.isSafeInteger(target.size) || target.size < 0) {
    throw new ModelshipError('NOTATION_ENVELOPE_INVALID', `${where}: payload targetArtifact must have a string mediaType and digest and a non-negative integer size`);
  }
  return payload as unknown as NotationPayload;
}

/** Parse an envelope's bytes, with every structural rule of the specification; the signature is not verified here. */
export function parseNotationEnvelope(bytes: Uint8Array | string, where = 'Notation signature'): ParsedNotationEnvelope {
  let json: unknown;
  try {
    json = JSON.parse(typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    throw new ModelshipError('NOTATION_ENVELOPE_INVALID', `${where} is not JSON: a Notation JWS envelope is flattened JWS JSON`, { cause: err });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new ModelshipError('NOTATION_ENVELOPE_INVALID', `${where} must be a JSON object`);
  const record = json as Record<string, unknown>;
  const extra = Object.keys(record).filter((k) => !['payload', 'protected', 'header', 'signature'].includes(k));
  if (extra.length) throw new ModelshipError('NOTATION_ENVELOPE_INVALID', `${where} has top-level fields ${extra.join(', ')}; only payload, protected, header and signature are allowed (flattened JWS JSON)`);
  if (typeof record.signature !== 'string' || !/^[A-Za-z0-9_-]+$/.test(record.signature)) throw new ModelshipError('NOTATION_ENVELOPE_INVALID', `${where}: signature must be a base64url string`);
  const header = record.header as Record<string, unknown> | undefined;
  if (typeof header !== 'object' || header === null) throw new ModelshipError('NOTATION_ENVELOPE_INVALID', `${where}: unprotected header (header) is missing`);
  const protectedHeader = checkProtectedHeader(decodeProtected(record.protected, where), where);
  const payload = checkPayload(decodePayload(record.payload, where), where);
  const certificates = decodeCertificateChain(header.x5c, where);
  const signingTimeValue = protectedHeader[HEADER_SIGNING_TIME] ?? protectedHeader[HEADER_AUTHENTIC_SIGNING_TIME];
  const signingTimeHeader = protectedHeader[HEADER_SIGNING_TIME] !== undefined ? HEADER_SIGNING_TIME : HEADER_AUTHENTIC_SIGNING_TIME;
  return {
    jws: record as unknown as NotationJws,
    protectedHeader,
    payload,
    certificates,
    signingTime: parseNotaryTime(signingTimeValue, signingTimeHeader, where),
    ...(protectedHeader[HEADER_EXPIRY] !== undefined ? { expiry: parseNotaryTime(protectedHeader[HEADER_EXPIRY], HEADER_EXPIRY, where) } : {}),
  };
}

/** Integrity: `alg` matches the leaf key and the signature covers `protected.payload`. Returns a reason or undefined. */
export async function integrityProblem(envelope: ParsedNotationEnvelope): Promise<string | undefined> {
  const leaf = envelope.certificates[0]!;
  let expected: JwsAlgorithm;
  try {
    expected = algorithmForKey(leaf.publicKey, 'the signing certificate');
  } catch (err) {
    return (err as Error).message;
  }
  if (expected !== envelope.protectedHeader.alg) {
    return `alg ${envelope.protectedHeader.alg} does not match the signing certificate's key, which requires ${expected}`;
  }
  return jwsSignatureProblem(envelope.jws, expected, leaf.publicKey);
}
