/**
 * `import hf://ORG/NAME[@REVISION]`: the revision pinned to its commit, the commit's files streamed
 * into the store as raw ModelPack layers (each read once, from the network), and the same manifest
 * and config `pack` writes, with the source recorded as `hf://ORG/NAME@SHA`.
 */
import { copyFile, link, mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { ModelshipError } from '../errors/index.js';
import { pushBytes, pushManifest } from '../modelpack/content.js';
import { buildModelConfig, serializeConfig, validateModelConfig, type ModelPackConfig } from '../modelpack/config.js';
import { layerDescriptor } from '../modelpack/layers.js';
import { modelPackManifest } from '../modelpack/manifest.js';
import { MODEL_CONFIG_MEDIA_TYPE } from '../modelpack/mediatypes.js';
import { LayoutTarget } from '../oci/layout.js';
import { isWriteLeaser, type Descriptor, type ImageManifest } from '../oci/types.js';
import { silentReporter, type Reporter } from '../progress/index.js';
import { detectProject } from '../project/detect.js';
import { readModelCard } from '../project/huggingface.js';
import { parsePatterns } from '../project/ignore.js';
import type { FileKind, ModelSpec } from '../project/model-spec.js';
import { listCommitFiles, resolveCommit, type HubConnection, type HubFile } from './client.js';
import { downloadToStore } from './download.js';
import { ANNOTATION_HF_SOURCE, ANNOTATION_OCI_REVISION, ANNOTATION_OCI_SOURCE, hubPage, hubSourceUri, huggingfacePurl, type HubSource } from './source.js';

/** Git plumbing, not part of the model. */
const ALWAYS_LEFT_OUT = ['.gitattributes', '.gitignore'];
/** Small files are copied into the detection view where the filesystem refuses a hard link. */
const COPY_FOR_FACTS_LIMIT = 16 * 1024 * 1024;

export interface ImportOptions {
  conn: HubConnection;
  /** Globs (gitignore style: no `/` matches at any depth) a file must match one of; none means all. */
  include?: string[];
  exclude?: string[];
  /** Files downloaded at once. */
  concurrency?: number;
  /** Store reference to tag; `org/name:revision` when none is given. */
  tag?: string;
  reporter?: Reporter;
  attempts?: number;
  retryDelayMs?: number;
}

export interface ImportedFile {
  path: string;
  kind: FileKind;
  size: number;
  layer: Descriptor;
  downloaded: boolean;
  resumed: number;
}

export interface ImportResult {
  /** The store reference the artifact is tagged with. */
  tag: string;
  repo: string;
  revision: string;
  sha: string;
  /** `hf://ORG/NAME@SHA` */
  source: string;
  purl: string;
  descriptor: Descriptor;
  manifest: ImageManifest;
  config: ModelPackConfig;
  files: ImportedFile[];
  /** Listed at the commit but left out by --include/--exclude. */
  skipped: string[];
  findings: string[];
}

/** The files to import: --include (any) and --exclude (none), after the git plumbing is dropped. */
export function selectFiles(files: HubFile[], include: string[] = [], exclude: string[] = []): { chosen: HubFile[]; skipped: string[] } {
  const inc = parsePatterns(include, 'git');
  const exc = parsePatterns([...ALWAYS_LEFT_OUT, ...exclude], 'git');
  const wanted = (f: HubFile) => (inc.length === 0 || inc.some((p) => p.regex.test(f.path))) && !exc.some((p) => p.regex.test(f.path));
  return { chosen: files.filter(wanted), skipped: files.filter((f) => !wanted(f)).map((f) => f.path) };
}

/** Downloads at most `limit` files at once; after a failure none starts and the running ones finish cleaning up. */
async function inPool<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (next < items.length && !failed) {
      const i = next++;
      try {
        out[i] = await work(items[i]!);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  const results = await Promise.allSettled(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) throw failure.reason;
  return out;
}

/**
 * The spec the config is built from, read the way `init` reads a folder (config.json, GGUF and
 * safetensors headers, the model card's front matter) from a view of hard links to the stored blobs.
 */
async function specOfImport(store: LayoutTarget, files: { path: string; digest: string; size: number }[]) {
  const view = path.join(await store.ingestDir(), `${process.pid}-hf-view-${randomBytes(6).toString('hex')}`);
  try {
    for (const f of files) {
      const at = path.join(view, ...f.path.split('/'));
      await mkdir(path.dirname(at), { recursive: true });
      await link(store.blobPath(f.digest), at).catch(async () => {
        if (f.size <= COPY_FOR_FACTS_LIMIT) await copyFile(store.blobPath(f.digest), at);
      });
    }
    const detection = await detectProject(view);
    const readme = files.find((f) => /^readme\.md$/i.test(f.path));
    const card = readme ? readModelCard(await readFile(store.blobPath(readme.digest), 'utf8')) : undefined;
    return { detection, card };
  } finally {
    await rm(view, { recursive: true, force: true });
  }
}

export async function importFromHub(source: HubSource, store: LayoutTarget, opts: ImportOptions): Promise<ImportResult> {
  return isWriteLeaser(store) ? store.hold(() => importUnderLease(source, store, opts)) : importUnderLease(source, store, opts);
}

async function importUnderLease(source: HubSource, store: LayoutTarget, opts: ImportOptions): Promise<ImportResult> {
  const reporter = opts.reporter ?? silentReporter;
  const { conn } = opts;
  const { sha } = await resolveCommit(conn, source.repo, source.revision);
  // Everything below reads the commit, never the branch: a branch moved meanwhile changes nothing.
  const listed = await listCommitFiles(conn, source.repo, sha);
  const { chosen, skipped } = selectFiles(listed, opts.include, opts.exclude);
  if (chosen.length === 0) {
    throw new ModelshipError('HF_NO_FILES', `hf://${source.repo}@${sha} has ${listed.length} file(s) but none is left after --include/--exclude${listed.length ? ` (listed: ${listed.slice(0, 8).map((f) => f.path).join(', ')}${listed.length > 8 ? ', ...' : ''})` : ''}`);
  }
  const downloaded = await inPool(chosen, opts.concurrency ?? 4, async (file) => {
    const id = `hf:${file.path}`;
    reporter.start(id, file.path, file.size);
    try {
      const got = await downloadToStore(store, file, {
        conn, repo: source.repo, sha,
        onBytes: (n) => reporter.advance(id, n),
        ...(opts.attempts !== undefined ? { attempts: opts.attempts } : {}),
        ...(opts.retryDelayMs !== undefined ? { retryDelayMs: opts.retryDelayMs } : {}),
      });
      reporter.finish(id, got.downloaded ? 'done' : 'skipped');
      return { file, ...got };
    } catch (err) {
      reporter.finish(id, 'failed');
      throw err;
    }
  });

  const { detection, card } = await specOfImport(store, downloaded.map((d) => ({ path: d.file.path, digest: d.descriptor.digest, size: d.file.size })));
  const kinds = new Map(detection.files.map((f) => [f.path, f.kind]));
  const files: ImportedFile[] = downloaded.map((d) => {
    const kind: FileKind = kinds.get(d.file.path) ?? 'code';
    const layer = layerDescriptor({ path: d.file.path, size: d.file.size, mode: 0o644, kind }, 'raw', d.descriptor, d.file.path, d.descriptor.digest);
    return { path: d.file.path, kind, size: d.file.size, layer, downloaded: d.downloaded, resumed: d.resumed };
  });

  const page = hubPage(conn.endpoint, source.repo);
  const uri = hubSourceUri(source.repo, sha);
  const spec: ModelSpec = {
    ...detection.spec,
    descriptor: {
      ...detection.spec.descriptor,
      name: source.repo.split('/').pop()!,
      ...(source.repo.includes('/') ? { vendor: detection.spec.descriptor.vendor ?? source.repo.split('/')[0]! } : {}),
      version: source.revision === sha ? sha.slice(0, 12) : source.revision,
      revision: sha,
      sourceURL: `${page}/tree/${sha}`,
      docURL: page,
      description: detection.spec.descriptor.description ?? `Imported from ${uri}.`,
      ...(card?.datasets?.length ? { datasetsURL: `${conn.endpoint}/datasets/${card.datasets[0]}` } : {}),
    },
  };
  const config = buildModelConfig(spec, files.map((f) => f.layer.digest));
  const layers = files.map((f) => f.layer);
  validateModelConfig(config, { layers, where: `the config of ${uri}` });
  const configDesc = await pushBytes(store, MODEL_CONFIG_MEDIA_TYPE, serializeConfig(config));
  const manifest = modelPackManifest(configDesc, layers, { [ANNOTATION_HF_SOURCE]: uri, [ANNOTATION_OCI_SOURCE]: page, [ANNOTATION_OCI_REVISION]: sha });
  const descriptor = await pushManifest(store, manifest);
  const tag = opts.tag ?? defaultImportTag(source, sha);
  await store.tag(descriptor, tag);
  const findings = detection.findings.filter((f) => !f.includes('not recognised'));
  return { repo: source.repo, revision: source.revision, sha, tag, source: uri, purl: huggingfacePurl(source.repo, sha), descriptor, manifest, config, files, skipped, findings };
}

/** A store tag for an import when none is given: `org/name:revision`, lower-cased and made tag-safe. */
export function defaultImportTag(source: HubSource, sha: string): string {
  const repository = source.repo.toLowerCase().replace(/[^a-z0-9._/-]/g, '-');
  const tag = (source.revision === sha ? sha.slice(0, 12) : source.revision).replace(/[^A-Za-z0-9_.-]/g, '-').replace(/^[.-]/, '_').slice(0, 128);
  return `${repository}:${tag}`;
}

