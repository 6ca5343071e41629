/**
 * The native engine: node-llama-cpp in this process. It is an optional dependency, so it is
 * imported on first use and its absence is a clear error rather than a crash at start-up.
 */
import os from 'node:os';
import path from 'node:path';
import { ModelshipError, describeError } from '../errors/index.js';
import { pathExists } from '../fs/exists.js';
import { validateGguf } from '../gguf/index.js';
import type { ChatMessage, EmbeddingResult, Engine, Generation, GenerationOptions, GenerationResult, ToolSpec } from './engine.js';

type LlamaLib = typeof import('node-llama-cpp');
type Llama = Awaited<ReturnType<LlamaLib['getLlama']>>;
type LlamaModel = Awaited<ReturnType<Llama['loadModel']>>;
type LlamaContext = Awaited<ReturnType<LlamaModel['createContext']>>;
type LlamaContextSequence = ReturnType<LlamaContext['getSequence']>;
type LlamaEmbeddingContext = Awaited<ReturnType<LlamaModel['createEmbeddingContext']>>;
type ChatHistoryItem = import('node-llama-cpp').ChatHistoryItem;
type ChatModelResponse = import('node-llama-cpp').ChatModelResponse;
type ChatModelFunctionCall = import('node-llama-cpp').ChatModelFunctionCall;
type ChatWrapper = import('node-llama-cpp').ChatWrapper;

export const NODE_LLAMA_CPP_INSTALL = 'npm i -E node-llama-cpp@3.21.1';

export type GpuChoice = 'auto' | 'none' | 'all';

export interface NativeEngineOptions {
  modelPath: string;
  /** The id clients send as `model`; default: the file name without .gguf. */
  modelId?: string;
  /** Default: every core the machine offers (os.availableParallelism). */
  threads?: number;
  /** Default: the model's training context, capped at 4096. */
  contextSize?: number;
  /** auto: use a GPU when a CUDA/Vulkan/Metal build loads; none: CPU only; all: require a GPU. */
  gpu?: GpuChoice;
  /** A backend already starting (from `startLlama`); threads and gpu then come from it. */
  started?: Promise<LlamaStart>;
}

export async function importNodeLlamaCpp(): Promise<LlamaLib> {
  try {
    return await import('node-llama-cpp');
  } catch (err) {
    throw new ModelshipError(
      'INFER_ENGINE_MISSING',
      `the native engine needs node-llama-cpp, which is not installed: run \`${NODE_LLAMA_CPP_INSTALL}\`, or serve with --engine podman|docker.`,
      { cause: err },
    );
  }
}

/** node-llama-cpp loaded, its backend chosen and described: what every model needs first. */
export interface LlamaStart {
  lib: LlamaLib;
  llama: Llama;
  backend: string;
  threads: number;
  gpu: GpuChoice;
}

/**
 * Import node-llama-cpp and load its backend. It takes most of start-up (import, and a test of the
 * prebuilt binary in a child process on Linux), so callers start it first and overlap the rest.
 */
export async function startLlama(options: { threads?: number; gpu?: GpuChoice }): Promise<LlamaStart> {
  const threads = options.threads ?? os.availableParallelism();
  const gpu = options.gpu ?? 'auto';
  // Trying CUDA and Vulkan builds costs seconds; on Linux without GPU devices it cannot succeed.
  const [lib, noDevice] = await Promise.all([importNodeLlamaCpp(), gpu === 'auto' ? linuxGpuDevicePresent().then((present) => !present) : Promise.resolve(false)]);
  let llama: Llama;
  try {
    llama = await lib.getLlama({ gpu: gpu === 'none' || noDevice ? false : 'auto', build: 'never', maxThreads: threads, logLevel: lib.LlamaLogLevel.error, progressLogs: false });
  } catch (err) {
    throw new ModelshipError('INFER_ENGINE_FAILED', `node-llama-cpp could not load its prebuilt llama.cpp binaries: ${describeError(err)}. Reinstall with \`${NODE_LLAMA_CPP_INSTALL}\`.`, { cause: err });
  }
  const backend = await describeBackend(llama, gpu, threads, noDevice);
  if (gpu === 'all' && llama.gpu === false) {
    await llama.dispose();
    throw new ModelshipError('INFER_NO_GPU', `--gpu all asked for a GPU, but ${backend}. Use --gpu auto to fall back to the CPU.`);
  }
  return { lib, llama, backend, threads, gpu };
}

/** Load the backend (or take one already starting), check and load the model, and make one context for it. */
export async function loadNativeEngine(options: NativeEngineOptions): Promise<Engine> {
  const starting = options.started ?? startLlama(options);
  // llama.cpp aborts the whole process on some malformed files; refuse them before loading.
  const [validated, started] = await Promise.allSettled([validateGguf(options.modelPath), starting]);
  if (validated.status === 'rejected') {
    if (started.status === 'fulfilled') await started.value.llama.dispose().catch(() => {});
    throw validated.reason;
  }
  if (started.status === 'rejected') throw started.reason;
  const { lib, llama, backend, threads, gpu } = started.value;
  try {
    const model = await llama.loadModel({ modelPath: options.modelPath, gpuLayers: gpu === 'none' ? 0 : 'auto' });
    const contextSize = options.contextSize ?? Math.min(model.trainContextSize, 4096);
    const context = await model.createContext({ contextSize, threads, sequences: 1 });
    const modelId = options.modelId ?? path.basename(options.modelPath).replace(/\.gguf$/i, '');
    return new NativeEngine(lib, llama, model, context, { modelId, backend, threads });
  } catch (err) {
    await llama.dispose().catch(() => {});
    throw new ModelshipError('INFER_ENGINE_FAILED', `llama.cpp could not load ${options.modelPath}: ${describeError(err)}.`, { cause: err });
  }
}

/** "using CUDA on NVIDIA H100 80GB HBM3" or "using CPU (2 threads): ..." with the reason. */
async function describeBackend(llama: Llama, gpu: GpuChoice, threads: number, noDevice: boolean): Promise<string> {
  if (llama.gpu !== false) {
    const names = await llama.getGpuDeviceNames().catch(() => [] as string[]);
    const kind = { cuda: 'CUDA', vulkan: 'Vulkan', metal: 'Metal' }[llama.gpu];
    return `using ${kind} on ${names.length > 0 ? names.join(', ') : 'the GPU'} (${threads} CPU threads)`;
  }
  if (gpu === 'none') return `using CPU (${threads} threads): GPU disabled by --gpu none`;
  if (noDevice) return `using CPU (${threads} threads): no GPU device on this machine (no /dev/nvidia0 or /dev/dri)`;
  return `using CPU (${threads} threads): no CUDA, Vulkan or Metal build of llama.cpp could load on this machine (no GPU or driver found)`;
}

/** Off Linux the answer is left to llama.cpp's own probing (Metal, Windows drivers). */
async function linuxGpuDevicePresent(): Promise<boolean> {
  if (process.platform !== 'linux') return true;
  for (const device of ['/dev/nvidia0', '/dev/nvidiactl', '/dev/dxg', '/dev/dri']) {
    if (await pathExists(device)) return true;
  }
  return false;
}

class NativeEngine implements Engine {
  readonly modelId: string;
  readonly backend: string;
  readonly contextSize: number;
  private readonly sequence: LlamaContextSequence;
  private readonly threads: number;
  private embeddingContext?: Promise<LlamaEmbeddingContext>;
  private chatWrapper?: ChatWrapper;

  constructor(
    private readonly lib: LlamaLib,
    private readonly llama: Llama,
    private readonly model: LlamaModel,
    private readonly context: LlamaContext,
    info: { modelId: string; backend: string; threads: number },
  ) {
    this.modelId = info.modelId;
    this.backend = info.backend;
    this.threads = info.threads;
    this.contextSize = context.contextSize;
    this.sequence = context.getSequence();
  }

  countTokens(text: string): number {
    return this.model.tokenize(text).length;
  }

  countChatTokens(messages: ChatMessage[]): number {
    // The same wrapper LlamaChat picks for this model, with the empty answer turn it appends.
    this.chatWrapper ??= this.lib.resolveChatWrapper(this.model);
    const { contextText } = this.chatWrapper.generateContextState({ chatHistory: [...toChatHistory(messages), { type: 'model', response: [] }] });
    return contextText.tokenize(this.model.tokenizer).length;
  }

  chat(messages: ChatMessage[], options: GenerationOptions): Generation {
    const history = toChatHistory(messages);
    return this.generate(options, async (onTextChunk, signal) => {
      const chat = new this.lib.LlamaChat({ contextSequence: this.sequence, autoDisposeSequence: false });
      try {
        const common = { ...samplingOf(options), signal, stopOnAbortSignal: true };
        const forced = forcedCall(options);
        if (forced) {
          // The call is generated under a grammar, so it always parses; it is sent whole, not as text.
          const grammar = await this.grammarFor(forced.schema, 'tools');
          const res = await chat.generateResponse(withInstruction(history, forced.instruction), { ...common, grammar });
          const call = res.metadata.stopReason === 'maxTokens' ? { name: forced.name ?? '', arguments: res.response } : forced.unwrap(JSON.parse(res.response));
          return { text: '', stopReason: res.metadata.stopReason, toolCalls: [call] };
        }
        if (options.tools && options.tools.length > 0) {
          if (options.responseFormat) throw badRequest('response_format', 'cannot be combined with tools the model may or may not call (tool_choice "auto"); force a call with tool_choice, or drop one of them');
          const functions = Object.fromEntries(options.tools.map((t) => [t.name, { ...(t.description ? { description: t.description } : {}), ...(t.parameters ? { params: t.parameters as never } : {}) }]));
          const res = await chat.generateResponse(history, {
            ...common,
            onTextChunk,
            functions,
            documentFunctionParams: true,
            ...(options.parallelToolCalls === false ? { maxParallelFunctionCalls: 1 } : {}),
          });
          const toolCalls = (res.functionCalls ?? []).map((c) => ({ name: c.functionName, arguments: JSON.stringify(c.params ?? {}) }));
          return { text: res.response, stopReason: toolCalls.length > 0 ? 'functionCalls' : res.metadata.stopReason, ...(toolCalls.length > 0 ? { toolCalls } : {}) };
        }
        const format = options.responseFormat;
        const grammar = format ? (format.type === 'json_object' ? await this.llama.getGrammarFor('json') : await this.grammarFor(format.schema, 'response_format')) : undefined;
        const res = await chat.generateResponse(history, { ...common, onTextChunk, ...(grammar ? { grammar } : {}) });
        return { text: res.response, stopReason: res.metadata.stopReason };
      } finally {
        chat.dispose({ disposeSequence: false });
      }
    });
  }

  private async grammarFor(schema: { readonly [key: string]: unknown }, param: string) {
    try {
      return await this.llama.createGrammarForJsonSchema(schema as never);
    } catch (err) {
      throw badRequest(param, `holds a schema the grammar cannot express: ${describeError(err)}`);
    }
  }

  complete(prompt: string, options: GenerationOptions): Generation {
    return this.generate(options, async (onTextChunk, signal) => {
      const completion = new this.lib.LlamaCompletion({ contextSequence: this.sequence });
      try {
        const meta = await completion.generateCompletionWithMeta(prompt, { ...samplingOf(options), onTextChunk, signal, stopOnAbortSignal: true });
        return { text: meta.response, stopReason: meta.metadata.stopReason };
      } finally {
        completion.dispose({ disposeSequence: false });
      }
    });
  }

  async embed(inputs: string[]): Promise<EmbeddingResult> {
    this.embeddingContext ??= this.model.createEmbeddingContext({ threads: this.threads, contextSize: Math.min(this.contextSize, 2048) });
    const ctx = await this.embeddingContext;
    const vectors: number[][] = [];
    let promptTokens = 0;
    for (const input of inputs) {
      promptTokens += this.countTokens(input);
      const embedding = await ctx.getEmbeddingFor(input);
      vectors.push([...embedding.vector]);
    }
    return { vectors, promptTokens };
  }

  async dispose(): Promise<void> {
    if (this.embeddingContext) await (await this.embeddingContext).dispose();
    await this.context.dispose();
    await this.model.dispose();
    await this.llama.dispose();
  }

  /** Turn node-llama-cpp's callback streaming into a generator, and count tokens from the meter. */
  private async *generate(
    options: GenerationOptions,
    run: (onTextChunk: (text: string) => void, signal: AbortSignal) => Promise<{ text: string; stopReason: string; toolCalls?: { name: string; arguments: string }[] }>,
  ): Generation {
    await this.sequence.clearHistory();
    const abort = new AbortController();
    const onOuterAbort = () => abort.abort();
    options.signal?.addEventListener('abort', onOuterAbort);
    const before = { input: this.sequence.tokenMeter.usedInputTokens, output: this.sequence.tokenMeter.usedOutputTokens };
    const chunks: string[] = [];
    let wake: (() => void) | undefined;
    let finished = false;
    const running = run((text) => {
      chunks.push(text);
      wake?.();
    }, abort.signal).finally(() => {
      finished = true;
      wake?.();
    });
    running.catch(() => {});
    try {
      while (!finished || chunks.length > 0) {
        if (chunks.length > 0) {
          yield chunks.shift()!;
          continue;
        }
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
      const { text, stopReason, toolCalls } = await running;
      return {
        text,
        finishReason: stopReason === 'maxTokens' ? 'length' : toolCalls ? 'tool_calls' : 'stop',
        ...(toolCalls ? { toolCalls } : {}),
        promptTokens: this.sequence.tokenMeter.usedInputTokens - before.input,
        completionTokens: this.sequence.tokenMeter.usedOutputTokens - before.output,
      };
    } finally {
      // A consumer that stops early (client gone) stops the generation too.
      if (!finished) abort.abort();
      await running.catch(() => {});
      options.signal?.removeEventListener('abort', onOuterAbort);
    }
  }
}

/** OpenAI messages as node-llama-cpp chat history: tool results join the calls they answer. */
function toChatHistory(messages: ChatMessage[]): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = [];
  const calls = new Map<string, ChatModelFunctionCall>();
  messages.forEach((m, i) => {
    if (m.role === 'system') history.push({ type: 'system', text: m.content });
    else if (m.role === 'user') history.push({ type: 'user', text: m.content });
    else if (m.role === 'assistant') {
      const response: ChatModelResponse['response'] = m.content ? [m.content] : [];
      (m.toolCalls ?? []).forEach((c, j) => {
        let params: unknown;
        try {
          params = JSON.parse(c.arguments);
        } catch {
          throw badRequest(`messages.${i}.tool_calls.${j}.function.arguments`, 'is not valid JSON');
        }
        const call: ChatModelFunctionCall = { type: 'functionCall', name: c.name, params, result: '', startsNewChunk: j === 0 };
        calls.set(c.id, call);
        response.push(call);
      });
      history.push({ type: 'model', response });
    } else {
      const call = calls.get(m.toolCallId ?? '');
      if (!call) throw badRequest(`messages.${i}.tool_call_id`, `"${m.toolCallId}" answers no tool call of an earlier assistant message`);
      call.result = m.content;
    }
  });
  const last = messages[messages.length - 1];
  // After a user message the model starts an answer; after tool results it continues the one that called them.
  if (last?.role === 'user') history.push({ type: 'model', response: [] });
  else if (last?.role !== 'tool') throw badRequest('messages', 'the last message must come from the user, or be a tool result');
  return history;
}

interface ForcedCall {
  /** The forced function's name, when one is named. */
  name?: string;
  schema: { readonly [key: string]: unknown };
  instruction: string;
  unwrap(value: unknown): { name: string; arguments: string };
}

/** tool_choice "required" or a named function: the call is generated under a JSON grammar. */
function forcedCall(options: GenerationOptions): ForcedCall | undefined {
  const tools = options.tools ?? [];
  const choice = options.toolChoice;
  if (!choice || choice === 'auto' || tools.length === 0) return undefined;
  const paramsOf = (t: ToolSpec) => t.parameters ?? { type: 'object', properties: {} };
  const describe = (t: ToolSpec) => `- ${t.name}${t.description ? `: ${t.description}` : ''}\n  parameters: ${JSON.stringify(paramsOf(t))}`;
  if (choice !== 'required') {
    const tool = tools.find((t) => t.name === choice.name);
    if (!tool) throw badRequest('tool_choice.function.name', `names "${choice.name}", which is not among the tools (${tools.map((t) => t.name).join(', ')})`);
    return {
      name: tool.name,
      schema: paramsOf(tool),
      instruction: `Call this function now. Answer with only its arguments as one JSON object.\n${describe(tool)}`,
      unwrap: (value) => ({ name: tool.name, arguments: JSON.stringify(value) }),
    };
  }
  return {
    schema: {
      oneOf: tools.map((t) => ({ type: 'object', properties: { name: { const: t.name }, arguments: paramsOf(t) }, required: ['name', 'arguments'] })),
    },
    instruction: `Call one of these functions now. Answer with only JSON: {"name": <function name>, "arguments": {...}}.\n${tools.map(describe).join('\n')}`,
    unwrap: (value) => {
      const { name, arguments: args } = value as { name: string; arguments: unknown };
      return { name, arguments: JSON.stringify(args) };
    },
  };
}

/** The instruction joins the first system message, or becomes one. */
function withInstruction(history: ChatHistoryItem[], instruction: string): ChatHistoryItem[] {
  const first = history[0];
  if (first?.type === 'system' && typeof first.text === 'string') return [{ type: 'system', text: `${first.text}\n\n${instruction}` }, ...history.slice(1)];
  return [{ type: 'system', text: instruction }, ...history];
}

function badRequest(param: string, problem: string): ModelshipError {
  return new ModelshipError('INFER_BAD_REQUEST', `"${param}" ${problem}.`, { details: { param } });
}

function samplingOf(options: GenerationOptions) {
  return {
    ...(options.maxTokens === undefined ? {} : { maxTokens: options.maxTokens }),
    ...(options.temperature === undefined ? {} : { temperature: options.temperature }),
    ...(options.topP === undefined ? {} : { topP: options.topP }),
    ...(options.seed === undefined ? {} : { seed: options.seed }),
    ...(options.stop && options.stop.length > 0 ? { customStopTriggers: options.stop } : {}),
  };
}

export type { GenerationResult };
