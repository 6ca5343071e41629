/**
 * Copy a graph of manifests and blobs between any two targets (as oras-go's Copy/CopyGraph):
 * children before parents, existing sub-graphs skipped, bounded concurrency, streaming only.
 */
import { Transform, type Readable } from 'node:stream';
import { ModelshipError, describeError, isModelshipError } from '../errors/index.js';
import { silentReporter, type Reporter } from '../progress/index.js';
import { isDigest } from './digest.js';
import { LayoutTarget } from './layout.js';
import { fetchManifest, fetchManifestBytes, successors } from './manifest.js';
import { selectPlatform } from './platform.js';
import { recordReferrer, referrers as listReferrers } from './referrers.js';
import {
  ANNOTATION_TITLE,
  isIndexMediaType,
  isManifestMediaType,
  isMounter,
  isRangeFetcher,
  isWriteLeaser,
  type Content,
  type Descriptor,
  type Platform,
  type ReadOnlyStorage,
  type ReadOnlyTarget,
  type Storage,
  type Target,
} from './types.js';

export const DEFAULT_CONCURRENCY = 3;

export interface CopyGraphOptions {
  /** Transfers at once; undefined means 3. */
  concurrency?: number;
  reporter?: Reporter;
  /** Repositories on the destination's registry that may hold a blob, tried with a cross-repository mount. */
  mountFrom?: (desc: Descriptor) => string[];
  onCopied?: (desc: Descriptor) => void;
  onSkipped?: (desc: Descriptor) => void;
}

export interface CopyOptions extends CopyGraphOptions {
  /** Also copy the manifests that refer to the copied ones (signatures, SBOMs, and theirs), recursively. */
  referrers?: boolean;
  /** From an index, copy only this platform's image (what container tools unpack), tagged in its place. */
  platform?: Platform;
}

export interface CopyResult {
  root: Descriptor;
  copied: number;
  skipped: number;
  mounted: number;
  /** Bytes transferred (skipped and mounted content is not counted). */
  bytes: number;
}

export type CopySide = 'source' | 'destination';

/** A failed copy step; keeps the underlying code (so integrity stays integrity) and says which side failed. */
export class CopyError extends ModelshipError {
  override readonly name = 'CopyError';
  constructor(
    readonly op: string,
    readonly side: CopySide,
    readonly location: string,
    readonly digest: string,
    cause: unknown,
  ) {
    const code = isModelshipError(cause) ? cause.code : 'OCI_COPY_FAILED';
    super(code, `copy failed to ${op} ${digest} at the ${side} ${location}: ${describeError(cause)}`, {
      cause,
      details: { op, side, location, digest, ...(isModelshipError(cause) ? cause.details : {}) },
    });
  }
}

function isAlreadyExists(err: unknown): boolean {
  return isModelshipError(err) && /ALREADY_EXISTS/.test(err.code);
}

/** A counting semaphore: at most `limit` holders at once. */
class Limiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly limit: number) {}
  async run<T>(work: () => Promise<T>): Promise<T> {
    // A released slot is handed straight to the next waiter, so a newcomer cannot slip in between.
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}

/** Wait for every task, then fail with the first failure (nothing keeps running after copy returns). */
async function settleAll(tasks: Promise<void>[]): Promise<void> {
  const results = await Promise.allSettled(tasks);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

function locationOf(target: object): string {
  return (target as { location?: string }).location ?? 'target';
}

function labelOf(desc: Descriptor): string {
  const title = desc.annotations?.[ANNOTATION_TITLE];
  return `${title ?? desc.mediaType} ${desc.digest.slice(desc.digest.indexOf(':') + 1, desc.digest.indexOf(':') + 13)}`;
}

class GraphCopier {
  readonly result = { copied: 0, skipped: 0, mounted: 0, bytes: 0 };
  /** Manifests copied or found, for the referrers walk. */
  readonly manifests: Descriptor[] = [];
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly limiter: Limiter;
  private readonly reporter: Reporter;

  constructor(
    private readonly src: ReadOnlyStorage,
    private readonly dst: Storage,
    private readonly opts: CopyGraphOptions,
  ) {
    const concurrency = opts.concurrency ?? DEFAULT_CONCURRENCY;
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new ModelshipError('USAGE', `concurrency must be a whole number of at least 1, got ${concurrency}`);
    }
    this.limiter = new Limiter(concurrency);
    this.reporter = opts.reporter ?? silentReporter;
  }

  /** Each digest is visited once; a second caller waits for the first. */
  visit(desc: Descriptor): Promise<void> {
    let running = this.inFlight.get(desc.digest);
    if (!running) {
      running = this.copyNode(desc);
      this.inFlight.set(desc.digest, running);
    }
    return running;
  }

  private async step<T>(op: string, side: CopySide, desc: Descriptor, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (err instanceof CopyError) throw err;
      throw new CopyError(op, side, locationOf(side === 'source' ? this.src : this.dst), desc.digest, err);
    }
  }

  /** After the first failure no new transfer starts; running ones finish or fail before copy returns. */
  private failure: unknown;

  private guarded<T>(work: () => Promise<T>): Promise<T> {
    return this.limiter.run(async () => {
      if (this.failure !== undefined) throw this.failure;
      try {
        return await work();
      } catch (err) {
        this.failure ??= err;
        throw err;
      }
    });
  }

  private async copyNode(desc: Descriptor): Promise<void> {
    const exists = await this.guarded(() => this.step('check', 'destination', desc, () => this.dst.exists(desc)));
    if (exists) {
      // The destination has the node, and so (by construction) its whole sub-graph.
      if (isManifestMediaType(desc.mediaType)) this.manifests.push(desc);
      this.reporter.start(desc.digest, labelOf(desc), desc.size);
      this.reporter.finish(desc.digest, 'skipped');
      this.result.skipped++;
      this.opts.onSkipped?.(desc);
      return;
    }
    if (isManifestMediaType(desc.mediaType)) {
      const bytes = await this.guarded(() =>
        this.step('fetch', 'source', desc, () => fetchManifestBytes(this.src, desc, `${locationOf(this.src)} (${desc.digest})`)),
      );
      const children = this.step('read', 'source', desc, async () => successors(desc, bytes, `${locationOf(this.src)} (${desc.digest})`));
      await settleAll((await children).map((child) => this.visit(child)));
      await this.guarded(() => this.pushBytes(desc, bytes));
      this.manifests.push(desc);
      return;
    }
    await this.guarded(() => this.copyBlob(desc));
  }

  private async pushBytes(desc: Descriptor, bytes: Uint8Array): Promise<void> {
    this.reporter.start(desc.digest, labelOf(desc), desc.size);
    await this.pushTo(desc, bytes);
    this.reporter.advance(desc.digest, desc.size);
    this.finishCopied(desc);
  }

  private finishCopied(desc: Descriptor): void {
    this.reporter.finish(desc.digest, 'done');
    this.result.copied++;
    this.result.bytes += desc.size;
    this.opts.onCopied?.(desc);
  }

  private async pushTo(desc: Descriptor, content: Content, sourceFailed: (err: unknown) => boolean = () => false): Promise<void> {
    try {
      await this.dst.push(desc, content);
    } catch (err) {
      if (isAlreadyExists(err)) return;
      if (err instanceof CopyError) throw err;
      const side: CopySide = sourceFailed(err) ? 'source' : 'destination';
      throw new CopyError(side === 'source' ? 'fetch' : 'push', side, locationOf(side === 'source' ? this.src : this.dst), desc.digest, err);
    }
  }

  private async tryMount(desc: Descriptor): Promise<boolean> {
    const dst = this.dst;
    if (!isMounter(dst)) return false;
    const candidates = new Set(this.opts.mountFrom?.(desc) ?? []);
    // A source repository on the same registry is always worth a try.
    if (isMounter(this.src) && this.src.registry === dst.registry && this.src.repository !== dst.repository) candidates.add(this.src.repository);
    for (const repository of candidates) {
      if (repository === dst.repository) continue;
      const mounted = await this.step('mount', 'destination', desc, () => dst.mount(desc, repository)).catch(() => false);
      if (mounted) return true;
    }
    return false;
  }

  private async copyBlob(desc: Descriptor): Promise<void> {
    this.reporter.start(desc.digest, labelOf(desc), desc.size);
    try {
      if (await this.tryMount(desc)) {
        this.reporter.finish(desc.digest, 'mounted');
        this.result.mounted++;
        return;
      }
      let failedAtSource = false;
      const counted = (stream: Readable): Readable => {
        stream.on('error', () => {
          failedAtSource = true;
        });
        const reporter = this.reporter;
        const meter = new Transform({
          highWaterMark: 1024 * 1024,
          transform(chunk: Buffer, _encoding, callback) {
            reporter.advance(desc.digest, chunk.length);
            callback(null, chunk);
          },
        });
        stream.on('error', (err) => meter.destroy(err));
        return stream.pipe(meter);
      };
      const src = this.src;
      // Every destination (layout, registry, memory) verifies size and digest as it takes the bytes, so a
      // local layout is read raw: the blob is hashed once, not on both sides. (A registry's own fetch stays:
      // it resumes a dropped download.)
      const raw = src instanceof LayoutTarget;
      const content: Content = isRangeFetcher(src)
        ? // Reopenable, so an interrupted upload resumes from the offset the registry kept.
          { open: async (offset: number) => counted(offset === 0 && !raw ? await this.fetchBlob(desc) : await this.step('fetch', 'source', desc, () => src.fetchFrom(desc, offset))) }
        : counted(await this.fetchBlob(desc));
      // Bytes read raw that fail the destination's check were wrong at the source.
      await this.pushTo(desc, content, (err) => failedAtSource || (raw && isModelshipError(err) && (err.code === 'OCI_DIGEST_MISMATCH' || err.code === 'OCI_SIZE_MISMATCH')));
      this.finishCopied(desc);
    } catch (err) {
      this.reporter.finish(desc.digest, 'failed');
      throw err;
    }
  }

  private fetchBlob(desc: Descriptor): Promise<Readable> {
    return this.step('fetch', 'source', desc, () => this.src.fetch(desc));
  }
}

/** Copy the graph rooted at `root` from `src` into `dst`. */
export async function copyGraph(src: ReadOnlyStorage, dst: Storage, root: Descriptor, opts: CopyGraphOptions = {}): Promise<CopyResult> {
  const copier = new GraphCopier(src, dst, opts);
  await copier.visit(root);
  return { root, ...copier.result };
}

/**
 * Resolve `srcRef` on `src`, copy its graph to `dst` by digest, then (with `referrers`) the referrers graph,
 * recorded through referrers.ts, and tag it `dstRef` last, so a tag never names incomplete or unsigned content.
 */
export async function copy(src: ReadOnlyTarget, srcRef: string, dst: Target, dstRef: string, opts: CopyOptions = {}): Promise<CopyResult> {
  // Under a write lease, a concurrent prune spares what is copied until the tag is written.
  return isWriteLeaser(dst) ? dst.hold(() => copyUnderLease(src, srcRef, dst, dstRef, opts)) : copyUnderLease(src, srcRef, dst, dstRef, opts);
}

async function copyUnderLease(src: ReadOnlyTarget, srcRef: string, dst: Target, dstRef: string, opts: CopyOptions): Promise<CopyResult> {
  const resolved = await src.resolve(srcRef).catch((err: unknown) => {
    throw new CopyError('resolve', 'source', src.location, srcRef, err);
  });
  const root = opts.platform ? await selectPlatform(src, resolved, opts.platform, `${src.location} (${srcRef})`) : resolved;
  if (isDigest(dstRef) && dstRef !== root.digest) {
    throw new ModelshipError('OCI_INVALID_REFERENCE', `destination digest ${dstRef} differs from the source's ${root.digest}; give a tag or the same digest`);
  }
  const copier = new GraphCopier(src, dst, opts);
  await copier.visit(root);
  // Signatures, SBOM and MOF report land before the tag: a push cut short never leaves the tag on an unsigned artifact.
  if (opts.referrers) await copyReferrers(src, dst, copier, [...copier.manifests]);
  await dst.tag(root, dstRef).catch((err: unknown) => {
    if (!isAlreadyExists(err)) throw new CopyError('tag', 'destination', dst.location, root.digest, err);
  });
  return { root, ...copier.result };
}

/** The manifests an index lists, read from the source: an index found at the destination was not walked. */
async function indexChildren(src: ReadOnlyTarget, desc: Descriptor): Promise<Descriptor[]> {
  if (!isIndexMediaType(desc.mediaType)) return [];
  const parsed = await fetchManifest(src, desc, `${src.location} (${desc.digest})`).catch((err: unknown) => {
    throw new CopyError('fetch', 'source', src.location, desc.digest, err);
  });
  return 'manifests' in parsed ? parsed.manifests.filter((m) => isManifestMediaType(m.mediaType)) : [];
}

/**
 * Walk referrers breadth-first (signatures of SBOMs of the model…), copying each graph and recording it on dst.
 * Every manifest of an index is a subject too, whether or not the index was already there.
 */
async function copyReferrers(src: ReadOnlyTarget, dst: Target, copier: GraphCopier, subjects: Descriptor[]): Promise<void> {
  const done = new Set<string>();
  let queue = subjects;
  while (queue.length) {
    const next: Descriptor[] = [];
    for (const subject of queue) {
      if (done.has(subject.digest)) continue;
      done.add(subject.digest);
      next.push(...(await indexChildren(src, subject)));
      const found = await listReferrers(src, subject).catch((err: unknown) => {
        throw new CopyError('list referrers of', 'source', src.location, subject.digest, err);
      });
      for (const referrer of found) {
        await copier.visit(referrer);
        await recordReferrer(dst, subject, referrer).catch((err: unknown) => {
          throw new CopyError('record referrer', 'destination', dst.location, referrer.digest, err);
        });
        next.push(referrer);
      }
    }
    queue = next;
  }
}
