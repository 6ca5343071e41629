/**
 * A loopback server answering as the Hugging Face Hub does, in the shapes recorded in
 * test/vectors/huggingface (see PROVENANCE.md there): the revision API, the tree API (paged with a
 * Link header), `resolve` (small files served directly, LFS files redirected to a second "CDN" origin
 * that refuses an Authorization header, as a presigned S3 URL does), ETag/X-Linked-Etag/X-Linked-Size/
 * X-Repo-Commit headers, Range requests, gated repositories, and faults: a cut connection, corrupt bytes.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HubFileSpec {
  path: string;
  content: Buffer;
  /** Stored with Git LFS (listed with lfs.oid = SHA-256, served from the CDN). */
  lfs?: boolean;
}

export interface HubRepoSpec {
  /** `ORG/NAME` */
  repo: string;
  /** commit sha → files */
  commits: Record<string, HubFileSpec[]>;
  /** branch or tag → commit sha */
  refs: Record<string, string>;
  /** Downloads need a token in `allowedTokens`; 401 without one, 403 with another. */
  gated?: boolean;
  allowedTokens?: string[];
}

export interface HubRequestLog {
  method: string;
  url: string;
  origin: 'hub' | 'cdn';
  range?: string;
  authorization?: string;
}

export interface FakeHub {
  /** `http://127.0.0.1:PORT`, what HF_ENDPOINT is set to. */
  endpoint: string;
  cdn: string;
  requests: HubRequestLog[];
  /** The next CDN download of this path sends this many bytes, then the connection is cut (once). */
  cutOnce: Map<string, number>;
  /** Every CDN download of this path is cut after this many bytes (a connection that never holds). */
  cutAlways: Map<string, number>;
  /** Resolve answers name this commit in X-Repo-Commit instead of the one asked (a mirror serving another commit). */
  commitHeader?: string;
  /** Paths whose CDN bytes are altered (one byte flipped), as a corrupt mirror would send them. */
  corrupt: Set<string>;
  /** Entries per tree page; a Link header points to the next page. */
  treePageSize: number;
  /** Runs once after the revision API answered (e.g. to move a branch between the calls). */
  afterRevision?: () => void;
  setRef(repo: string, ref: string, sha: string): void;
  close(): Promise<void>;
}

export function commitSha(): string {
  return randomBytes(20).toString('hex');
}

function gitBlobOid(bytes: Buffer): string {
  return createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
}

const sha256Hex = (b: Buffer) => createHash('sha256').update(b).digest('hex');

export function lfsPointer(content: Buffer): Buffer {
  return Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${sha256Hex(content)}\nsize ${content.length}\n`);
}

/** A tree entry as the Hub's /api/models/ORG/NAME/tree/REV answers (vectors/huggingface/bert-base-uncased.tree.json). */
export function treeEntry(f: HubFileSpec): Record<string, unknown> {
  // Hashed once per content: a benchmark's shards are large and every resolve looks its entry up.
  const key = `${f.path}\0${f.lfs ? 'lfs' : 'git'}`;
  let byPath = entries.get(f.content);
  if (!byPath) entries.set(f.content, (byPath = new Map()));
  let entry = byPath.get(key);
  if (!entry) byPath.set(key, (entry = computeTreeEntry(f)));
  return structuredClone(entry);
}

const entries = new WeakMap<Buffer, Map<string, Record<string, unknown>>>();

function computeTreeEntry(f: HubFileSpec): Record<string, unknown> {
  if (!f.lfs) return { type: 'file', oid: gitBlobOid(f.content), size: f.content.length, path: f.path };
  const pointer = lfsPointer(f.content);
  return { type: 'file', oid: gitBlobOid(pointer), size: f.content.length, lfs: { oid: sha256Hex(f.content), size: f.content.length, pointerSize: pointer.length }, path: f.path };
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

/** Sends `body` honouring a `Range: bytes=N-` header; `cutAfter` ends the connection early. */
function sendBody(req: IncomingMessage, res: ServerResponse, body: Buffer, headers: Record<string, string>, cutAfter?: number): void {
  const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  const start = m ? Number(m[1]) : 0;
  if (start > body.length) {
    res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
    return;
  }
  const slice = body.subarray(start);
  const h = { ...headers, 'accept-ranges': 'bytes', 'content-length': String(slice.length) };
  if (m) res.writeHead(206, { ...h, 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` });
  else res.writeHead(200, h);
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  if (cutAfter !== undefined && cutAfter < slice.length) {
    res.write(slice.subarray(0, cutAfter), () => res.socket?.destroy());
    return;
  }
  res.end(slice);
}

function gatedRefusal(res: ServerResponse, repo: HubRepoSpec, endpoint: string, withToken: boolean): void {
  // The texts the Hub sends (recorded in vectors/huggingface/gated-*.json).
  const message = withToken
    ? `Access to model ${repo.repo} is restricted and you are not in the authorized list. Visit ${endpoint}/${repo.repo} to ask for access.`
    : `Access to model ${repo.repo} is restricted. You must have access to it and be authenticated to access it. Please log in.`;
  res.writeHead(withToken ? 403 : 401, { 'content-type': 'application/json', 'x-error-code': 'GatedRepo', 'x-error-message': message });
  res.end(JSON.stringify({ error: message }));
}

function notFound(res: ServerResponse, code: string, message: string): void {
  res.writeHead(code === 'RepoNotFound' ? 401 : 404, { 'content-type': 'application/json', 'x-error-code': code, 'x-error-message': message });
  res.end(JSON.stringify({ error: message }));
}

export async function startFakeHub(repos: HubRepoSpec[]): Promise<FakeHub> {
  const byName = new Map(repos.map((r) => [r.repo, r]));
  const blobs = new Map<string, Buffer>();
  for (const r of repos) for (const files of Object.values(r.commits)) for (const f of files) if (f.lfs) blobs.set(sha256Hex(f.content), f.content);
  const hub: FakeHub = {
    endpoint: '',
    cdn: '',
    requests: [],
    cutOnce: new Map(),
    cutAlways: new Map(),
    corrupt: new Set(),
    treePageSize: 1000,
    setRef(repo, ref, sha) {
      byName.get(repo)!.refs[ref] = sha;
    },
    close: async () => {},
  };
  const shaOf = (r: HubRepoSpec, rev: string) => (r.commits[rev] ? rev : r.refs[rev]);
  const log = (req: IncomingMessage, origin: 'hub' | 'cdn') =>
    hub.requests.push({ method: req.method ?? 'GET', url: req.url ?? '', origin, ...(req.headers.range ? { range: req.headers.range } : {}), ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) });

  const hubServer = createServer((req, res) => {
    log(req, 'hub');
    const url = new URL(req.url ?? '/', hub.endpoint);
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    // /api/models/ORG/NAME/revision/REV and /api/models/ORG/NAME/tree/REV
    if (parts[0] === 'api' && parts[1] === 'models') {
      const kindAt = parts.findIndex((p, i) => i > 2 && (p === 'revision' || p === 'tree'));
      const repo = byName.get(parts.slice(2, kindAt).join('/'));
      if (!repo || kindAt < 0) return notFound(res, 'RepoNotFound', 'Repository not found');
      const rev = parts[kindAt + 1] ?? 'main';
      const sha = shaOf(repo, rev);
      if (!sha) return notFound(res, 'RevisionNotFound', `Invalid rev id: ${rev}`);
      if (parts[kindAt] === 'revision') {
        // Shape of vectors/huggingface/bert-base-uncased.revision.json, with the fields the client's expand asks.
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ _id: createHash('sha1').update(repo.repo).digest('hex').slice(0, 24), id: repo.repo, private: false, gated: repo.gated ? 'manual' : false, pipeline_tag: 'text-generation', downloads: 0, likes: 0, lastModified: '2024-01-01T00:00:00.000Z', sha }));
        const after = hub.afterRevision;
        hub.afterRevision = undefined;
        after?.();
        return;
      }
      const entries: Record<string, unknown>[] = [];
      const dirs = new Set<string>();
      for (const f of repo.commits[sha]!) {
        const segs = f.path.split('/');
        for (let i = 1; i < segs.length; i++) dirs.add(segs.slice(0, i).join('/'));
        entries.push(treeEntry(f));
      }
      for (const d of dirs) entries.push({ type: 'directory', oid: createHash('sha1').update(d).digest('hex'), size: 0, path: d });
      entries.sort((a, b) => String(a['path']).localeCompare(String(b['path'])));
      const cursor = Number(url.searchParams.get('cursor') ?? '0');
      const page = entries.slice(cursor, cursor + hub.treePageSize);
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (cursor + hub.treePageSize < entries.length) {
        const next = new URL(url.href);
        next.searchParams.set('cursor', String(cursor + hub.treePageSize));
        headers['link'] = `<${next.href}>; rel="next"`;
      }
      res.writeHead(200, headers);
      res.end(JSON.stringify(page));
      return;
    }
    // /ORG/NAME/resolve/REV/PATH
    const at = parts.indexOf('resolve');
    const repo = at > 0 ? byName.get(parts.slice(0, at).join('/')) : undefined;
    if (!repo) return notFound(res, 'RepoNotFound', 'Repository not found');
    const sha = shaOf(repo, parts[at + 1] ?? '');
    if (!sha) return notFound(res, 'RevisionNotFound', 'Invalid rev id');
    const path = parts.slice(at + 2).join('/');
    const file = repo.commits[sha]!.find((f) => f.path === path);
    if (!file) return notFound(res, 'EntryNotFound', `${path} does not exist on "${parts[at + 1]}"`);
    if (repo.gated) {
      const token = req.headers.authorization?.replace(/^Bearer /, '');
      if (!token || !(repo.allowedTokens ?? []).includes(token)) return gatedRefusal(res, repo, hub.endpoint, token !== undefined);
    }
    const entry = treeEntry(file) as { oid: string; lfs?: { oid: string } };
    const common = { 'x-repo-commit': hub.commitHeader ?? sha, etag: `"${file.lfs ? entry.lfs!.oid : entry.oid}"` };
    if (!file.lfs) return sendBody(req, res, file.content, { ...common, 'content-type': 'text/plain; charset=utf-8' });
    const sig = randomBytes(8).toString('hex');
    res.writeHead(302, {
      ...common,
      'x-linked-etag': `"${entry.lfs!.oid}"`,
      'x-linked-size': String(file.content.length),
      location: `${hub.cdn}/repos/${entry.lfs!.oid.slice(0, 2)}/${entry.lfs!.oid}?X-Amz-Signature=${sig}&path=${encodeURIComponent(path)}`,
    });
    res.end();
  });

  const cdnServer = createServer((req, res) => {
    log(req, 'cdn');
    const url = new URL(req.url ?? '/', hub.cdn);
    // A presigned URL carries its own authorisation; S3 refuses a second one.
    if (req.headers.authorization) {
      res.writeHead(400, { 'content-type': 'application/xml' }).end('<Error><Code>InvalidArgument</Code><Message>Only one auth mechanism allowed</Message></Error>');
      return;
    }
    const oid = url.pathname.split('/').pop() ?? '';
    const blob = blobs.get(oid);
    if (!blob) {
      res.writeHead(404).end();
      return;
    }
    const path = url.searchParams.get('path') ?? '';
    let body = blob;
    if (hub.corrupt.has(path)) {
      body = Buffer.from(blob);
      body[body.length >> 1] ^= 0xff;
    }
    const cut = hub.cutOnce.get(path) ?? hub.cutAlways.get(path);
    hub.cutOnce.delete(path);
    sendBody(req, res, body, { 'content-type': 'application/octet-stream', etag: `"${oid}"` }, cut);
  });

  hub.endpoint = await listen(hubServer);
  hub.cdn = await listen(cdnServer);
  hub.close = async () => {
    hubServer.closeAllConnections();
    cdnServer.closeAllConnections();
    await Promise.all([new Promise((r) => hubServer.close(r)), new Promise((r) => cdnServer.close(r))]);
  };
  return hub;
}
