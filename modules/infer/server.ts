/**
 * The OpenAI-compatible HTTP server on node:http: models, chat completions (SSE and not),
 * completions, embeddings, health and Prometheus metrics, with a bounded queue per model.
 */
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { isModelshipError, describeError } from '../errors/index.js';
import type { z } from 'zod';
import { ApiError, ChatCompletionRequest, CompletionRequest, EmbeddingRequest, encodeBase64Floats, invalidBody } from './api.js';
import { collect, type ChatMessage, type Engine, type Generation, type GenerationOptions, type GenerationResult } from './engine.js';
import { ServerMetrics } from './metrics.js';
import { RequestQueue } from './queue.js';

/** Adds retrieved passages to a chat (RAG); the server returns their sources with the answer. */
export interface Retriever {
  retrieve(query: string): Promise<RetrievedPassage[]>;
}

export interface RetrievedPassage {
  source: string;
  text: string;
  score: number;
}

export interface ServerOptions {
  engine: Engine;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Requests that may wait while the model is busy; beyond that, 503. Default 16. */
  maxWaiting?: number;
  /** Largest request body accepted; beyond that, 413. Default 1 MiB. */
  maxBodyBytes?: number;
  retriever?: Retriever;
}

export interface InferenceServer {
  url: string;
  port: number;
  host: string;
  metrics: ServerMetrics;
  /** Stop accepting, let running requests finish (up to `graceMs`), then drop the rest. */
  close(graceMs?: number): Promise<void>;
}

const ROUTES: Record<string, string> = {
  '/v1/models': 'GET',
  '/v1/chat/completions': 'POST',
  '/v1/completions': 'POST',
  '/v1/embeddings': 'POST',
  '/health': 'GET',
  '/metrics': 'GET',
};

export async function startInferenceServer(options: ServerOptions): Promise<InferenceServer> {
  const { engine } = options;
  const queue = new RequestQueue({ concurrency: 1, maxWaiting: options.maxWaiting ?? 16 });
  const metrics = new ServerMetrics({ queueDepth: () => queue.depth, active: () => queue.active });
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
  let stopping = false;
  const created = Math.floor(Date.now() / 1000);

  const handlers: Record<string, (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>> = {
    '/health': async (_req, res) => sendJson(res, stopping ? 503 : 200, { status: stopping ? 'stopping' : 'ok', model: engine.modelId }),
    '/metrics': async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
      res.end(metrics.render());
    },
    '/v1/models': async (_req, res) =>
      sendJson(res, 200, { object: 'list', data: [{ id: engine.modelId, object: 'model', created, owned_by: 'modelship' }] }),
    '/v1/chat/completions': async (req, res) => {
      const body = parse(ChatCompletionRequest, await readJson(req, maxBodyBytes));
      let messages: ChatMessage[] = body.messages.map((m) => ({ role: m.role === 'developer' ? 'system' : m.role, content: m.content }));
      // Retrieval embeds the question with the same model, so it waits its turn like any request.
      const retriever = options.retriever;
      const sources = retriever ? await queue.run(() => retrieveFor(retriever, messages)) : undefined;
      if (sources && sources.length > 0) messages = [contextMessage(sources), ...messages];
      const generation = generationOptions(body, engine, messages.map((m) => m.content).join('\n'), 'messages');
      await streamOrSend(res, body, 'chat', (opts) => engine.chat(messages, opts), generation, sources);
    },
    '/v1/completions': async (req, res) => {
      const body = parse(CompletionRequest, await readJson(req, maxBodyBytes));
      const generation = generationOptions(body, engine, body.prompt, 'prompt');
      await streamOrSend(res, body, 'completion', (opts) => engine.complete(body.prompt, opts), generation, undefined);
    },
    '/v1/embeddings': async (req, res) => {
      const body = parse(EmbeddingRequest, await readJson(req, maxBodyBytes));
      const inputs = typeof body.input === 'string' ? [body.input] : body.input;
      inputs.forEach((input, i) => checkFits(engine, input, typeof body.input === 'string' ? 'input' : `input.${i}`));
      const result = await queue.run(() => engine.embed(inputs));
      metrics.recordTokens(result.promptTokens, 0);
      const base64 = body.encoding_format === 'base64';
      sendJson(res, 200, {
        object: 'list',
        model: engine.modelId,
        data: result.vectors.map((v, index) => {
          const vector = body.dimensions ? v.slice(0, body.dimensions) : v;
          return { object: 'embedding', index, embedding: base64 ? encodeBase64Floats(vector) : vector };
        }),
        usage: { prompt_tokens: result.promptTokens, total_tokens: result.promptTokens },
      });
    },
  };

  async function streamOrSend(
    res: http.ServerResponse,
    body: { stream?: boolean | undefined; stream_options?: { include_usage?: boolean | undefined } | null | undefined },
    kind: 'chat' | 'completion',
    start: (opts: GenerationOptions) => Generation,
    generation: GenerationOptions,
    sources: RetrievedPassage[] | undefined,
  ): Promise<void> {
    const id = `${kind === 'chat' ? 'chatcmpl' : 'cmpl'}-${randomUUID()}`;
    const base = { id, object: kind === 'chat' ? 'chat.completion' : 'text_completion', created: Math.floor(Date.now() / 1000), model: engine.modelId };
    const abort = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) abort.abort();
    });
    const sourceList = sources?.map((s) => ({ source: s.source, score: s.score }));
    await queue.run(async () => {
      const gen = start({ ...generation, signal: abort.signal });
      if (!body.stream) {
        const result = await collect(gen);
        metrics.recordTokens(result.promptTokens, result.completionTokens);
        const usage = usageOf(result);
        const choice =
          kind === 'chat'
            ? { index: 0, message: { role: 'assistant', content: result.text }, logprobs: null, finish_reason: result.finishReason }
            : { index: 0, text: result.text, logprobs: null, finish_reason: result.finishReason };
        sendJson(res, 200, { ...base, choices: [choice], usage, ...(sourceList ? { sources: sourceList } : {}) });
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });
      const chunkObject = kind === 'chat' ? 'chat.completion.chunk' : 'text_completion';
      const event = (choice: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
        res.write(`data: ${JSON.stringify({ ...base, object: chunkObject, choices: [{ index: 0, ...choice }], ...extra })}\n\n`);
      if (kind === 'chat') event({ delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }, sourceList ? { sources: sourceList } : {});
      try {
        const result = await collect(gen, (text) =>
          event(kind === 'chat' ? { delta: { content: text }, logprobs: null, finish_reason: null } : { text, logprobs: null, finish_reason: null }),
        );
        metrics.recordTokens(result.promptTokens, result.completionTokens);
        event(kind === 'chat' ? { delta: {}, logprobs: null, finish_reason: result.finishReason } : { text: '', logprobs: null, finish_reason: result.finishReason });
        if (body.stream_options?.include_usage) res.write(`data: ${JSON.stringify({ ...base, object: chunkObject, choices: [], usage: usageOf(result) })}\n\n`);
      } catch (err) {
        // Headers are gone: the error travels as one more event, in OpenAI's shape.
        res.write(`data: ${JSON.stringify(toApiError(err).toBody())}\n\n`);
      }
      res.end('data: [DONE]\n\n');
    });
  }

  const server = http.createServer((req, res) => {
    const began = process.hrtime.bigint();
    const url = new URL(req.url ?? '/', 'http://localhost');
    const route = url.pathname.replace(/\/+$/, '') || '/';
    const handler = Object.hasOwn(handlers, route) ? handlers[route] : undefined;
    res.on('finish', () => metrics.recordRequest(handler ? route : 'other', req.method ?? '', res.statusCode, Number(process.hrtime.bigint() - began) / 1e9));
    const run = async () => {
      if (!handler) throw new ApiError(404, `no route ${req.method} ${url.pathname}; see GET /v1/models.`, 'not_found_error', 'not_found');
      if (req.method !== ROUTES[route]) {
        throw new ApiError(405, `${url.pathname} takes ${ROUTES[route]}, not ${req.method}.`, 'invalid_request_error', 'method_not_allowed', null, { allow: ROUTES[route]! });
      }
      if (stopping && route !== '/health') throw new ApiError(503, 'the server is stopping.', 'server_error', 'stopping');
      await handler(req, res);
    };
    run().catch((err: unknown) => {
      const apiError = toApiError(err);
      if (res.headersSent) {
        res.end();
        return;
      }
      // Unread request bodies would keep the socket busy; the client gets its answer and a fresh connection.
      if (apiError.status === 413) res.setHeader('connection', 'close');
      sendJson(res, apiError.status, apiError.toBody(), apiError.headers);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = options.host ?? '127.0.0.1';
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;

  return {
    url: `http://${urlHost}:${address.port}`,
    port: address.port,
    host,
    metrics,
    async close(graceMs = 5000) {
      stopping = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), graceMs);
      await closed;
      clearTimeout(timer);
    },
  };
}

function parse<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw invalidBody(result.error);
  return result.data;
}

/** Sampling settings from the body, refusing prompts that cannot fit the context. */
function generationOptions(
  body: { max_tokens?: number | undefined; max_completion_tokens?: number | undefined; temperature?: number | undefined; top_p?: number | undefined; seed?: number | undefined; stop?: string | string[] | undefined },
  engine: Engine,
  promptText: string,
  param: 'messages' | 'prompt',
): GenerationOptions {
  const promptTokens = checkFits(engine, promptText, param);
  const room = engine.contextSize - promptTokens;
  const asked = body.max_completion_tokens ?? body.max_tokens;
  return {
    maxTokens: Math.min(asked ?? room, room),
    ...(body.temperature === undefined ? {} : { temperature: body.temperature }),
    ...(body.top_p === undefined ? {} : { topP: body.top_p }),
    ...(body.seed === undefined ? {} : { seed: body.seed }),
    ...(body.stop === undefined ? {} : { stop: typeof body.stop === 'string' ? [body.stop] : body.stop }),
  };
}

function checkFits(engine: Engine, text: string, param: string): number {
  const tokens = engine.countTokens(text);
  // Leave room for the chat template and at least one answer token.
  if (tokens + 16 > engine.contextSize) {
    throw new ApiError(
      400,
      `this model's context holds ${engine.contextSize} tokens, but the ${param === 'messages' ? 'messages have' : `${param} has`} ${tokens}; shorten it or serve with a larger --ctx-size.`,
      'invalid_request_error',
      'context_length_exceeded',
      param,
    );
  }
  return tokens;
}

async function retrieveFor(retriever: Retriever, messages: ChatMessage[]): Promise<RetrievedPassage[]> {
  const question = [...messages].reverse().find((m) => m.role === 'user');
  return question ? retriever.retrieve(question.content) : [];
}

function contextMessage(passages: RetrievedPassage[]): ChatMessage {
  const listed = passages.map((p, i) => `[${i + 1}] (${p.source})\n${p.text}`).join('\n\n');
  return { role: 'system', content: `Answer from these passages and cite their numbers.\n\n${listed}` };
}

function usageOf(result: GenerationResult) {
  return { prompt_tokens: result.promptTokens, completion_tokens: result.completionTokens, total_tokens: result.promptTokens + result.completionTokens };
}

function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (isModelshipError(err)) {
    if (err.code === 'INFER_QUEUE_FULL') return new ApiError(503, err.message, 'overloaded_error', 'queue_full', null, { 'retry-after': '1' });
    if (err.code === 'INFER_BAD_REQUEST') {
      const param = typeof err.details?.['param'] === 'string' ? err.details['param'] : null;
      return new ApiError(400, err.message, 'invalid_request_error', 'invalid_value', param);
    }
  }
  return new ApiError(500, `the model failed: ${describeError(err)}`, 'server_error', 'internal_error');
}

async function readJson(req: http.IncomingMessage, maxBytes: number): Promise<unknown> {
  const tooLarge = () => new ApiError(413, `the request body is over ${maxBytes} bytes; send a smaller one.`, 'invalid_request_error', 'request_too_large');
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > maxBytes) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw tooLarge();
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ApiError(400, `the request body is not valid JSON: ${describeError(err)}.`, 'invalid_request_error', 'invalid_json');
  }
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}
