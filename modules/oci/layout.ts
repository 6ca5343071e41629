/**
 * An OCI image layout on disk (image-spec image-layout.md), the format skopeo, umoci, podman and oras read:
 * `oci-layout`, `index.json`, `blobs/<alg>/<hex>`. Tags are `org.opencontainers.image.ref.name` annotations.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { chmod, link, mkdir, open, readFile, rename, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ModelshipError } from '../errors/index.js';
import { writeFileAtomic } from '../fs/atomic.js';
import { isDigest, parseDigest } from './digest.js';
import { WriteLease, partPath, pidAlive, sweepIngest } from './ingest-dir.js';
import { parseImageIndex, parseManifestContent } from './manifest.js';
import { referrerDescriptor } from './referrers.js';
import { contentStream, readAllVerified, readContentVerified, verifyBytes, verifyingStream } from './verify.js';
import {
  MAX_MANIFEST_BYTES,
  MEDIA_TYPE,
  isManifestMediaType,
  type Content,
  type Deleter,
  type Descriptor,
  type ImageIndex,
  type RangeFetcher,
  type ReferrerLister,
  type TagLister,
  type Target,
  type WriteLeaser,
} from './types.js';

export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';
const LAYOUT_FILE = 'oci-layout';
const INDEX_FILE = 'index.json';
const LOCK_FILE = 'index.json.lock';
/** A lock older than this is taken as left by a crashed writer. */
const STALE_LOCK_MS = 30_000;
const LOCK_TIMEOUT_MS = 60_000;

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function writeAll(out: WriteStream, bytes: Uint8Array): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    out.once('error', reject);
    out.end(bytes, () => resolve());
  });
}

function stripRefName(desc: Descriptor): Descriptor {
  if (!desc.annotations || !(REF_NAME_ANNOTATION in desc.annotations)) return desc;
  const { [REF_NAME_ANNOTATION]: _tag, ...rest } = desc.annotations;
  const { annotations: _a, ...plain } = desc;
  return Object.keys(rest).length ? { ...plain, annotations: rest } : plain;
}

export class LayoutTarget implements Target, Deleter, TagLister, RangeFetcher, ReferrerLister, WriteLeaser {
  readonly location: string;
  /** Manifests are immutable, so their subject (or none) is cached by digest for referrers(). */
  private readonly subjectCache = new Map<string, ReferrerInfo>();
  /** Serialises index.json updates inside this process; the lock file serialises processes. */
  private indexQueue: Promise<unknown> = Promise.resolve();

  private readonly lease: WriteLease;
  private ingestReady: Promise<string> | undefined;

  constructor(readonly root: string) {
    this.location = root;
    this.lease = new WriteLease(join(root, 'ingest'), async () => {
      await this.ingestDir();
    });
  }

  /**
   * Runs `work` under a write lease: `prune` keeps every blob stored or found by `exists` meanwhile,
   * so what a pack or pull wrote is safe until its tag is committed.
   */
  hold<T>(work: () => Promise<T>): Promise<T> {
    return this.lease.hold(work);
  }

  /** `ingest/`, created on first use; temp files and leases that earlier runs abandoned are cleared then. */
  ingestDir(): Promise<string> {
    this.ingestReady ??= (async () => {
      await this.init();
      const dir = join(this.root, 'ingest');
      await mkdir(dir, { recursive: true });
      await sweepIngest(dir);
      return dir;
    })().catch((err: unknown) => {
      this.ingestReady = undefined;
      throw err;
    });
    return this.ingestReady;
  }

  blobPath(digest: string): string {
    const { algorithm, hex } = parseDigest(digest, this.root);
    return join(this.root, 'blobs', algorithm, hex);
  }

  private notFound(what: string, details: Record<string, unknown>): ModelshipError {
    return new ModelshipError('OCI_NOT_FOUND', `${what} not found in OCI layout ${this.root}`, { details: { layout: this.root, ...details } });
  }

  private initialized: Promise<void> | undefined;

  /** Create `oci-layout` and an empty `index.json` if absent (each written whole, then linked into place). */
  init(): Promise<void> {
    this.initialized ??= this.createLayoutFiles().catch((err: unknown) => {
      this.initialized = undefined;
      throw err;
    });
    return this.initialized;
  }

  private async createLayoutFiles(): Promise<void> {
    await mkdir(join(this.root, 'blobs'), { recursive: true });
    await this.writeIfAbsent(LAYOUT_FILE, JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    await this.writeIfAbsent(INDEX_FILE, JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPE.ociIndex, manifests: [] }));
  }

  private async writeIfAbsent(name: string, text: string): Promise<void> {
    const path = join(this.root, name);
    const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    await writeFile(tmp, text);
    try {
      // link() fails if the file exists, so a concurrent writer's file is never replaced.
      await link(tmp, path);
    } catch (err) {
      if (errno(err) !== 'EEXIST') throw err;
    } finally {
      await unlink(tmp).catch(() => {});
    }
  }

  private async assertLayout(): Promise<void> {
    let text: string;
    try {
      text = await readFile(join(this.root, LAYOUT_FILE), 'utf8');
    } catch (err) {
      if (errno(err) === 'ENOENT') {
        throw new ModelshipError('OCI_NOT_FOUND', `${this.root} is not an OCI image layout (no oci-layout file); check the path after "oci:"`, {
          cause: err,
          details: { layout: this.root },
        });
      }
      throw err;
    }
    let version: unknown;
    try {
      version = (JSON.parse(text) as { imageLayoutVersion?: unknown }).imageLayoutVersion;
    } catch {
      version = undefined;
    }
    if (version !== '1.0.0') {
      throw new ModelshipError('OCI_INVALID_LAYOUT', `${join(this.root, LAYOUT_FILE)} must be {"imageLayoutVersion":"1.0.0"}`, { details: { layout: this.root } });
    }
  }

  async readIndex(): Promise<ImageIndex> {
    await this.assertLayout();
    const path = join(this.root, INDEX_FILE);
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (err) {
      if (errno(err) === 'ENOENT') throw new ModelshipError('OCI_INVALID_LAYOUT', `OCI layout ${this.root} has no index.json`, { details: { layout: this.root } });
      throw err;
    }
    return parseImageIndex(bytes, path);
  }

  /** Read-modify-write index.json under the cross-process lock; the new file replaces the old by rename. */
  async updateIndex(change: (manifests: Descriptor[]) => Descriptor[]): Promise<void> {
    const run = this.indexQueue.then(async () => {
      await this.init();
      const release = await this.acquireLock();
      try {
        const index = await this.readIndex();
        const next = { ...index, schemaVersion: 2 as const, mediaType: index.mediaType ?? MEDIA_TYPE.ociIndex, manifests: change(index.manifests) };
        await writeFileAtomic(join(this.root, INDEX_FILE), JSON.stringify(next));
      } finally {
        await release();
      }
    });
    this.indexQueue = run.catch(() => {});
    return run;
  }

  private async acquireLock(): Promise<() => Promise<void>> {
    const path = join(this.root, LOCK_FILE);
    const mine = `${process.pid} ${Date.now()} ${randomBytes(6).toString('hex')}`;
    const deadline = Date.now() + LOCK_TIMEOUT_MS;
    for (let attempt = 0; ; attempt++) {
      try {
        const handle = await open(path, 'wx');
        await handle.writeFile(mine);
        await handle.close();
        return async () => {
          // Only remove the lock if it is still ours (a stale-lock breaker may have taken it).
          const current = await readFile(path, 'utf8').catch(() => '');
          if (current === mine) await unlink(path).catch(() => {});
        };
      } catch (err) {
        if (errno(err) !== 'EEXIST') throw err;
      }
      await this.breakStaleLock(path);
      if (Date.now() > deadline) {
        throw new ModelshipError('OCI_LAYOUT_LOCKED', `OCI layout ${this.root} is locked by another writer (${path}); if no modelship is running, delete that file`, {
          details: { layout: this.root, lock: path },
        });
      }
      await sleep(Math.min(50, 2 + attempt) + Math.random() * 5);
    }
  }

  private async breakStaleLock(path: string): Promise<void> {
    let text: string;
    let mtime: number;
    try {
      [text, mtime] = await Promise.all([readFile(path, 'utf8'), stat(path).then((s) => s.mtimeMs)]);
    } catch {
      return;
    }
    const pid = Number(text.split(' ')[0]);
    const dead = text !== '' && Number.isInteger(pid) && pid > 0 && !pidAlive(pid);
    const old = Date.now() - mtime > STALE_LOCK_MS;
    if (!dead && !old) return;
    // Move it aside first: of several breakers only one rename succeeds, then check it was the stale one.
    const aside = `${path}.${randomBytes(6).toString('hex')}.stale`;
    try {
      await rename(path, aside);
    } catch {
      return;
    }
    const taken = await readFile(aside, 'utf8').catch(() => '');
    if (taken !== text) await link(aside, path).catch(() => {});
    await unlink(aside).catch(() => {});
  }

  async exists(desc: Descriptor): Promise<boolean> {
    const path = this.blobPath(desc.digest);
    try {
      if (this.lease.held) {
        // A blob a leased write reuses becomes as new as the lease, so prune spares it too.
        const now = new Date();
        await utimes(path, now, now).catch(async (err: unknown) => {
          if (errno(err) === 'ENOENT') throw err;
          await stat(path);
        });
      } else await stat(path);
      return true;
    } catch (err) {
      if (errno(err) === 'ENOENT') return false;
      throw err;
    }
  }

  private async openBlob(desc: Descriptor, offset: number): Promise<Readable> {
    const path = this.blobPath(desc.digest);
    let handle;
    try {
      handle = await open(path, 'r');
    } catch (err) {
      if (errno(err) === 'ENOENT') throw this.notFound(`blob ${desc.digest} (${path})`, { digest: desc.digest, path });
      throw err;
    }
    return handle.createReadStream({ start: offset, highWaterMark: 1024 * 1024 });
  }

  async fetch(desc: Descriptor): Promise<Readable> {
    const raw = await this.openBlob(desc, 0);
    const where = `${this.root} (${desc.digest})`;
    const verifier = verifyingStream(desc, where);
    raw.on('error', (err) => verifier.destroy(err));
    return raw.pipe(verifier);
  }

  async fetchFrom(desc: Descriptor, offset: number): Promise<Readable> {
    return this.openBlob(desc, offset);
  }

  async push(desc: Descriptor, content: Content): Promise<void> {
    const path = this.blobPath(desc.digest);
    await this.init();
    if (isManifestMediaType(desc.mediaType)) {
      // Manifests are small and parsed to track referrers, so they are read whole (capped).
      const bytes = await readContentVerified(content, desc, MAX_MANIFEST_BYTES, this.root);
      const manifest = parseManifestContent(desc, bytes, `${this.root} (${desc.digest})`);
      if (!(await this.exists(desc))) await this.ingest(desc, path, (out) => writeAll(out, bytes));
      // A referrer is kept in index.json, untagged, so it survives garbage collection and can be listed.
      if (manifest.subject) {
        await this.updateIndex((manifests) =>
          manifests.some((m) => m.digest === desc.digest) ? manifests : [...manifests, referrerDescriptor(desc, manifest)],
        );
      }
      return;
    }
    if (await this.exists(desc)) {
      // Already stored: the offered stream is not needed.
      if (content instanceof Readable) content.destroy();
      return;
    }
    if (content instanceof Uint8Array) {
      verifyBytes(desc, content, this.root);
      await this.ingest(desc, path, (out) => writeAll(out, content));
      return;
    }
    const source = await contentStream(content);
    await this.ingest(desc, path, (out) => pipeline(source, verifyingStream(desc, this.root), out));
  }

  /** Write to ingest/, verified on the way, then rename into blobs/: nothing is visible before it checks out. */
  private async ingest(desc: Descriptor, finalPath: string, write: (out: WriteStream) => Promise<void>): Promise<void> {
    const tmp = partPath(await this.ingestDir(), parseDigest(desc.digest).hex.slice(0, 16));
    const out = createWriteStream(tmp, { flags: 'wx' });
    try {
      await write(out);
      await chmod(tmp, 0o444);
      await mkdir(join(finalPath, '..'), { recursive: true });
      await rename(tmp, finalPath);
    } catch (err) {
      out.destroy();
      await unlink(tmp).catch(() => {});
      throw err;
    }
  }

  async resolve(reference: string): Promise<Descriptor> {
    const index = await this.readIndex();
    if (isDigest(reference)) {
      const listed = index.manifests.find((m) => m.digest === reference);
      if (listed) return stripRefName(listed);
      return this.describeManifestBlob(reference);
    }
    const tagged = index.manifests.filter((m) => m.annotations?.[REF_NAME_ANNOTATION] === reference);
    const found = tagged[tagged.length - 1];
    if (!found) {
      const known = index.manifests.map((m) => m.annotations?.[REF_NAME_ANNOTATION]).filter((t): t is string => Boolean(t));
      throw this.notFound(`tag "${reference}"`, { reference, tags: known });
    }
    return stripRefName(found);
  }

  /** A manifest addressed by digest but not listed in index.json: read its media type from its bytes. */
  private async describeManifestBlob(digest: string): Promise<Descriptor> {
    const path = this.blobPath(digest);
    let size: number;
    try {
      size = (await stat(path)).size;
    } catch (err) {
      if (errno(err) === 'ENOENT') throw this.notFound(`manifest ${digest}`, { digest });
      throw err;
    }
    const probe: Descriptor = { mediaType: MEDIA_TYPE.ociManifest, digest, size };
    const bytes = await readAllVerified(await this.fetch(probe), probe, MAX_MANIFEST_BYTES, path);
    let declared: unknown;
    try {
      declared = (JSON.parse(Buffer.from(bytes).toString('utf8')) as { mediaType?: unknown; manifests?: unknown }).mediaType;
    } catch {
      declared = undefined;
    }
    if (typeof declared !== 'string') {
      throw new ModelshipError('OCI_INVALID_MANIFEST', `${path} is not a manifest with a mediaType; refer to it through a tag`, { details: { digest } });
    }
    return { mediaType: declared, digest, size };
  }

  async tag(desc: Descriptor, reference: string): Promise<void> {
    if (!(await this.exists(desc))) throw this.notFound(`manifest ${desc.digest} to tag as "${reference}"`, { digest: desc.digest, reference });
    const entry = stripRefName(desc);
    if (isDigest(reference)) {
      if (reference !== desc.digest) throw new ModelshipError('OCI_INVALID_REFERENCE', `cannot tag ${desc.digest} as the different digest ${reference}`);
      // Listed untagged so tools that walk index.json see it.
      await this.updateIndex((manifests) => (manifests.some((m) => m.digest === desc.digest) ? manifests : [...manifests, entry]));
      return;
    }
    const tagged: Descriptor = { ...entry, annotations: { ...entry.annotations, [REF_NAME_ANNOTATION]: reference } };
    await this.updateIndex((manifests) => [
      // The tag moves; an untagged entry of the same digest (a referrer) is kept.
      ...manifests.filter((m) => m.annotations?.[REF_NAME_ANNOTATION] !== reference),
      tagged,
    ]);
  }

  async *tags(): AsyncIterable<string> {
    const index = await this.readIndex();
    const names = new Set<string>();
    for (const m of index.manifests) {
      const tag = m.annotations?.[REF_NAME_ANNOTATION];
      if (tag) names.add(tag);
    }
    yield* [...names].sort();
  }

  async delete(desc: Descriptor): Promise<void> {
    const path = this.blobPath(desc.digest);
    try {
      await unlink(path);
    } catch (err) {
      if (errno(err) === 'ENOENT') throw this.notFound(`blob ${desc.digest}`, { digest: desc.digest });
      throw err;
    }
    if (isManifestMediaType(desc.mediaType)) await this.updateIndex((manifests) => manifests.filter((m) => m.digest !== desc.digest));
  }

  async referrers(subject: Descriptor, artifactType?: string): Promise<Descriptor[]> {
    const index = await this.readIndex();
    const found: Descriptor[] = [];
    const seen = new Set<string>();
    for (const entry of index.manifests) {
      if (seen.has(entry.digest) || !isManifestMediaType(entry.mediaType)) continue;
      seen.add(entry.digest);
      const info = await this.referrerInfo(entry);
      if (!info || info.subject !== subject.digest) continue;
      if (artifactType && info.listed.artifactType !== artifactType) continue;
      found.push(info.listed);
    }
    return found;
  }

  /** The subject a listed manifest names, and how a referrers listing shows it; undefined if its blob is gone. */
  private async referrerInfo(entry: Descriptor): Promise<ReferrerInfo | undefined> {
    const cached = this.subjectCache.get(entry.digest);
    if (cached) return cached;
    const desc = stripRefName(entry);
    let manifest;
    try {
      const bytes = await readAllVerified(await this.fetch(desc), desc, MAX_MANIFEST_BYTES, this.root);
      manifest = parseManifestContent(desc, bytes, `${this.root} (${desc.digest})`);
    } catch (err) {
      if (err instanceof ModelshipError && err.code === 'OCI_NOT_FOUND') return undefined;
      throw err;
    }
    const info: ReferrerInfo = {
      ...(manifest.subject ? { subject: manifest.subject.digest } : {}),
      listed: referrerDescriptor(desc, { ...manifest, ...('config' in manifest ? { config: manifest.config } : {}) }),
    };
    this.subjectCache.set(entry.digest, info);
    return info;
  }
}

interface ReferrerInfo {
  subject?: string;
  listed: Descriptor;
}
