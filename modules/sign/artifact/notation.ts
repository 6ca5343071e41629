/**
 * Notation (Notary Project) signatures of packed artifacts: a JWS over the manifest descriptor,
 * attached as an `application/vnd.cncf.notary.signature` referrer, verified per a trust policy.
 */
import type { KeyObject } from 'node:crypto';
import { describeError, isModelshipError } from '../../errors/index.js';
import { readArtifact } from '../../modelpack/read.js';
import { attach, buildArtifactManifest, referrers } from '../../oci/index.js';
import type { Descriptor, ReadOnlyTarget, Target } from '../../oci/types.js';
import { NOTATION_SIGNATURE_ARTIFACT_TYPE, notationReferrerManifest, signNotation, verifyNotation, type NotationCheck } from '../notation/index.js';
import { readReferrerDocument } from './referrers.js';

export interface NotationSigning {
  key: KeyObject | string;
  /** PEM certificates, leaf first, ending at the root. */
  certChain: string[];
}

/** Sign `subject` (a manifest descriptor) and attach the envelope as a Notation referrer. */
export async function attachNotationSignature(target: Target, subject: Descriptor, signing: NotationSigning): Promise<Descriptor> {
  const signature = await signNotation({ descriptor: subject, key: signing.key, certChain: signing.certChain });
  const referrer = notationReferrerManifest(subject, signature.bytes);
  const manifest = await buildArtifactManifest(target, {
    artifactType: NOTATION_SIGNATURE_ARTIFACT_TYPE,
    layers: [{ descriptor: referrer.layer.descriptor, content: referrer.layer.bytes }],
    annotations: referrer.manifest.annotations ?? {},
  });
  return attach(target, subject, manifest);
}

export interface NotationPolicyInput {
  /** trustpolicy.json text. */
  trustPolicy: string;
  /** Named stores as the policy names them (`ca:acme`), each PEM text. */
  trustStores: Record<string, string>;
  /** `registry/repository`, which selects the trust policy statement. */
  repository: string;
  now?: Date;
}

export interface NotationSignatureResult {
  referrer: string;
  ok: boolean;
  policy?: string;
  checks: NotationCheck[];
  reason: string;
}

export interface NotationArtifactVerification {
  ok: boolean;
  descriptor: Descriptor;
  signatures: NotationSignatureResult[];
  reason?: string;
}

/** Passes when one Notation signature of the manifest verifies under the trust policy. */
export async function verifyArtifactNotation(target: ReadOnlyTarget, ref: string, input: NotationPolicyInput): Promise<NotationArtifactVerification> {
  const view = await readArtifact(target, ref);
  const signatures: NotationSignatureResult[] = [];
  for (const referrer of await referrers(target, view.descriptor, NOTATION_SIGNATURE_ARTIFACT_TYPE)) {
    let envelope: Uint8Array;
    try {
      envelope = (await readReferrerDocument(target, referrer)).bytes;
    } catch (err) {
      if (!isModelshipError(err)) throw err;
      signatures.push({ referrer: referrer.digest, ok: false, checks: [], reason: describeError(err) });
      continue;
    }
    const result = await verifyNotation({
      envelope,
      target: view.descriptor,
      trustPolicy: input.trustPolicy,
      trustStores: input.trustStores,
      artifactReference: `${input.repository}@${view.descriptor.digest}`,
      ...(input.now ? { now: input.now } : {}),
    });
    signatures.push({ referrer: referrer.digest, ok: result.ok, policy: result.policy, checks: result.checks, reason: result.reason });
  }
  if (signatures.some((s) => s.ok)) return { ok: true, descriptor: view.descriptor, signatures };
  const reason = signatures[0]?.reason ?? `no Notation signature refers to ${target.location} (${ref}) ${view.descriptor.digest}; sign it with "modelship sign REF --notation --cert CERT.pem --chain CHAIN.pem --key KEY.pem"`;
  return { ok: false, descriptor: view.descriptor, signatures, reason };
}
