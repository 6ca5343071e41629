/**
 * The HTTP transport of a one-token answer: one write per response (headers and JSON body
 * together, sized by content-length, never chunked), Nagle off on every connection, and the body of
 * a request read whole however it arrives, refused past the limit, and given up when the client leaves.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { writeTinyModel } from '../../modules/gguf/index.js';
import { loadNativeEngine, startInferenceServer, type Engine, type InferenceServer } from '../../modules/infer/index.js';
import { readBody } from '../../modules/infer/server.js';

let dir: string;
let engine: Engine;
let server: InferenceServer;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'infer-transport-'));
  const model = await writeTinyModel(path.join(dir, 'tiny.gguf'), { mode: 'canned' });
  engine = await loadNativeEngine({ modelPath: model.path, threads: 1, gpu: 'none', contextSize: 256 });
  server = await startInferenceServer({ engine });
});

afterAll(async () => {
  await server?.close();
  await engine?.dispose();
  await rm(dir, { recursive: true, force: true });
});

type Writer = (this: net.Socket, writev: boolean, data: unknown, encoding: string, cb: (err?: Error) => void) => unknown;

/** Every write the server's side of its connections makes while `run` runs, as the bytes sent. */
async function serverWrites(run: () => Promise<void>): Promise<{ socket: net.Socket; bytes: Buffer }[]> {
  const proto = net.Socket.prototype as unknown as { _writeGeneric: Writer };
  const original = proto._writeGeneric;
  const writes: { socket: net.Socket; bytes: Buffer }[] = [];
  proto._writeGeneric = function (writev, data, encoding, cb) {
    if (this.localPort === server.port) {
      const parts = writev ? (data as { chunk: string | Buffer; encoding: BufferEncoding }[]).map((c) => Buffer.from(c.chunk as string, c.encoding)) : [Buffer.from(data as string, encoding as BufferEncoding)];
      writes.push({ socket: this, bytes: Buffer.concat(parts) });
    }
    return original.call(this, writev, data, encoding, cb);
  };
  try {
    await run();
  } finally {
    proto._writeGeneric = original;
  }
  return writes;
}

/** One request on a kept-alive node:http connection, as the bench's client sends it. */
function send(agent: http.Agent, method: string, route: string, body?: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${server.url}${route}`, { method, agent, headers: body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Node keeps whether Nagle was turned off on the socket itself. */
function noDelayOf(socket: net.Socket): unknown {
  const key = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'kSetNoDelay');
  return key === undefined ? undefined : (socket as unknown as Record<symbol, unknown>)[key];
}

describe('the server on the wire', () => {
  it('sends each answer in one write with content-length, Nagle off, over one kept-alive connection', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const answers: Awaited<ReturnType<typeof send>>[] = [];
    const writes = await serverWrites(async () => {
      answers.push(await send(agent, 'POST', '/v1/completions', JSON.stringify({ prompt: 'Count for me', max_tokens: 1, temperature: 0 })));
      answers.push(await send(agent, 'GET', '/health'));
      answers.push(await send(agent, 'POST', '/v1/chat/completions', JSON.stringify({ messages: [{ role: 'user', content: 'hi' }], max_tokens: 1 })));
    });
    agent.destroy();
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(writes).toHaveLength(3);
    writes.forEach(({ bytes }, i) => {
      const text = bytes.toString('utf8');
      const [head, body] = text.split('\r\n\r\n') as [string, string];
      expect(head).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      expect(head.toLowerCase()).not.toContain('transfer-encoding');
      expect(head.toLowerCase()).toContain(`content-length: ${Buffer.byteLength(body)}\r\n`);
      expect(body).toBe(answers[i]!.text);
      expect(() => JSON.parse(body)).not.toThrow();
    });
    expect(new Set(writes.map((w) => w.socket)).size).toBe(1);
    expect(noDelayOf(writes[0]!.socket)).toBe(true);
  });
});

describe('reading a request body', () => {
  /** A server that reads each body with readBody (limit 16 bytes) and reports the outcome. */
  async function withReader(check: (outcome: Promise<Buffer>, req: http.IncomingMessage) => void, client: (port: number) => Promise<void>) {
    const reader = http.createServer((req, res) => {
      const outcome = readBody(req, 16, () => new Error('too large'));
      check(outcome, req);
      outcome.then(
        (body) => res.end(`read ${body.toString('utf8')}`),
        () => {},
      );
    });
    await new Promise<void>((resolve) => reader.listen(0, '127.0.0.1', resolve));
    try {
      await client((reader.address() as net.AddressInfo).port);
    } finally {
      reader.closeAllConnections();
      await new Promise((resolve) => reader.close(resolve));
    }
  }

  /** A raw connection sending `parts` with a pause between them; resolves with what came back once closed. */
  function raw(port: number, parts: string[], endAfter = true): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1');
      let got = '';
      socket.on('data', (d) => (got += d.toString('utf8')));
      socket.on('close', () => resolve(got));
      socket.on('error', reject);
      socket.on('connect', async () => {
        for (const part of parts) {
          socket.write(part);
          await new Promise((r) => setTimeout(r, 20));
        }
        if (endAfter) socket.end();
        else socket.destroy();
      });
    });
  }

  it('reads a body that arrives in several chunks, whole', async () => {
    let outcome!: Promise<Buffer>;
    await withReader(
      (o) => (outcome = o),
      async (port) => {
        const got = await raw(port, ['POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n', '3\r\nabc\r\n', '4\r\ndefg\r\n', '0\r\n\r\n']);
        expect(got).toContain('read abcdefg');
      },
    );
    expect((await outcome).toString('utf8')).toBe('abcdefg');
  });

  it('stops reading past the limit and drops the connection, as a for-await loop left early does', async () => {
    let outcome!: Promise<Buffer>;
    let request!: http.IncomingMessage;
    await withReader(
      (o, req) => {
        outcome = o;
        request = req;
      },
      async (port) => {
        await raw(port, ['POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n', `10\r\n${'a'.repeat(16)}\r\n`, `10\r\n${'b'.repeat(16)}\r\n`]);
      },
    );
    await expect(outcome).rejects.toThrow('too large');
    expect(request.destroyed).toBe(true);
  });

  it('gives up when the client leaves mid-body, instead of waiting forever', async () => {
    let outcome!: Promise<Buffer>;
    await withReader(
      (o) => (outcome = o),
      async (port) => {
        await raw(port, ['POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n', 'abc'], false);
      },
    );
    await expect(outcome).rejects.toMatchObject({ code: expect.stringMatching(/ERR_STREAM_PREMATURE_CLOSE|ECONNRESET/) });
  });
});
