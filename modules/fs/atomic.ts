/** Whole-or-nothing file writes: readers see the old file or the new one, never half of one. */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ModelshipError } from '../errors/index.js';

export interface WriteFileAtomicOptions {
  /** Permission bits the file ends up with; without it, 0o666 less the umask, as `writeFile` does. */
  mode?: number;
}

/**
 * Write to a fresh temp file beside `path` (created with `wx`, synced), then rename it over `path`.
 * The parent folder is created when missing; the temp file is removed when anything fails.
 * A device or FIFO (`-o /dev/null`, `-o /dev/stdout`) is written to, never replaced by a file.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, opts: WriteFileAtomicOptions = {}): Promise<void> {
  const existing = await stat(path).catch(() => undefined);
  if (existing?.isDirectory()) throw new ModelshipError('USAGE', `${path} is a folder: give a file name to write, e.g. ${join(path, basename(path) || 'out')}.json`);
  if (existing && !existing.isFile()) return writeFile(path, data);
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(tmp, 'wx', opts.mode ?? 0o666);
  try {
    try {
      if (opts.mode !== undefined) await handle.chmod(opts.mode);
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
}
