/**
 * Unpack a model artifact into a folder, safely: every path is checked (no absolute paths, no `..`,
 * no links, devices or FIFOs, no duplicates), every layer is staged inside the target and verified
 * against its digest, and files are renamed into place only once every selected layer checked out.
 * Links are refused outright: ModelPack and ModelKit writers emit regular files, and refusing links
 * removes the whole class of escapes through them.
 */
import { createWriteStream } from 'node:fs';
import { chmod, lstat, mkdir, readdir, rename, rm, rmdir } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join, posix } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { loadTarStream } from '../fs/lazy-packages.js';
import { ModelshipError, isModelshipError } from '../errors/index.js';
import type { ReadOnlyTarget } from '../oci/types.js';
import { formatBytes, silentReporter, type Reporter } from '../progress/index.js';
import type { FileKind } from '../project/model-spec.js';
import { compressionOf, decompressor } from './compress.js';
import { ANNOTATION_FILE_METADATA, LEGACY_ANNOTATION_FILE_METADATA } from './mediatypes.js';
import { readArtifact, type ArtifactFile, type ModelArtifactView } from './read.js';
import { normalisedMode } from './tar.js';

export const UNPACK_FILTER_KINDS = { weights: 'weight', config: 'weightConfig', docs: 'doc', code: 'code', datasets: 'dataset' } as const;
export type UnpackFilterKind = keyof typeof UNPACK_FILTER_KINDS;

export interface UnpackFilter {
  kind: UnpackFilterKind;
  /** Only this file, or what lies under this folder. */
  path?: string;
}

export interface UnpackOptions {
  /** Any of these selects a file; none selects everything. */
  filters?: UnpackFilter[];
  reporter?: Reporter;
  /** How many times its stored size a tar layer may expand to (beyond EXPANSION_FLOOR); 0 for no limit. */
  maxRatio?: number;
}

/** Default for `maxRatio`: text compresses about 10x, weights hardly at all; 1000x is a bomb. */
export const DEFAULT_MAX_RATIO = 100;
/** Any layer may expand to this much, however small it is stored. */
export const EXPANSION_FLOOR = 256 * 1024 * 1024;

export interface UnpackedFile {
  path: string;
  size: number;
  kind: FileKind;
  /** The layer the file came from. */
  layer: string;
}

export interface UnpackResult {
  dir: string;
  format: ModelArtifactView['format'];
  files: UnpackedFile[];
}

const STAGING_PREFIX = '.modelship-unpack-';
const CONTROL_CHARACTER = /[\u0001-\u001f\u007f-\u009f]/;

/** `weights`, `docs:README.md`, `code:src/` … */
export function parseUnpackFilter(text: string): UnpackFilter {
  const colon = text.indexOf(':');
  const kind = (colon < 0 ? text : text.slice(0, colon)) as UnpackFilterKind;
  if (!(kind in UNPACK_FILTER_KINDS)) {
    throw new ModelshipError('USAGE', `unknown filter "${text}": use ${Object.keys(UNPACK_FILTER_KINDS).join('|')}, optionally with :PATH (e.g. docs:README.md)`);
  }
  if (colon < 0) return { kind };
  const path = safeRelativePath(text.slice(colon + 1), `filter "${text}"`);
  return { kind, path };
}

function unsafe(message: string, details: Record<string, unknown>): ModelshipError {
  return new ModelshipError('UNPACK_UNSAFE_PATH', `${message}; nothing was unpacked. The artifact is malformed or malicious: do not use it`, { details });
}

/** The target folder, not the artifact, is in the way: a link, or a file where a folder must go. */
function blocked(message: string, details: Record<string, unknown>): ModelshipError {
  return new ModelshipError('UNPACK_UNSAFE_PATH', `${message}; nothing was unpacked`, { details });
}

/** A normalised `/`-separated relative path, or UNPACK_UNSAFE_PATH naming `where`. */
export function safeRelativePath(raw: string, where: string): string {
  if (raw === '' || raw.includes('\0')) throw unsafe(`${where}: empty or NUL-containing path "${raw}"`, { path: raw });
  // A control character in a file name can rewrite the terminal of whoever lists the folder.
  if (CONTROL_CHARACTER.test(raw)) throw unsafe(`${where}: path ${JSON.stringify(raw)} contains control characters`, { path: raw });
  if (raw.startsWith('/') || raw.startsWith('\\') || /^[A-Za-z]:/.test(raw)) throw unsafe(`${where}: absolute path "${raw}"`, { path: raw });
  const parts = raw.replace(/\\/g, '/').split('/');
  if (parts.includes('..')) throw unsafe(`${where}: path "${raw}" climbs out with ".."`, { path: raw });
  const normal = posix.normalize(parts.join('/')).replace(/\/+$/, '');
  if (normal === '' || normal === '.') throw unsafe(`${where}: path "${raw}" names the target folder itself`, { path: raw });
  return normal;
}

function selected(file: Pick<ArtifactFile, 'kind'>, path: string, filters: UnpackFilter[] | undefined): boolean {
  if (!filters?.length) return true;
  return filters.some((f) => UNPACK_FILTER_KINDS[f.kind] === file.kind && (!f.path || path === f.path || path.startsWith(`${f.path}/`)));
}

function modeOf(file: ArtifactFile): number {
  const meta = file.layer.annotations?.[ANNOTATION_FILE_METADATA] ?? file.layer.annotations?.[LEGACY_ANNOTATION_FILE_METADATA];
  if (!meta) return 0o644;
  try {
    const mode = (JSON.parse(meta) as { mode?: unknown }).mode;
    return typeof mode === 'number' ? normalisedMode(mode) : 0o644;
  } catch {
    return 0o644;
  }
}

interface Staged {
  path: string;
  staged: string;
  mode: number;
  size: number;
  kind: FileKind;
  layer: string;
}

class Stage {
  private counter = 0;
  readonly files: Staged[] = [];
  private readonly claimed = new Map<string, string>();
  constructor(readonly root: string) {}

  /** Claims `path` for one file: refuses duplicates and a file that is also another's folder. */
  claim(path: string, where: string): void {
    if (this.claimed.has(path)) throw unsafe(`${where}: duplicate path "${path}" (also in ${this.claimed.get(path)})`, { path });
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join('/');
      if (this.claimed.has(parent)) throw unsafe(`${where}: "${path}" lies under the file "${parent}"`, { path });
    }
    for (const other of this.claimed.keys()) {
      if (other.startsWith(`${path}/`)) throw unsafe(`${where}: "${path}" is a file but "${other}" needs it as a folder`, { path });
    }
    this.claimed.set(path, where);
  }

  async write(source: Readable, entry: Omit<Staged, 'staged'>): Promise<void> {
    const staged = join(this.root, String(this.counter++));
    await pipeline(source, createWriteStream(staged, { flags: 'wx', mode: 0o600 }));
    this.files.push({ ...entry, staged });
  }
}

async function stageRaw(target: ReadOnlyTarget, file: ArtifactFile, path: string, stage: Stage, reporter: Reporter): Promise<void> {
  reporter.start(file.digest, path, file.size);
  const stream = await target.fetch(file.layer);
  stream.on('data', (c: Buffer) => reporter.advance(file.digest, c.length));
  await stage.write(stream, { path, mode: modeOf(file), size: file.size, kind: file.kind, layer: file.digest });
  reporter.finish(file.digest, 'done');
}

/** The most bytes a layer stored in `size` bytes may expand to, or Infinity. */
export function expansionLimit(size: number, maxRatio = DEFAULT_MAX_RATIO): number {
  return maxRatio > 0 ? Math.max(size * maxRatio, EXPANSION_FLOOR) : Infinity;
}

function tooLarge(file: ArtifactFile, limit: number, maxRatio: number): ModelshipError {
  return new ModelshipError(
    'UNPACK_TOO_LARGE',
    `layer ${file.digest} (${formatBytes(file.size)} stored) expands past ${formatBytes(limit)}, more than ${maxRatio} times its size; nothing was unpacked. ` +
      'This is how a decompression bomb looks: if you trust the artifact, raise the limit with --max-ratio N (0 for none)',
    { details: { layer: file.digest, size: file.size, limit, maxRatio } },
  );
}

/** Counts bytes leaving the decompressor and fails once they pass `limit`. */
function expansionGuard(limit: number, fail: () => Error): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      callback(seen > limit ? fail() : null, chunk);
    },
  });
}

async function stageTar(target: ReadOnlyTarget, file: ArtifactFile, base: string, stage: Stage, opts: UnpackOptions, reporter: Reporter): Promise<void> {
  const filters = opts.filters;
  const maxRatio = opts.maxRatio ?? DEFAULT_MAX_RATIO;
  const limit = expansionLimit(file.size, maxRatio);
  let declared = 0;
  reporter.start(file.digest, `${file.mediaType} ${file.digest.slice(7, 19)}`, file.size);
  const where = (name: string) => `layer ${file.digest} entry "${name}"`;
  const blob = await target.fetch(file.layer);
  blob.on('data', (c: Buffer) => reporter.advance(file.digest, c.length));
  const extractor = loadTarStream().extract();
  const done = (async () => {
    for await (const entry of extractor as unknown as AsyncIterable<Readable & { header: { name: string; type?: string | null; mode?: number; size?: number } }>) {
      const { name, type } = entry.header;
      // The sizes tar headers declare tell of a bomb before its bytes are inflated.
      declared += entry.header.size ?? 0;
      if (declared > limit) {
        entry.resume();
        throw tooLarge(file, limit, maxRatio);
      }
      if (type === 'directory') {
        safeRelativePath(name, where(name));
        entry.resume();
        continue;
      }
      if (type !== 'file' && type !== 'contiguous-file') {
        entry.resume();
        throw unsafe(`${where(name)} is a ${type ?? 'special file'}; only regular files and folders are unpacked (no links, devices or FIFOs)`, {
          layer: file.digest,
          entry: name,
          type,
        });
      }
      const rel = safeRelativePath(name, where(name));
      const path = base === '.' ? rel : `${base}/${rel}`;
      if (!selected(file, path, filters)) {
        entry.resume();
        continue;
      }
      stage.claim(path, where(name));
      await stage.write(entry, { path, mode: normalisedMode(entry.header.mode ?? 0o644), size: entry.header.size ?? 0, kind: file.kind, layer: file.digest });
    }
  })();
  done.catch((err: unknown) => extractor.destroy(err as Error));
  // The blob's verifying stream fails at its end on a wrong digest, so the whole layer is checked before use.
  let bomb: ModelshipError | undefined;
  const guard = expansionGuard(limit, () => (bomb = tooLarge(file, limit, maxRatio)));
  // Whichever stream notices first, a tripped guard is the reason to report.
  await Promise.all([pipeline(blob, decompressor(compressionOf(file.layerFormat)), guard, extractor as unknown as NodeJS.WritableStream), done]).catch((err: unknown) => {
    throw bomb ?? err;
  });
  reporter.finish(file.digest, 'done');
}

/**
 * Checks where every file would land before anything moves: each parent must be a real folder
 * inside `dir` or absent, the file itself absent or a regular file. lstat, so no link is followed.
 */
async function checkPlacement(stage: Stage, dir: string): Promise<void> {
  const folders = new Set<string>();
  for (const file of stage.files) {
    const parts = file.path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const rel = parts.slice(0, i).join('/');
      if (folders.has(rel)) continue;
      const info = await lstat(join(dir, ...parts.slice(0, i))).catch(() => undefined);
      if (!info) break;
      if (info.isSymbolicLink()) throw blocked(`"${file.path}" would be written through a link: "${rel}" in ${dir} points elsewhere; remove the link or unpack into another folder`, { path: file.path, link: rel });
      if (!info.isDirectory()) throw blocked(`"${file.path}" needs "${rel}" as a folder, but it is a file in ${dir}`, { path: file.path });
      folders.add(rel);
    }
    const existing = await lstat(join(dir, ...parts)).catch(() => undefined);
    if (existing && !existing.isFile()) throw blocked(`"${file.path}" exists in ${dir} and is not a regular file`, { path: file.path });
  }
}

/** Creates `rel`'s missing parent folders one at a time (never through a link), recording each for undo. */
async function makeParents(dir: string, rel: string, undo: (() => Promise<unknown>)[]): Promise<void> {
  const parts = rel.split('/').slice(0, -1);
  for (let i = 1; i <= parts.length; i++) {
    const folder = join(dir, ...parts.slice(0, i));
    const made = await mkdir(folder).then(() => true, (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
      return false;
    });
    if (made) undo.push(() => rmdir(folder));
    else if (!(await lstat(folder)).isDirectory()) throw blocked(`"${rel}" would be written through "${parts.slice(0, i).join('/')}", which changed while unpacking`, { path: rel });
  }
}

/**
 * Moves staged files into `dir` once the whole plan checked out; a failure part-way puts back
 * every file it replaced and removes every file and folder it added.
 */
async function place(stage: Stage, dir: string): Promise<void> {
  await checkPlacement(stage, dir);
  const undo: (() => Promise<unknown>)[] = [];
  let kept = 0;
  try {
    for (const file of stage.files) {
      const final = join(dir, ...file.path.split('/'));
      await makeParents(dir, file.path, undo);
      if (await lstat(final).then((i) => i.isFile(), () => false)) {
        const backup = join(stage.root, `keep-${kept++}`);
        await rename(final, backup);
        undo.push(() => rename(backup, final));
      }
      await chmod(file.staged, file.mode);
      await rename(file.staged, final);
      undo.push(() => rename(final, file.staged));
    }
  } catch (err) {
    for (const step of undo.reverse()) await step().catch(() => {});
    throw err;
  }
}

export async function unpackView(target: ReadOnlyTarget, view: ModelArtifactView, dir: string, opts: UnpackOptions = {}): Promise<UnpackResult> {
  const reporter = opts.reporter ?? silentReporter;
  // Check every raw path first, so a bad annotation stops us before any byte is fetched.
  const plan: { file: ArtifactFile; path: string }[] = [];
  view.files.forEach((file, i) => {
    const where = `layer ${i} (${file.digest}) path annotation`;
    const path = file.layerFormat === 'raw' ? safeRelativePath(file.path, where) : file.path === '.' ? '.' : safeRelativePath(file.path, where);
    plan.push({ file, path });
  });
  const createdDir = !(await lstat(dir).catch(() => undefined));
  await mkdir(dir, { recursive: true });
  for (const name of await readdir(dir)) {
    // Left by an unpack that was killed: never complete, never in place, safe to drop.
    if (name.startsWith(STAGING_PREFIX)) await rm(join(dir, name), { recursive: true, force: true });
  }
  const stage = new Stage(join(dir, `${STAGING_PREFIX}${randomBytes(6).toString('hex')}`));
  await mkdir(stage.root, { mode: 0o700 });
  try {
    for (const { file, path } of plan) {
      if (file.layerFormat === 'raw') {
        if (!selected(file, path, opts.filters)) continue;
        stage.claim(path, `layer ${file.digest}`);
        await stageRaw(target, file, path, stage, reporter);
      } else {
        await stageTar(target, file, path, stage, opts, reporter);
      }
    }
    await place(stage, dir);
  } catch (err) {
    await rm(stage.root, { recursive: true, force: true });
    if (createdDir) await rmdir(dir).catch(() => {});
    if (isModelshipError(err)) throw err;
    throw new ModelshipError('UNPACK_FAILED', `unpacking into ${dir} failed: ${(err as Error).message}; nothing was unpacked`, { cause: err });
  }
  await rm(stage.root, { recursive: true, force: true });
  return {
    dir,
    format: view.format,
    files: stage.files.map(({ path, size, kind, layer }) => ({ path, size, kind, layer })),
  };
}

/** Resolve `reference` on `target` and unpack it into `dir`. */
export async function unpack(target: ReadOnlyTarget, reference: string, dir: string, opts: UnpackOptions = {}): Promise<UnpackResult> {
  return unpackView(target, await readArtifact(target, reference), dir, opts);
}
