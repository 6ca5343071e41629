/**
 * One file, one layer: raw (the file's bytes, digest == file sha256) or a tar of that one file,
 * optionally compressed; or, for a ModelCar, one tar of a folder's small files (see planLayers).
 * Each file is read once; the tar digest (diffId), the compressed digest and each file's own digest
 * come out of that one read. Unchanged files and groups come from the pack cache unread.
 */
import { basename } from 'node:path';
import type { Readable } from 'node:stream';
import { silentReporter, type Reporter } from '../progress/index.js';
import type { Descriptor, Target } from '../oci/types.js';
import type { FileKind } from '../project/model-spec.js';
import { PackCache, type CachedLayer } from './cache.js';
import { compressionOf, compressor } from './compress.js';
import type { ResolvedFile } from './files.js';
import { hashTap } from './hashing.js';
import { ingestFile, ingestStream } from './ingest.js';
import { hashWorkers } from './hash-pool.js';
import {
  ANNOTATION_FILE_METADATA,
  ANNOTATION_FILEPATH,
  ANNOTATION_TITLE,
  layerMediaType,
  type LayerFormat,
} from './mediatypes.js';
import { normalisedMode, TAR_EPOCH, tarStream } from './tar.js';
import { ANNOTATION_FILE_ENTRIES, folderEntriesOf } from './entries.js';

export { ANNOTATION_FILE_ENTRIES, folderEntriesOf };

/** The sha256 of a tar layer's file, so signing and SBOMs never read the weights again. */
export const ANNOTATION_FILE_DIGEST = 'dev.modelship.file.digest';

/** Files at or above this size keep a layer of their own even when their folder is grouped. */
export const GROUP_MAX_FILE_BYTES = 64 * 1024 * 1024;

/** One file of a folder layer, by its path relative to the model folder. */
export interface PackedEntry {
  path: string;
  size: number;
  /** sha256 of the file's bytes. */
  fileDigest: string;
}

/** One layer: a file, or (with `entries`) a folder of small files. */
export interface PackedFile {
  /** Path relative to the model folder: the file, or the grouped folder. */
  path: string;
  kind: FileKind;
  /** The file's size, or the sum of a folder layer's files. */
  size: number;
  /** sha256 of the file's bytes; for a folder layer, the layer's diffId (its entries carry the files' own). */
  fileDigest: string;
  /** A folder layer's files, sorted by path; absent for a one-file layer. */
  entries?: PackedEntry[];
  /** The layer as the ModelPack manifest lists it. */
  layer: Descriptor;
  diffId: string;
  /** Name of the file inside the tar layer (with any prefix); absent for raw layers. */
  tarEntry?: string;
}

export interface LayerOptions {
  format: LayerFormat;
  /** Prefix for tar entry names and the filepath annotation, e.g. `models/` for a ModelCar view. */
  prefix?: string;
  cache?: PackCache;
  reporter?: Reporter;
  /** Files packed at once; undefined means one per core (raw files hash on worker threads). */
  concurrency?: number;
  /** Group each top-level folder's small files of one kind into one tar layer (a ModelCar's mountable layer count). */
  group?: boolean;
}

/** What one layer holds: one file, or a top-level folder's small files of one kind. */
export interface LayerPlan {
  files: ResolvedFile[];
  /** The grouped folder, relative to the model folder ("" for the top level); absent for a one-file layer. */
  folder?: string;
}

/** Top-level small files of one kind share a layer only when there are more than this many (README, LICENSE… stay alone). */
export const TOP_LEVEL_ALONE_MAX = 32;

/** The folder a file may share a layer in: its top-level folder, "" for the top level; none for weights and large files. */
function groupFolderOf(file: ResolvedFile): string | undefined {
  if (file.kind === 'weight' || file.size >= GROUP_MAX_FILE_BYTES) return undefined;
  const slash = file.path.indexOf('/');
  return slash < 0 ? '' : file.path.slice(0, slash);
}

/**
 * The layers for `files` (sorted by path): without `group`, one per file; with it, each top-level
 * folder's small non-weight files of one kind share one layer (KitOps packs a dataset or code folder
 * as one tar the same way), placed where its first file sorts. A folder with one such file keeps it
 * alone; so do top-level files, unless more than TOP_LEVEL_ALONE_MAX of one kind would each need one.
 */
export function planLayers(files: ResolvedFile[], group = false): LayerPlan[] {
  if (!group) return files.map((f) => ({ files: [f] }));
  const keyOf = (f: ResolvedFile) => {
    const folder = groupFolderOf(f);
    return folder === undefined ? undefined : { key: `${f.kind}\0${folder}`, folder };
  };
  const members = new Map<string, ResolvedFile[]>();
  for (const f of files) {
    const k = keyOf(f);
    if (k) members.set(k.key, [...(members.get(k.key) ?? []), f]);
  }
  const plans: LayerPlan[] = [];
  const placed = new Set<string>();
  for (const f of files) {
    const k = keyOf(f);
    const together = k && members.get(k.key)!;
    const shared = together !== undefined && (k!.folder === '' ? together.length > TOP_LEVEL_ALONE_MAX : together.length > 1);
    if (!shared) {
      plans.push({ files: [f] });
    } else if (!placed.has(k!.key)) {
      placed.add(k!.key);
      plans.push({ files: together, folder: k!.folder });
    }
  }
  return plans;
}

/** Weights are never compressed (ModelPack: do not compress weights); they stay raw or plain tar. */
export function formatFor(kind: FileKind, requested: LayerFormat): LayerFormat {
  if (kind === 'weight' && (requested === 'tar+gzip' || requested === 'tar+zstd')) return 'tar';
  return requested;
}

/** `{name, mode, uid, gid, size, mtime, typeflag}` as modctl writes it, with the reproducible constants. */
export function fileMetadata(file: Pick<ResolvedFile, 'path' | 'size' | 'mode'>): string {
  return JSON.stringify({
    name: basename(file.path),
    mode: normalisedMode(file.mode),
    uid: 0,
    gid: 0,
    size: file.size,
    mtime: TAR_EPOCH.toISOString().replace('.000Z', 'Z'),
    typeflag: 0,
  });
}

/** A folder layer's metadata, as modctl describes a folder (typeflag 5, tar's directory); size is its files' total. */
export function folderMetadata(folder: string, size: number): string {
  return JSON.stringify({ name: basename(folder), mode: 0o755, uid: 0, gid: 0, size, mtime: TAR_EPOCH.toISOString().replace('.000Z', 'Z'), typeflag: 5 });
}

/** The folder layer as the manifest lists it: its path is the folder, its files are listed with their digests. */
export function folderLayerDescriptor(kind: FileKind, format: LayerFormat, blob: Pick<Descriptor, 'digest' | 'size'>, path: string, entries: { name: string; size: number; fileDigest: string }[]): Descriptor {
  const annotations: Record<string, string> = {
    [ANNOTATION_FILEPATH]: path,
    [ANNOTATION_FILE_METADATA]: folderMetadata(path, entries.reduce((n, e) => n + e.size, 0)),
    [ANNOTATION_TITLE]: path,
    [ANNOTATION_FILE_ENTRIES]: JSON.stringify(entries.map((e) => [e.name, e.size, e.fileDigest.replace(/^sha256:/, '')])),
  };
  return { mediaType: layerMediaType(kind, format), digest: blob.digest, size: blob.size, annotations: inGoMapOrder(annotations) };
}

/** The layer as the manifest lists it: media type from kind and format, the path and file metadata annotations. */
export function layerDescriptor(file: Pick<ResolvedFile, 'path' | 'size' | 'mode' | 'kind'>, format: LayerFormat, blob: Descriptor, path: string, fileDigest: string): Descriptor {
  const annotations: Record<string, string> = {
    [ANNOTATION_FILEPATH]: path,
    [ANNOTATION_FILE_METADATA]: fileMetadata(file),
    [ANNOTATION_TITLE]: path,
  };
  if (format !== 'raw') annotations[ANNOTATION_FILE_DIGEST] = fileDigest;
  return { mediaType: layerMediaType(file.kind, format), digest: blob.digest, size: blob.size, annotations: inGoMapOrder(annotations) };
}

/**
 * Annotations with their keys sorted, as Go's encoding/json writes a map: modctl v0.2.2 inspect
 * (pkg/backend/inspect.go) reports the digest of its own re-encoding of the manifest, which is then ours.
 */
export function inGoMapOrder(annotations: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(annotations).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** A layer's bytes: one file (raw or tar), or a tar of `plan`'s files; names are the tar entry names. */
async function writeLayer(plan: LayerPlan, format: LayerFormat, names: string[], label: string, store: Target, reporter: Reporter): Promise<CachedLayer> {
  const id = `pack:${label}`;
  const total = plan.files.reduce((n, f) => n + f.size, 0);
  reporter.start(id, label, total);
  const advance = (n: number) => reporter.advance(id, n);
  try {
    if (format === 'raw') {
      // One digest of the stored bytes is the layer digest, the diffId and the file digest.
      const blob = await ingestFile(store, 'application/octet-stream', plan.files[0]!, advance);
      reporter.finish(id, 'done');
      return { digest: blob.digest, size: blob.size, diffId: blob.digest, fileDigest: blob.digest };
    }
    const { stream, done } = tarStream(
      plan.files.map((file, i) => ({ name: names[i]!, source: file.absPath, size: file.size, mode: file.mode, mtimeMs: file.mtimeMs, ino: file.ino })),
      advance,
    );
    const compression = compressionOf(format);
    let body: Readable = stream;
    let diffTap: ReturnType<typeof hashTap> | undefined;
    if (compression !== 'none') {
      diffTap = hashTap();
      const squeeze = compressor(compression);
      stream.on('error', (err) => diffTap!.destroy(err));
      diffTap.on('error', (err) => squeeze.destroy(err));
      body = stream.pipe(diffTap).pipe(squeeze);
    }
    const [blob, tar] = await Promise.all([ingestStream(store, 'application/octet-stream', body), done]);
    reporter.finish(id, 'done');
    const diffId = diffTap ? diffTap.digest() : blob.digest;
    if (plan.folder === undefined) return { digest: blob.digest, size: blob.size, diffId, fileDigest: tar.fileDigests.get(names[0]!)! };
    return { digest: blob.digest, size: blob.size, diffId, fileDigest: diffId, entryDigests: names.map((n) => tar.fileDigests.get(n)!) };
  } catch (err) {
    reporter.finish(id, 'failed');
    throw err;
  }
}

/** Layers for `files`, in the given order; cached results are reused when their blob is still stored. */
export async function packLayers(files: ResolvedFile[], store: Target, opts: LayerOptions): Promise<PackedFile[]> {
  const reporter = opts.reporter ?? silentReporter;
  const cache = opts.cache ?? new PackCache();
  await cache.load();
  const prefix = opts.prefix ?? '';
  const plans = planLayers(files, opts.group);
  const packOne = async (plan: LayerPlan): Promise<PackedFile> => {
    const first = plan.files[0]!;
    // A folder layer is never raw: its files need a tar to travel together.
    const format = plan.folder === undefined ? formatFor(first.kind, opts.format) : opts.format === 'raw' ? 'tar' : opts.format;
    // The top level's group is the model folder itself: `models` in a ModelCar, "." otherwise.
    const rel = plan.folder === undefined ? first.path : plan.folder || '.';
    const path = plan.folder === '' ? prefix.replace(/\/$/, '') || '.' : `${prefix}${rel}`;
    const names = plan.files.map((f) => `${prefix}${f.path}`);
    // A folder layer's key covers each of its files: one changed file rebuilds only its own folder's layer.
    const key = PackCache.keyOfLayer(plan.files, `${format}|${path}${plan.folder === undefined ? '' : '|folder'}`);
    let layer = cache.get(key);
    if (layer && plan.folder !== undefined && layer.entryDigests?.length !== plan.files.length) layer = undefined;
    if (layer && !(await store.exists({ mediaType: 'application/octet-stream', digest: layer.digest, size: layer.size }))) layer = undefined;
    const size = plan.files.reduce((n, f) => n + f.size, 0);
    if (layer) {
      cache.stats.hits++;
      reporter.start(`pack:${rel}`, rel, size);
      reporter.finish(`pack:${rel}`, 'skipped');
    } else {
      cache.stats.misses++;
      layer = await writeLayer(plan, format, names, rel, store, reporter);
      cache.stats.bytesRead += size;
      cache.stats.filesRead.push(...plan.files.map((f) => f.path));
      cache.set(key, layer);
    }
    const blob = { digest: layer.digest, size: layer.size };
    if (plan.folder === undefined) {
      return {
        path: first.path,
        kind: first.kind,
        size: first.size,
        fileDigest: layer.fileDigest,
        layer: layerDescriptor(first, format, { mediaType: '', ...blob }, path, layer.fileDigest),
        diffId: layer.diffId,
        ...(format === 'raw' ? {} : { tarEntry: path }),
      };
    }
    const digests = layer.entryDigests!;
    const entries = plan.files.map((f, i) => ({ path: f.path, size: f.size, fileDigest: digests[i]! }));
    const listed = plan.files.map((f, i) => ({ name: plan.folder ? f.path.slice(plan.folder.length + 1) : f.path, size: f.size, fileDigest: digests[i]! }));
    return { path: rel, kind: first.kind, size, fileDigest: layer.diffId, entries, layer: folderLayerDescriptor(first.kind, format, blob, path, listed), diffId: layer.diffId, tarEntry: path };
  };
  // One layer per core: raw files hash on the worker pool, tar layers overlap their I/O with it.
  const packed = new Array<PackedFile>(plans.length);
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (next < plans.length && !failed) {
      const i = next++;
      try {
        packed[i] = await packOne(plans[i]!);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  // After a failure no layer starts, and the call returns only once the running ones have cleaned up.
  const results = await Promise.allSettled(Array.from({ length: Math.min(opts.concurrency ?? hashWorkers(), plans.length) }, worker));
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) throw failure.reason;
  cache.stats.filesRead.sort();
  await cache.save();
  return packed;
}

/**
 * Per-file digests of a manifest's tar layers, as packing recorded them (`dev.modelship.file.digest`,
 * or a folder layer's `dev.modelship.files+json`), so signing and SBOM steps need not read the
 * weights; raw layers need none (digest == file sha256).
 */
export function packedFilesOf(layers: Descriptor[]): { layerDigest: string; files: { path: string; sha256: string }[] }[] {
  const out: { layerDigest: string; files: { path: string; sha256: string }[] }[] = [];
  for (const layer of layers) {
    const entries = folderEntriesOf(layer);
    if (entries) {
      out.push({ layerDigest: layer.digest, files: entries.map(({ path, sha256 }) => ({ path, sha256 })) });
      continue;
    }
    const sha256 = layer.annotations?.[ANNOTATION_FILE_DIGEST];
    const path = layer.annotations?.[ANNOTATION_FILEPATH];
    if (sha256 && path) out.push({ layerDigest: layer.digest, files: [{ path, sha256 }] });
  }
  return out;
}
