/**
 * Bytes that arrive in this thread (a download) hashed and written to a file by a worker thread:
 * this thread only copies each chunk into a ring of shared slots, as the hash pool's writer does,
 * and the worker hashes every filled slot and writes it at its offset, so the bytes written are
 * the bytes hashed and the event loop is free for the network. Workers are kept for the next file.
 */
import { Worker } from 'node:worker_threads';
import { SLOTS, SLOT_SIZE } from './hash-pool.js';

/**
 * control: [filled, done, failed]; lengths[slot] > 0 is data, END (-1) ends the job, DROP (-2)
 * ends it without digests. After a failed write the worker only counts slots, and reports the
 * error when the job ends.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const { createHash } = require('node:crypto');
const { ring, control, lengths, positions } = workerData;
const view = Buffer.from(ring);
const FILLED = 0, DONE = 1, FAILED = 2, END = -1;
const SLOTS = ${SLOTS}, SLOT_SIZE = ${SLOT_SIZE};
parentPort.on('message', (job) => {
  const sha256 = createHash('sha256');
  const sha1 = job.gitSize !== undefined ? createHash('sha1').update('blob ' + job.gitSize + '\\0') : undefined;
  let error;
  for (;;) {
    const done = Atomics.load(control, DONE);
    // A bounded wait, so a process that exits mid-job is never held by this thread.
    if (Atomics.load(control, FILLED) === done) { Atomics.wait(control, FILLED, done, 200); continue; }
    const slot = done % SLOTS;
    const length = lengths[slot];
    if (length > 0 && !error) {
      const bytes = view.subarray(slot * SLOT_SIZE, slot * SLOT_SIZE + length);
      sha256.update(bytes);
      if (sha1) sha1.update(bytes);
      try {
        for (let off = 0; off < length; ) off += fs.writeSync(job.fd, bytes, off, length - off, positions[slot] + off);
      } catch (err) {
        error = { message: String((err && err.message) || err), code: err && err.code };
        Atomics.store(control, FAILED, 1);
      }
    }
    Atomics.store(control, DONE, done + 1);
    Atomics.notify(control, DONE);
    if (length < 0) {
      parentPort.postMessage(error ? { error } : length === END ? { sha256: sha256.digest('hex'), ...(sha1 ? { sha1: sha1.digest('hex') } : {}) } : {});
      return;
    }
  }
});
`;

const END = -1;
const DROP = -2;
const FILLED = 0;
const DONE = 1;
const FAILED = 2;

interface Thread {
  worker: Worker;
  view: Buffer;
  control: Int32Array;
  lengths: Int32Array;
  positions: Float64Array;
  /** The reply to the job that ends next. */
  reply?: (message: Reply) => void;
  lost?: Error;
}

type Reply = { sha256?: string; sha1?: string; error?: { message: string; code?: string } };

const idle: Thread[] = [];

/** Atomics.waitAsync (Node 16 on), which this TypeScript lib does not declare yet. */
const waitAsync = (Atomics as unknown as { waitAsync(view: Int32Array, index: number, value: number, timeoutMs: number): { async: boolean; value: Promise<string> | string } }).waitAsync.bind(Atomics);

function spawn(): Thread {
  const ring = new SharedArrayBuffer(SLOTS * SLOT_SIZE);
  const control = new Int32Array(new SharedArrayBuffer(3 * 4));
  const lengths = new Int32Array(new SharedArrayBuffer(4 * SLOTS));
  const positions = new Float64Array(new SharedArrayBuffer(8 * SLOTS));
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { ring, control, lengths, positions } });
  const thread: Thread = { worker, view: Buffer.from(ring), control, lengths, positions };
  worker.on('message', (message: Reply) => {
    const reply = thread.reply;
    thread.reply = undefined;
    reply?.(message);
  });
  const lose = (err: Error) => {
    thread.lost = err;
    const i = idle.indexOf(thread);
    if (i >= 0) idle.splice(i, 1);
    const reply = thread.reply;
    thread.reply = undefined;
    reply?.({ error: { message: err.message } });
  };
  worker.on('error', lose);
  worker.on('exit', (code) => lose(new Error(`hash writer thread exited with code ${code}`)));
  return thread;
}

export interface HashWriter {
  /** Bytes taken so far, in order: all of them are hashed and written at their offset by `finish`. */
  readonly bytes: number;
  /** Copies `chunk` into the ring, waiting while the worker is a full ring behind; writes run in the order called. */
  write(chunk: Uint8Array): Promise<void>;
  /** Resolves once every write called so far has run (or failed), so `bytes` says where the next byte goes. */
  settled(): Promise<void>;
  /** Writes what is left and returns the digests (hex) of every byte taken. */
  finish(): Promise<{ sha256: string; sha1?: string }>;
  /** Ends the job without digests (the file is being dropped or started over); safe after `finish`. */
  drop(): Promise<void>;
}

/**
 * Hashes (SHA-256, and git's blob SHA-1 when `gitSize` is given) and writes to `fd`, from byte 0,
 * what is written to it. The caller keeps `fd` open until `finish` or `drop` has returned.
 */
export function openHashWriter(fd: number, options: { gitSize?: number } = {}): HashWriter {
  const thread = idle.pop() ?? spawn();
  thread.worker.ref();
  const { control, lengths, positions, view } = thread;
  let bytes = 0;
  /** Bytes in the slot being filled, not yet handed over. */
  let fill = 0;
  let ended = false;
  let ending: Promise<Reply> | undefined;
  /** The writes called so far, in order; a failed one does not stop the next. */
  let chain: Promise<void> = Promise.resolve();
  const replied = new Promise<Reply>((resolve) => (thread.reply = resolve));
  thread.worker.postMessage({ fd, ...(options.gitSize !== undefined ? { gitSize: options.gitSize } : {}) });

  const failure = (reply?: Reply) => {
    const error = reply?.error;
    if (!error && Atomics.load(control, FAILED) === 0 && !thread.lost) return undefined;
    return Object.assign(new Error(error?.message ?? thread.lost?.message ?? 'write failed'), error?.code ? { code: error.code } : {});
  };
  /** Waits until the slot after the last filled one is free. */
  const room = async () => {
    for (;;) {
      if (thread.lost) throw thread.lost;
      const done = Atomics.load(control, DONE);
      if (Atomics.load(control, FILLED) - done < SLOTS) return;
      const waited = waitAsync(control, DONE, done, 1000);
      if (waited.async) await waited.value;
    }
  };
  const hand = (length: number) => {
    const filled = Atomics.load(control, FILLED);
    lengths[filled % SLOTS] = length;
    positions[filled % SLOTS] = bytes - fill;
    Atomics.store(control, FILLED, filled + 1);
    Atomics.notify(control, FILLED);
  };
  const copy = async (chunk: Uint8Array) => {
    if (ended) throw new Error('the hash writer has ended');
    for (let at = 0; at < chunk.length; ) {
      if (fill === 0) await room();
      const failed = failure();
      if (failed) throw failed;
      const base = (Atomics.load(control, FILLED) % SLOTS) * SLOT_SIZE;
      const n = Math.min(SLOT_SIZE - fill, chunk.length - at);
      view.set(chunk.subarray(at, at + n), base + fill);
      fill += n;
      bytes += n;
      at += n;
      if (fill === SLOT_SIZE) {
        hand(fill);
        fill = 0;
      }
    }
  };
  const end = (marker: number): Promise<Reply> => (ending ??= endWith(marker));
  const endWith = async (marker: number): Promise<Reply> => {
    await chain;
    ended = true;
    if (marker === END && fill > 0) {
      await room();
      hand(fill);
      fill = 0;
    }
    await room();
    hand(marker);
    const reply = await replied;
    // Both counters start again for the next job on this thread.
    Atomics.store(control, FILLED, 0);
    Atomics.store(control, DONE, 0);
    Atomics.store(control, FAILED, 0);
    thread.worker.unref();
    if (!thread.lost) idle.push(thread);
    return reply;
  };

  return {
    get bytes() {
      return bytes;
    },
    write(chunk) {
      const copied = chain.then(() => copy(chunk));
      chain = copied.catch(() => {});
      return copied;
    },
    settled() {
      return chain;
    },
    async finish() {
      const reply = await end(END);
      const failed = failure(reply);
      if (failed) throw failed;
      if (!reply.sha256) throw new Error('the hash writer ended without a digest');
      return { sha256: reply.sha256, ...(reply.sha1 ? { sha1: reply.sha1 } : {}) };
    },
    async drop() {
      await end(DROP);
    },
  };
}
