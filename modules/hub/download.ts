/**
 * One Hub file streamed straight into the store as a blob: hashed as it arrives (the LFS SHA-256 the
 * listing gave is the digest to reach; a git-stored file is checked against its git blob id), resumed
 * with an HTTP Range request when the connection is cut, and renamed into the store only once verified.
 */
import { createHash, type Hash } from 'node:crypto';
import { open } from 'node:fs/promises';
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
  body: AsyncIterable<Uint8Array>;
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
  let res: Response;
  try {
    res = await doFetch(first, { redirect: 'manual', headers: { ...authHeaders(conn, first), ...range } });
  } catch (err) {
    throw new Retryable(`GET ${first}: ${describeError(err)}`, { cause: err });
  }
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
    const next = new URL(location, first).href;
    try {
      res = await doFetch(next, { redirect: 'follow', headers: { ...authHeaders(conn, next), ...range } });
    } catch (err) {
      throw new Retryable(`GET ${next}: ${describeError(err)}`, { cause: err });
    }
  }
  if (res.status >= 500 || res.status === 408 || res.status === 429) {
    await res.body?.cancel().catch(() => {});
    throw new Retryable(`${res.url} answered ${res.status}`);
  }
  if (!res.ok) throw await hubRefusal(res, conn, repo, `downloading ${file.path}`);
  if (!res.body) throw new Retryable(`${res.url} sent no body`);
  if (offset > 0 && res.status === 206) {
    const start = /^bytes (\d+)-/.exec(res.headers.get('content-range') ?? '');
    if (!start || Number(start[1]) !== offset) {
      await res.body.cancel().catch(() => {});
      throw new ModelshipError('HF_INVALID_RESPONSE', `${res.url} answered a range from byte ${offset} with Content-Range "${res.headers.get('content-range')}"`);
    }
    return { body: res.body, restart: false };
  }
  return { body: res.body, restart: offset > 0 };
}

function gitBlobHash(size: number): Hash {
  return createHash('sha1').update(`blob ${size}\0`);
}

/** Writes the file to `tmp`, resuming after cuts, and returns its digest once every check passed. */
async function fetchInto(tmp: string, file: HubFile, opts: DownloadOptions, counters: { resumed: number }): Promise<{ digest: string; size: number }> {
  const attempts = opts.attempts ?? 5;
  const fh = await open(tmp, 'wx');
  let sha256 = createHash('sha256');
  let git = file.gitOid ? gitBlobHash(file.size) : undefined;
  let written = 0;
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        if (written > 0) counters.resumed++;
        const opened = await openAt(file, opts, written);
        if (opened.restart) {
          // The server ignored the range: what was written is dropped and counted again.
          opts.onBytes?.(-written);
          sha256 = createHash('sha256');
          git = file.gitOid ? gitBlobHash(file.size) : undefined;
          written = 0;
          await fh.truncate(0);
        }
        try {
          for await (const chunk of opened.body) {
            if (written + chunk.length > file.size) {
              throw new ModelshipError('HF_SIZE_MISMATCH', `${file.path}: the download is longer than the ${file.size} bytes the file list says; nothing was stored`, { details: { path: file.path } });
            }
            sha256.update(chunk);
            git?.update(chunk);
            await fh.write(chunk, 0, chunk.length, written);
            written += chunk.length;
            opts.onBytes?.(chunk.length);
          }
        } catch (err) {
          if (isModelshipError(err)) throw err;
          throw new Retryable(`${file.path} cut at byte ${written} of ${file.size}: ${describeError(err)}`, { cause: err });
        }
        if (written < file.size) throw new Retryable(`${file.path} ended at byte ${written} of ${file.size}`);
        break;
      } catch (err) {
        if (!(err instanceof Retryable)) throw err;
        if (attempt >= attempts) {
          throw new ModelshipError('HF_NETWORK', `${file.path}: the download failed ${attempts} times (${err.message}); run the import again`, { cause: err, details: { path: file.path, bytes: written } });
        }
        await sleep((opts.retryDelayMs ?? 500) * 2 ** (attempt - 1));
      }
    }
  } finally {
    await fh.close();
  }
  const digest = `sha256:${sha256.digest('hex')}`;
  if (file.lfsSha256 && digest !== file.lfsSha256) {
    throw new ModelshipError('HF_DIGEST_MISMATCH', `${file.path}: the downloaded bytes have ${digest} but the Hub lists SHA-256 ${file.lfsSha256}; nothing was stored`, { details: { path: file.path, expected: file.lfsSha256, actual: digest } });
  }
  if (git && file.gitOid) {
    const oid = git.digest('hex');
    if (oid !== file.gitOid) {
      throw new ModelshipError('HF_DIGEST_MISMATCH', `${file.path}: the downloaded bytes have git blob id ${oid} but the Hub lists ${file.gitOid}; nothing was stored`, { details: { path: file.path, expected: file.gitOid, actual: oid } });
    }
  }
  return { digest, size: written };
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
