/**
 * Small content we build (configs, manifests, indexes) written to a store once, by digest.
 */
import { ModelshipError } from '../errors/index.js';
import { descriptorOf } from '../oci/digest.js';
import { encodeManifest } from '../oci/manifest.js';
import { MAX_MANIFEST_BYTES, type Descriptor, type ImageIndex, type ImageManifest, type Target } from '../oci/types.js';

export async function pushBytes(store: Target, mediaType: string, bytes: Uint8Array): Promise<Descriptor> {
  const desc = descriptorOf(bytes, mediaType);
  if (!(await store.exists(desc))) await store.push(desc, bytes);
  return desc;
}

export async function pushManifest(store: Target, manifest: ImageManifest | ImageIndex): Promise<Descriptor> {
  const { bytes, descriptor } = encodeManifest(manifest);
  // Registries (distribution's default) and every reader, ours included, refuse a larger manifest: never store one.
  if (bytes.byteLength > MAX_MANIFEST_BYTES) {
    throw new ModelshipError('OCI_SIZE_LIMIT', `the manifest built for this model is ${bytes.byteLength} bytes, over the ${MAX_MANIFEST_BYTES}-byte limit registries accept: it lists too many layers or files; pack fewer files per model (e.g. archive a folder of many small files into one file)`, {
      details: { size: bytes.byteLength, limit: MAX_MANIFEST_BYTES, layers: 'layers' in manifest ? manifest.layers.length : undefined },
    });
  }
  // artifactType on the descriptor lets index.json and referrers listings show what it is.
  const withType = manifest.artifactType ? { ...descriptor, artifactType: manifest.artifactType } : descriptor;
  if (!(await store.exists(descriptor))) await store.push(descriptor, bytes);
  return withType;
}
