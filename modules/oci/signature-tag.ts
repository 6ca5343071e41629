/**
 * cosign's signature tag `sha256-<hex>.sig`: an image whose layers are signatures of the manifest
 * `sha256:<hex>`, found by tag rather than by `subject` (cosign v3.1 pkg/oci/remote/remote.go
 * SignatureTag; the image as pkg/oci/empty and pkg/oci/mutate build it). Read, appended to and
 * carried along by copies here; what a layer holds is the signing module's business.
 */
import { hasCode } from '../errors/index.js';
import { descriptorOf, parseDigest } from './digest.js';
import { encodeManifest, fetchManifest } from './manifest.js';
import { MEDIA_TYPE, type Descriptor, type ImageManifest, type ReadOnlyTarget, type Target } from './types.js';

/** `sha256:abc…` → `sha256-abc….sig`, the tag cosign, policy-controller and Kyverno look up. */
export function signatureTagOf(digest: string): string {
  const { algorithm, hex } = parseDigest(digest, 'the signed manifest digest');
  return `${algorithm}-${hex}.sig`;
}

/** Tags that are bookkeeping of another manifest (referrers fallback, cosign signatures and attestations), not names. */
export function isDigestTag(tag: string): boolean {
  return /^sha(256|512)-[a-f0-9]+(\.(sig|att|sbom))?$/.test(tag);
}

export interface SignatureImage {
  descriptor: Descriptor;
  manifest: ImageManifest;
}

/** The signature image tagged for `subject`, or undefined when there is none. */
export async function readSignatureImage(target: ReadOnlyTarget, subject: Descriptor): Promise<SignatureImage | undefined> {
  const tag = signatureTagOf(subject.digest);
  let descriptor: Descriptor;
  try {
    descriptor = await target.resolve(tag);
  } catch (err) {
    if (hasCode(err, 'OCI_NOT_FOUND')) return undefined;
    throw err;
  }
  const manifest = await fetchManifest(target, descriptor, `${target.location} (signature tag ${tag})`);
  if (!('layers' in manifest)) return undefined;
  return { descriptor, manifest };
}

/** The config go-containerregistry writes for an image of uncompressed layers appended to the empty image. */
function signatureConfig(layers: readonly Descriptor[]): Uint8Array {
  const zero = '0001-01-01T00:00:00Z';
  const config = {
    architecture: '',
    created: zero,
    history: layers.map(() => ({ created: zero })),
    os: '',
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
    config: {},
  };
  return new TextEncoder().encode(JSON.stringify(config));
}

function sameLayer(a: Descriptor, b: Descriptor): boolean {
  return a.digest === b.digest && JSON.stringify(a.annotations ?? {}) === JSON.stringify(b.annotations ?? {});
}

/**
 * Write the signature image of `subject` with `layers` added after those already tagged (an identical
 * layer is kept once); the layers' blobs must be on `target`. Returns the image, or the one there when
 * nothing was new.
 */
export async function appendSignatureLayers(target: Target, subject: Descriptor, layers: readonly Descriptor[]): Promise<SignatureImage> {
  const existing = await readSignatureImage(target, subject);
  const kept = existing ? [...existing.manifest.layers] : [];
  const added = layers.filter((l) => !kept.some((k) => sameLayer(k, l)));
  if (existing && added.length === 0) return existing;
  const all = [...kept, ...added];
  const configBytes = signatureConfig(all);
  const config = descriptorOf(configBytes, MEDIA_TYPE.ociConfig);
  if (!(await target.exists(config))) await target.push(config, configBytes);
  const manifest: ImageManifest = { schemaVersion: 2, mediaType: MEDIA_TYPE.ociManifest, config, layers: all };
  const { bytes, descriptor } = encodeManifest(manifest);
  await target.push(descriptor, bytes);
  await target.tag(descriptor, signatureTagOf(subject.digest));
  return { descriptor, manifest };
}
