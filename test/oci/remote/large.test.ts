import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, inject, it } from 'vitest';
import { RemoteTarget } from '../../../modules/oci/remote/index.js';
import { MEDIA_TYPE, type Descriptor, type ReopenableContent } from '../../../modules/oci/types.js';
import { uniqueRepo } from './helpers.js';

const registry = inject('registry');
const MiB = 1024 * 1024;

/** A deterministic stream of `size` bytes that is never held whole: one 1 MiB block, stamped per block. */
function synthetic(size: number, seed: number): ReopenableContent & { descriptor(): Descriptor } {
  const block = Buffer.alloc(MiB);
  for (let i = 0; i < MiB; i += 4) block.writeUInt32LE((i * 2654435761 + seed) >>> 0, i);
  function* from(offset: number): Generator<Buffer> {
    for (let at = offset; at < size; ) {
      const index = Math.floor(at / MiB);
      const stamped = Buffer.from(block);
      stamped.writeUInt32LE(index, 0);
      const start = at - index * MiB;
      const end = Math.min(MiB, size - index * MiB);
      yield stamped.subarray(start, end);
      at = index * MiB + end;
    }
  }
  return {
    open: async (offset) => Readable.from(from(offset), { objectMode: false }),
    descriptor() {
      const hash = createHash('sha256');
      for (const chunk of from(0)) hash.update(chunk);
      return { mediaType: MEDIA_TYPE.ociLayer, digest: `sha256:${hash.digest('hex')}`, size };
    },
  };
}

async function peakRssGrowth(work: () => Promise<void>): Promise<number> {
  global.gc?.();
  const base = process.memoryUsage.rss();
  let peak = base;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 20);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return Math.max(peak, process.memoryUsage.rss()) - base;
}

describe('large blobs stream with flat memory', () => {
  it('pushes 256 MiB monolithic and chunked, and reads it back, each with under 100 MB of extra RSS', async () => {
    const size = 256 * MiB;
    const content = synthetic(size, 7);
    const desc = content.descriptor();
    const mono = new RemoteTarget(registry, uniqueRepo('large/mono'), { plainHttp: true, uploadMode: 'monolithic' });
    const monoGrowth = await peakRssGrowth(() => mono.push(desc, content));
    const chunked = new RemoteTarget(registry, uniqueRepo('large/chunked'), { plainHttp: true, uploadMode: 'chunked', chunkSize: 32 * MiB });
    const chunkedGrowth = await peakRssGrowth(() => chunked.push(desc, content));
    let seen = 0;
    const readGrowth = await peakRssGrowth(async () => {
      for await (const chunk of await chunked.fetch(desc)) seen += (chunk as Buffer).length;
    });
    expect(seen).toBe(size);
    expect(await mono.exists(desc)).toBe(true);
    expect(monoGrowth).toBeLessThan(100 * MiB);
    expect(chunkedGrowth).toBeLessThan(100 * MiB);
    expect(readGrowth).toBeLessThan(100 * MiB);
  }, 180_000);
});
