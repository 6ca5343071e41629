/**
 * The hash writer behind Hub downloads: bytes handed over in network-sized chunks are hashed and
 * written by a worker thread from a shared ring, so every size around the slot and ring edges must
 * come out whole with the right digests, the caller's thread must not do the writing, and a failed
 * write must be reported and leave the thread fit for the next file.
 */
import { createHash, randomBytes } from 'node:crypto';
import { openSync, closeSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SLOT_SIZE, SLOTS } from '../../modules/modelpack/hash-pool.js';
import { openHashWriter } from '../../modules/modelpack/hash-writer.js';
import { tempDir } from './helpers.js';

/** Bytes this thread has written so far (Linux /proc). */
function writtenByThisThread(): number {
  const io = readFileSync(`/proc/${readlinkSync('/proc/thread-self')}/io`, 'utf8');
  return Number(/^wchar: (\d+)$/m.exec(io)?.[1] ?? 0);
}

/** Writes `bytes` in chunks of the sizes given, in turn, as a socket hands them over. */
async function writeAll(fd: number, bytes: Buffer, chunks: number[], gitSize?: number) {
  const writer = openHashWriter(fd, gitSize === undefined ? {} : { gitSize });
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const n = Math.min(chunks[i % chunks.length]!, bytes.length - at);
    await writer.write(bytes.subarray(at, at + n));
    at += n;
  }
  expect(writer.bytes).toBe(bytes.length);
  return writer.finish();
}

describe('openHashWriter', () => {
  it('writes and hashes exactly the bytes given at every size around the slot and ring edges, off the calling thread', async () => {
    const dir = await tempDir();
    const sizes = [0, 1, SLOT_SIZE - 1, SLOT_SIZE, SLOT_SIZE + 1, SLOTS * SLOT_SIZE, (SLOTS + 2) * SLOT_SIZE + 12345];
    for (const size of sizes) {
      const bytes = randomBytes(size);
      const path = join(dir, `f${size}`);
      const fd = openSync(path, 'wx');
      const before = writtenByThisThread();
      const hashed = await writeAll(fd, bytes, [65536, 7, 300001], size).finally(() => closeSync(fd));
      // The file is written by the worker: this thread wrote next to nothing of it.
      expect(writtenByThisThread() - before).toBeLessThan(Math.max(4096, size / 10));
      expect(hashed.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
      expect(hashed.sha1).toBe(createHash('sha1').update(`blob ${size}\0`).update(bytes).digest('hex'));
      expect(readFileSync(path).equals(bytes)).toBe(true);
    }
  });

  it('reports a failed write when the file ends, and the next file on the same thread comes out whole', async () => {
    const dir = await tempDir();
    const readOnly = join(dir, 'read-only');
    writeFileSync(readOnly, '');
    const fd = openSync(readOnly, 'r');
    const bytes = randomBytes(3 * SLOT_SIZE + 5);
    await expect(writeAll(fd, bytes, [1 << 20]).finally(() => closeSync(fd))).rejects.toMatchObject({ code: 'EBADF' });
    const path = join(dir, 'after');
    const next = openSync(path, 'wx');
    const hashed = await writeAll(next, bytes, [1 << 20]).finally(() => closeSync(next));
    expect(hashed.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(hashed.sha1).toBeUndefined();
    expect(readFileSync(path).equals(bytes)).toBe(true);
  });

  it('drops a file started over without digests, and says where the next byte goes once writes have settled', async () => {
    const dir = await tempDir();
    const fd = openSync(join(dir, 'dropped'), 'wx');
    const writer = openHashWriter(fd);
    const pending = [writer.write(randomBytes(SLOT_SIZE + 3)), writer.write(randomBytes(10))];
    await writer.settled();
    expect(writer.bytes).toBe(SLOT_SIZE + 13);
    await Promise.all(pending);
    await writer.drop();
    await expect(writer.finish()).rejects.toThrow(/without a digest/);
    closeSync(fd);
  });
});
