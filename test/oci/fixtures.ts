/**
 * Small real images for the oci tests: random layers, a config, a manifest, pushed into any target.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { descriptorOf, encodeManifest, jsonContent } from '../../modules/oci/index.js';
import { MEDIA_TYPE, type Descriptor, type ImageManifest, type Target } from '../../modules/oci/types.js';

export interface SampleImage {
  manifest: ImageManifest;
  manifestBytes: Uint8Array;
  descriptor: Descriptor;
  blobs: { descriptor: Descriptor; bytes: Uint8Array }[];
}

export function sampleImage(layerSizes: number[] = [1024, 4096], label = 'sample'): SampleImage {
  const config = jsonContent({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, label }, MEDIA_TYPE.ociConfig);
  const layers = layerSizes.map((size, i) => {
    const bytes = new Uint8Array(randomBytes(size));
    return { bytes, descriptor: descriptorOf(bytes, MEDIA_TYPE.ociLayer, { annotations: { 'org.opencontainers.image.title': `layer-${i}.bin` } }) };
  });
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE.ociManifest,
    config: config.descriptor,
    layers: layers.map((l) => l.descriptor),
  };
  const { bytes, descriptor } = encodeManifest(manifest);
  return { manifest, manifestBytes: bytes, descriptor, blobs: [{ descriptor: config.descriptor, bytes: config.bytes }, ...layers] };
}

export async function pushImage(target: Target, image: SampleImage, tag?: string): Promise<void> {
  for (const blob of image.blobs) await target.push(blob.descriptor, blob.bytes);
  await target.push(image.descriptor, image.manifestBytes);
  if (tag) await target.tag(image.descriptor, tag);
}

export async function tempDir(prefix = 'modelship-oci-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

