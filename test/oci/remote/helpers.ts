/** Small builders shared by the remote tests: random blobs and the manifests that hold them. */
import { randomBytes, randomUUID } from 'node:crypto';
import { descriptorOf, jsonContent } from '../../../modules/oci/digest.js';
import { MEDIA_TYPE, type Descriptor } from '../../../modules/oci/types.js';

export function uniqueRepo(prefix: string): string {
  return `${prefix}/${randomUUID().slice(0, 8)}`;
}

export function randomBlob(size: number, mediaType: string = MEDIA_TYPE.ociLayer): { bytes: Uint8Array; descriptor: Descriptor } {
  const bytes = new Uint8Array(randomBytes(size));
  return { bytes, descriptor: descriptorOf(bytes, mediaType) };
}

/** An image manifest over `layers` with a small JSON config; returns everything to push. */
export function imageWith(layers: Descriptor[], extra: Record<string, unknown> = {}) {
  const config = jsonContent({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) } }, MEDIA_TYPE.ociConfig);
  const manifest = jsonContent({ schemaVersion: 2, mediaType: MEDIA_TYPE.ociManifest, config: config.descriptor, layers, ...extra }, MEDIA_TYPE.ociManifest);
  return { config, manifest };
}

export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

export async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks);
}
