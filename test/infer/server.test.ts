import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { CANNED_SENTENCE, writeTinyModel } from '../../modules/gguf/index.js';
import { decodeBase64Floats, loadNativeEngine, startInferenceServer, type Engine, type InferenceServer } from '../../modules/infer/index.js';

let dir: string;
let engine: Engine;
let server: InferenceServer;
let client: OpenAI;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'infer-server-'));
  const model = await writeTinyModel(path.join(dir, 'tiny.gguf'), { mode: 'canned' });
  engine = await loadNativeEngine({ modelPath: model.path, threads: 1, gpu: 'none', contextSize: 256 });
  server = await startInferenceServer({ engine, maxWaiting: 4, maxBodyBytes: 64 * 1024 });
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});

afterAll(async () => {
  await server?.close();
  await engine?.dispose();
  await rm(dir, { recursive: true, force: true });
});

async function postJson(route: string, body: unknown): Promise<{ status: number; json: any; headers: Headers }> {
  const res = await fetch(server.url + route, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, json: await res.json(), headers: res.headers };
}

function expectOpenAIError(json: any, code?: string) {
  expect(Object.keys(json)).toEqual(['error']);
  expect(Object.keys(json.error).sort()).toEqual(['code', 'message', 'param', 'type']);
  expect(typeof json.error.message).toBe('string');
  if (code) expect(json.error.code).toBe(code);
}

describe('OpenAI-compatible server with the native engine', () => {
  it('lists the model', async () => {
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual(['tiny']);
  });

  it('answers a chat with the canned sentence', async () => {
    const res = await client.chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: 'Who are you?' }] });
    expect(res.choices[0]!.message.content).toBe(CANNED_SENTENCE);
    expect(res.choices[0]!.finish_reason).toBe('stop');
    expect(res.usage!.completion_tokens).toBeGreaterThan(0);
    expect(res.usage!.prompt_tokens).toBeGreaterThan(0);
  });

  it('streams chunks that assemble to the same answer', async () => {
    const stream = await client.chat.completions.create({
      model: 'tiny',
      stream: true,
      stream_options: { include_usage: true },
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: CANNED_SENTENCE },
        { role: 'user', content: 'Again?' },
      ],
    });
    let text = '';
    let chunks = 0;
    let finish: string | null = null;
    let usage: unknown;
    for await (const chunk of stream) {
      chunks++;
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      usage = chunk.usage ?? usage;
    }
    expect(text).toBe(CANNED_SENTENCE);
    expect(chunks).toBeGreaterThan(2);
    expect(finish).toBe('stop');
    expect(usage).toMatchObject({ completion_tokens: expect.any(Number) });
  });

  it('completes a prompt, streamed or not, and honours max_tokens', async () => {
    const res = await client.completions.create({ model: 'tiny', prompt: 'Once upon a time' });
    expect(res.choices[0]!.text).toBe(CANNED_SENTENCE);
    const cut = await client.completions.create({ model: 'tiny', prompt: 'Once upon a time', max_tokens: 1 });
    expect(cut.choices[0]!.text).toBe('Hello');
    expect(cut.choices[0]!.finish_reason).toBe('length');
    let streamed = '';
    for await (const c of await client.completions.create({ model: 'tiny', prompt: 'x', stream: true })) streamed += c.choices[0]?.text ?? '';
    expect(streamed).toBe(CANNED_SENTENCE);
  });

  it('embeds strings as floats and as base64 float32, the same vectors', async () => {
    const input = ['the cat sat on the mat', 'a GPU runs the model'];
    const floats = await postJson('/v1/embeddings', { model: 'tiny', input, encoding_format: 'float' });
    const b64 = await postJson('/v1/embeddings', { model: 'tiny', input, encoding_format: 'base64' });
    expect(floats.status).toBe(200);
    expect(floats.json.data).toHaveLength(2);
    const v0: number[] = floats.json.data[0].embedding;
    expect(v0).toHaveLength(64);
    expect(typeof b64.json.data[0].embedding).toBe('string');
    const decoded = decodeBase64Floats(b64.json.data[0].embedding);
    expect(decoded).toEqual(v0.map((x) => Math.fround(x)));
    expect(floats.json.data[1].embedding).not.toEqual(v0);
    // The openai client asks for base64 and decodes it itself.
    const viaClient = await client.embeddings.create({ model: 'tiny', input: input[0]! });
    expect(viaClient.data[0]!.embedding).toEqual(decoded);
    expect(viaClient.usage.prompt_tokens).toBeGreaterThan(0);
  });

  it('retrieves the model by id, and 404s an unknown one in the OpenAI shape', async () => {
    const model = await client.models.retrieve('tiny');
    expect(model).toMatchObject({ id: 'tiny', object: 'model', owned_by: 'modelship' });
    await expect(client.models.retrieve('gpt-nothing')).rejects.toMatchObject({ status: 404, code: 'model_not_found' });
  });

  it('completes several prompts in one request, one choice each (LangChain generate)', async () => {
    const res = await client.completions.create({ model: 'tiny', prompt: ['a', 'b', 'c'], max_tokens: 1 });
    expect(res.choices.map((c) => [c.index, c.text, c.finish_reason])).toEqual([
      [0, 'Hello', 'length'],
      [1, 'Hello', 'length'],
      [2, 'Hello', 'length'],
    ]);
    expect(res.usage!.completion_tokens).toBe(3);
    const byIndex: string[] = ['', ''];
    for await (const c of await client.completions.create({ model: 'tiny', prompt: ['x', 'y'], stream: true })) byIndex[c.choices[0]!.index] += c.choices[0]!.text;
    expect(byIndex).toEqual([CANNED_SENTENCE, CANNED_SENTENCE]);
  });

  it('answers n > 1 and other unsupported values with OpenAI\'s unsupported_value error', async () => {
    const n = await postJson('/v1/chat/completions', { messages: [{ role: 'user', content: 'hi' }], n: 2 });
    expect(n.status).toBe(400);
    expectOpenAIError(n.json, 'unsupported_value');
    expect(n.json.error).toMatchObject({ type: 'invalid_request_error', param: 'n' });
    const one = await postJson('/v1/chat/completions', { messages: [{ role: 'user', content: 'hi' }], n: 1, max_tokens: 1 });
    expect(one.status).toBe(200);
    const logprobs = await postJson('/v1/completions', { prompt: 'hi', logprobs: 2 });
    expect(logprobs.json.error).toMatchObject({ code: 'unsupported_value', param: 'logprobs' });
  });

  it('returns unit-length embeddings, shortened ones too', async () => {
    const norm = (v: number[]) => Math.sqrt(v.reduce((n, x) => n + x * x, 0));
    const full = await client.embeddings.create({ model: 'tiny', input: 'the cat sat on the mat', encoding_format: 'float' });
    expect(norm(full.data[0]!.embedding)).toBeCloseTo(1, 5);
    const short = await client.embeddings.create({ model: 'tiny', input: 'the cat sat on the mat', encoding_format: 'float', dimensions: 8 });
    expect(short.data[0]!.embedding).toHaveLength(8);
    expect(norm(short.data[0]!.embedding)).toBeCloseTo(1, 5);
  });

  it('refuses bad requests with 400 in the OpenAI error shape', async () => {
    const missing = await postJson('/v1/chat/completions', { model: 'tiny' });
    expect(missing.status).toBe(400);
    expectOpenAIError(missing.json, 'invalid_value');
    expect(missing.json.error.param).toBe('messages');

    const wrongType = await postJson('/v1/chat/completions', { messages: [{ role: 'user', content: 42 }] });
    expect(wrongType.status).toBe(400);
    expectOpenAIError(wrongType.json);
    expect(wrongType.json.error.param).toBe('messages.0.content');

    const badTemp = await postJson('/v1/completions', { prompt: 'x', temperature: 'hot' });
    expect(badTemp.status).toBe(400);
    expect(badTemp.json.error.param).toBe('temperature');

    const notJson = await postJson('/v1/chat/completions', '{"messages": [');
    expect(notJson.status).toBe(400);
    expectOpenAIError(notJson.json, 'invalid_json');

    const oversize = await postJson('/v1/chat/completions', { messages: [{ role: 'user', content: 'word '.repeat(2000) }] });
    expect(oversize.status).toBe(400);
    expectOpenAIError(oversize.json, 'context_length_exceeded');
    expect(oversize.json.error.message).toContain('256');

    await expect(client.chat.completions.create({ model: 'tiny', messages: [] })).rejects.toMatchObject({ status: 400 });

    const lastNotUser = await postJson('/v1/chat/completions', { stream: true, messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'Hello' }] });
    expect(lastNotUser.status).toBe(400);
    expectOpenAIError(lastNotUser.json);
    expect(lastNotUser.json.error.param).toBe('messages');
  });

  it('answers 404, 405 and 413 in the OpenAI error shape', async () => {
    const notFound = await fetch(`${server.url}/v1/nope`);
    expect(notFound.status).toBe(404);
    expectOpenAIError(await notFound.json(), 'not_found');

    const wrongMethod = await fetch(`${server.url}/v1/chat/completions`);
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
    expectOpenAIError(await wrongMethod.json(), 'method_not_allowed');

    const big = await postJson('/v1/embeddings', { input: 'x'.repeat(100 * 1024) });
    expect(big.status).toBe(413);
    expectOpenAIError(big.json, 'request_too_large');
  });

  it('answers or cleanly refuses 20 concurrent requests, and stays healthy', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        postJson('/v1/chat/completions', { messages: [{ role: 'user', content: `question ${i}` }], max_tokens: 8 }),
      ),
    );
    const ok = results.filter((r) => r.status === 200);
    const busy = results.filter((r) => r.status === 503);
    expect(ok.length + busy.length).toBe(20);
    // One runs and four wait; the rest are refused at once.
    expect(ok.length).toBeGreaterThanOrEqual(5);
    expect(busy.length).toBeGreaterThan(0);
    for (const r of ok) expect(r.json.choices[0].message.content).toBe(CANNED_SENTENCE);
    for (const r of busy) {
      expectOpenAIError(r.json, 'queue_full');
      expect(r.headers.get('retry-after')).toBe('1');
    }
    const health = await fetch(`${server.url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok' });
  });

  it('exports Prometheus metrics for requests, tokens and latency', async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).toMatch(/modelship_http_requests_total\{route="\/v1\/chat\/completions",method="POST",status="200"\} \d+/);
    expect(text).toMatch(/modelship_http_requests_total\{route="\/v1\/chat\/completions",method="POST",status="503"\} \d+/);
    expect(text).toMatch(/modelship_generated_tokens_total [1-9]\d*/);
    expect(text).toMatch(/modelship_prompt_tokens_total [1-9]\d*/);
    expect(text).toMatch(/modelship_request_duration_seconds_bucket\{route="\/v1\/chat\/completions",le="\+Inf"\} \d+/);
    expect(text).toContain('# TYPE modelship_request_duration_seconds histogram');
  });
});

describe('over-long input', () => {
  it('refuses a 1 MB prompt in well under a second of work, and /health answers meanwhile', async () => {
    const roomy = await startInferenceServer({ engine, maxBodyBytes: 4 * 1024 * 1024 });
    try {
      const huge = 'lorem ipsum dolor sit amet '.repeat(40_000);
      expect(huge.length).toBeGreaterThan(1_000_000);
      const started = performance.now();
      const answer = fetch(`${roomy.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt: huge }) });
      const health = await fetch(`${roomy.url}/health`);
      const healthMs = performance.now() - started;
      expect(health.status).toBe(200);
      const res = await answer;
      const ms = performance.now() - started;
      expect(res.status).toBe(400);
      const body = (await res.json()) as any;
      expectOpenAIError(body, 'context_length_exceeded');
      expect(body.error.message).toBe(`this model's context holds 256 tokens, but "prompt" comes to over 240 tokens; shorten it or serve with a larger --ctx-size.`);
      // Before, the whole megabyte was tokenised at once while every other request waited.
      expect(healthMs).toBeLessThan(1000);
      expect(ms).toBeLessThan(2000);
      const chat = await postJson('/v1/chat/completions', { messages: [{ role: 'user', content: 'word '.repeat(300) }] });
      expect(chat.json.error.message).toMatch(/^this model's context holds 256 tokens, but the messages come to \d+ tokens; shorten them/);
    } finally {
      await roomy.close();
    }
  });
});

describe('a client that goes away', () => {
  it('stops the generation it asked for', async () => {
    const model = await writeTinyModel(path.join(dir, 'loop.gguf'), { mode: 'canned', sentence: 'tokens keep flowing through the tiny model', loop: true });
    const looping = await loadNativeEngine({ modelPath: model.path, threads: 1, gpu: 'none', contextSize: 4096 });
    const loopServer = await startInferenceServer({ engine: looping });
    try {
      const generated = async () => Number(/^modelship_generated_tokens_total (\d+)$/m.exec(await (await fetch(`${loopServer.url}/metrics`)).text())?.[1]);
      const before = await generated();
      const abort = new AbortController();
      const res = await fetch(`${loopServer.url}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ prompt: 'Count', max_tokens: 4000, stream: true }),
        signal: abort.signal,
      });
      const reader = res.body!.getReader();
      await reader.read();
      abort.abort();
      // The next request runs only once the slot is free, so the aborted one has ended by then.
      const next = await fetch(`${loopServer.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt: 'x', max_tokens: 1 }) });
      expect(next.status).toBe(200);
      const spent = (await generated()) - before;
      expect(spent).toBeGreaterThan(0);
      expect(spent).toBeLessThan(2000);
    } finally {
      await loopServer.close();
      await looping.dispose();
    }
  });
});
