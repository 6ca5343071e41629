import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { writeTinyModel } from '../../modules/gguf/index.js';
import { loadNativeEngine, startInferenceServer, type Engine, type InferenceServer } from '../../modules/infer/index.js';
import { SCHEMA_LIMITS } from '../../modules/infer/json-schema.js';
import { postJson } from '../helpers/http.js';

// Requests a hostile or careless client sends: the server answers each with a 4xx and keeps serving.
let dir: string;
let engine: Engine;
let server: InferenceServer;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'infer-hostile-'));
  const model = await writeTinyModel(path.join(dir, 'tiny.gguf'), { mode: 'random' });
  engine = await loadNativeEngine({ modelPath: model.path, threads: 1, gpu: 'none', contextSize: 128 });
  server = await startInferenceServer({ engine, maxBodyBytes: 2 * 1024 * 1024 });
});

afterAll(async () => {
  await server?.close();
  await engine?.dispose();
  await rm(dir, { recursive: true, force: true });
});

/** Sends raw bytes, returns the status of the first response line (0: closed without one). */
function rawRequest(bytes: string | Buffer): Promise<{ status: number; head: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(server.port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const done = () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      resolve({ status: m ? Number(m[1]) : 0, head: text.split('\r\n')[0] ?? '' });
      socket.destroy();
    };
    socket.setTimeout(5000, done);
    socket.on('data', (d) => {
      chunks.push(d);
      // One response is enough; the connection may stay open.
      if (/\r\n\r\n/.test(Buffer.concat(chunks).toString('latin1'))) setTimeout(done, 50);
    });
    socket.on('end', done);
    socket.on('error', (err) => (chunks.length > 0 ? done() : reject(err)));
    socket.write(bytes);
  });
}

describe('malformed requests', () => {
  const host = 'Host: 127.0.0.1\r\n';
  const corpus: [string, string | Buffer][] = [
    ['a target of two slashes (curl --request-target //)', `GET // HTTP/1.1\r\n${host}\r\n`],
    ['a path that starts with two slashes', `GET //v1/models HTTP/1.1\r\n${host}\r\n`],
    ['a malformed %-escape in a model id', `GET /v1/models/%E0%A4%A HTTP/1.1\r\n${host}\r\n`],
    ['a non-hex %-escape', `GET /v1/models/%zz HTTP/1.1\r\n${host}\r\n`],
    ['a lone % at the end', `GET /v1/models/% HTTP/1.1\r\n${host}\r\n`],
    ['an asterisk target', `GET * HTTP/1.1\r\n${host}\r\n`],
    ['OPTIONS *', `OPTIONS * HTTP/1.1\r\n${host}\r\n`],
    ['a malformed absolute-form target', `GET http://[::1 HTTP/1.1\r\n${host}\r\n`],
    ['an absolute-form target with a bad port', `GET http://127.0.0.1:99999/health HTTP/1.1\r\n${host}\r\n`],
    ['a target without a leading slash', `GET health HTTP/1.1\r\n${host}\r\n`],
    ['an unknown method', `BREW /health HTTP/1.1\r\n${host}\r\n`],
    ['an unknown HTTP version', `GET /health HTTP/9.9\r\n${host}\r\n`],
    ['a request line of garbage', `\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n`],
    ['a header line without a colon', `GET /health HTTP/1.1\r\n${host}Broken header\r\n\r\n`],
    ['a NUL in a header value', `GET /health HTTP/1.1\r\n${host}X-A: a\x00b\r\n\r\n`],
    ['a space before the colon', `GET /health HTTP/1.1\r\n${host}X-A : b\r\n\r\n`],
    ['headers over the size limit', `GET /health HTTP/1.1\r\n${host}X-Big: ${'a'.repeat(20_000)}\r\n\r\n`],
    ['a non-numeric Content-Length', `POST /v1/chat/completions HTTP/1.1\r\n${host}Content-Length: abc\r\n\r\n`],
    ['a negative Content-Length', `POST /v1/chat/completions HTTP/1.1\r\n${host}Content-Length: -1\r\n\r\n`],
    ['two different Content-Lengths', `POST /v1/chat/completions HTTP/1.1\r\n${host}Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}`],
    ['Content-Length with chunked encoding', `POST /v1/chat/completions HTTP/1.1\r\n${host}Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n`],
    ['a malformed chunk size', `POST /v1/chat/completions HTTP/1.1\r\n${host}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`],
    ['a body that is not JSON', `POST /v1/chat/completions HTTP/1.1\r\n${host}Content-Type: application/json\r\nContent-Length: 5\r\n\r\n{"a":`],
    ['a body that is not UTF-8 JSON', Buffer.concat([Buffer.from(`POST /v1/completions HTTP/1.1\r\n${host}Content-Length: 4\r\n\r\n`), Buffer.from([0xff, 0xfe, 0x7b, 0x7d])])],
  ];

  it.each(corpus)('%s gets a 4xx', async (_name, bytes) => {
    const { status, head } = await rawRequest(bytes);
    expect(status, head).toBeGreaterThanOrEqual(400);
    expect(status, head).toBeLessThan(500);
  });

  it('keeps serving after the whole corpus', async () => {
    for (const [, bytes] of corpus) await rawRequest(bytes);
    const res = await fetch(`${server.url}/health`);
    expect(res.status).toBe(200);
    const model = await fetch(`${server.url}/v1/models/${encodeURIComponent('tiny')}`);
    expect(model.status).toBe(200);
  });
});

describe('limits that name themselves', () => {
  it('a prompt list over 64 names the limit', async () => {
    const res = await postJson(server.url, '/v1/completions', { prompt: Array.from({ length: 65 }, () => 'x') });
    expect(res.status).toBe(400);
    expect(res.json.error.param).toBe('prompt');
    expect(res.json.error.message).toContain('64');
  });

  it('an enum over the limit is a 400 naming it, answered at once', async () => {
    const values = Array.from({ length: 90_000 }, (_, i) => `value-${i}`);
    const began = Date.now();
    const res = await postJson(server.url, '/v1/chat/completions', {
      messages: [{ role: 'user', content: 'x' }],
      response_format: { type: 'json_schema', json_schema: { name: 'a', schema: { type: 'object', properties: { v: { enum: values } }, required: ['v'] } } },
    });
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({ code: 'schema_too_large', param: 'response_format.json_schema.schema' });
    expect(res.json.error.message).toContain(String(SCHEMA_LIMITS.enumValues));
    expect(Date.now() - began).toBeLessThan(5000);

    const consts = await postJson(server.url, '/v1/chat/completions', {
      messages: [{ role: 'user', content: 'x' }],
      response_format: { type: 'json_schema', json_schema: { name: 'a', schema: { anyOf: values.slice(0, 5000).map((v) => ({ const: v })) } } },
    });
    expect(consts.status).toBe(400);
    expect(consts.json.error.code).toBe('schema_too_large');
  });

  it('/health answers within a second while schemas at the limits are compiled and used', async () => {
    const values = Array.from({ length: SCHEMA_LIMITS.enumValues }, (_, i) => `value-${i}`);
    // Written on the event loop, 1,000 properties took about 0.3 s of node-llama-cpp's grammar writer, 5,000 took 1.4 s.
    const properties = Object.fromEntries(Array.from({ length: SCHEMA_LIMITS.properties }, (_, i) => [`p${i}`, { type: 'boolean' }]));
    const ask = (schema: unknown) =>
      postJson(server.url, '/v1/chat/completions', { messages: [{ role: 'user', content: 'x' }], max_tokens: 12, response_format: { type: 'json_schema', json_schema: { name: 'a', schema } } });
    // A small schema first: loading node-llama-cpp's chat and grammar code once is not what is measured.
    expect((await ask({ type: 'object', properties: { v: { type: 'boolean' } } })).status).toBe(200);
    let finished = false;
    const request = Promise.all([ask({ type: 'object', properties: { v: { enum: values } }, required: ['v'] }), ask({ type: 'object', properties })]).finally(() => (finished = true));
    let slowest = 0;
    let probes = 0;
    while (!finished || probes === 0) {
      const began = Date.now();
      expect((await fetch(`${server.url}/health`)).status).toBe(200);
      slowest = Math.max(slowest, Date.now() - began);
      probes++;
      await new Promise((r) => setTimeout(r, 20));
    }
    for (const res of await request) expect(res.status, JSON.stringify(res.json)).toBe(200);
    expect(slowest).toBeLessThan(1000);
  });
});

describe('usage at the end of the context', () => {
  it('counts the prompt once and never more completion than the room left', async () => {
    // The random model never stops by itself, so without max_tokens it runs to the end of the context.
    const messages = [{ role: 'user', content: 'tell me a long story about the sea and the ships on it' }];
    const short = await postJson(server.url, '/v1/chat/completions', { messages, max_tokens: 1 });
    expect(short.status).toBe(200);
    const prompt = short.json.usage.prompt_tokens as number;
    const full = await postJson(server.url, '/v1/chat/completions', { messages });
    expect(full.status).toBe(200);
    expect(full.json.choices[0].finish_reason).toBe('length');
    expect(full.json.usage.prompt_tokens).toBe(prompt);
    expect(full.json.usage.prompt_tokens + full.json.usage.completion_tokens).toBeLessThanOrEqual(engine.contextSize);
    expect(full.json.usage.total_tokens).toBe(full.json.usage.prompt_tokens + full.json.usage.completion_tokens);
  });

  it('refuses messages that fit only without the chat template, with context_length_exceeded', async () => {
    // Under the server's plain-text count, over the context once the template is added.
    const content = 'a '.repeat(Math.floor((engine.contextSize - 17) / 2));
    expect(engine.countTokens(content)).toBeLessThanOrEqual(engine.contextSize - 16);
    const res = await postJson(server.url, '/v1/chat/completions', { messages: [{ role: 'user', content }] });
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({ code: 'context_length_exceeded', param: 'messages' });
  });
});
