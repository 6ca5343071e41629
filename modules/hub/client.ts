/**
 * The Hub's API through its own JavaScript client (@huggingface/hub): the commit a revision names
 * and the files of that commit with their sizes and LFS SHA-256. One fetch wrapper adds HF_TOKEN
 * and turns the Hub's refusals (gated, not found) into coded errors naming what to do.
 */
import { listFiles, modelInfo } from '@huggingface/hub';
import { describeError, isModelshipError, ModelshipError } from '../errors/index.js';
import { hubPage, isCommitSha } from './source.js';

export interface HubConnection {
  /** `HF_ENDPOINT` or https://huggingface.co, without a trailing slash. */
  endpoint: string;
  token?: string;
  /** The fetch to use (tests and benchmarks pass none: the global one). */
  fetch?: typeof fetch;
}

export interface HubFile {
  path: string;
  size: number;
  /** `sha256:<hex>` of the content for an LFS file: the layer digest, known before the download. */
  lfsSha256?: string;
  /** The git blob id (sha1 of `blob <size>\0<content>`) of a file kept in git itself. */
  gitOid?: string;
}

/** The connection from the environment: HF_ENDPOINT for mirrors, HF_TOKEN for gated and private repositories. */
export function connectionFromEnv(env: NodeJS.ProcessEnv): HubConnection {
  const endpoint = (env['HF_ENDPOINT'] || 'https://huggingface.co').replace(/\/+$/, '');
  const token = env['HF_TOKEN'] || env['HUGGING_FACE_HUB_TOKEN'];
  return { endpoint, ...(token ? { token } : {}) };
}

/** The Authorization header for a URL: only the Hub endpoint gets the token, never a CDN it redirects to. */
export function authHeaders(conn: HubConnection, url: string): Record<string, string> {
  if (!conn.token) return {};
  return new URL(url).origin === new URL(conn.endpoint).origin ? { authorization: `Bearer ${conn.token}` } : {};
}

/**
 * The coded error for a refused Hub response. The Hub answers 401 for a repository that does not exist
 * as well as for a gated one, and says which in `X-Error-Code` (RepoNotFound, GatedRepo, RevisionNotFound, EntryNotFound).
 */
export async function hubRefusal(res: Response, conn: HubConnection, repo: string, what: string): Promise<ModelshipError> {
  const code = res.headers.get('x-error-code') ?? '';
  const said = res.headers.get('x-error-message') ?? (await res.text().catch(() => '')).slice(0, 300).trim();
  const page = hubPage(conn.endpoint, repo);
  const details = { url: res.url || what, status: res.status, ...(code ? { hubErrorCode: code } : {}), repo };
  if (code === 'RepoNotFound' || code === 'RevisionNotFound' || code === 'EntryNotFound' || (res.status === 404 && code !== 'GatedRepo')) {
    const hint = conn.token ? '' : ' A private repository also answers so without a token: set HF_TOKEN.';
    return new ModelshipError('HF_NOT_FOUND', `${what}: the Hub has no such ${code === 'RevisionNotFound' ? 'revision' : code === 'EntryNotFound' ? 'file' : 'repository'} (${res.status}${said ? `: ${said}` : ''}). Check the name at ${page}.${hint}`, { details });
  }
  if (res.status === 401 || res.status === 403) {
    const fix = conn.token
      ? `the account HF_TOKEN belongs to has no access yet: accept the licence at ${page} (or wait for the authors' approval), then run the import again`
      : `accept the licence at ${page} with your account, then set HF_TOKEN to a token of that account (https://huggingface.co/settings/tokens) and run the import again`;
    return new ModelshipError('HF_GATED', `${repo} is gated or private (${res.status}${said ? `: ${said}` : ''}): ${fix}`, { details: { ...details, licencePage: page } });
  }
  return new ModelshipError(res.status >= 500 ? 'HF_NETWORK' : 'HF_INVALID_RESPONSE', `${what}: the Hub answered ${res.status}${said ? ` (${said})` : ''}; retry later, or check HF_ENDPOINT (${conn.endpoint})`, { details });
}

/** A fetch for @huggingface/hub calls: the token added, refusals and network failures coded. */
function apiFetch(conn: HubConnection, repo: string): typeof fetch {
  const base = conn.fetch ?? fetch;
  return async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const headers = new Headers(init?.headers);
    for (const [k, v] of Object.entries(authHeaders(conn, url))) headers.set(k, v);
    let res: Response;
    try {
      res = await base(input, { ...init, headers });
    } catch (err) {
      throw new ModelshipError('HF_NETWORK', `cannot reach the Hub at ${conn.endpoint} (${describeError(err)}): check the network or HF_ENDPOINT`, { cause: err, details: { url } });
    }
    if (!res.ok) throw await hubRefusal(res, conn, repo, `GET ${url}`);
    return res;
  };
}

function rethrow(err: unknown, conn: HubConnection, what: string): never {
  if (isModelshipError(err)) throw err;
  throw new ModelshipError('HF_INVALID_RESPONSE', `${what} from ${conn.endpoint} failed: ${describeError(err)}`, { cause: err });
}

/** The commit SHA a branch, tag or commit names now; the import pins everything to it. */
export async function resolveCommit(conn: HubConnection, repo: string, revision: string): Promise<{ sha: string; gated: unknown; private: unknown }> {
  const info = await modelInfo({ name: repo, revision, hubUrl: conn.endpoint, additionalFields: ['sha'], fetch: apiFetch(conn, repo) }).catch((err: unknown) =>
    rethrow(err, conn, `reading ${repo}@${revision}`),
  );
  const sha = (info as { sha?: unknown }).sha;
  if (typeof sha !== 'string' || !isCommitSha(sha)) {
    throw new ModelshipError('HF_INVALID_RESPONSE', `${conn.endpoint}/api/models/${repo}/revision/${revision} gave no commit sha (got ${JSON.stringify(sha)}): is HF_ENDPOINT a Hub or a mirror of one?`);
  }
  if (isCommitSha(revision) && sha !== revision) {
    throw new ModelshipError('HF_COMMIT_MISMATCH', `${repo}@${revision} resolved to another commit (${sha}): the endpoint ${conn.endpoint} does not answer for the commit asked`);
  }
  return { sha, gated: info.gated, private: info.private };
}

/** Every file of `repo` at commit `sha` (the tree API, recursive, all pages). */
export async function listCommitFiles(conn: HubConnection, repo: string, sha: string): Promise<HubFile[]> {
  const out: HubFile[] = [];
  try {
    for await (const entry of listFiles({ repo: { type: 'model', name: repo }, revision: sha, recursive: true, hubUrl: conn.endpoint, fetch: apiFetch(conn, repo) })) {
      if (entry.type !== 'file') continue;
      out.push(hubFileOf(entry));
    }
  } catch (err) {
    rethrow(err, conn, `listing ${repo}@${sha}`);
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** One tree entry as the import uses it; an entry that is not what the Hub documents is refused. */
export function hubFileOf(entry: { path: string; size: number; oid?: string; lfs?: { oid: string; size: number } }): HubFile {
  if (typeof entry.path !== 'string' || !Number.isSafeInteger(entry.size) || entry.size < 0) {
    throw new ModelshipError('HF_INVALID_RESPONSE', `the Hub listed a file without a path or size: ${JSON.stringify(entry).slice(0, 200)}`);
  }
  if (entry.lfs) {
    if (!/^[0-9a-f]{64}$/.test(entry.lfs.oid) || entry.lfs.size !== entry.size) {
      throw new ModelshipError('HF_INVALID_RESPONSE', `the Hub listed ${entry.path} with LFS oid ${entry.lfs.oid} and size ${entry.lfs.size}: an LFS oid is a SHA-256 (64 hex) and its size the file's`);
    }
    return { path: entry.path, size: entry.size, lfsSha256: `sha256:${entry.lfs.oid}` };
  }
  return { path: entry.path, size: entry.size, ...(entry.oid && /^[0-9a-f]{40}$/.test(entry.oid) ? { gitOid: entry.oid } : {}) };
}
