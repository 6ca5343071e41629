/**
 * Store content whose digest is not known until it has been read: write it to a temp file while
 * hashing, then make it a blob. In an OCI layout the temp file sits in `ingest/` and is renamed
 * into `blobs/`, so a reader sees no blob or the whole verified one.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, mkdir, mkdtemp, rename, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { LayoutTarget } from '../oci/layout.js';
import { partPath } from '../oci/ingest-dir.js';
import type { Descriptor, Target } from '../oci/types.js';
import { hashTap } from './hashing.js';
import { hashFile } from './hash-pool.js';
import type { SourceIdentity } from './source-check.js';

const CHUNK = 1024 * 1024;

/** Writes `source` into `store` as a blob of `mediaType`; returns its descriptor. `onBytes` reports progress. */
export async function ingestStream(store: Target, mediaType: string, source: Readable, onBytes?: (bytes: number) => void): Promise<Descriptor> {
  return ingest(store, mediaType, async (tmp) => {
    const tap = hashTap(onBytes);
    await pipeline(source, tap, createWriteStream(tmp, { flags: 'wx', highWaterMark: CHUNK }));
    return { digest: tap.digest(), size: tap.bytes };
  });
}

/**
 * Stores a whole file as a blob. A worker thread hashes the temp file's bytes as the kernel copies
 * them in (or as it writes them itself, or hashes a reflink clone where the filesystem makes one;
 * see hash-pool.ts), so several files hash on several cores; the file must not change meanwhile
 * (PACK_SOURCE_CHANGED otherwise).
 */
export async function ingestFile(store: Target, mediaType: string, file: SourceIdentity, onBytes?: (bytes: number) => void): Promise<Descriptor> {
  return ingest(store, mediaType, (tmp) => hashFile(file, tmp, onBytes));
}

/** Writes the temp file `tmp` and returns what it holds; a throw leaves nothing behind. */
export type Fill = (tmp: string) => Promise<{ digest: string; size: number }>;

/** Stores what `fill` writes (e.g. a verified download) as a blob: the temp file is renamed in, or removed on failure. */
export async function ingestFilled(store: Target, mediaType: string, fill: Fill): Promise<Descriptor> {
  return ingest(store, mediaType, fill);
}

async function ingest(store: Target, mediaType: string, fill: Fill): Promise<Descriptor> {
  const layout = store instanceof LayoutTarget ? store : undefined;
  let dir: string;
  if (layout) {
    dir = await layout.ingestDir();
  } else {
    dir = await mkdtemp(join(tmpdir(), 'modelship-ingest-'));
  }
  const tmp = partPath(dir, 'stream');
  try {
    const desc: Descriptor = { mediaType, ...(await fill(tmp)) };
    if (layout) {
      if (await layout.exists(desc)) return desc;
      const final = layout.blobPath(desc.digest);
      await chmod(tmp, 0o444);
      await mkdir(dirname(final), { recursive: true });
      await rename(tmp, final);
      return desc;
    }
    if (!(await store.exists(desc))) await store.push(desc, createReadStream(tmp));
    return desc;
  } finally {
    if (layout) await unlink(tmp).catch(() => {});
    else await rm(dir, { recursive: true, force: true });
  }
}
