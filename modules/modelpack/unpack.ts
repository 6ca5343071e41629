/**
 * Unpack a model artifact into a folder, safely: every path is checked (no absolute paths, no `..`,
 * no links, devices or FIFOs, no duplicates), every layer is staged inside the target and verified
 * against its digest, and files are renamed into place only once every selected layer checked out.
 * Links are refused outright: ModelPack and ModelKit writers emit regular files, and refusing links
 * removes the whole class of escapes through them.
 */
import { createWriteStream } from 'node:fs';
import { chmod, lstat, mkdir, readdir, realpath, rename, rm, rmdir } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname, join, posix, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract as tarExtract } from 'tar-stream';
import { ModelshipError, isModelshipError } from '../errors/index.js';
import type { ReadOnlyTarget } from '../oci/types.js';
import { silentReporter, type Reporter } from '../progress/index.js';
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
}

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

/** A normalised `/`-separated relative path, or UNPACK_UNSAFE_PATH naming `where`. */
export function safeRelativePath(raw: string, where: string): string {
  if (raw === '' || raw.includes('\0')) throw unsafe(`${where}: empty or NUL-containing path "${raw}"`, { path: raw });
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

async function stageTar(target: ReadOnlyTarget, file: ArtifactFile, base: string, stage: Stage, filters: UnpackFilter[] | undefined, reporter: Reporter): Promise<void> {
  reporter.start(file.digest, `${file.mediaType} ${file.digest.slice(7, 19)}`, file.size);
  const where = (name: string) => `layer ${file.digest} entry "${name}"`;
  const blob = await target.fetch(file.layer);
  blob.on('data', (c: Buffer) => reporter.advance(file.digest, c.length));
  const extractor = tarExtract();
  const done = (async () => {
    for await (const entry of extractor as unknown as AsyncIterable<Readable & { header: { name: string; type?: string | null; mode?: number; size?: number } }>) {
      const { name, type } = entry.header;
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
  await Promise.all([pipeline(blob, decompressor(compressionOf(file.layerFormat)), extractor as unknown as NodeJS.WritableStream), done]);
  reporter.finish(file.digest, 'done');
}

/** Move staged files into `dir`, each parent checked to resolve inside `dir` (no pre-existing link escapes). */
async function place(stage: Stage, dir: string): Promise<void> {
  const realDir = await realpath(dir);
  for (const file of stage.files) {
    const final = join(dir, ...file.path.split('/'));
    await mkdir(dirname(final), { recursive: true });
    const realParent = await realpath(dirname(final));
    if (realParent !== realDir && !realParent.startsWith(realDir + sep)) {
      throw unsafe(`"${file.path}" would be written through a link to ${realParent}, outside ${dir}`, { path: file.path });
    }
    const existing = await lstat(final).catch(() => undefined);
    if (existing && !existing.isFile()) throw unsafe(`"${file.path}" exists in ${dir} and is not a regular file`, { path: file.path });
    await chmod(file.staged, file.mode);
    await rename(file.staged, final);
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
        await stageTar(target, file, path, stage, opts.filters, reporter);
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
