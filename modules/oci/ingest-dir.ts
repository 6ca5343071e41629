/**
 * The `ingest/` folder of a layout: temp files and write leases named after the process that owns
 * them (`<pid>-<random>.part|.lease`), so a later run can tell an abandoned one from a live one.
 */
import { randomBytes } from 'node:crypto';
import { readdir, readFile, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** A temp file whose owner is alive is still removed after this long untouched (a reused pid). */
export const STALE_PART_MS = 24 * 60 * 60 * 1000;
/** A lease is refreshed this often while held… */
const LEASE_HEARTBEAT_MS = 60_000;
/** …and counts as abandoned once this long without a refresh. */
export const STALE_LEASE_MS = 10 * 60_000;
/** Files from before owners were named (no pid) are removed after this long untouched. */
const STALE_UNNAMED_MS = 60 * 60_000;

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errno(err) === 'EPERM';
  }
}

/** A fresh temp file name in `dir` owned by this process; `hint` helps a person reading the folder. */
export function partPath(dir: string, hint = ''): string {
  return join(dir, `${process.pid}-${hint ? `${hint}-` : ''}${randomBytes(6).toString('hex')}.part`);
}

function ownerOf(name: string): number | undefined {
  const match = /^(\d+)-.*\.(part|lease)$/.exec(name);
  return match ? Number(match[1]) : undefined;
}

export interface Swept {
  removed: string[];
  bytes: number;
}

/** Delete temp files and leases whose owner is gone or that nobody touched for too long. */
export async function sweepIngest(dir: string, now = Date.now()): Promise<Swept> {
  const swept: Swept = { removed: [], bytes: 0 };
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const path = join(dir, name);
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) continue;
    const owner = ownerOf(name);
    const idle = now - info.mtimeMs;
    const lease = name.endsWith('.lease');
    const stale = owner === undefined ? idle > STALE_UNNAMED_MS : !pidAlive(owner) || idle > (lease ? STALE_LEASE_MS : STALE_PART_MS);
    if (!stale) continue;
    try {
      await unlink(path);
    } catch (err) {
      if (errno(err) === 'ENOENT') continue;
      throw err;
    }
    swept.removed.push(name);
    if (!lease) swept.bytes += info.size;
  }
  swept.removed.sort();
  return swept;
}

/** The start time of the oldest live lease in `dir`, or undefined when no write is running. */
export async function oldestLiveLease(dir: string, now = Date.now()): Promise<number | undefined> {
  let oldest: number | undefined;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (!name.endsWith('.lease')) continue;
    const owner = ownerOf(name);
    const path = join(dir, name);
    const [text, info] = await Promise.all([readFile(path, 'utf8').catch(() => ''), stat(path).catch(() => undefined)]);
    if (!info || owner === undefined || !pidAlive(owner) || now - info.mtimeMs > STALE_LEASE_MS) continue;
    const started = Number(text.trim());
    // An unreadable start (a lease being written) protects everything.
    const since = Number.isFinite(started) && started > 0 ? started : 0;
    oldest = oldest === undefined ? since : Math.min(oldest, since);
  }
  return oldest;
}

/** One process's lease on a layout: re-entrant, refreshed while held, removed when the last holder ends. */
export class WriteLease {
  private holders = 0;
  private opening: Promise<{ path: string; timer: NodeJS.Timeout }> | undefined;

  constructor(private readonly dir: string, private readonly prepare: () => Promise<void>) {}

  async hold<T>(work: () => Promise<T>): Promise<T> {
    this.holders++;
    try {
      this.opening ??= this.open();
      await this.opening;
      return await work();
    } finally {
      if (--this.holders === 0) await this.close();
    }
  }

  get held(): boolean {
    return this.holders > 0;
  }

  private async open(): Promise<{ path: string; timer: NodeJS.Timeout }> {
    await this.prepare();
    const path = join(this.dir, `${process.pid}-${randomBytes(6).toString('hex')}.lease`);
    // The start is taken before the file exists, so every blob stored under the lease is newer.
    await writeFile(path, `${Date.now()}\n`, { flag: 'wx' });
    const timer = setInterval(() => {
      const t = new Date();
      void utimes(path, t, t).catch(() => {});
    }, LEASE_HEARTBEAT_MS);
    timer.unref();
    return { path, timer };
  }

  private async close(): Promise<void> {
    const opening = this.opening;
    this.opening = undefined;
    const lease = await opening?.catch(() => undefined);
    if (!lease) return;
    clearInterval(lease.timer);
    await unlink(lease.path).catch(() => {});
  }
}
