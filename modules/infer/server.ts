/**
 * The OpenAI-compatible HTTP server on node:http: models, chat completions (SSE and not),
 * completions, embeddings, health and Prometheus metrics, with a bounded queue per model.
 */
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { ModelshipError, isModelshipError, describeError } from '../errors/index.js';
import type { z } from 'zod';
import { ApiError, ChatCompletionRequest, CompletionRequest, EmbeddingRequest, encodeBase64Floats, invalidBody, refuseUnsupported } from './api.js';
import { findPatternString, toGrammarSchema } from './json-schema.js';
import { collect, type ChatMessage, type Engine, type Generation, type GenerationOptions, type GenerationResult } from './engine.js';
import { ServerMetrics } from './metrics.js';
import { RequestQueue } from './queue.js';
import { answerRoom, fitPassages, type UsedPassage } from './rag/fit.js';

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
  /** Other names the model answers to in GET /v1/models/{id} (e.g. the reference it was served from). */
  aliases?: string[];
  /** Return embeddings as the model makes them instead of scaled to unit length. */
  rawEmbeddings?: boolean;
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
  '/v1/models/{id}': 'GET',
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
  const modelObject = { id: engine.modelId, object: 'model', created, owned_by: 'modelship' };
  const modelNames = new Set([engine.modelId, ...(options.aliases ?? [])]);

  const handlers: Record<string, (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>> = {
    '/health': async (_req, res) => sendJson(res, stopping ? 503 : 200, { status: stopping ? 'stopping' : 'ok', model: engine.modelId }),
    '/metrics': async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
      res.end(metrics.render());
    },
    '/v1/models': async (_req, res) => sendJson(res, 200, { object: 'list', data: [modelObject] }),
    '/v1/models/{id}': async (req, res) => {
      const id = decodePathSegment(String(requestPath(req.url)).replace(/^\/v1\/models\//, '').replace(/\/+$/, ''));
      if (!modelNames.has(id)) throw new ApiError(404, `The model '${printable(id)}' does not exist; this server serves '${engine.modelId}'.`, 'invalid_request_error', 'model_not_found', 'model');
      sendJson(res, 200, modelObject);
    },
    '/v1/chat/completions': async (req, res) => {
      const raw = await readJson(req, maxBodyBytes);
      const body = parse(ChatCompletionRequest, raw);
      refuseUnsupported(raw as Record<string, unknown>);
      let messages: ChatMessage[] = body.messages.map(toChatMessage);
      const tools = toolsOf(body);
      // Retrieval embeds the question with the same model, so it waits its turn like any request.
      const retriever = options.retriever;
      const abort = abortOnClose(res);
      const retrieved = retriever ? await queue.run(() => retrieveFor(retriever, messages)) : undefined;
      const countedText = () => [...messages.map((m) => m.content + (m.toolCalls ? JSON.stringify(m.toolCalls) : '')), tools.tools ? JSON.stringify(tools.tools) : ''].join('\n');
      let sources: UsedPassage[] | undefined = retrieved;
      let promptTokens: number | undefined;
      if (retrieved && retrieved.length > 0) {
        // The conversation alone must fit before passages are fitted around it.
        await countWithin(engine, countedText(), 'messages', abort.signal);
        const toolTokens = tools.tools ? engine.countTokens(JSON.stringify(tools.tools)) : 0;
        const fitted = fitPassages(engine, messages, retrieved, answerRoom(engine.contextSize, body.max_completion_tokens ?? body.max_tokens), toolTokens);
        ({ messages, used: sources } = fitted);
        promptTokens = fitted.promptTokens + toolTokens;
      }
      const generation = { ...(await generationOptions(body, engine, countedText(), 'messages', abort.signal)), ...tools, ...responseFormatOf(body) };
      // With the template counted, the answer gets exactly the room that is left.
      if (promptTokens !== undefined) generation.maxTokens = Math.max(1, Math.min(generation.maxTokens ?? Infinity, engine.contextSize - promptTokens));
      await streamOrSend(res, body, 'chat', [(opts) => engine.chat(messages, opts)], [generation], abort, sources);
    },
    '/v1/completions': async (req, res) => {
      const raw = await readJson(req, maxBodyBytes);
      const body = parse(CompletionRequest, raw);
      refuseUnsupported(raw as Record<string, unknown>);
      const prompts = typeof body.prompt === 'string' ? [body.prompt] : body.prompt;
      const abort = abortOnClose(res);
      const generations: GenerationOptions[] = [];
      for (const [i, prompt] of prompts.entries()) {
        generations.push(await generationOptions(body, engine, prompt, typeof body.prompt === 'string' ? 'prompt' : `prompt.${i}`, abort.signal));
      }
      await streamOrSend(res, body, 'completion', prompts.map((prompt) => (opts: GenerationOptions) => engine.complete(prompt, opts)), generations, abort, undefined);
    },
    '/v1/embeddings': async (req, res) => {
      const body = parse(EmbeddingRequest, await readJson(req, maxBodyBytes));
      const inputs = typeof body.input === 'string' ? [body.input] : body.input;
      const abort = abortOnClose(res);
      for (const [i, input] of inputs.entries()) await countWithin(engine, input, typeof body.input === 'string' ? 'input' : `input.${i}`, abort.signal);
      const result = await queue.run(() => engine.embed(inputs));
      metrics.recordTokens(result.promptTokens, 0);
      const base64 = body.encoding_format === 'base64';
      sendJson(res, 200, {
        object: 'list',
        model: engine.modelId,
        data: result.vectors.map((v, index) => {
          const cut = body.dimensions ? v.slice(0, body.dimensions) : v;
          // Unit length, as OpenAI's: dot-product vector stores rely on it (shortened vectors too).
          const vector = options.rawEmbeddings ? cut : unitLength(cut);
          return { object: 'embedding', index, embedding: base64 ? encodeBase64Floats(vector) : vector };
        }),
        usage: { prompt_tokens: result.promptTokens, total_tokens: result.promptTokens },
      });
    },
  };

  /** One choice per generation (several prompts make several), run in turn in one queue slot. */
  async function streamOrSend(
    res: http.ServerResponse,
    body: { stream?: boolean | undefined; stream_options?: { include_usage?: boolean | undefined } | null | undefined },
    kind: 'chat' | 'completion',
    starts: ((opts: GenerationOptions) => Generation)[],
    generations: GenerationOptions[],
    abort: AbortController,
    sources: UsedPassage[] | undefined,
  ): Promise<void> {
    const id = `${kind === 'chat' ? 'chatcmpl' : 'cmpl'}-${randomUUID()}`;
    const base = { id, object: kind === 'chat' ? 'chat.completion' : 'text_completion', created: Math.floor(Date.now() / 1000), model: engine.modelId };
    const sourceList = sources?.map((s) => ({ source: s.source, score: s.score, ...(s.truncated ? { truncated: true } : {}) }));
    await queue.run(async () => {
      // A client that left while waiting costs nothing more.
      if (abort.signal.aborted) return;
      const begin = (i: number) => starts[i]!({ ...generations[i]!, signal: abort.signal });
      if (!body.stream) {
        const results: GenerationResult[] = [];
        for (let i = 0; i < starts.length; i++) results.push(await collect(begin(i)));
        const total = sumUsage(results);
        metrics.recordTokens(total.prompt_tokens, total.completion_tokens);
        const choices = results.map((result, index) =>
          kind === 'chat'
            ? { index, message: { role: 'assistant', content: result.toolCalls && !result.text ? null : result.text, refusal: null, ...toolCallsOf(result) }, logprobs: null, finish_reason: result.finishReason }
            : { index, text: result.text, logprobs: null, finish_reason: result.finishReason },
        );
        sendJson(res, 200, { ...base, choices, usage: total, ...(sourceList ? { sources: sourceList } : {}) });
        return;
      }
      const chunkObject = kind === 'chat' ? 'chat.completion.chunk' : 'text_completion';
      let opened = false;
      const event = (index: number, choice: Record<string, unknown>, extra: Record<string, unknown> = {}) => {
        if (!opened) {
          res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });
          opened = true;
        }
        res.write(`data: ${JSON.stringify({ ...base, object: chunkObject, choices: [{ index, ...choice }], ...extra })}\n\n`);
      };
      const results: GenerationResult[] = [];
      try {
        for (let index = 0; index < starts.length; index++) {
          // Started before the first event, so a request the engine refuses still gets a plain 400.
          const gen = begin(index);
          if (kind === 'chat') event(index, { delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }, sourceList ? { sources: sourceList } : {});
          const result = await collect(gen, (text) =>
            event(index, kind === 'chat' ? { delta: { content: text }, logprobs: null, finish_reason: null } : { text, logprobs: null, finish_reason: null }),
          );
          results.push(result);
          const calls = toolCallsOf(result).tool_calls;
          calls?.forEach((call, i) => event(index, { delta: { tool_calls: [{ index: i, ...call }] }, logprobs: null, finish_reason: null }));
          event(index, kind === 'chat' ? { delta: {}, logprobs: null, finish_reason: result.finishReason } : { text: '', logprobs: null, finish_reason: result.finishReason });
        }
        const total = sumUsage(results);
        metrics.recordTokens(total.prompt_tokens, total.completion_tokens);
        if (body.stream_options?.include_usage) res.write(`data: ${JSON.stringify({ ...base, object: chunkObject, choices: [], usage: total })}\n\n`);
      } catch (err) {
        if (!opened) throw err;
        // Headers are gone: the error travels as one more event, in OpenAI's shape.
        res.write(`data: ${JSON.stringify(toApiError(err).toBody())}\n\n`);
      }
      res.end('data: [DONE]\n\n');
    });
  }

  // Nagle off (Node's default since 18, kept whatever the default): a response leaves in its one write at once.
  const server = http.createServer({ noDelay: true }, (req, res) => {
    const began = process.hrtime.bigint();
    const target = requestPath(req.url);
    const pathname = typeof target === 'string' ? target : '';
    const path = pathname.replace(/\/+$/, '') || '/';
    const route = path.startsWith('/v1/models/') ? '/v1/models/{id}' : path;
    const handler = typeof target === 'string' && Object.hasOwn(handlers, route) ? handlers[route] : undefined;
    res.on('finish', () => metrics.recordRequest(handler ? route : 'other', req.method ?? '', res.statusCode, Number(process.hrtime.bigint() - began) / 1e9));
    const run = async () => {
      if (typeof target !== 'string') throw target;
      if (!handler) throw new ApiError(404, `no route ${req.method} ${printable(pathname)}; see GET /v1/models.`, 'not_found_error', 'not_found');
      if (req.method !== ROUTES[route]) {
        throw new ApiError(405, `${pathname} takes ${ROUTES[route]}, not ${req.method}.`, 'invalid_request_error', 'method_not_allowed', null, { allow: ROUTES[route]! });
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
    const fail = (err: NodeJS.ErrnoException) => reject(listenError(err, options.host ?? '127.0.0.1', options.port ?? 0));
    server.once('error', fail);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', fail);
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

/** Why the server could not listen, in one line that says what to change. */
function listenError(err: NodeJS.ErrnoException, host: string, port: number): Error {
  if (err.code === 'EADDRINUSE') {
    return new ModelshipError('INFER_PORT_IN_USE', `port ${port} on ${host} is already in use: stop what listens there, or pick another with --port (0 picks a free one).`, { cause: err });
  }
  if (err.code === 'EACCES') {
    return new ModelshipError('INFER_PORT_IN_USE', `port ${port} on ${host} needs privileges this user lacks: pick a port above 1023 with --port.`, { cause: err });
  }
  if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') {
    return new ModelshipError('INFER_ADDRESS_UNAVAILABLE', `${host} is not an address of this machine: bind 127.0.0.1, 0.0.0.0 (all interfaces) or one of its own addresses with --host.`, { cause: err });
  }
  return err;
}

function parse<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw invalidBody(result.error);
  return result.data;
}

/** Sampling settings from the body, refusing prompts that cannot fit the context. */
async function generationOptions(
  body: { max_tokens?: number | undefined; max_completion_tokens?: number | undefined; temperature?: number | undefined; top_p?: number | undefined; seed?: number | undefined; stop?: string | string[] | undefined },
  engine: Engine,
  promptText: string,
  param: string,
  signal: AbortSignal,
): Promise<GenerationOptions> {
  const promptTokens = await countWithin(engine, promptText, param, signal);
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

/** Text is tokenised this many characters at a time, yielding to other requests in between. */
const TOKENISE_SLICE = 16 * 1024;

/**
 * Tokens in `text`, refusing it once it cannot fit the context. Long text is tokenised in slices
 * cut at whitespace with the event loop free in between, and counting stops as soon as the
 * context is full: a huge prompt costs about one context of work, and /health keeps answering.
 */
export async function countWithin(engine: Engine, text: string, param: string, signal?: AbortSignal): Promise<number> {
  // Leave room for the chat template and at least one answer token.
  const limit = engine.contextSize - 16;
  const plural = param === 'messages';
  const tooLong = (tokens: number, atLeast: boolean) =>
    new ApiError(
      400,
      `this model's context holds ${engine.contextSize} tokens, but ${plural ? 'the messages come' : `"${param}" comes`} to ${atLeast ? 'over ' : ''}${tokens} tokens; shorten ${plural ? 'them' : 'it'} or serve with a larger --ctx-size.`,
      'invalid_request_error',
      'context_length_exceeded',
      param,
    );
  if (text.length <= TOKENISE_SLICE) {
    const tokens = engine.countTokens(text);
    if (tokens > limit) throw tooLong(tokens, false);
    return tokens;
  }
  let tokens = 0;
  for (let start = 0; start < text.length; ) {
    let end = Math.min(start + TOKENISE_SLICE, text.length);
    if (end < text.length) {
      const space = text.lastIndexOf(' ', end);
      if (space > start + TOKENISE_SLICE / 2) end = space;
    }
    tokens += engine.countTokens(text.slice(start, end));
    if (tokens > limit) throw tooLong(limit, true);
    start = end;
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (signal?.aborted) throw new ApiError(499, 'the client closed the request.', 'invalid_request_error', 'client_closed');
  }
  return tokens;
}

/** Aborts when the client goes away before the answer is complete. */
function abortOnClose(res: http.ServerResponse): AbortController {
  const abort = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) abort.abort();
  });
  return abort;
}

function toChatMessage(m: ChatCompletionRequest['messages'][number]): ChatMessage {
  if (m.role === 'tool') return { role: 'tool', content: m.content, toolCallId: m.tool_call_id };
  if (m.role === 'assistant') {
    const toolCalls = m.tool_calls?.map((c) => ({ id: c.id, name: c.function.name, arguments: c.function.arguments }));
    return { role: 'assistant', content: m.content, ...(toolCalls && toolCalls.length > 0 ? { toolCalls } : {}) };
  }
  return { role: m.role === 'developer' ? 'system' : m.role, content: m.content };
}

/** tools and tool_choice, checked here so that a bad one is a 400 before anything streams. */
function toolsOf(body: ChatCompletionRequest): Pick<GenerationOptions, 'tools' | 'toolChoice' | 'parallelToolCalls'> {
  const choice = body.tool_choice;
  if (!body.tools || body.tools.length === 0) {
    if (choice !== undefined && choice !== 'none' && choice !== 'auto') {
      throw new ApiError(400, "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.", 'invalid_request_error', 'invalid_value', 'tool_choice');
    }
    return {};
  }
  const seen = new Set<string>();
  const tools = body.tools.map((t, i) => {
    if (seen.has(t.function.name)) throw new ApiError(400, `"tools.${i}.function.name": "${t.function.name}" is defined twice.`, 'invalid_request_error', 'invalid_value', `tools.${i}.function.name`);
    seen.add(t.function.name);
    return {
      name: t.function.name,
      ...(t.function.description ? { description: t.function.description } : {}),
      ...(t.function.parameters ? { parameters: toGrammarSchema(t.function.parameters, `tools.${i}.function.parameters`) } : {}),
    };
  });
  if (choice === 'none') return {};
  if (typeof choice === 'object' && !seen.has(choice.function.name)) {
    throw new ApiError(400, `"tool_choice.function.name": "${choice.function.name}" is not among the tools (${[...seen].join(', ')}).`, 'invalid_request_error', 'invalid_value', 'tool_choice.function.name');
  }
  const toolChoice = choice === undefined || choice === 'auto' ? 'auto' : choice === 'required' ? 'required' : { name: choice.function.name };
  if (toolChoice === 'auto' && (!body.response_format || body.response_format.type === 'text')) {
    // These calls go through the chat template's own function calling, whose grammar has no patterns.
    body.tools.forEach((t, i) => {
      const at = t.function.parameters ? findPatternString(t.function.parameters, `tools.${i}.function.parameters`) : undefined;
      if (at) {
        throw new ApiError(400, `"${at}" can be enforced only when the call is forced (tool_choice "required" or a named function) or a response_format is sent; with tool_choice "auto" alone, use a plain string.`, 'invalid_request_error', 'invalid_schema', at);
      }
    });
  }
  return { tools, toolChoice, ...(body.parallel_tool_calls === undefined ? {} : { parallelToolCalls: body.parallel_tool_calls }) };
}

function responseFormatOf(body: ChatCompletionRequest): Pick<GenerationOptions, 'responseFormat'> {
  const format = body.response_format;
  if (!format || format.type === 'text') return {};
  if (format.type === 'json_object') return { responseFormat: { type: 'json_object' } };
  const schema = format.json_schema.schema;
  if (!schema) return { responseFormat: { type: 'json_object' } };
  return { responseFormat: { type: 'json_schema', schema: toGrammarSchema(schema, 'response_format.json_schema.schema') } };
}

function toolCallsOf(result: GenerationResult): { tool_calls?: { id: string; type: 'function'; function: { name: string; arguments: string } }[] } {
  if (!result.toolCalls || result.toolCalls.length === 0) return {};
  return { tool_calls: result.toolCalls.map((c) => ({ id: `call_${randomUUID().replace(/-/g, '').slice(0, 24)}`, type: 'function', function: { name: c.name, arguments: c.arguments } })) };
}

function sumUsage(results: GenerationResult[]) {
  const prompt = results.reduce((n, r) => n + r.promptTokens, 0);
  const completion = results.reduce((n, r) => n + r.completionTokens, 0);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

/** The vector scaled to length 1 (a zero vector stays zero). */
export function unitLength(vector: number[]): number[] {
  const norm = Math.sqrt(vector.reduce((n, x) => n + x * x, 0));
  return norm === 0 ? vector : vector.map((x) => x / norm);
}

async function retrieveFor(retriever: Retriever, messages: ChatMessage[]): Promise<RetrievedPassage[]> {
  const question = [...messages].reverse().find((m) => m.role === 'user');
  return question ? retriever.retrieve(question.content) : [];
}



function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (isModelshipError(err)) {
    if (err.code === 'INFER_QUEUE_FULL') return new ApiError(503, err.message, 'overloaded_error', 'queue_full', null, { 'retry-after': '1' });
    if (err.code === 'INFER_BAD_REQUEST') {
      const param = typeof err.details?.['param'] === 'string' ? err.details['param'] : null;
      const code = typeof err.details?.['code'] === 'string' ? err.details['code'] : 'invalid_value';
      return new ApiError(400, err.message, 'invalid_request_error', code, param);
    }
  }
  return new ApiError(500, `the model failed: ${describeError(err)}`, 'server_error', 'internal_error');
}

async function readJson(req: http.IncomingMessage, maxBytes: number): Promise<unknown> {
  const tooLarge = () => new ApiError(413, `the request body is over ${maxBytes} bytes; send a smaller one.`, 'invalid_request_error', 'request_too_large');
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > maxBytes) throw tooLarge();
  let body: Buffer;
  try {
    body = await readBody(req, maxBytes, tooLarge);
  } catch (err) {
    if (err instanceof ApiError) throw err;
    // A body cut short or malformed (bad chunked encoding) is the client's fault, not the model's.
    throw new ApiError(400, `the request body could not be read: ${describeError(err)}.`, 'invalid_request_error', 'invalid_body');
  }
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new ApiError(400, `the request body is not valid JSON: ${describeError(err)}.`, 'invalid_request_error', 'invalid_json');
  }
}

/**
 * The whole body, read with plain events: an async iterator over the request costs a stream
 * wrapper and a promise per chunk, a tenth of a millisecond on every one-token request here.
 * Over `maxBytes` the rest is not read and the request is destroyed, as a `for await` left early does.
 */
export function readBody(req: http.IncomingMessage, maxBytes: number, tooLarge: () => Error): Promise<Buffer> {
  const premature = () => Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
  if (req.readableEnded) return Promise.resolve(Buffer.alloc(0));
  if (req.destroyed) return Promise.reject(premature());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const settle = (err?: Error) => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
      if (err) reject(err);
      else resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        settle(tooLarge());
        req.destroy();
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => settle();
    const onError = (err: Error) => settle(err);
    // Closed before its end: the client went away mid-body.
    const onClose = () => settle(premature());
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

/**
 * The path of a request target, never throwing: origin-form ("/v1/models?x") as sent, absolute-form
 * ("http://host/v1/models") by its path; anything else ("*", "//", "http://[") is a 400.
 */
function requestPath(target: string | undefined): string | ApiError {
  const raw = target ?? '/';
  const bad = () => new ApiError(400, `the request target ${JSON.stringify(printable(raw.slice(0, 200)))} is not a path; send one that starts with a single "/".`, 'invalid_request_error', 'invalid_path');
  let path = raw;
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(raw)) {
    if (!URL.canParse(raw)) return bad();
    path = new URL(raw).pathname;
  }
  path = path.replace(/[?#].*$/s, '');
  if (!path.startsWith('/') || path.startsWith('//')) return bad();
  return path;
}

/** One %-encoded path segment, decoded; a malformed escape is a 400. */
function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new ApiError(400, `the path segment ${JSON.stringify(printable(segment.slice(0, 200)))} has a malformed %-escape; encode "%" as %25.`, 'invalid_request_error', 'invalid_path');
  }
}

/** Text safe to echo in a message: control characters escaped. */
function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}
