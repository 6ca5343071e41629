/**
 * cosign's tag-based image signature (the form `cosign sign` writes without the new bundle format, and
 * what policy-controller, Kyverno `type: Cosign` and Flux before source-controller 1.8 verify): a
 * simple-signing payload naming the manifest digest, signed as raw bytes, with the signature, the
 * certificate and chain, and the Rekor bundle carried as layer annotations.
 * Shapes from cosign v3.1 pkg/oci/static/signature.go and sigstore/sigstore pkg/signature/payload.
 */
import { createHash, sign as cryptoSign, verify as cryptoVerify, X509Certificate, type KeyObject } from 'node:crypto';
import { bundleToJSON } from '@sigstore/bundle';
import { FulcioSigner, MessageSignatureBundleBuilder, RekorWitness } from '@sigstore/sign';
import { ModelshipError, describeError } from '../errors/index.js';
import { verifyCertificateChain } from './cert-chain.js';
import { verifyKeylessMessage } from './keyless-verify.js';
import { hashForKey } from './keys.js';
import { DEFAULT_FULCIO_URL, DEFAULT_REKOR_URL, splitPem, type SigningMethod } from './signers.js';
import type { VerificationCheck, VerificationPolicy } from './verify.js';

export const SIMPLE_SIGNING_MEDIA_TYPE = 'application/vnd.dev.cosign.simplesigning.v1+json';
/** The artifactType cosign gives this signature when it stores it as an OCI 1.1 referrer. */
export const COSIGN_SIGNATURE_ARTIFACT_TYPE = 'application/vnd.dev.cosign.artifact.sig.v1+json';
export const SIMPLE_SIGNING_TYPE = 'cosign container image signature';
export const ANNOTATION_COSIGN_SIGNATURE = 'dev.cosignproject.cosign/signature';
export const ANNOTATION_COSIGN_CERTIFICATE = 'dev.sigstore.cosign/certificate';
export const ANNOTATION_COSIGN_CHAIN = 'dev.sigstore.cosign/chain';
export const ANNOTATION_COSIGN_BUNDLE = 'dev.sigstore.cosign/bundle';

/** The payload exactly as cosign marshals it (Go struct field order, `optional` null when empty). */
export function simpleSigningPayload(dockerReference: string, digest: string): Uint8Array {
  const payload = {
    critical: { identity: { 'docker-reference': dockerReference }, image: { 'docker-manifest-digest': digest }, type: SIMPLE_SIGNING_TYPE },
    optional: null,
  };
  return new TextEncoder().encode(JSON.stringify(payload));
}

/** One signature layer's annotations: the base64 signature and, with a certificate, its chain and Rekor bundle. */
export type SimpleSignatureAnnotations = Record<string, string>;

/** Sign the payload bytes as cosign does (ECDSA over SHA-256 of the payload; keyless: Fulcio + a hashedrekord entry). */
export async function signSimplePayload(payload: Uint8Array, method: SigningMethod): Promise<SimpleSignatureAnnotations> {
  switch (method.kind) {
    case 'key':
      return { [ANNOTATION_COSIGN_SIGNATURE]: rawSign(payload, method.privateKey) };
    case 'certificate': {
      const [leaf, ...rest] = splitPem(method.certificatePem);
      if (!leaf) throw new ModelshipError('SIGN_KEY_INVALID', 'the certificate file holds no PEM certificate');
      return {
        [ANNOTATION_COSIGN_SIGNATURE]: rawSign(payload, method.privateKey),
        [ANNOTATION_COSIGN_CERTIFICATE]: leaf,
        [ANNOTATION_COSIGN_CHAIN]: [...rest, ...splitPem(method.chainPem ?? '')].join(''),
      };
    }
    case 'keyless':
      return signKeyless(payload, method);
    default:
      throw new ModelshipError('SIGN_FAILED', `unknown signing method ${JSON.stringify(method satisfies never)}`);
  }
}

function rawSign(payload: Uint8Array, key: KeyObject): string {
  return cryptoSign(hashForKey(key, 'signing key'), payload, key).toString('base64');
}

interface TlogEntryJson {
  logIndex: string;
  logId: { keyId: string };
  kindVersion: { kind: string; version: string };
  integratedTime: string;
  inclusionPromise?: { signedEntryTimestamp: string };
  canonicalizedBody: string;
}

async function signKeyless(payload: Uint8Array, method: Extract<SigningMethod, { kind: 'keyless' }>): Promise<SimpleSignatureAnnotations> {
  const builder = new MessageSignatureBundleBuilder({
    signer: new FulcioSigner({ identityProvider: method.identity, fulcioBaseURL: method.fulcioURL ?? DEFAULT_FULCIO_URL }),
    // A message signature is logged as a hashedrekord entry, the kind cosign's tag signatures carry.
    witnesses: [new RekorWitness({ rekorBaseURL: method.rekorURL ?? DEFAULT_REKOR_URL })],
  });
  let json;
  try {
    json = bundleToJSON(await builder.create({ data: Buffer.from(payload) })) as unknown as {
      verificationMaterial: { certificate?: { rawBytes: string }; x509CertificateChain?: { certificates: { rawBytes: string }[] }; tlogEntries: TlogEntryJson[] };
      messageSignature: { signature: string };
    };
  } catch (err) {
    if (err instanceof ModelshipError) throw err;
    const cause = (err as { cause?: unknown }).cause;
    if (cause instanceof ModelshipError) throw cause;
    throw new ModelshipError('SIGN_FAILED', `keyless signing of the cosign signature failed: ${describeError(err)}${cause ? `: ${describeError(cause)}` : ''}`, { cause: err });
  }
  const vm = json.verificationMaterial;
  const certs = vm.certificate ? [vm.certificate] : (vm.x509CertificateChain?.certificates ?? []);
  const [leaf, ...chain] = certs.map((c) => new X509Certificate(Buffer.from(c.rawBytes, 'base64')).toString());
  const entry = vm.tlogEntries[0];
  if (!leaf || !entry?.inclusionPromise) throw new ModelshipError('SIGN_FAILED', 'keyless signing returned no certificate or no Rekor inclusion promise for the cosign signature');
  return {
    [ANNOTATION_COSIGN_SIGNATURE]: json.messageSignature.signature,
    [ANNOTATION_COSIGN_CERTIFICATE]: leaf,
    [ANNOTATION_COSIGN_CHAIN]: chain.join(''),
    [ANNOTATION_COSIGN_BUNDLE]: JSON.stringify(rekorBundleOf(entry)),
  };
}

/** cosign's bundle.RekorBundle: the SET and the entry as Rekor returned it (logID in hex). */
interface RekorBundle {
  SignedEntryTimestamp: string;
  Payload: { body: string; integratedTime: number; logIndex: number; logID: string };
}

function rekorBundleOf(entry: TlogEntryJson): RekorBundle {
  return {
    SignedEntryTimestamp: entry.inclusionPromise!.signedEntryTimestamp,
    Payload: {
      body: entry.canonicalizedBody,
      integratedTime: Number(entry.integratedTime),
      logIndex: Number(entry.logIndex),
      logID: Buffer.from(entry.logId.keyId, 'base64').toString('hex'),
    },
  };
}

/** The Rekor bundle annotation as a Sigstore v0.1 message-signature bundle, which @sigstore/verify checks offline. */
function sigstoreBundleOf(payload: Uint8Array, annotations: SimpleSignatureAnnotations, rekor: RekorBundle): unknown {
  const leaf = new X509Certificate(annotations[ANNOTATION_COSIGN_CERTIFICATE]!);
  const body = JSON.parse(Buffer.from(rekor.Payload.body, 'base64').toString('utf8')) as { kind?: string; apiVersion?: string };
  return {
    mediaType: 'application/vnd.dev.sigstore.bundle+json;version=0.1',
    verificationMaterial: {
      x509CertificateChain: { certificates: [{ rawBytes: leaf.raw.toString('base64') }] },
      tlogEntries: [
        {
          logIndex: String(rekor.Payload.logIndex),
          logId: { keyId: Buffer.from(rekor.Payload.logID, 'hex').toString('base64') },
          kindVersion: { kind: body.kind ?? 'hashedrekord', version: body.apiVersion ?? '0.0.1' },
          integratedTime: String(rekor.Payload.integratedTime),
          inclusionPromise: { signedEntryTimestamp: rekor.SignedEntryTimestamp },
          canonicalizedBody: rekor.Payload.body,
        },
      ],
      timestampVerificationData: { rfc3161Timestamps: [] },
    },
    messageSignature: {
      messageDigest: { algorithm: 'SHA2_256', digest: createHash('sha256').update(payload).digest('base64') },
      signature: annotations[ANNOTATION_COSIGN_SIGNATURE],
    },
  };
}

export interface SimpleSignatureVerification {
  /** The signature checked out under the policy (whatever its payload says). */
  trusted: boolean;
  ok: boolean;
  checks: VerificationCheck[];
  reason?: string;
}

/**
 * Check one signature layer as cosign's VerifyImageSignature does: the signer under the policy, then the
 * claim (SimpleClaimVerifier: the payload's docker-manifest-digest is the manifest verified).
 * `--insecure-ignore-tlog` is what key signatures need there; keyless ones need their Rekor bundle.
 */
export function verifySimpleSignature(payload: Uint8Array, annotations: SimpleSignatureAnnotations, policy: VerificationPolicy, digest: string): SimpleSignatureVerification {
  const checks: VerificationCheck[] = [];
  const add = (name: string, ok: boolean, detail: string): boolean => {
    checks.push({ name, ok, detail });
    return ok;
  };
  const done = (trusted: boolean): SimpleSignatureVerification => {
    const failed = checks.find((c) => !c.ok);
    return { trusted, ok: !failed, checks, ...(failed ? { reason: failed.detail } : {}) };
  };
  const b64 = annotations[ANNOTATION_COSIGN_SIGNATURE];
  if (!add('signature-annotation', typeof b64 === 'string' && b64.length > 0, `the layer carries ${ANNOTATION_COSIGN_SIGNATURE}`)) return done(false);
  if (!signerVerifies(payload, Buffer.from(b64!, 'base64'), annotations, policy, add)) return done(false);
  let parsed: { critical?: { type?: unknown; image?: { 'docker-manifest-digest'?: unknown }; identity?: { 'docker-reference'?: unknown } } };
  try {
    parsed = JSON.parse(new TextDecoder().decode(payload));
  } catch (err) {
    add('payload', false, `the signed payload is not JSON: ${describeError(err)}`);
    return done(true);
  }
  const type = parsed?.critical?.type;
  if (!add('payload', type === SIMPLE_SIGNING_TYPE, `simple-signing payload of type "${String(type)}"`)) return done(true);
  const claimed = parsed.critical?.image?.['docker-manifest-digest'];
  add(
    'subject',
    claimed === digest,
    claimed === digest
      ? `the payload names the manifest ${digest} (docker-reference ${String(parsed.critical?.identity?.['docker-reference'])})`
      : `the payload names ${String(claimed)}, not the manifest ${digest} (a signature of another image)`,
  );
  return done(true);
}

function signerVerifies(payload: Uint8Array, sig: Buffer, annotations: SimpleSignatureAnnotations, policy: VerificationPolicy, add: (name: string, ok: boolean, detail: string) => boolean): boolean {
  const certPem = annotations[ANNOTATION_COSIGN_CERTIFICATE];
  switch (policy.kind) {
    case 'key': {
      const ok = rawVerifies(policy.publicKey, payload, sig);
      return add('signature', ok, ok ? 'the signature over the payload verifies with the given key' : 'the signature over the payload does not verify with the given key: another key signed it, or the payload was changed after signing');
    }
    case 'certificate': {
      if (!add('certificate', !!certPem, certPem ? 'the layer carries a certificate' : 'the signature carries no certificate; verify with --key')) return false;
      const leaf = new X509Certificate(certPem!);
      const ok = rawVerifies(leaf.publicKey, payload, sig);
      if (!add('signature', ok, ok ? 'the signature over the payload verifies with the leaf certificate' : 'the signature over the payload does not verify with the leaf certificate')) return false;
      const chain = [leaf.raw, ...splitPem(annotations[ANNOTATION_COSIGN_CHAIN] ?? '').map((p) => new X509Certificate(p).raw)];
      const verdict = verifyCertificateChain(chain, policy.trustAnchorsPem, policy.validAt);
      return add('certificate-chain', verdict.ok, verdict.detail);
    }
    case 'keyless': {
      const rekor = annotations[ANNOTATION_COSIGN_BUNDLE];
      if (!add('sigstore', !!certPem && !!rekor, certPem && rekor ? 'the layer carries a certificate and a Rekor bundle' : 'the signature carries no Fulcio certificate or no Rekor bundle; verify with --key')) return false;
      let bundle: unknown;
      try {
        bundle = sigstoreBundleOf(payload, annotations, JSON.parse(rekor!) as RekorBundle);
      } catch (err) {
        return add('sigstore', false, `the certificate or Rekor bundle annotation cannot be read: ${describeError(err)}`);
      }
      const outcome = verifyKeylessMessage(bundle, payload, policy);
      if (!add('sigstore', outcome.sigstore.ok, outcome.sigstore.detail)) return false;
      return add('identity', outcome.identity!.ok, outcome.identity!.detail);
    }
    default:
      throw new ModelshipError('VERIFY_FAILED', `unknown verification policy ${JSON.stringify(policy satisfies never)}`);
  }
}

function rawVerifies(key: KeyObject, data: Uint8Array, sig: Buffer): boolean {
  try {
    return cryptoVerify(hashForKey(key, 'verification key'), data, key, sig);
  } catch {
    return false;
  }
}

