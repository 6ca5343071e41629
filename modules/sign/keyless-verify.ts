/**
 * Keyless bundles verified fully offline with @sigstore/verify against a trusted root file:
 * Fulcio chain, CT log SCT, Rekor entry and timestamps; the identity is then matched here.
 */
import { bundleFromJSON } from '@sigstore/bundle';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { describeError } from '../errors/index.js';
import type { SerializedOmsBundle } from './bundle.js';

export interface KeylessIdentityPolicy {
  /** Matched against the certificate's subject alternative name (whole string). */
  identity: RegExp;
  /** The OIDC issuer, compared exactly. */
  issuer: string;
  /** The trusted root JSON (e.g. Sigstore public-good's trusted_root.json). */
  trustedRoot: unknown;
  /** Minimum transparency log entries; 1 unless a private deployment runs without Rekor. */
  tlogThreshold?: number;
  ctlogThreshold?: number;
  timestampThreshold?: number;
}

export interface KeylessOutcome {
  sigstore: { ok: boolean; detail: string };
  identity?: { ok: boolean; detail: string };
}

export function verifyKeylessBundle(bundle: SerializedOmsBundle, policy: KeylessIdentityPolicy): KeylessOutcome {
  return verifyKeylessEntity(bundle, undefined, policy);
}

/** A message-signature bundle (cosign's tag signatures, rebuilt from their annotations) over `data`. */
export function verifyKeylessMessage(bundle: unknown, data: Uint8Array, policy: KeylessIdentityPolicy): KeylessOutcome {
  return verifyKeylessEntity(bundle, Buffer.from(data), policy);
}

function verifyKeylessEntity(bundle: unknown, data: Buffer | undefined, policy: KeylessIdentityPolicy): KeylessOutcome {
  let signer;
  try {
    const tm = toTrustMaterial(TrustedRoot.fromJSON(policy.trustedRoot));
    const verifier = new Verifier(tm, {
      tlogThreshold: policy.tlogThreshold ?? 1,
      ctlogThreshold: policy.ctlogThreshold ?? 1,
      timestampThreshold: policy.timestampThreshold ?? 1,
    });
    signer = verifier.verify(toSignedEntity(bundleFromJSON(bundle), data));
  } catch (err) {
    return { sigstore: { ok: false, detail: `Sigstore verification failed: ${describeError(err)}` } };
  }
  const san = signer.identity?.subjectAlternativeName ?? '';
  const issuer = signer.identity?.extensions?.issuer ?? '';
  const sigstore = { ok: true, detail: 'signature, Fulcio certificate chain, CT log and Rekor entry verify against the trusted root' };
  const anchored = new RegExp(`^(?:${policy.identity.source})$`, policy.identity.flags);
  if (!anchored.test(san)) return { sigstore, identity: { ok: false, detail: `certificate identity "${san}" does not match ${policy.identity}` } };
  if (issuer !== policy.issuer) return { sigstore, identity: { ok: false, detail: `certificate OIDC issuer "${issuer}" is not "${policy.issuer}"` } };
  return { sigstore, identity: { ok: true, detail: `signed by ${san} (issuer ${issuer})` } };
}
