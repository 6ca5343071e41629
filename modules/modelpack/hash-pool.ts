/**
 * Hashing files on every core: one worker thread per core reads a file once, hashes it and (when
 * given a target) writes the same bytes into the store's temp file, so the copy overlaps the hash.
 * On filesystems with reflinks the target is a clone made by the kernel and only hashed.
 * The workers are plain JavaScript evaluated in place, so they run the same under tsx, vitest and dist.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { assertUnchanged, type SeenStat, type SourceIdentity } from './source-check.js';

/** Read size: large enough to keep syscalls few, small enough that the workers' memory stays a few MB. */
const CHUNK = 4 * 1024 * 1024;

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const { createHash } = require('node:crypto');
const CHUNK = ${CHUNK};
const buf = Buffer.allocUnsafe(CHUNK);
const seen = (s) => ({ size: s.size, mtimeMs: s.mtimeMs, ino: s.ino });
function cloned(source, target) {
  try {
    fs.copyFileSync(source, target, fs.constants.COPYFILE_EXCL | fs.constants.COPYFILE_FICLONE_FORCE);
    return true;
  } catch (err) {
    try { fs.unlinkSync(target); } catch {}
    return false;
  }
}
function run(job) {
  let src, out, hashFd;
  const hash = createHash('sha256');
  let bytes = 0;
  try {
    src = fs.openSync(job.source, 'r');
    const before = seen(fs.fstatSync(src));
    // A reflink shares the blocks: the clone is what is stored, so the clone is what is hashed.
    const clone = job.target !== undefined && cloned(job.source, job.target);
    if (clone) hashFd = fs.openSync(job.target, 'r');
    else if (job.target !== undefined) out = fs.openSync(job.target, 'wx', 0o644);
    const from = clone ? hashFd : src;
    for (;;) {
      const n = fs.readSync(from, buf, 0, CHUNK, null);
      if (n === 0) break;
      hash.update(n === CHUNK ? buf : buf.subarray(0, n));
      if (out !== undefined) for (let off = 0; off < n; ) off += fs.writeSync(out, buf, off, n - off);
      bytes += n;
      parentPort.postMessage({ id: job.id, progress: n });
      // Past the listed size the file is growing: stop here, the caller reports it.
      if (bytes > job.size) break;
    }
    const after = seen(fs.fstatSync(src));
    return { id: job.id, done: { digest: 'sha256:' + hash.digest('hex'), bytes, before, after } };
  } finally {
    for (const fd of [src, out, hashFd]) if (fd !== undefined) fs.closeSync(fd);
  }
}
parentPort.on('message', (job) => {
  try {
    parentPort.postMessage(run(job));
  } catch (err) {
    parentPort.postMessage({ id: job.id, error: { message: String((err && err.message) || err), code: err && err.code, path: err && err.path, dest: (err && err.dest) || (err && err.code && !err.path ? job.target : undefined) } });
  }
});
`;

interface Job {
  id: number;
  source: string;
  target?: string;
  size: number;
}

interface Done {
  digest: string;
  bytes: number;
  before: SeenStat;
  after: SeenStat;
}

type Reply = { id: number; progress: number } | { id: number; done: Done } | { id: number; error: { message: string; code?: string; path?: string; dest?: string } };

interface Pending {
  job: Job;
  onBytes: ((bytes: number) => void) | undefined;
  resolve: (done: Done) => void;
  reject: (err: Error) => void;
}

class HashPool {
  private readonly idle: Worker[] = [];
  private readonly queue: Pending[] = [];
  private readonly running = new Map<Worker, Pending>();
  private nextId = 1;
  private created = 0;

  constructor(private readonly size: number) {}

  run(job: Omit<Job, 'id'>, onBytes?: (bytes: number) => void): Promise<Done> {
    return new Promise<Done>((resolve, reject) => {
      this.queue.push({ job: { ...job, id: this.nextId++ }, onBytes, resolve, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.queue.length) {
      const worker = this.idle.pop() ?? (this.created < this.size ? this.spawn() : undefined);
      if (!worker) return;
      const pending = this.queue.shift()!;
      this.running.set(worker, pending);
      // Only a busy worker keeps the process alive.
      worker.ref();
      worker.postMessage(pending.job);
    }
  }

  private spawn(): Worker {
    this.created++;
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    worker.on('message', (reply: Reply) => {
      const pending = this.running.get(worker);
      if (!pending || pending.job.id !== reply.id) return;
      if ('progress' in reply) {
        pending.onBytes?.(reply.progress);
        return;
      }
      this.running.delete(worker);
      worker.unref();
      this.idle.push(worker);
      if ('done' in reply) pending.resolve(reply.done);
      // The errno fields travel too, so a full disk is still reported with the file it was writing.
      else pending.reject(Object.assign(new Error(reply.error.message), Object.fromEntries(Object.entries({ code: reply.error.code, path: reply.error.path, dest: reply.error.dest }).filter(([, v]) => v !== undefined))));
      this.dispatch();
    });
    worker.on('error', (err) => this.lost(worker, err));
    worker.on('exit', (code) => this.lost(worker, new Error(`hash worker exited with code ${code}`)));
    return worker;
  }

  private lost(worker: Worker, err: Error): void {
    const pending = this.running.get(worker);
    this.running.delete(worker);
    const i = this.idle.indexOf(worker);
    if (i >= 0) this.idle.splice(i, 1);
    if (this.created > 0 && (pending || i >= 0)) this.created--;
    pending?.reject(err);
    this.dispatch();
  }
}

let shared: HashPool | undefined;

/** Workers in the shared pool: one per core. */
export function hashWorkers(): number {
  return Math.max(1, availableParallelism());
}

/**
 * sha256 of `file`, copying it to `target` on the way when given; fails with PACK_SOURCE_CHANGED
 * if the file is not what was listed (size, mtime, inode) before and after, or was cut short.
 */
export async function hashFile(file: SourceIdentity, target?: string, onBytes?: (bytes: number) => void): Promise<{ digest: string; size: number }> {
  shared ??= new HashPool(hashWorkers());
  const done = await shared.run({ source: file.absPath, size: file.size, ...(target !== undefined ? { target } : {}) }, onBytes);
  assertUnchanged(file, done.before, done.after, done.bytes);
  return { digest: done.digest, size: done.bytes };
}
