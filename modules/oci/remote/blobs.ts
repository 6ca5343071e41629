/**
 * Blobs on a registry: HEAD, GET verified as it streams and resumed with `Range` when the
 * connection drops, uploads monolithic (one streamed PUT) or chunked (PATCH + PUT, resumed from
 * the offset the registry reports), and cross-repository mounts.
 */
import type { Hash } from 'node:crypto';
import { Readable } from 'node:stream';
import { ModelshipError, isModelshipError } from '../../errors/index.js';
import { hasherFor } from '../digest.js';
import { digestMismatch, sizeMismatch, verifyBytes, verifyingStream } from '../verify.js';
import type { Content, Descriptor, ReopenableContent } from '../types.js';
import { repositoryScope } from './auth.js';
import { RegistryError, isRegistryError, redactUrl } from './errors.js';
import type { RegistrySession } from './session.js';
import { discard, isRetryableNetworkError, type WireResponse } from './transport.js';

export type UploadMode = 'auto' | 'monolithic' | 'chunked';

export interface BlobContext {
  session: RegistrySession;
  repository: string;
  uploadMode: UploadMode;
  /** Bytes per PATCH; in 'auto' mode blobs larger than this go up chunked. */
  chunkSize: number;
  /** Tries for a download or an upload, the first included. */
  attempts: number;
}

// Large chunks keep round trips few (PATCH costs the registry a hash-state save); a cut-off upload resumes from the last one.
export const DEFAULT_CHUNK_SIZE = 256 * 1024 * 1024;

function blobPath(ctx: BlobContext, digest: string): string {
  return `/v2/${ctx.repository}/blobs/${digest}`;
}

function where(ctx: BlobContext): string {
  return `${ctx.session.client.registry}/${ctx.repository}`;
}

export async function blobExists(ctx: BlobContext, desc: Descriptor): Promise<boolean> {
  const res = await ctx.session.client.send({
    method: 'HEAD',
    url: blobPath(ctx, desc.digest),
    scopes: [repositoryScope(ctx.repository, 'pull')],
    expect: [200, 404],
    context: `check blob ${desc.digest}`,
  });
  discard(res.body);
  return res.status === 200;
}

export async function deleteBlob(ctx: BlobContext, desc: Descriptor): Promise<void> {
  const res = await ctx.session.client.send({
    method: 'DELETE',
    url: blobPath(ctx, desc.digest),
    scopes: [repositoryScope(ctx.repository, 'delete')],
    expect: [202, 200],
    context: `delete blob ${desc.digest}`,
  });
  discard(res.body);
}

async function openBlobAt(ctx: BlobContext, desc: Descriptor, offset: number): Promise<WireResponse> {
  return ctx.session.client.send({
    method: 'GET',
    url: blobPath(ctx, desc.digest),
    headers: offset > 0 ? { Range: `bytes=${offset}-` } : {},
    scopes: [repositoryScope(ctx.repository, 'pull')],
    expect: offset > 0 ? [200, 206] : [200],
    context: `fetch blob ${desc.digest}`,
  });
}

/** Bytes from `offset` to the end, unverified (the caller hashes the whole). */
export async function fetchBlobFrom(ctx: BlobContext, desc: Descriptor, offset: number): Promise<Readable> {
  const res = await openBlobAt(ctx, desc, offset);
  return res.status === 206 || offset === 0 ? res.body : skipBytes(res.body, offset);
}

function skipBytes(body: Readable, count: number): Readable {
  return Readable.from(
    (async function* () {
      let skip = count;
      for await (const chunk of body) {
        const b = chunk as Buffer;
        if (skip >= b.length) {
          skip -= b.length;
          continue;
        }
        yield skip ? b.subarray(skip) : b;
        skip = 0;
      }
    })(),
    { objectMode: false },
  );
}

/**
 * The blob as a stream verified against size and digest; a dropped connection resumes with
 * `Range: bytes=N-` and the hash carries on across the resume, so each byte is hashed once.
 */
export async function fetchBlob(ctx: BlobContext, desc: Descriptor): Promise<Readable> {
  const from = where(ctx);
  const first = await openBlobAt(ctx, desc, 0);
  const length = first.headers['content-length'];
  if (length !== undefined && Number(length) !== desc.size) {
    first.body.destroy();
    throw sizeMismatch(desc, length, from);
  }
  const hash = hasherFor(desc.digest);
  const reporter = ctx.session.client.reporter;
  async function* verified(): AsyncGenerator<Buffer> {
    let res = first;
    let offset = 0;
    let resumes = 0;
    try {
      for (;;) {
        let skip = res.status === 200 ? offset : 0;
        try {
          for await (const chunk of res.body) {
            let b = chunk as Buffer;
            if (skip) {
              if (b.length <= skip) {
                skip -= b.length;
                continue;
              }
              b = b.subarray(skip);
              skip = 0;
            }
            if (offset + b.length > desc.size) throw sizeMismatch(desc, `more than ${desc.size}`, from);
            hash.update(b);
            offset += b.length;
            yield b;
          }
          if (offset === desc.size) break;
          throw Object.assign(new Error(`connection closed after ${offset} of ${desc.size} bytes`), { code: 'ECONNRESET' });
        } catch (err) {
          if (isModelshipError(err) && err.code !== 'OCI_NETWORK') throw err;
          if (++resumes >= ctx.attempts) {
            throw new ModelshipError('OCI_NETWORK', `download of ${desc.digest} from ${from} failed after ${resumes} tries at byte ${offset} of ${desc.size}: ${(err as Error).message}; try again`, {
              cause: err,
            });
          }
          res.body.destroy();
          reporter.note(`download of ${desc.digest} interrupted at byte ${offset}; resuming`);
          res = await openBlobAt(ctx, desc, offset);
        }
      }
    } finally {
      // A reader that stops early must not leave the socket half read.
      if (!res.body.readableEnded) res.body.destroy();
    }
    const actual = `${desc.digest.slice(0, desc.digest.indexOf(':'))}:${hash.digest('hex')}`;
    if (actual !== desc.digest) throw digestMismatch(desc, actual, from);
  }
  return Readable.from(verified(), { objectMode: false });
}

/** Mount `desc` from `fromRepository` on the same registry; false (and the upload cancelled) when the registry answers 202. */
export async function mountBlob(ctx: BlobContext, desc: Descriptor, fromRepository: string): Promise<boolean> {
  const client = ctx.session.client;
  const query = new URLSearchParams({ mount: desc.digest, from: fromRepository });
  const res = await client.send({
    method: 'POST',
    url: `/v2/${ctx.repository}/blobs/uploads/?${query}`,
    headers: { 'Content-Length': '0' },
    scopes: [repositoryScope(ctx.repository, 'push'), repositoryScope(fromRepository, 'pull')],
    expect: [201, 202],
    context: `mount blob ${desc.digest} from ${fromRepository}`,
  });
  discard(res.body);
  if (res.status === 201) return true;
  if (res.headers.location) await cancelUpload(ctx, new URL(res.headers.location, res.url));
  return false;
}

/** Push a blob, choosing the upload style for this registry; the content is verified on the way. */
export async function pushBlob(ctx: BlobContext, desc: Descriptor, content: Content): Promise<void> {
  if (content instanceof Uint8Array) {
    verifyBytes(desc, content, 'the content given');
  }
  const reopen = reopenable(content);
  const mode = chooseMode(ctx, desc);
  if (mode === 'chunked') {
    try {
      await uploadChunked(ctx, desc, content, reopen);
      return;
    } catch (err) {
      if (!(err instanceof ChunkedUploadRejected)) throw err;
      ctx.session.chunkedRejected = true;
      ctx.session.client.reporter.note(`${ctx.session.client.registry} refused a chunked upload (${err.message}); using monolithic uploads`);
      if (!reopen) {
        throw new ModelshipError('OCI_UNSUPPORTED', `${where(ctx)} refused a chunked upload of ${desc.digest} and the content cannot be read again; push it again (monolithic uploads are now used for this registry)`, { cause: err.cause });
      }
      content = reopen;
    }
  }
  await uploadMonolithic(ctx, desc, content, reopen);
}

function chooseMode(ctx: BlobContext, desc: Descriptor): 'monolithic' | 'chunked' {
  if (ctx.uploadMode === 'monolithic') return 'monolithic';
  if (ctx.uploadMode === 'chunked') return ctx.session.chunkedRejected ? 'monolithic' : 'chunked';
  return !ctx.session.chunkedRejected && desc.size > ctx.chunkSize ? 'chunked' : 'monolithic';
}

function reopenable(content: Content): ReopenableContent | undefined {
  if (content instanceof Uint8Array) {
    const bytes = Buffer.from(content.buffer, content.byteOffset, content.byteLength);
    return { open: async (offset) => Readable.from([bytes.subarray(offset)], { objectMode: false }) };
  }
  if (content instanceof Readable) return undefined;
  return content;
}

class ChunkedUploadRejected extends Error {}

async function startUpload(ctx: BlobContext, desc: Descriptor): Promise<URL> {
  const res = await ctx.session.client.send({
    method: 'POST',
    url: `/v2/${ctx.repository}/blobs/uploads/`,
    headers: { 'Content-Length': '0' },
    scopes: [repositoryScope(ctx.repository, 'push')],
    expect: [202],
    context: `start upload of ${desc.digest}`,
  });
  discard(res.body);
  return uploadLocation(res, `start upload of ${desc.digest}`);
}

function uploadLocation(res: WireResponse, what: string): URL {
  const location = res.headers.location;
  if (!location) throw new ModelshipError('OCI_REGISTRY', `${what}: ${redactUrl(res.url)} answered ${res.status} without a Location header; the registry is not distribution-compliant`);
  // Location may be relative to the request (distribution-spec allows both forms).
  return new URL(location, res.url);
}

async function cancelUpload(ctx: BlobContext, location: URL): Promise<void> {
  try {
    const res = await ctx.session.client.send({ method: 'DELETE', url: location, scopes: [repositoryScope(ctx.repository, 'push')], expect: [204, 200, 202, 404], retry: false });
    discard(res.body);
  } catch {
    // Best effort: the registry expires abandoned uploads on its own.
  }
}

function withDigest(location: URL, digest: string): URL {
  const url = new URL(location);
  url.searchParams.set('digest', digest);
  return url;
}

function finishedDigest(res: WireResponse, desc: Descriptor, from: string): void {
  const answered = res.headers['docker-content-digest'];
  if (typeof answered === 'string' && answered !== desc.digest) throw digestMismatch(desc, answered, from);
}

/** One POST and one streamed PUT; an interrupted PUT starts over from a reopened source. */
async function uploadMonolithic(ctx: BlobContext, desc: Descriptor, content: Content, reopen: ReopenableContent | undefined): Promise<void> {
  const client = ctx.session.client;
  const from = where(ctx);
  for (let attempt = 1; ; attempt++) {
    const location = await startUpload(ctx, desc);
    let body: Uint8Array | Readable;
    if (content instanceof Uint8Array) body = content;
    else {
      const source = attempt === 1 && content instanceof Readable ? content : await reopen!.open(0);
      const verifier = verifyingStream(desc, 'the content being pushed');
      source.on('error', (err) => verifier.destroy(err));
      body = source.pipe(verifier);
    }
    try {
      const res = await client.send({
        method: 'PUT',
        url: withDigest(location, desc.digest),
        headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(desc.size) },
        body,
        scopes: [repositoryScope(ctx.repository, 'push')],
        expect: [201],
        context: `push blob ${desc.digest}`,
      });
      discard(res.body);
      finishedDigest(res, desc, from);
      return;
    } catch (err) {
      if (body instanceof Readable) body.destroy();
      if (!isInterruption(err) || !reopen || attempt >= ctx.attempts) throw err;
      await cancelUpload(ctx, location);
      client.reporter.note(`upload of ${desc.digest} to ${from} was interrupted; starting it again`);
    }
  }
}

/** A failure the resume logic may answer: a dropped connection or an overloaded registry. */
function isInterruption(err: unknown): boolean {
  if (isRetryableNetworkError(err)) return true;
  return isRegistryError(err) && (err.status === 429 || err.status >= 500);
}

/** Upload state as the registry reports it: `GET <location>` → 204 with `Range: 0-<last>`. */
async function uploadStatus(ctx: BlobContext, location: URL): Promise<{ location: URL; received: number } | undefined> {
  try {
    const res = await ctx.session.client.send({ method: 'GET', url: location, scopes: [repositoryScope(ctx.repository, 'push')], expect: [204, 200], context: 'upload status' });
    discard(res.body);
    const range = /^(?:bytes=)?0-(\d+)$/.exec(String(res.headers.range ?? ''));
    const received = range ? Number(range[1]) + 1 : 0;
    return { location: res.headers.location ? new URL(res.headers.location, res.url) : location, received };
  } catch (err) {
    // The registry lost or refused the session: the caller starts a new one.
    if (isRegistryError(err) && err.status < 500 && err.status !== 401 && err.status !== 403) return undefined;
    throw err;
  }
}

/**
 * PATCH chunks then PUT. When a chunk is cut off, ask the registry how much it holds and go on
 * from there with the hash state saved at that boundary; start over only if the registry lost track.
 */
async function uploadChunked(ctx: BlobContext, desc: Descriptor, content: Content, reopen: ReopenableContent | undefined): Promise<void> {
  const client = ctx.session.client;
  const from = where(ctx);
  let location = await startUpload(ctx, desc);
  let offset = 0;
  let hash: Hash = hasherFor(desc.digest);
  let source = content instanceof Readable ? content : await reopen!.open(0);
  let reader = new ChunkReader(source);
  let interruptions = 0;
  while (offset < desc.size) {
    const length = Math.min(ctx.chunkSize, desc.size - offset);
    const atBoundary = hash.copy();
    const body = reader.take(length, (chunk) => hash.update(chunk), () => sizeMismatch(desc, `fewer than ${desc.size}`, 'the content being pushed'));
    try {
      const res = await client.send({
        method: 'PATCH',
        url: location,
        headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(length), 'Content-Range': `${offset}-${offset + length - 1}` },
        body,
        scopes: [repositoryScope(ctx.repository, 'push')],
        expect: [202],
        context: `push blob ${desc.digest} (bytes ${offset}-${offset + length - 1})`,
      });
      discard(res.body);
      location = uploadLocation(res, `push blob ${desc.digest}`);
      offset += length;
    } catch (err) {
      body.destroy();
      if (offset === 0 && isRegistryError(err) && refusesChunks(err)) {
        await cancelUpload(ctx, location);
        throw new ChunkedUploadRejected(`${err.method} answered ${err.status}`, { cause: err });
      }
      if (!isInterruption(err) || !reopen || ++interruptions >= ctx.attempts) throw err;
      const status = await uploadStatus(ctx, location);
      source.destroy();
      if (status && status.received === offset) {
        // The registry kept every byte up to the last acknowledged chunk: go on from there.
        client.reporter.note(`upload of ${desc.digest} interrupted; resuming at byte ${offset} as the registry reports`);
        location = status.location;
        hash = atBoundary;
      } else {
        client.reporter.note(`upload of ${desc.digest} interrupted and the registry lost its state; starting again`);
        if (status) await cancelUpload(ctx, status.location);
        location = await startUpload(ctx, desc);
        offset = 0;
        hash = hasherFor(desc.digest);
      }
      source = await reopen.open(offset);
      reader = new ChunkReader(source);
    }
  }
  if (!(await reader.atEnd())) {
    source.destroy();
    await cancelUpload(ctx, location);
    throw sizeMismatch(desc, `more than ${desc.size}`, 'the content being pushed');
  }
  const actual = `${desc.digest.slice(0, desc.digest.indexOf(':'))}:${hash.digest('hex')}`;
  if (actual !== desc.digest) {
    await cancelUpload(ctx, location);
    throw digestMismatch(desc, actual, 'the content being pushed');
  }
  const res = await client.send({
    method: 'PUT',
    url: withDigest(location, desc.digest),
    headers: { 'Content-Length': '0' },
    scopes: [repositoryScope(ctx.repository, 'push')],
    expect: [201],
    context: `finish upload of ${desc.digest}`,
  });
  discard(res.body);
  finishedDigest(res, desc, from);
}

/** Answers by which a registry says it does not do PATCH uploads (ECR, GAR over limits, proxies). */
function refusesChunks(err: RegistryError): boolean {
  return err.status === 400 || err.status === 404 || err.status === 405 || err.status === 411 || err.status === 413 || err.status === 416 || err.status === 501;
}

/** Cuts one stream into consecutive bodies of exact lengths without copying or buffering more than a chunk's read. */
class ChunkReader {
  private readonly iterator: AsyncIterator<Buffer>;
  private leftover: Buffer | undefined;

  constructor(source: Readable) {
    this.iterator = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }

  take(length: number, onChunk: (chunk: Buffer) => void, short: () => Error): Readable {
    const next = () => this.next();
    const keep = (rest: Buffer) => {
      this.leftover = rest;
    };
    return Readable.from(
      (async function* () {
        let remaining = length;
        while (remaining > 0) {
          let chunk = await next();
          if (!chunk) throw short();
          if (chunk.length > remaining) {
            keep(chunk.subarray(remaining));
            chunk = chunk.subarray(0, remaining);
          }
          remaining -= chunk.length;
          onChunk(chunk);
          yield chunk;
        }
      })(),
      { objectMode: false },
    );
  }

  async atEnd(): Promise<boolean> {
    return (await this.next()) === undefined;
  }

  private async next(): Promise<Buffer | undefined> {
    if (this.leftover) {
      const chunk = this.leftover;
      this.leftover = undefined;
      return chunk;
    }
    const { value, done } = await this.iterator.next();
    if (done) return undefined;
    const bytes = value as Uint8Array;
    return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
}
