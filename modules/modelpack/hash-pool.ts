/**
 * Hashing files on every core: one worker thread per core reads a file once, hashes it and (when
 * given a target) hands the same bytes to a writer thread of its own, which writes them into the
 * store's temp file while the next ones are read and hashed, so one big file packs at the speed of
 * the hash alone. The two share a ring of buffers in shared memory, so the bytes written are the
 * bytes hashed and nothing is copied between threads. On filesystems with reflinks the target is a
 * clone made by the kernel and only hashed. The workers are plain JavaScript evaluated in place, so
 * they run the same under tsx, vitest and dist.
 */
import { createHash } from 'node:crypto';
import { closeSync, constants, copyFileSync, fstatSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { assertUnchanged, type SeenStat, type SourceIdentity } from './source-check.js';

/** Read size: small enough that a read lands in the core's cache and is hashed from there. */
export const READ_SIZE = 256 * 1024;
/** Write size: one ring slot, large enough that the writer makes few calls. */
export const SLOT_SIZE = 1024 * 1024;
/** Slots in the ring: the writer may trail the hash by this many, and memory stays SLOTS * SLOT_SIZE per worker. */
export const SLOTS = 8;
/** Progress is reported this often, to keep messages to the main thread few. */
const PROGRESS_EVERY = 4 * 1024 * 1024;

/**
 * The writer: waits for filled slots (Atomics on shared memory, no messages per slot) and writes
 * each where it belongs in the file; after a failed write it only drains slots, and posts the error.
 * control: [filled, written, failed, fd]; lengths[i] < 0 ends a job.
 */
const WRITER_SOURCE = `
const { workerData } = require('node:worker_threads');
const fs = require('node:fs');
const { ring, control, lengths, positions, errors } = workerData;
const view = Buffer.from(ring);
const FILLED = 0, WRITTEN = 1, FAILED = 2, FD = 3;
const SLOTS = ${SLOTS}, SLOT_SIZE = ${SLOT_SIZE};
for (;;) {
  const written = Atomics.load(control, WRITTEN);
  // A bounded wait, so a process that exits mid-job is never held by this thread.
  if (Atomics.load(control, FILLED) === written) { Atomics.wait(control, FILLED, written, 200); continue; }
  const slot = written % SLOTS;
  const length = lengths[slot];
  if (length > 0 && Atomics.load(control, FAILED) === 0) {
    try {
      const fd = Atomics.load(control, FD);
      const base = slot * SLOT_SIZE;
      for (let off = 0; off < length; ) off += fs.writeSync(fd, view, base + off, length - off, positions[slot] + off);
    } catch (err) {
      errors.postMessage({ message: String((err && err.message) || err), code: err && err.code });
      Atomics.store(control, FAILED, 1);
    }
  }
  Atomics.store(control, WRITTEN, written + 1);
  Atomics.notify(control, WRITTEN);
}
`;

const WORKER_SOURCE = `
const { parentPort, Worker, MessageChannel, receiveMessageOnPort } = require('node:worker_threads');
const fs = require('node:fs');
const { createHash } = require('node:crypto');
const READ_SIZE = ${READ_SIZE}, SLOT_SIZE = ${SLOT_SIZE}, SLOTS = ${SLOTS}, PROGRESS_EVERY = ${PROGRESS_EVERY};
const FILLED = 0, WRITTEN = 1, FAILED = 2, FD = 3;
const seen = (s) => ({ size: s.size, mtimeMs: s.mtimeMs, ino: s.ino });
// The ring and the writer are made on the first job that copies, then reused by every later one.
let shared;
// A job that only hashes reads through one slot-sized buffer, also reused.
let plain;
function writer() {
  if (shared) return shared;
  const ring = new SharedArrayBuffer(SLOTS * SLOT_SIZE);
  const control = new Int32Array(new SharedArrayBuffer(4 * 4));
  const lengths = new Int32Array(new SharedArrayBuffer(4 * SLOTS));
  const positions = new Float64Array(new SharedArrayBuffer(8 * SLOTS));
  const { port1, port2 } = new MessageChannel();
  const thread = new Worker(${JSON.stringify(WRITER_SOURCE)}, { eval: true, workerData: { ring, control, lengths, positions, errors: port2 }, transferList: [port2] });
  thread.unref();
  thread.on('error', (err) => { throw err; });
  shared = { view: Buffer.from(ring), control, lengths, positions, errors: port1 };
  return shared;
}
function cloned(source, target) {
  try {
    fs.copyFileSync(source, target, fs.constants.COPYFILE_EXCL | fs.constants.COPYFILE_FICLONE_FORCE);
    return true;
  } catch (err) {
    try { fs.unlinkSync(target); } catch {}
    return false;
  }
}
// Blocks until no more than \`ahead\` filled slots wait for the writer.
function drain(w, ahead) {
  for (;;) {
    const written = Atomics.load(w.control, WRITTEN);
    if (Atomics.load(w.control, FILLED) - written <= ahead) break;
    Atomics.wait(w.control, WRITTEN, written);
  }
}
// Gives the slot just filled (free since the drain before it was filled) to the writer.
function hand(w, length, position) {
  const slot = Atomics.load(w.control, FILLED) % SLOTS;
  w.lengths[slot] = length;
  w.positions[slot] = position;
  Atomics.add(w.control, FILLED, 1);
  Atomics.notify(w.control, FILLED);
}
function writeFailure(w) {
  if (Atomics.load(w.control, FAILED) === 0) return undefined;
  const message = receiveMessageOnPort(w.errors);
  Atomics.store(w.control, FAILED, 0);
  return Object.assign(new Error(message ? message.message.message : 'write failed'), message && message.message.code ? { code: message.message.code } : {});
}
function run(job) {
  let src, out, hashFd, w;
  const hash = createHash('sha256');
  let bytes = 0;
  try {
    src = fs.openSync(job.source, 'r');
    const before = seen(fs.fstatSync(src));
    // A reflink shares the blocks: the clone is what is stored, so the clone is what is hashed.
    const clone = job.target !== undefined && cloned(job.source, job.target);
    if (clone) hashFd = fs.openSync(job.target, 'r');
    else if (job.target !== undefined) {
      out = fs.openSync(job.target, 'wx', 0o644);
      w = writer();
      Atomics.store(w.control, FD, out);
    }
    const from = clone ? hashFd : src;
    // Without a writer the bytes are hashed straight out of one slot-sized buffer.
    const view = w ? w.view : (plain ??= Buffer.allocUnsafeSlow(SLOT_SIZE));
    let unreported = 0;
    let end = false;
    while (!end) {
      if (w) drain(w, SLOTS - 1);
      const base = w ? (Atomics.load(w.control, FILLED) % SLOTS) * SLOT_SIZE : 0;
      let fill = 0;
      while (fill < SLOT_SIZE) {
        const n = fs.readSync(from, view, base + fill, Math.min(READ_SIZE, SLOT_SIZE - fill), bytes + fill);
        if (n === 0) { end = true; break; }
        hash.update(view.subarray(base + fill, base + fill + n));
        fill += n;
        // Past the listed size the file is growing: read no more, the caller reports it.
        if (bytes + fill > job.size) { end = true; break; }
      }
      if (w && fill > 0) hand(w, fill, bytes);
      bytes += fill;
      unreported += fill;
      if (unreported >= PROGRESS_EVERY || (end && unreported > 0)) {
        parentPort.postMessage({ id: job.id, progress: unreported });
        unreported = 0;
      }
      const failed = w && writeFailure(w);
      if (failed) throw failed;
    }
    if (w) {
      drain(w, 0);
      const failed = writeFailure(w);
      if (failed) throw failed;
    }
    const after = seen(fs.fstatSync(src));
    return { id: job.id, done: { digest: 'sha256:' + hash.digest('hex'), bytes, before, after } };
  } finally {
    // The writer must be done with the descriptor (and the ring) before it is closed or reused.
    if (w) {
      drain(w, 0);
      writeFailure(w);
    }
    for (const fd of [src, out, hashFd]) if (fd !== undefined) fs.closeSync(fd);
  }
}
parentPort.on('message', (job) => {
  if (job.warm) {
    writer();
    return;
  }
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

  /** Starts up to `count` workers (and their writers) ahead of the first job, so none waits on a thread starting. */
  warm(count: number): void {
    while (this.created < Math.min(count, this.size)) {
      const worker = this.spawn();
      worker.unref();
      worker.postMessage({ warm: true });
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

/** What a worker's `run` does for one job, on this thread, failing with the same error fields it posts. */
function hashInline(job: Omit<Job, 'id'>, onBytes?: (bytes: number) => void): Done {
  let src: number | undefined;
  let out: number | undefined;
  let hashFd: number | undefined;
  const hash = createHash('sha256');
  const seen = (fd: number): SeenStat => {
    const s = fstatSync(fd);
    return { size: s.size, mtimeMs: s.mtimeMs, ino: s.ino };
  };
  try {
    src = openSync(job.source, 'r');
    const before = seen(src);
    const clone = job.target !== undefined && clonedInline(job.source, job.target);
    if (clone) hashFd = openSync(job.target!, 'r');
    else if (job.target !== undefined) out = openSync(job.target, 'wx', 0o644);
    const from = clone ? hashFd! : src;
    // One read past the listed size tells a file that grew from one that did not.
    const buffer = Buffer.allocUnsafe(Math.min(job.size + 1, READ_SIZE));
    let bytes = 0;
    for (;;) {
      const n = readSync(from, buffer, 0, buffer.length, bytes);
      if (n === 0) break;
      hash.update(buffer.subarray(0, n));
      if (out !== undefined) for (let off = 0; off < n; ) off += writeSync(out, buffer, off, n - off, bytes + off);
      bytes += n;
      if (bytes > job.size) break;
    }
    if (bytes > 0) onBytes?.(bytes);
    const after = seen(src);
    return { digest: 'sha256:' + hash.digest('hex'), bytes, before, after };
  } catch (thrown) {
    const err = thrown as NodeJS.ErrnoException & { dest?: string };
    const dest = err?.dest ?? (err?.code && !err.path ? job.target : undefined);
    throw Object.assign(new Error(String(err?.message || err)), Object.fromEntries(Object.entries({ code: err?.code, path: err?.path, dest }).filter(([, v]) => v !== undefined)));
  } finally {
    for (const fd of [src, out, hashFd]) if (fd !== undefined) closeSync(fd);
  }
}

/** A reflink of source at target, as the worker makes one; false (and no target left) where the filesystem has none. */
function clonedInline(source: string, target: string): boolean {
  try {
    copyFileSync(source, target, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE_FORCE);
    return true;
  } catch {
    try {
      unlinkSync(target);
    } catch {
      // Nothing was made.
    }
    return false;
  }
}
