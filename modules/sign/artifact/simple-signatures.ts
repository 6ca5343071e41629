/**
 * cosign's tag-based image signatures on a target: written under `sha256-<hex>.sig` as `cosign sign`
 * does without the new bundle format, and read back from that tag or from OCI 1.1 referrers of
 * artifactType `application/vnd.dev.cosign.artifact.sig.v1+json` (cosign's referrers mode).
 */
import { createPublicKey } from 'node:crypto';
import { ModelshipError } from '../../errors/index.js';
import { descriptorOf } from '../../oci/digest.js';
import { fetchManifest } from '../../oci/manifest.js';
import { referrers } from '../../oci/referrers.js';
import { appendSignatureLayers, readSignatureImage, signatureTagOf } from '../../oci/signature-tag.js';
import type { Descriptor, ReadOnlyTarget, Target } from '../../oci/types.js';
import { readAllVerified } from '../../oci/verify.js';
import type { SigningMethod } from '../signers.js';
import { COSIGN_SIGNATURE_ARTIFACT_TYPE, SIMPLE_SIGNING_MEDIA_TYPE, signSimplePayload, simpleSigningPayload, verifySimpleSignature } from '../simple-signing.js';
import { MAX_REFERRER_BLOB_BYTES } from './referrers.js';

export interface AttachedSimpleSignature {
  /** The signature image (tagged `sha256-<hex>.sig`). */
  image: Descriptor;
  /** The layer holding this signature. */
  layer: Descriptor;
  tag: string;
}

/** Sign `subject` as `cosign sign` does and add the signature to its `.sig` image. */
export async function attachSimpleSignature(target: Target, subject: Descriptor, dockerReference: string, method: SigningMethod): Promise<AttachedSimpleSignature> {
  const payload = simpleSigningPayload(dockerReference, subject.digest);
  const tag = signatureTagOf(subject.digest);
  if (method.kind === 'key') {
    // As cosign's dupe detector: a signature this key already made over the same payload is kept, not doubled.
    const existing = await readSignatureImage(target, subject);
    const policy = { kind: 'key' as const, publicKey: createPublicKey(method.privateKey) };
    for (const layer of existing?.manifest.layers ?? []) {
      if (layer.digest !== descriptorOf(payload, SIMPLE_SIGNING_MEDIA_TYPE).digest) continue;
      if (verifySimpleSignature(payload, layer.annotations ?? {}, policy, subject.digest).ok) return { image: existing!.descriptor, layer, tag };
    }
  }
  const annotations = await signSimplePayload(payload, method);
  const layer = descriptorOf(payload, SIMPLE_SIGNING_MEDIA_TYPE, { annotations });
  const blob = descriptorOf(payload, SIMPLE_SIGNING_MEDIA_TYPE);
  if (!(await target.exists(blob))) await target.push(blob, payload);
  const image = await appendSignatureLayers(target, subject, [layer]);
  return { image: image.descriptor, layer, tag };
}

export interface FoundSimpleSignature {
  /** The signature image the layer is in. */
  image: Descriptor;
  /** Where it was found: cosign's `.sig` tag or an OCI 1.1 referrer. */
  source: 'tag' | 'referrer';
  layer: Descriptor;
  payload?: Uint8Array;
  problem?: string;
}

/** Every simple-signing layer signing `subject`: the `.sig` tag's, then those of cosign signature referrers. */
export async function findSimpleSignatures(target: ReadOnlyTarget, subject: Descriptor): Promise<FoundSimpleSignature[]> {
  const images: { image: Descriptor; source: FoundSimpleSignature['source']; layers?: Descriptor[]; problem?: string }[] = [];
  const tagged = await readSignatureImage(target, subject).catch((err: unknown) => {
    if (err instanceof ModelshipError) return { problem: err.message } as const;
    throw err;
  });
  if (tagged && 'problem' in tagged) images.push({ image: { mediaType: '', digest: signatureTagOf(subject.digest), size: 0 }, source: 'tag', problem: tagged.problem! });
  else if (tagged) images.push({ image: tagged.descriptor, source: 'tag', layers: tagged.manifest.layers });
  for (const referrer of await referrers(target, subject, COSIGN_SIGNATURE_ARTIFACT_TYPE)) {
    try {
      const manifest = await fetchManifest(target, referrer, `${target.location} (referrer ${referrer.digest})`);
      images.push({ image: referrer, source: 'referrer', layers: 'layers' in manifest ? manifest.layers : [] });
    } catch (err) {
      if (!(err instanceof ModelshipError)) throw err;
      images.push({ image: referrer, source: 'referrer', problem: err.message });
    }
  }
  const found: FoundSimpleSignature[] = [];
  for (const { image, source, layers, problem } of images) {
    if (problem) {
      found.push({ image, source, layer: image, problem });
      continue;
    }
    for (const layer of layers ?? []) {
      if (layer.mediaType !== SIMPLE_SIGNING_MEDIA_TYPE) continue;
      const where = `${target.location} (signature ${image.digest}, layer ${layer.digest})`;
      try {
        found.push({ image, source, layer, payload: await readAllVerified(await target.fetch(layer), layer, MAX_REFERRER_BLOB_BYTES, where) });
      } catch (err) {
        if (!(err instanceof ModelshipError)) throw err;
        found.push({ image, source, layer, problem: err.message });
      }
    }
  }
  return found;
}
