/**
 * Deterministic tar streams: entries in the order given (callers sort), mtime 0, uid/gid 0, empty
 * owner names, and modes normalised to 0644 or 0755, so the same files always give the same bytes.
 */
import { open } from 'node:fs/promises';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { loadTarStream } from '../fs/lazy-packages.js';
import { hashTap } from './hashing.js';
import { assertUnchanged } from './source-check.js';

export interface TarFileEntry {
  /** Name inside the archive, `/`-separated and relative. */
  name: string;
  /** The file on disk to read. */
  source: string;
  size: number;
  mode: number;
  /** As the folder listing saw the file: a file that changes while it is read fails with PACK_SOURCE_CHANGED. */
  mtimeMs: number;
  ino: number;
}

/** The reproducible epoch every entry carries. */
export const TAR_EPOCH = new Date(0);

/** Executable files keep their x bit; everything else is 0644. */
export function normalisedMode(mode: number): number {
  return mode & 0o111 ? 0o755 : 0o644;
}

export interface TarResult {
  /** sha256 of each file's own bytes, by entry name, hashed while the file was read for the tar. */
  fileDigests: Map<string, string>;
}

/**
 * A tar of `entries` as a Node stream; `done` resolves with each file's digest once the archive
 * is finalised (each file is read exactly once).
 */
export function tarStream(entries: TarFileEntry[], onFileBytes?: (bytes: number) => void): { stream: Readable; done: Promise<TarResult> } {
  const pack = loadTarStream().pack();
  const fileDigests = new Map<string, string>();
  const done = (async () => {
    for (const entry of entries) {
      const sink = pack.entry({
        name: entry.name,
        size: entry.size,
        mode: normalisedMode(entry.mode),
        mtime: TAR_EPOCH,
        uid: 0,
        gid: 0,
        uname: '',
        gname: '',
        type: 'file',
      });
      const finished = new Promise<void>((resolve, reject) => {
        sink.once('finish', () => resolve());
        sink.once('error', reject);
        sink.once('close', () => resolve());
      });
      // Awaited below; a failure before then must not surface as an unhandled rejection.
      finished.catch(() => {});
      const tap = hashTap(onFileBytes);
      const handle = await open(entry.source, 'r');
      try {
        const before = await handle.stat();
        // Exactly the listed bytes: a header's size and its data must agree, whatever the file does meanwhile.
        const file = entry.size > 0 ? handle.createReadStream({ start: 0, end: entry.size - 1, highWaterMark: 1024 * 1024, autoClose: false }) : Readable.from([]);
        file.on('error', (err: Error) => tap.destroy(err));
        file.pipe(tap);
        for await (const chunk of tap) {
          if (!sink.write(chunk as Buffer)) await once(sink as unknown as NodeJS.EventEmitter, 'drain');
        }
        assertUnchanged({ absPath: entry.source, size: entry.size, mtimeMs: entry.mtimeMs, ino: entry.ino }, before, await handle.stat(), tap.bytes);
      } finally {
        await handle.close();
      }
      (sink as unknown as { end(): void }).end();
      await finished;
      fileDigests.set(entry.name, tap.digest());
    }
    pack.finalize();
    return { fileDigests };
  })();
  done.catch((err: unknown) => pack.destroy(err as Error));
  const stream = Readable.from(pack as unknown as AsyncIterable<Buffer>, { objectMode: false, highWaterMark: 1024 * 1024 });
  return { stream, done };
}
