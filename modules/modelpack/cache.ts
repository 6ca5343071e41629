/**
 * The pack cache: what a file digested to last time, keyed on what changes when a file changes
 * (path, size, mtime, ctime, inode), so a re-pack reads only changed files.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../fs/atomic.js';
import type { ResolvedFile } from './files.js';

export interface CachedLayer {
  /** Layer blob digest and size. */
  digest: string;
  size: number;
  /** sha256 of the uncompressed tar (== digest for raw and tar). */
  diffId: string;
  /** sha256 of the file's own bytes (a folder layer's diffId). */
  fileDigest: string;
  /** A folder layer's files' own sha256, in the layer's order. */
  entryDigests?: string[];
}

export interface PackCacheStats {
  hits: number;
  misses: number;
  /** Bytes of file content read (hashed) in this run. */
  bytesRead: number;
  filesRead: string[];
}

const CACHE_VERSION = 1;

export class PackCache {
  readonly stats: PackCacheStats = { hits: 0, misses: 0, bytesRead: 0, filesRead: [] };
  private entries = new Map<string, CachedLayer>();
  private loaded = false;
  private dirty = false;

  /** `file` undefined keeps the cache in memory only. */
  constructor(readonly file?: string) {}

  static keyOf(f: ResolvedFile, layout: string): string {
    return JSON.stringify([layout, f.absPath, f.size, f.mtimeMs, f.ctimeMs, f.ino]);
  }

  /** One file's key as keyOf; a folder layer's covers every file in it, so any change misses. */
  static keyOfLayer(files: ResolvedFile[], layout: string): string {
    if (files.length === 1) return PackCache.keyOf(files[0]!, layout);
    // Hashed: thousands of files would otherwise make one key as large as their listing.
    const listing = JSON.stringify([layout, ...files.map((f) => [f.absPath, f.size, f.mtimeMs, f.ctimeMs, f.ino])]);
    return JSON.stringify([layout, createHash('sha256').update(listing).digest('hex')]);
  }

  async load(): Promise<void> {
    if (this.loaded || !this.file) {
      this.loaded = true;
      return;
    }
    this.loaded = true;
    try {
      const parsed = JSON.parse(await readFile(this.file, 'utf8')) as { version?: number; entries?: Record<string, CachedLayer> };
      // An unreadable or old cache is just empty: it only ever saves work.
      if (parsed.version === CACHE_VERSION && parsed.entries) this.entries = new Map(Object.entries(parsed.entries));
    } catch {
      this.entries = new Map();
    }
  }

  get(key: string): CachedLayer | undefined {
    return this.entries.get(key);
  }

  set(key: string, value: CachedLayer): void {
    this.entries.set(key, value);
    this.dirty = true;
  }

  async save(): Promise<void> {
    if (!this.file || !this.dirty) return;
    await writeFileAtomic(this.file, JSON.stringify({ version: CACHE_VERSION, entries: Object.fromEntries(this.entries) }));
    this.dirty = false;
  }
}
