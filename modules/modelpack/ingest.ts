/**
 * Store a stream whose digest is not known until its end: write to a temp file while hashing,
 * then make it a blob. In an OCI layout the temp file sits in `ingest/` and is renamed into `blobs/`.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, mkdir, mkdtemp, rename, rm, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { LayoutTarget } from '../oci/layout.js';
import type { Descriptor, Target } from '../oci/types.js';
import { hashTap } from './hashing.js';

/** Writes `source` into `store` as a blob of `mediaType`; returns its descriptor. */
export async function ingestStream(store: Target, mediaType: string, source: Readable): Promise<Descriptor> {
  const layout = store instanceof LayoutTarget ? store : undefined;
  let dir: string;
  if (layout) {
    dir = join(layout.root, 'ingest');
    await layout.init();
    await mkdir(dir, { recursive: true });
  } else {
    dir = await mkdtemp(join(tmpdir(), 'modelship-ingest-'));
  }
  const tmp = join(dir, `stream-${randomBytes(8).toString('hex')}`);
  const tap = hashTap();
  try {
    await pipeline(source, tap, createWriteStream(tmp, { flags: 'wx', highWaterMark: 1024 * 1024 }));
    const desc: Descriptor = { mediaType, digest: tap.digest(), size: tap.bytes };
    if (layout) {
      if (await layout.exists(desc)) return desc;
      const final = layout.blobPath(desc.digest);
      await chmod(tmp, 0o444);
      await mkdir(dirname(final), { recursive: true });
      // rename() is atomic: a reader sees no blob or the whole verified blob.
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
