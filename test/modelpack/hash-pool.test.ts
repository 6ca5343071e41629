/**
 * The hash pool's copy into the store: the reading thread hashes while a writer thread of its own
 * writes the same bytes from a shared ring, so every size around the read, slot and ring edges
 * must come out whole, a failed write must be reported and leave the writer fit for the next file.
 */
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hashFile, INLINE_MAX_BYTES, READ_SIZE, SLOT_SIZE, SLOTS } from '../../modules/modelpack/hash-pool.js';
import type { SourceIdentity } from '../../modules/modelpack/source-check.js';
import { createHash } from 'node:crypto';
import { tempDir } from './helpers.js';

const sha256 = (bytes: Uint8Array) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

async function sourceOf(path: string, bytes: Uint8Array): Promise<SourceIdentity> {
  await writeFile(path, bytes);
  const info = await stat(path);
  return { absPath: path, size: info.size, mtimeMs: info.mtimeMs, ino: info.ino };
}

/** Bytes each thread of this process has read and written so far, by thread id (Linux /proc). */
function ioByThread(): Map<string, { read: number; written: number }> {
  const out = new Map<string, { read: number; written: number }>();
  for (const tid of readdirSync('/proc/self/task')) {
    const io = readFileSync(`/proc/self/task/${tid}/io`, 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}: (\\d+)$`, 'm').exec(io)?.[1] ?? 0);
    out.set(tid, { read: field('rchar'), written: field('wchar') });
  }
  return out;
}

describe('hashFile copying into the store', () => {
  it('stores exactly the bytes it hashes at every size around the read, slot and ring edges', async () => {
    const dir = await tempDir();
    const sizes = [0, 1, INLINE_MAX_BYTES, INLINE_MAX_BYTES + 1, READ_SIZE - 1, READ_SIZE, READ_SIZE + 1, SLOT_SIZE - 1, SLOT_SIZE, SLOT_SIZE + 1, SLOTS * SLOT_SIZE, (SLOTS + 1) * SLOT_SIZE + READ_SIZE + 7];
    for (const size of sizes) {
      const bytes = randomBytes(size);
      const source = await sourceOf(join(dir, `w-${size}`), bytes);
      const target = join(dir, `w-${size}.stored`);
      const result = await hashFile(source, target);
      expect(result, `size ${size}`).toEqual({ digest: sha256(bytes), size });
      expect(Buffer.compare(await readFile(target), bytes), `size ${size}`).toBe(0);
    }
  });

  it('keeps files hashed at once apart, each in its own worker and ring', async () => {
    const dir = await tempDir();
    const files = await Promise.all(Array.from({ length: 5 }, async (_, i) => ({ bytes: randomBytes(3 * SLOT_SIZE + i * 4099), i })));
    const results = await Promise.all(
      files.map(async ({ bytes, i }) => {
        const source = await sourceOf(join(dir, `w-${i}`), bytes);
        return { i, bytes, result: await hashFile(source, join(dir, `w-${i}.stored`)) };
      }),
    );
    for (const { i, bytes, result } of results) {
      expect(result.digest).toBe(sha256(bytes));
      expect(Buffer.compare(await readFile(join(dir, `w-${i}.stored`)), bytes), `file ${i}`).toBe(0);
    }
  });

  it('writes the copy on a thread of its own, so the reading thread only reads and hashes', async () => {
    const dir = await tempDir();
    const size = 4 * SLOT_SIZE + 5;
    const bytes = randomBytes(size);
    const source = await sourceOf(join(dir, 'w'), bytes);
    const before = ioByThread();
    await hashFile(source, join(dir, 'w.stored'));
    const delta = [...ioByThread()].map(([tid, io]) => ({ tid, read: io.read - (before.get(tid)?.read ?? 0), written: io.written - (before.get(tid)?.written ?? 0) }));
    const reader = delta.find((t) => t.read >= size);
    const writer = delta.find((t) => t.written >= size);
    expect(reader, JSON.stringify(delta)).toBeDefined();
    expect(writer, JSON.stringify(delta)).toBeDefined();
    expect(writer!.tid).not.toBe(reader!.tid);
    // The reader writes nothing of the file: only its progress messages.
    expect(reader!.written).toBeLessThan(SLOT_SIZE);
  });

  it('hashes and stores a small file on the calling thread (no worker to start), a larger one on a worker', async () => {
    const dir = await tempDir();
    // /proc/thread-self names this thread: PID/task/TID.
    const self = readlinkSync('/proc/thread-self').split('/').pop()!;
    for (const [size, inline] of [[INLINE_MAX_BYTES, true], [INLINE_MAX_BYTES + 1, false]] as const) {
      const bytes = randomBytes(size);
      const source = await sourceOf(join(dir, `t-${size}`), bytes);
      const before = ioByThread();
      expect(await hashFile(source, join(dir, `t-${size}.stored`))).toEqual({ digest: sha256(bytes), size });
      const delta = [...ioByThread()].map(([tid, io]) => ({ tid, read: io.read - (before.get(tid)?.read ?? 0), written: io.written - (before.get(tid)?.written ?? 0) }));
      const reader = delta.find((t) => t.read >= size);
      expect(reader, JSON.stringify(delta)).toBeDefined();
      expect(reader!.tid === self, `size ${size}`).toBe(inline);
      expect(Buffer.compare(await readFile(join(dir, `t-${size}.stored`)), bytes), `size ${size}`).toBe(0);
    }
  });

  it('reports a failed write with the file it was writing, and the next file stores whole', async (ctx) => {
    const disk = await tempDir('modelship-tmpfs-');
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', disk], { stdio: 'ignore' });
    } catch {
      // Mounting needs root (as CI has): elsewhere the test reports itself skipped, never passed.
      ctx.skip('cannot mount a tmpfs here');
      return;
    }
    try {
      const dir = await tempDir();
      const big = await sourceOf(join(dir, 'big'), randomBytes(3 * SLOT_SIZE));
      await expect(hashFile(big, join(disk, 'big.stored'))).rejects.toMatchObject({ code: 'ENOSPC', dest: join(disk, 'big.stored') });
      // Every worker has met the full disk once, so the next file goes through a writer that failed.
      await Promise.all([1, 2, 3].map((i) => expect(hashFile(big, join(disk, `big-${i}.stored`))).rejects.toMatchObject({ code: 'ENOSPC' })));
      const bytes = randomBytes(SLOTS * SLOT_SIZE + 3);
      const next = await sourceOf(join(dir, 'next'), bytes);
      expect(await hashFile(next, join(dir, 'next.stored'))).toEqual({ digest: sha256(bytes), size: bytes.length });
      expect(Buffer.compare(await readFile(join(dir, 'next.stored')), bytes)).toBe(0);
    } finally {
      execFileSync('umount', [disk]);
    }
  });
});
