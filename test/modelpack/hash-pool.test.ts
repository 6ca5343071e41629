/**
 * The hash pool's copy into the store: on a local filesystem the kernel copies the file into the
 * target while the worker hashes the target as it fills, elsewhere the worker reads, hashes and
 * writes each chunk itself. Every size around the read edges must come out whole either way, and a
 * failed copy must be reported with the file it was writing and leave the worker fit for the next.
 */
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync, statfsSync } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FOLLOW_FROM_BYTES, FOLLOWABLE_FILESYSTEMS, hashFile, INLINE_MAX_BYTES, READ_SIZE } from '../../modules/modelpack/hash-pool.js';
import type { SourceIdentity } from '../../modules/modelpack/source-check.js';
import { createHash } from 'node:crypto';
import { tempDir } from './helpers.js';

const MIB = 1024 * 1024;
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

/** Bytes read and written by each thread since `before`. */
function threadDelta(before: Map<string, { read: number; written: number }>) {
  return [...ioByThread()].map(([tid, io]) => ({ tid, read: io.read - (before.get(tid)?.read ?? 0), written: io.written - (before.get(tid)?.written ?? 0) }));
}

/** A fresh mount of `type`; undefined (the test reported skipped, never passed) where mounting needs a root this run lacks. */
async function mounted(ctx: { skip: (note: string) => void }, type: string, options: string[]): Promise<string | undefined> {
  const disk = await tempDir(`modelship-${type}-`);
  try {
    execFileSync('mount', ['-t', type, ...options, type, disk], { stdio: 'ignore' });
    return disk;
  } catch {
    // Mounting needs root (as CI has).
    ctx.skip(`cannot mount a ${type} here`);
    return undefined;
  }
}

describe('hashFile copying into the store', () => {
  it('stores exactly the bytes it hashes at every size around the read edges', async () => {
    const dir = await tempDir();
    expect(FOLLOWABLE_FILESYSTEMS, 'the test folder is on a filesystem whose copy the hash follows').toContain(statfsSync(dir).type);
    const sizes = [0, 1, INLINE_MAX_BYTES, INLINE_MAX_BYTES + 1, READ_SIZE - 1, READ_SIZE + 1, 2 * READ_SIZE, MIB - 1, MIB + 1, 9 * MIB + READ_SIZE + 7, 64 * MIB + 7];
    for (const size of sizes) {
      const bytes = randomBytes(size);
      const source = await sourceOf(join(dir, `w-${size}`), bytes);
      const target = join(dir, `w-${size}.stored`);
      const result = await hashFile(source, target);
      expect(result, `size ${size}`).toEqual({ digest: sha256(bytes), size });
      expect(Buffer.compare(await readFile(target), bytes), `size ${size}`).toBe(0);
    }
  });

  it('keeps files hashed at once apart, each in its own worker', async () => {
    const dir = await tempDir();
    const files = await Promise.all(Array.from({ length: 5 }, async (_, i) => ({ bytes: randomBytes(3 * MIB + i * 4099), i })));
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

  it("leaves a large file's copy to cp in the kernel, and hashes what lands in the target", async () => {
    const dir = await tempDir();
    const size = FOLLOW_FROM_BYTES + 5;
    const bytes = randomBytes(size);
    const source = await sourceOf(join(dir, 'w'), bytes);
    const before = ioByThread();
    expect(await hashFile(source, join(dir, 'w.stored'))).toEqual({ digest: sha256(bytes), size });
    const delta = threadDelta(before);
    // No thread of this process wrote the copy: cp's copy_file_range did, in the kernel.
    expect(delta.filter((t) => t.written >= size), JSON.stringify(delta)).toEqual([]);
    const hasher = delta.find((t) => t.read >= size);
    expect(hasher, JSON.stringify(delta)).toBeDefined();
    expect(hasher!.written).toBeLessThan(READ_SIZE);
    expect(Buffer.compare(await readFile(join(dir, 'w.stored')), bytes)).toBe(0);
  });

  it('reads, hashes and writes each chunk itself where the filesystem is not one whose copy it can follow', async (ctx) => {
    // ramfs (no size limit, no reflinks) is left off the list on purpose, standing for a network filesystem here.
    const disk = await mounted(ctx, 'ramfs', []);
    if (!disk) return;
    try {
      expect(FOLLOWABLE_FILESYSTEMS).not.toContain(statfsSync(disk).type);
      const size = FOLLOW_FROM_BYTES + 11;
      const bytes = randomBytes(size);
      const source = await sourceOf(join(await tempDir(), 'w'), bytes);
      const before = ioByThread();
      expect(await hashFile(source, join(disk, 'w.stored'))).toEqual({ digest: sha256(bytes), size });
      const delta = threadDelta(before);
      const worker = delta.find((t) => t.read >= size);
      expect(worker, JSON.stringify(delta)).toBeDefined();
      expect(worker!.written).toBeGreaterThanOrEqual(size);
      expect(Buffer.compare(await readFile(join(disk, 'w.stored')), bytes)).toBe(0);
    } finally {
      execFileSync('umount', [disk]);
    }
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
      const delta = threadDelta(before);
      const reader = delta.find((t) => t.read >= size);
      expect(reader, JSON.stringify(delta)).toBeDefined();
      expect(reader!.tid === self, `size ${size}`).toBe(inline);
      expect(Buffer.compare(await readFile(join(dir, `t-${size}.stored`)), bytes), `size ${size}`).toBe(0);
    }
  });

  it('reports a failed copy with the file it was writing, and the next file stores whole', async (ctx) => {
    const disk = await mounted(ctx, 'tmpfs', ['-o', 'size=1m']);
    if (!disk) return;
    try {
      const dir = await tempDir();
      const big = await sourceOf(join(dir, 'big'), randomBytes(FOLLOW_FROM_BYTES + 1));
      await expect(hashFile(big, join(disk, 'big.stored'))).rejects.toMatchObject({ code: 'ENOSPC', dest: join(disk, 'big.stored') });
      // Every worker has met the full disk once, so the next file goes through a worker whose copy failed.
      await Promise.all([1, 2, 3].map((i) => expect(hashFile(big, join(disk, `big-${i}.stored`))).rejects.toMatchObject({ code: 'ENOSPC' })));
      const bytes = randomBytes(9 * MIB + 3);
      const next = await sourceOf(join(dir, 'next'), bytes);
      expect(await hashFile(next, join(dir, 'next.stored'))).toEqual({ digest: sha256(bytes), size: bytes.length });
      expect(Buffer.compare(await readFile(join(dir, 'next.stored')), bytes)).toBe(0);
    } finally {
      execFileSync('umount', [disk]);
    }
  });
});
