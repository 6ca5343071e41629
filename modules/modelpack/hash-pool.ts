/**
 * Hashing files on every core: one worker thread per core hashes a file and, when given a target,
 * stores a copy of it on the way. Where the filesystem has reflinks the target is a clone made by
 * the kernel and only hashed. Elsewhere, for a large file on a local filesystem, GNU cp (bound to
 * this process's life by setpriv --pdeathsig) copies it into the target in the kernel
 * (copy_file_range: no pass through user memory, about half the CPU of a write from user space)
 * while the worker hashes the target's bytes as they land, so the source is read once, the copy
 * and the hash run on two cores, and the digest is of the stored bytes themselves. For small
 * files, where cp or setpriv is missing, or where the copy might not fill the target in order (a
 * network filesystem), the worker reads, hashes and writes each chunk itself.
 * The worker is plain JavaScript evaluated in place, so it runs the same under tsx, vitest and dist.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { assertUnchanged, type SeenStat, type SourceIdentity } from './source-check.js';

/**
 * Read size: the kernel copies a read into a small buffer that stays in the core's cache much
 * faster than into a large or rotating one (4 GiB read here: 0.65 CPU s through 64 or 128 KiB,
 * 2.9 s through 256 KiB or a ring of buffers), and the hash then reads it from the cache.
 */
export const READ_SIZE = 64 * 1024;
/** Progress is reported this often, to keep messages to the main thread few. */
const PROGRESS_EVERY = 4 * 1024 * 1024;
/** How long the hash waits for the kernel's copy to get ahead before it looks again. */
const FOLLOW_WAIT_MS = 1;
/** Files from this size on are copied by the kernel: below it, starting cp costs more than copying in turn. */
export const FOLLOW_FROM_BYTES = 8 * 1024 * 1024;

/**
 * Filesystems (statfs f_type) whose copy fills the target in order and whose size only grows past
 * bytes already written, so the target can be hashed while it is copied: ext2/3/4, XFS, btrfs,
 * tmpfs, F2FS, overlayfs, ZFS, bcachefs.
 */
export const FOLLOWABLE_FILESYSTEMS = [0xef53, 0x58465342, 0x9123683e, 0x01021994, 0xf2f52010, 0x794c7630, 0x2fc12fc1, 0xca451a4e];

/**
 * One job on the calling thread, without a copy that runs beside it: a reflink clone hashed, or
 * the source read once in READ_SIZE chunks, each hashed and written to the target. The main thread
 * runs it for small files and each worker for the rest where the target cannot be followed; it is
 * source text so that both run the very same code.
 */
const HASH_IN_TURN_SOURCE = `function hashInTurn(job, fs, createHash, readSize, onBytes) {
  const seen = (s) => ({ size: s.size, mtimeMs: s.mtimeMs, ino: s.ino });
  const fds = [];
  const hash = createHash('sha256');
  try {
    const src = fs.openSync(job.source, 'r');
    fds.push(src);
    const before = seen(fs.fstatSync(src));
    // A worker that has tried the clone already says how it went.
    const clone = job.cloned ?? (job.target !== undefined && cloned(job.source, job.target, fs));
    let from = src;
    let out;
    // A reflink shares the blocks: the clone is what is stored, so the clone is what is hashed.
    if (clone) fds.push((from = fs.openSync(job.target, 'r')));
    else if (job.target !== undefined) fds.push((out = fs.openSync(job.target, 'wx', 0o644)));
    // One read past the listed size tells a file that grew from one that did not.
    const buffer = Buffer.allocUnsafeSlow(Math.min(job.size + 1, readSize));
    let bytes = 0;
    for (;;) {
      const n = fs.readSync(from, buffer, 0, buffer.length, bytes);
      if (n === 0) break;
      hash.update(buffer.subarray(0, n));
      if (out !== undefined) for (let off = 0; off < n; ) off += fs.writeSync(out, buffer, off, n - off, bytes + off);
      bytes += n;
      onBytes(n);
      if (bytes > job.size) break;
    }
    return { digest: 'sha256:' + hash.digest('hex'), bytes, before, after: seen(fs.fstatSync(src)) };
  } catch (err) {
    throw failure(err, job);
  } finally {
    for (const fd of fds) fs.closeSync(fd);
  }
}
function cloned(source, target, fs) {
  try {
    fs.copyFileSync(source, target, fs.constants.COPYFILE_EXCL | fs.constants.COPYFILE_FICLONE_FORCE);
    return true;
  } catch {
    try { fs.unlinkSync(target); } catch {}
    return false;
  }
}
// The errno fields travel with the message, so a full disk is still reported with the file it was writing.
function failure(err, job) {
  const fields = { code: err && err.code, path: err && err.path, dest: (err && err.dest) || (err && err.code && !err.path ? job.target : undefined) };
  return Object.assign(new Error(String((err && err.message) || err)), Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)));
}`;

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const { createHash } = require('node:crypto');
const READ_SIZE = ${READ_SIZE}, PROGRESS_EVERY = ${PROGRESS_EVERY}, FOLLOW_WAIT_MS = ${FOLLOW_WAIT_MS}, FOLLOW_FROM_BYTES = ${FOLLOW_FROM_BYTES};
const FOLLOWABLE = new Set(${JSON.stringify(FOLLOWABLE_FILESYSTEMS)});
${HASH_IN_TURN_SOURCE}
const seen = (s) => ({ size: s.size, mtimeMs: s.mtimeMs, ino: s.ino });
const pause = () => new Promise((resolve) => setTimeout(resolve, FOLLOW_WAIT_MS));
function followable(target) {
  try {
    return FOLLOWABLE.has(fs.statfsSync(require('node:path').dirname(target)).type);
  } catch {
    return false;
  }
}
// GNU cp, which copies with copy_file_range and stops at the end of a file that shrank meanwhile
// (libuv's copyfile would spin there for ever), started through util-linux's setpriv so that it
// dies with this thread (--pdeathsig): a killed pack leaves no cp writing into the store. Where
// either is missing the worker copies in turn.
let kernelCopy;
function hasKernelCopy() {
  if (kernelCopy === undefined) {
    const probe = spawnSync('setpriv', ['--pdeathsig', 'KILL', '--', 'cp', '--version'], { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
    kernelCopy = probe.status === 0 && /GNU coreutils/.test(probe.stdout);
  }
  return kernelCopy;
}
// cp copies source to target in the kernel while this thread hashes the target up to the size it
// has reached: the bytes hashed are the bytes stored, and the source is read once. Undefined when
// cp itself failed (a full disk, say), so the caller copies in turn and reports the error itself.
async function hashFollowing(job, report) {
  const fds = [];
  const hash = createHash('sha256');
  let child;
  let exited;
  try {
    const src = fs.openSync(job.source, 'r');
    fds.push(src);
    const before = seen(fs.fstatSync(src));
    // cp creates the target itself: truncating one made here would have ext4 flush it on close
    // (auto_da_alloc), which doubled the copy's time. The name is the store's own, unique to this job.
    child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', 'cp', '--reflink=auto', '--sparse=never', '-T', '--', job.source, job.target], { stdio: 'ignore', env: { ...process.env, LC_ALL: 'C' } });
    let status;
    exited = new Promise((resolve) => child.once('close', (code) => resolve((status = code === 0 ? 'copied' : 'failed'))).once('error', () => resolve((status = 'failed'))));
    let stored;
    while (stored === undefined) {
      const done = status !== undefined;
      try {
        fds.push((stored = fs.openSync(job.target, 'r')));
      } catch (err) {
        if (err.code !== 'ENOENT') throw err;
        if (status === 'failed') return undefined;
        if (done) throw err;
        await pause();
      }
    }
    const buffer = Buffer.allocUnsafeSlow(READ_SIZE);
    let bytes = 0;
    for (;;) {
      // Read the status before the size: once cp has exited, the size read after it is final.
      const done = status !== undefined;
      if (status === 'failed') return undefined;
      const size = fs.fstatSync(stored).size;
      while (bytes < size) {
        const n = fs.readSync(stored, buffer, 0, Math.min(READ_SIZE, size - bytes), bytes);
        if (n === 0) break;
        hash.update(buffer.subarray(0, n));
        bytes += n;
        report(n);
      }
      if (done && bytes >= size) break;
      await pause();
    }
    // cp opened the source by its path: a file put in its place meanwhile shows here.
    return { digest: 'sha256:' + hash.digest('hex'), bytes, before, after: seen(fs.statSync(job.source)) };
  } catch (err) {
    throw failure(err, job);
  } finally {
    // cp must be done with the target before it is closed, removed or renamed.
    if (exited) {
      child.kill('SIGKILL');
      await exited;
    }
    for (const fd of fds) fs.closeSync(fd);
  }
}
// Reports only the bytes past those reported already, for a job that starts over.
function onlyNew(report, already) {
  let seenSoFar = 0;
  return (n) => {
    const fresh = Math.min(n, Math.max(0, seenSoFar + n - already));
    seenSoFar += n;
    if (fresh > 0) report(fresh);
  };
}
function reporter(id) {
  let unreported = 0;
  return {
    add(n) {
      unreported += n;
      if (unreported >= PROGRESS_EVERY) this.flush();
    },
    flush() {
      if (unreported > 0) parentPort.postMessage({ id, progress: unreported });
      unreported = 0;
    },
  };
}
async function run(job) {
  const progress = reporter(job.id);
  const add = (n) => progress.add(n);
  const clone = job.target !== undefined && cloned(job.source, job.target, fs);
  let done;
  let reported = 0;
  if (job.target !== undefined && !clone && job.size >= FOLLOW_FROM_BYTES && followable(job.target) && hasKernelCopy()) {
    done = await hashFollowing(job, (n) => {
      reported += n;
      add(n);
    });
    if (!done) fs.rmSync(job.target, { force: true });
  }
  done ??= hashInTurn({ ...job, cloned: clone }, fs, createHash, READ_SIZE, onlyNew(add, reported));
  progress.flush();
  return { id: job.id, done };
}
parentPort.on('message', (job) => {
  run(job).then(
    (reply) => parentPort.postMessage(reply),
    (err) => parentPort.postMessage({ id: job.id, error: { message: err.message, code: err.code, path: err.path, dest: err.dest } }),
  );
});
`;

interface Job {
  id: number;
  source: string;
  target?: string;
  size: number;
  /** Set where the reflink clone of source at target has been tried already. */
  cloned?: boolean;
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

  /** Starts up to `count` workers ahead of the first job, so none waits on a thread starting. */
  warm(count: number): void {
    while (this.created < Math.min(count, this.size)) {
      const worker = this.spawn();
      worker.unref();
      this.idle.push(worker);
    }
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

/** Files from this size on are worth starting a worker ahead for: a thread starts in tens of ms. */
const WARM_FROM_BYTES = 64 * 1024 * 1024;

/** Starts the workers that files of these sizes will need, while the caller does other work first. */
export function warmHashPool(sizes: number[]): void {
  const big = sizes.filter((size) => size >= WARM_FROM_BYTES).length;
  if (big === 0) return;
  shared ??= new HashPool(hashWorkers());
  shared.warm(big);
}

/**
 * sha256 of `file`, copying it to `target` on the way when given; fails with PACK_SOURCE_CHANGED
 * if the file is not what was listed (size, mtime, inode) before and after, or was cut short.
 */
export async function hashFile(file: SourceIdentity, target?: string, onBytes?: (bytes: number) => void): Promise<{ digest: string; size: number }> {
  const job = { source: file.absPath, size: file.size, ...(target !== undefined ? { target } : {}) };
  let done: Done;
  if (file.size <= INLINE_MAX_BYTES) done = hashInline(job, onBytes);
  else {
    shared ??= new HashPool(hashWorkers());
    done = await shared.run(job, onBytes);
  }
  assertUnchanged(file, done.before, done.after, done.bytes);
  return { digest: done.digest, size: done.bytes };
}

/** Files up to this size are hashed on the calling thread: starting a worker costs more than reading them. */
export const INLINE_MAX_BYTES = 64 * 1024;

type HashInTurn = (job: Omit<Job, 'id'>, fsModule: typeof fs, hashOf: typeof createHash, readSize: number, onBytes: (bytes: number) => void) => Done;

/** The worker's own in-turn job, made from the same source text for this thread. */
const hashInTurn = new Function(`${HASH_IN_TURN_SOURCE}\nreturn hashInTurn;`)() as HashInTurn;

/** What a worker does for one small job, on this thread, failing with the same error fields it posts. */
function hashInline(job: Omit<Job, 'id'>, onBytes?: (bytes: number) => void): Done {
  let bytes = 0;
  const done = hashInTurn(job, fs, createHash, READ_SIZE, (n) => (bytes += n));
  if (bytes > 0) onBytes?.(bytes);
  return done;
}
