/**
 * One Hub file streamed straight into the store as a blob: hashed as it arrives (the LFS SHA-256 the
 * listing gave is the digest to reach; a git-stored file is checked against its git blob id), resumed
 * with an HTTP Range request when the connection is cut, and renamed into the store only once verified.
 */
import { createHash, type Hash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { get as httpGet, type IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeError, isModelshipError, ModelshipError } from '../errors/index.js';
import { ingestFilled } from '../modelpack/ingest.js';
import type { Descriptor, Target } from '../oci/types.js';
import { authHeaders, hubRefusal, type HubConnection, type HubFile } from './client.js';

export interface DownloadOptions {
  conn: HubConnection;
  repo: string;
  sha: string;
  onBytes?: (bytes: number) => void;
  /** Tries per file before giving up; each resumes where the last one was cut. */
  attempts?: number;
  /** Pause before the second try, doubled for each further one. */
  retryDelayMs?: number;
}

export interface Downloaded {
  descriptor: Descriptor;
  /** False when the store already held the blob (an LFS digest is known before downloading). */
  downloaded: boolean;
  /** Times the download was resumed with a Range request. */
  resumed: number;
}

/** `/ORG/NAME/resolve/SHA/PATH`, each path segment encoded. */
export function resolveUrl(conn: HubConnection, repo: string, sha: string, path: string): string {
  return `${conn.endpoint}/${repo}/resolve/${sha}/${path.split('/').map(encodeURIComponent).join('/')}`;
}

/** A failure worth another try from where the bytes stopped (a cut connection, a 5xx), as opposed to a refusal. */
class Retryable extends Error {}

interface Opened {
  body: Readable;
  /** True when the server sent the whole file again although a range was asked: start over. */
  restart: boolean;
}

function etagHex(value: string | null): string | undefined {
  return value?.replace(/^W\//, '').replace(/"/g, '').trim().toLowerCase() || undefined;
}

/** The resolve URL without following the CDN redirect, so the Hub's headers can be checked first. */
async function openAt(file: HubFile, opts: DownloadOptions, offset: number): Promise<Opened> {
  const { conn, repo, sha } = opts;
  const doFetch = conn.fetch ?? fetch;
  const first = resolveUrl(conn, repo, sha, file.path);
  const range: Record<string, string> = offset > 0 ? { range: `bytes=${offset}-` } : {};
  const res = await doFetch(first, { redirect: 'manual', headers: { ...authHeaders(conn, first), ...range } }).catch((err: unknown) => {
    throw new Retryable(`GET ${first}: ${describeError(err)}`, { cause: err });
  });
  const commit = res.headers.get('x-repo-commit');
  if (commit && commit !== sha) {
    throw new ModelshipError('HF_COMMIT_MISMATCH', `${first} was served from commit ${commit}, not ${sha}: the endpoint does not honour the pinned commit; nothing was stored`, { details: { url: first, commit, expected: sha } });
  }
  const linked = etagHex(res.headers.get('x-linked-etag'));
  if (file.lfsSha256 && linked && /^[0-9a-f]{64}$/.test(linked) && `sha256:${linked}` !== file.lfsSha256) {
    throw new ModelshipError('HF_DIGEST_MISMATCH', `${file.path}: the Hub's X-Linked-Etag says sha256:${linked} but the file list says ${file.lfsSha256}; nothing was stored`, { details: { path: file.path, expected: file.lfsSha256, actual: `sha256:${linked}` } });
  }
  const linkedSize = res.headers.get('x-linked-size');
  if (file.lfsSha256 && linkedSize && Number(linkedSize) !== file.size) {
    throw new ModelshipError('HF_SIZE_MISMATCH', `${file.path}: the Hub's X-Linked-Size is ${linkedSize} bytes but the file list says ${file.size}; nothing was stored`, { details: { path: file.path } });
  }
  if (res.status >= 300 && res.status < 400) {
    const location = res.headers.get('location');
    await res.body?.cancel().catch(() => {});
    if (!location) throw new ModelshipError('HF_INVALID_RESPONSE', `${first} answered ${res.status} without a Location to follow`);
    // The weights come from the CDN through node's own http client: a third of fetch's CPU per byte.
    return openCdn(file, opts, new URL(location, first), offset);
  }
  if (res.status >= 500 || res.status === 408 || res.status === 429) {
    await res.body?.cancel().catch(() => {});
    throw new Retryable(`${first} answered ${res.status}`);
  }
  if (!res.ok) throw await hubRefusal(res, conn, repo, `downloading ${file.path}`);
  if (!res.body) throw new Retryable(`${first} sent no body`);
  const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
  return checkRange(file, body, res.status, res.headers.get('content-range'), first, offset);
}

function checkRange(file: HubFile, body: Readable, status: number, contentRange: string | null | undefined, url: string, offset: number): Opened {
  if (offset > 0 && status === 206) {
    const start = /^bytes (\d+)-/.exec(contentRange ?? '');
    if (!start || Number(start[1]) !== offset) {
      body.destroy();
      throw new ModelshipError('HF_INVALID_RESPONSE', `${url} answered a range of ${file.path} from byte ${offset} with Content-Range "${contentRange}"`);
    }
    return { body, restart: false };
  }
  return { body, restart: offset > 0 };
}

/** GET on the CDN, following its own redirects; the token goes only where the Hub is. */
async function openCdn(file: HubFile, opts: DownloadOptions, url: URL, offset: number, hops = 0): Promise<Opened> {
  const headers: Record<string, string> = { ...authHeaders(opts.conn, url.href), ...(offset > 0 ? { range: `bytes=${offset}-` } : {}) };
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = (url.protocol === 'https:' ? httpsGet : httpGet)(url, { headers }, resolve);
    req.once('error', (err) => reject(new Retryable(`GET ${url.origin}${url.pathname}: ${describeError(err)}`, { cause: err })));
  });
  const status = res.statusCode ?? 0;
  if (status >= 300 && status < 400 && res.headers.location && hops < 5) {
    res.resume();
    return openCdn(file, opts, new URL(res.headers.location, url), offset, hops + 1);
  }
  if (status >= 500 || status === 408 || status === 429) {
    res.resume();
    throw new Retryable(`${url.origin}${url.pathname} answered ${status}`);
  }
  if (status < 200 || status >= 300) {
    const text = await new Promise<string>((resolve) => {
      let t = '';
      res.setEncoding('utf8').on('data', (c: string) => (t += c.slice(0, 1000))).once('end', () => resolve(t)).once('error', () => resolve(t));
    });
    const headersOf = new Headers(Object.entries(res.headers).flatMap(([k, v]) => (typeof v === 'string' ? [[k, v] as [string, string]] : [])));
    throw await hubRefusal(new Response(text, { status, headers: headersOf }), opts.conn, opts.repo, `downloading ${file.path} from ${url.origin}`);
  }
  return checkRange(file, res, status, res.headers['content-range'], `${url.origin}${url.pathname}`, offset);
}

function gitBlobHash(size: number): Hash {
  return createHash('sha1').update(`blob ${size}\0`);
}

interface Progress {
  sha256: Hash;
  git: Hash | undefined;
  /** Bytes written to the temp file and hashed, in order. */
  written: number;
}

/**
 * Where the body goes: written at its offset, then hashed, so a cut leaves the file and the hash at
 * the same byte. Chunks that queue while a write runs go out in one writev, so the network is read
 * while the disk writes.
 */
function sink(fh: FileHandle, file: HubFile, at: Progress, onBytes?: (n: number) => void): Writable {
  const take = async (chunks: Buffer[]) => {
    const length = chunks.reduce((n, c) => n + c.length, 0);
    if (at.written + length > file.size) {
      throw new ModelshipError('HF_SIZE_MISMATCH', `${file.path}: the download is longer than the ${file.size} bytes the file list says; nothing was stored`, { details: { path: file.path } });
    }
    await fh.writev(chunks, at.written);
    for (const c of chunks) {
      at.sha256.update(c);
      at.git?.update(c);
    }
    at.written += length;
    onBytes?.(length);
  };
  return new Writable({
    highWaterMark: 8 * 1024 * 1024,
    write(chunk: Buffer, _enc, cb) {
      take([chunk]).then(() => cb(), cb);
    },
    writev(entries, cb) {
      take(entries.map((e) => e.chunk as Buffer)).then(() => cb(), cb);
    },
  });
}

/** Writes the file to `tmp`, resuming after cuts, and returns its digest once every check passed. */
async function fetchInto(tmp: string, file: HubFile, opts: DownloadOptions, counters: { resumed: number }): Promise<{ digest: string; size: number }> {
  const attempts = opts.attempts ?? 5;
  const fh = await open(tmp, 'wx');
  const fresh = (): Progress => ({ sha256: createHash('sha256'), git: file.gitOid ? gitBlobHash(file.size) : undefined, written: 0 });
  let at = fresh();
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        if (at.written > 0) counters.resumed++;
        const opened = await openAt(file, opts, at.written);
        if (opened.restart) {
          // The server ignored the range: what was written is dropped and counted again.
          opts.onBytes?.(-at.written);
          at = fresh();
          await fh.truncate(0);
        }
        try {
          await pipeline(opened.body, sink(fh, file, at, opts.onBytes));
        } catch (err) {
          if (isModelshipError(err)) throw err;
          throw new Retryable(`${file.path} cut at byte ${at.written} of ${file.size}: ${describeError(err)}`, { cause: err });
        }
        if (at.written < file.size) throw new Retryable(`${file.path} ended at byte ${at.written} of ${file.size}`);
        break;
      } catch (err) {
        if (!(err instanceof Retryable)) throw err;
        if (attempt >= attempts) {
          throw new ModelshipError('HF_NETWORK', `${file.path}: the download failed ${attempts} times (${err.message}); run the import again`, { cause: err, details: { path: file.path, bytes: at.written } });
        }
        await sleep((opts.retryDelayMs ?? 500) * 2 ** (attempt - 1));
      }
    }
  } finally {
    await fh.close();
  }
  const digest = `sha256:${at.sha256.digest('hex')}`;
  if (file.lfsSha256 && digest !== file.lfsSha256) {
    throw new ModelshipError('HF_DIGEST_MISMATCH', `${file.path}: the downloaded bytes have ${digest} but the Hub lists SHA-256 ${file.lfsSha256}; nothing was stored`, { details: { path: file.path, expected: file.lfsSha256, actual: digest } });
  }
  if (at.git && file.gitOid) {
    const oid = at.git.digest('hex');
    if (oid !== file.gitOid) {
      throw new ModelshipError('HF_DIGEST_MISMATCH', `${file.path}: the downloaded bytes have git blob id ${oid} but the Hub lists ${file.gitOid}; nothing was stored`, { details: { path: file.path, expected: file.gitOid, actual: oid } });
    }
  }
  return { digest, size: at.written };
}

/** Stores `file` as a blob (skipped when an LFS file's digest is already stored); nothing is left behind on failure. */
export async function downloadToStore(store: Target, file: HubFile, opts: DownloadOptions): Promise<Downloaded> {
  if (file.lfsSha256) {
    const known: Descriptor = { mediaType: 'application/octet-stream', digest: file.lfsSha256, size: file.size };
    if (await store.exists(known)) return { descriptor: known, downloaded: false, resumed: 0 };
  }
  const counters = { resumed: 0 };
  const descriptor = await ingestFilled(store, 'application/octet-stream', (tmp) => fetchInto(tmp, file, opts, counters));
  return { descriptor, downloaded: true, resumed: counters.resumed };
}
