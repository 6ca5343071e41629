/**
 * One file, one layer: raw (the file's bytes, digest == file sha256) or a tar of that one file,
 * optionally compressed. Each file is read once; the tar digest (diffId), the compressed digest and
 * the file's own digest come out of that one read. Unchanged files come from the pack cache unread.
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

/** The sha256 of a tar layer's file, so signing and SBOMs never read the weights again. */
export const ANNOTATION_FILE_DIGEST = 'dev.modelship.file.digest';

export interface PackedFile {
  /** Path relative to the model folder. */
  path: string;
  kind: FileKind;
  size: number;
  /** sha256 of the file's bytes. */
  fileDigest: string;
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

async function writeLayer(file: ResolvedFile, format: LayerFormat, name: string, store: Target, reporter: Reporter): Promise<CachedLayer> {
  const id = `pack:${file.path}`;
  reporter.start(id, file.path, file.size);
  const advance = (n: number) => reporter.advance(id, n);
  try {
    if (format === 'raw') {
      // One digest of the stored bytes is the layer digest, the diffId and the file digest.
      const blob = await ingestFile(store, 'application/octet-stream', file, advance);
      reporter.finish(id, 'done');
      return { digest: blob.digest, size: blob.size, diffId: blob.digest, fileDigest: blob.digest };
    }
    const { stream, done } = tarStream([{ name, source: file.absPath, size: file.size, mode: file.mode, mtimeMs: file.mtimeMs, ino: file.ino }], advance);
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
    return { digest: blob.digest, size: blob.size, diffId: diffTap ? diffTap.digest() : blob.digest, fileDigest: tar.fileDigests.get(name)! };
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
  const packOne = async (file: ResolvedFile): Promise<PackedFile> => {
    const format = formatFor(file.kind, opts.format);
    const path = `${prefix}${file.path}`;
    const key = PackCache.keyOf(file, `${format}|${path}`);
    let layer = cache.get(key);
    if (layer && !(await store.exists({ mediaType: 'application/octet-stream', digest: layer.digest, size: layer.size }))) layer = undefined;
    if (layer) {
      cache.stats.hits++;
      reporter.start(`pack:${file.path}`, file.path, file.size);
      reporter.finish(`pack:${file.path}`, 'skipped');
    } else {
      cache.stats.misses++;
      layer = await writeLayer(file, format, path, store, reporter);
      cache.stats.bytesRead += file.size;
      cache.stats.filesRead.push(file.path);
      cache.set(key, layer);
    }
    return {
      path: file.path,
      kind: file.kind,
      size: file.size,
      fileDigest: layer.fileDigest,
      layer: layerDescriptor(file, format, { mediaType: '', digest: layer.digest, size: layer.size }, path, layer.fileDigest),
      diffId: layer.diffId,
      ...(format === 'raw' ? {} : { tarEntry: path }),
    };
  };
  // One file per core: raw files hash on the worker pool, tar layers overlap their I/O with it.
  const packed = new Array<PackedFile>(files.length);
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (next < files.length && !failed) {
      const i = next++;
      try {
        packed[i] = await packOne(files[i]!);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  // After a failure no file starts, and the call returns only once the running ones have cleaned up.
  const results = await Promise.allSettled(Array.from({ length: Math.min(opts.concurrency ?? hashWorkers(), files.length) }, worker));
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) throw failure.reason;
  cache.stats.filesRead.sort();
  await cache.save();
  return packed;
}

/**
 * Per-file digests of a manifest's tar layers, as packing recorded them (`dev.modelship.file.digest`),
 * so signing and SBOM steps need not read the weights; raw layers need none (digest == file sha256).
 */
export function packedFilesOf(layers: Descriptor[]): { layerDigest: string; files: { path: string; sha256: string }[] }[] {
  const out: { layerDigest: string; files: { path: string; sha256: string }[] }[] = [];
  for (const layer of layers) {
    const sha256 = layer.annotations?.[ANNOTATION_FILE_DIGEST];
    const path = layer.annotations?.[ANNOTATION_FILEPATH];
    if (sha256 && path) out.push({ layerDigest: layer.digest, files: [{ path, sha256 }] });
  }
  return out;
}
