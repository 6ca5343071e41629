/**
 * Produce a Notary Project signature (JWS envelope, signing scheme notary.x509) for a manifest descriptor.
 */
import { createPrivateKey, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { ModelshipError } from '../../errors/index.js';
import { parseDigest } from '../../oci/digest.js';
import type { Descriptor } from '../../oci/types.js';
import { splitPem } from '../signers.js';
import { certificateChainOrderProblem, certificateChainProblems, validityProblems } from './certificates.js';
import {
  HEADER_EXPIRY,
  HEADER_SIGNING_AGENT,
  HEADER_SIGNING_SCHEME,
  HEADER_SIGNING_TIME,
  NOTATION_PAYLOAD_MEDIA_TYPE,
  type NotationJws,
  algorithmForKey,
  formatNotaryTime,
  signJws,
  type NotationPayload,
} from './jws.js';

export const DEFAULT_SIGNING_AGENT = 'modelship';

export interface NotationSignInput {
  /** The manifest being signed: mediaType, digest, size, and optional annotations (user metadata). */
  descriptor: Descriptor;
  /** The signing key: a KeyObject or PEM text. */
  key: KeyObject | string;
  /** PEM certificates, leaf first, ending at the root; one string holding them all or one per entry. */
  certChain: string | string[];
  signingTime?: Date;
  /** "Best by use" time; verifiers enforce it per their trust policy. */
  expiry?: Date;
  signingScheme?: 'notary.x509';
  /** Unsigned diagnostic string `{id}/{version}`. */
  signingAgent?: string;
}

export interface NotationSignature {
  envelope: NotationJws;
  /** The envelope as stored in the `application/jose+json` layer. */
  bytes: Uint8Array;
  signingTime: Date;
  certificates: X509Certificate[];
}

/** Only the fields the specification allows in targetArtifact (notation-go SanitizeTargetArtifact). */
export function notationTargetArtifact(descriptor: Descriptor): Descriptor {
  parseDigest(descriptor.digest, 'the descriptor to sign');
  if (typeof descriptor.mediaType !== 'string' || descriptor.mediaType === '') throw new ModelshipError('INPUT_INVALID', 'the descriptor to sign has no mediaType');
  if (!Number.isSafeInteger(descriptor.size) || descriptor.size < 0) throw new ModelshipError('INPUT_INVALID', `the descriptor to sign has an invalid size ${descriptor.size}`);
  return {
    mediaType: descriptor.mediaType,
    digest: descriptor.digest,
    size: descriptor.size,
    ...(descriptor.annotations && Object.keys(descriptor.annotations).length ? { annotations: descriptor.annotations } : {}),
  };
}

/** Parse PEM certificates given as one bundle or a list; leaf first. */
export function certificatesFromPem(certChain: string | string[], where: string): X509Certificate[] {
  const pems = (Array.isArray(certChain) ? certChain : [certChain]).flatMap((p) => splitPem(p));
  if (pems.length === 0) throw new ModelshipError('NOTATION_CERT_INVALID', `${where} holds no PEM certificate: give the signing certificate and its chain, leaf first`);
  return pems.map((pem, i) => {
    try {
      return new X509Certificate(pem);
    } catch (err) {
      throw new ModelshipError('NOTATION_CERT_INVALID', `${where}: certificate ${i} is not a readable PEM certificate`, { cause: err });
    }
  });
}

function asPrivateKey(key: KeyObject | string): KeyObject {
  if (typeof key !== 'string') return key;
  try {
    return createPrivateKey(key);
  } catch {
    throw new ModelshipError('SIGN_KEY_INVALID', 'the Notation signing key is not a readable PEM private key');
  }
}

function sameKey(a: KeyObject, b: KeyObject): boolean {
  const der = (k: KeyObject) => (k.type === 'private' ? createPublicKey(k) : k).export({ type: 'spki', format: 'der' });
  return der(a).equals(der(b));
}

/** Sign `descriptor` as Notation does, refusing a chain that verifiers would reject. */
export async function signNotation(input: NotationSignInput): Promise<NotationSignature> {
  const key = asPrivateKey(input.key);
  const certificates = certificatesFromPem(input.certChain, 'the Notation certificate chain');
  const leaf = certificates[0]!;
  if (!sameKey(key, leaf.publicKey)) {
    throw new ModelshipError('NOTATION_KEY_MISMATCH', `the signing key does not belong to the first certificate of the chain (${leaf.subject.replace(/\n/g, ', ')}): put the signing certificate first`);
  }
  const problems = [certificateChainOrderProblem(certificates), ...certificateChainProblems(certificates)].filter((p): p is string => p !== undefined);
  if (problems.length) throw new ModelshipError('NOTATION_CERT_INVALID', `the certificate chain cannot sign Notation signatures: ${problems.join('; ')}`);
  const signingTime = new Date(Math.floor((input.signingTime ?? new Date()).getTime() / 1000) * 1000);
  const expired = validityProblems(certificates, signingTime, `at the signing time ${signingTime.toISOString()}`);
  if (expired.length) throw new ModelshipError('NOTATION_CERT_INVALID', `${expired.join('; ')}: renew the certificate before signing`);
  if (input.expiry && input.expiry.getTime() <= signingTime.getTime()) {
    throw new ModelshipError('INPUT_INVALID', `the signature expiry ${input.expiry.toISOString()} is not after the signing time ${signingTime.toISOString()}`);
  }
  const alg = algorithmForKey(leaf.publicKey, 'the signing certificate');
  const crit = [HEADER_SIGNING_SCHEME, ...(input.expiry ? [HEADER_EXPIRY] : [])];
  // Keys in the order notation-go emits them (sorted), so our envelopes read the same.
  const protectedHeader = {
    alg,
    crit,
    cty: NOTATION_PAYLOAD_MEDIA_TYPE,
    ...(input.expiry ? { [HEADER_EXPIRY]: formatNotaryTime(input.expiry) } : {}),
    [HEADER_SIGNING_SCHEME]: input.signingScheme ?? 'notary.x509',
    [HEADER_SIGNING_TIME]: formatNotaryTime(signingTime),
  };
  const payload: NotationPayload = { targetArtifact: notationTargetArtifact(input.descriptor) };
  const envelope = await signJws(protectedHeader, new TextEncoder().encode(JSON.stringify(payload)), {
    x5c: certificates.map((c) => c.raw.toString('base64')),
    [HEADER_SIGNING_AGENT]: input.signingAgent ?? DEFAULT_SIGNING_AGENT,
  }, key);
  return { envelope, bytes: new TextEncoder().encode(JSON.stringify(envelope)), signingTime, certificates };
}
