/**
 * Small content we build (configs, manifests, indexes) written to a store once, by digest.
 */
import { descriptorOf } from '../oci/digest.js';
import { encodeManifest } from '../oci/manifest.js';
import type { Descriptor, ImageIndex, ImageManifest, Target } from '../oci/types.js';

export async function pushBytes(store: Target, mediaType: string, bytes: Uint8Array): Promise<Descriptor> {
  const desc = descriptorOf(bytes, mediaType);
  if (!(await store.exists(desc))) await store.push(desc, bytes);
  return desc;
}

export async function pushManifest(store: Target, manifest: ImageManifest | ImageIndex): Promise<Descriptor> {
  const { bytes, descriptor } = encodeManifest(manifest);
  // artifactType on the descriptor lets index.json and referrers listings show what it is.
  const withType = manifest.artifactType ? { ...descriptor, artifactType: manifest.artifactType } : descriptor;
  if (!(await store.exists(descriptor))) await store.push(descriptor, bytes);
  return withType;
}
