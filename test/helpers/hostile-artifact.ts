/** A ModelPack manifest built by hand from given layers (and config text), for what `pack` would never write. */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { descriptorOf } from '../../modules/oci/digest.js';
import { encodeManifest } from '../../modules/oci/manifest.js';
import { LayoutTarget } from '../../modules/oci/layout.js';
import type { Descriptor } from '../../modules/oci/types.js';

export interface HandmadeLayer {
  mediaType: string;
  bytes: Uint8Array;
  annotations?: Record<string, string>;
}

/** Pushes the layers and a config (by default one naming their digests) and tags the manifest `bad` in a fresh layout. */
export async function handmadeArtifact(layers: HandmadeLayer[], configText?: string): Promise<LayoutTarget> {
  const store = new LayoutTarget(join(await mkdtemp(join(tmpdir(), 'modelship-bad-')), 'layout'));
  const descs: Descriptor[] = [];
  for (const l of layers) {
    const d = descriptorOf(l.bytes, l.mediaType, l.annotations ? { annotations: l.annotations } : {});
    await store.push(d, l.bytes);
    descs.push(d);
  }
  const config = new TextEncoder().encode(configText ?? JSON.stringify({ descriptor: {}, config: {}, modelfs: { type: 'layers', diffIds: descs.map((d) => d.digest) } }));
  const configDesc = descriptorOf(config, 'application/vnd.cncf.model.config.v1+json');
  await store.push(configDesc, config);
  const { bytes, descriptor } = encodeManifest({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    artifactType: 'application/vnd.cncf.model.manifest.v1+json',
    config: configDesc,
    layers: descs,
  });
  await store.push(descriptor, bytes);
  await store.tag(descriptor, 'bad');
  return store;
}
