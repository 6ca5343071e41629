/**
 * `registry serve` stays up whatever a client sends: malformed request lines, paths, %-escapes and
 * headers get a 4xx, bodies over 1 MiB a 413, and no list page can grow past what one string holds.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_BASE_PATH, embeddedDatabasePath, openRegistryDatabase, startRegistryServer, type RegistryDatabase } from '../../modules/registry/index.js';
import { MAX_ENTITY_BYTES, MAX_NAME_LENGTH, MAX_PAGE_BYTES } from '../../modules/registry/database.js';

const repoRoot = path.resolve(import.meta.dirname, '../..');

/** Sends raw bytes and returns the status line's code (0 when the server closed without one). */
function raw(port: number, bytes: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (d) => {
      answer += d.toString('latin1');
    });
    socket.on('error', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0)));
    socket.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0)));
    socket.setTimeout(5000, () => {
      socket.destroy();
      reject(new Error(`no answer to ${JSON.stringify(bytes.slice(0, 80))}`));
    });
    socket.end(bytes, 'latin1');
  });
}

const CORPUS: [string, string][] = [
  ['double slash target (curl --request-target //)', 'GET // HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'],
  ['double slash with a path', 'GET //registered_models HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'],
  ['absolute-form target', 'GET http://evil.example/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'],
  ['asterisk target', 'GET * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'],
  ['malformed %-escape in an id', `GET ${API_BASE_PATH}/registered_models/%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`],
  ['truncated %-escape in an id', `GET ${API_BASE_PATH}/model_versions/%E0%A4%A HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`],
  ['malformed %-escape in a query', `GET ${API_BASE_PATH}/registered_model?name=%zz%ff HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`],
  ['malformed %-escape in a PATCH id', `PATCH ${API_BASE_PATH}/registered_models/%%% HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`],
  ['a very long target', `GET /${'a'.repeat(9000)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`],
  ['binary garbage', '\x00\x01\x02\x03\r\n\r\n'],
  ['unknown HTTP version', 'GET / HTTP/9.9\r\nHost: x\r\n\r\n'],
  ['header without a colon', 'GET / HTTP/1.1\r\nHost x\r\n\r\n'],
  ['bad content-length', `POST ${API_BASE_PATH}/registered_models HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n`],
  ['two content-lengths', `POST ${API_BASE_PATH}/registered_models HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}`],
  ['a body that is not JSON', `POST ${API_BASE_PATH}/registered_models HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: close\r\n\r\n{{{`],
  ['a JSON array body', `POST ${API_BASE_PATH}/registered_models HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\n[]`],
  ['an id over 9 digits', `GET ${API_BASE_PATH}/registered_models/99999999999999999999 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`],
  ['an unknown method', `BREW ${API_BASE_PATH}/registered_models HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`],
];

let dir: string;
let db: RegistryDatabase;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'mreg-hard-'));
  db = await openRegistryDatabase(embeddedDatabasePath(dir));
});
afterAll(async () => {
  db.close();
  await rm(dir, { recursive: true, force: true });
});

describe('registry serve stays up', () => {
  for (const token of [undefined, 's3cret']) {
    it(`answers every malformed request of the corpus with a 4xx and keeps serving${token ? ' (with a token: before the token check too)' : ''}`, async () => {
      const server = await startRegistryServer({ database: db, ...(token ? { token } : {}) });
      try {
        const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
        for (const [what, bytes] of CORPUS) {
          const status = await raw(server.port, bytes);
          expect({ what, status: status >= 400 && status < 500 }).toEqual({ what, status: true });
          const ok = await fetch(`${server.url}${API_BASE_PATH}/registered_models`, { headers });
          expect({ what, after: ok.status }).toEqual({ what, after: 200 });
        }
        // The error body is upstream's: the HTTP status text as code.
        const bad = await fetch(`${server.url}${API_BASE_PATH}/registered_models/%zz`, { headers });
        expect(bad.status).toBe(400);
        expect(await bad.json()).toMatchObject({ code: 'Bad Request', message: expect.stringContaining('%-escape') });
      } finally {
        await server.close();
      }
    });
  }

  it('answers a body over 1 MiB with 413, with or without Content-Length, and keeps serving', async () => {
    const server = await startRegistryServer({ database: db });
    try {
      const big = JSON.stringify({ name: 'big', description: 'x'.repeat(1024 * 1024 + 10) });
      const res = await fetch(`${server.url}${API_BASE_PATH}/registered_models`, { method: 'POST', body: big, headers: { 'content-type': 'application/json' } });
      expect(res.status).toBe(413);
      expect(await res.json()).toMatchObject({ code: 'Request Entity Too Large', message: expect.stringContaining('1048576') });
      // Chunked: no Content-Length to refuse early.
      const chunked = await fetch(`${server.url}${API_BASE_PATH}/registered_models`, {
        method: 'POST',
        body: new Blob([big]).stream(),
        duplex: 'half',
        headers: { 'content-type': 'application/json' },
      } as RequestInit);
      expect(chunked.status).toBe(413);
      expect((await fetch(`${server.url}${API_BASE_PATH}/registered_models`)).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('bounds names, entity sizes and the bytes of a list page, so pageSize=1000 over large entities cannot crash it', async () => {
    const server = await startRegistryServer({ database: db });
    const api = `${server.url}${API_BASE_PATH}`;
    const post = (url: string, body: unknown, method = 'POST') => fetch(`${api}${url}`, { method, body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    try {
      expect((await post('/registered_models', { name: 'n'.repeat(MAX_NAME_LENGTH + 1) })).status).toBe(400);
      // Fields that each fit the body limit cannot add up past it through updates.
      const grown = (await (await post('/registered_models', { name: 'grown', description: 'd'.repeat(700_000) })).json()) as { id: string };
      const patched = await post(`/registered_models/${grown.id}`, { readme: 'r'.repeat(700_000) }, 'PATCH');
      expect(patched.status).toBe(413);
      expect(MAX_ENTITY_BYTES).toBe(1024 * 1024);
      // Enough large models that one page of all of them would pass the page bound.
      const count = Math.ceil(MAX_PAGE_BYTES / 900_000) + 3;
      for (let i = 0; i < count; i++) db.create('registered-model', { name: `large-${i}`, description: String(i).padEnd(900_000, '.') }, 0);
      const seen: string[] = [];
      let token = '';
      let pages = 0;
      do {
        const res = await fetch(`${api}/registered_models?pageSize=1000${token ? `&nextPageToken=${token}` : ''}`);
        expect(res.status).toBe(200);
        const text = await res.text();
        expect(text.length).toBeLessThanOrEqual(MAX_PAGE_BYTES + 1024 * 1024);
        const page = JSON.parse(text) as { items: { name: string }[]; nextPageToken: string };
        seen.push(...page.items.map((m) => m.name));
        token = page.nextPageToken;
        pages++;
      } while (token);
      expect(pages).toBeGreaterThan(1);
      expect(seen.filter((n) => n.startsWith('large-'))).toHaveLength(count);
    } finally {
      await server.close();
    }
  }, 60_000);
});

describe('registry serve --host', () => {
  it('warns when it listens beyond loopback without --token-env', async () => {
    const home = await mkdtemp(path.join(tmpdir(), 'mreg-host-'));
    try {
      const child = spawn(path.join(repoRoot, 'node_modules/.bin/tsx'), [path.join(repoRoot, 'test/infer/run-cli.ts'), 'registry', 'serve', '--port', '0', '--host', '0.0.0.0', '--json'], {
        cwd: home,
        env: { ...process.env, MODELSHIP_HOME: home },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('\n')) resolve();
        });
        child.on('exit', (code) => reject(new Error(`registry serve exited ${code}: ${out} ${err}`)));
      });
      const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
      child.kill('SIGTERM');
      await exited;
      expect(err).toMatch(/warning: --host 0\.0\.0\.0 without --token-env: anyone who can reach this address/);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  }, 60_000);
});
