/**
 * The native engine: node-llama-cpp in this process. It is an optional dependency, so it is
 * imported on first use and its absence is a clear error rather than a crash at start-up.
 */
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ModelshipError, describeError } from '../errors/index.js';
import { pathExists } from '../fs/exists.js';
import { validateGguf } from '../gguf/index.js';
import type { ChatMessage, EmbeddingResult, Engine, Generation, GenerationOptions, GenerationResult, ToolSpec } from './engine.js';
import { gbnfLiteral, GRAMMAR_STOP, grammarText, schemaPart, type GrammarPart } from './grammar.js';
import { GrammarWorker } from './grammar-worker.js';

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
 * node-llama-cpp's getLlama, from its own module: three quarters of the package's load, and all that
 * getLlama needs to start testing the prebuilt binary (a child process on Linux, over a second
 * here). undefined when that file is not where version 3.21 keeps it; the package's export serves then.
 */
export async function importGetLlama(): Promise<LlamaLib['getLlama'] | undefined> {
  try {
    const main = createRequire(import.meta.url).resolve('node-llama-cpp');
    const mod = (await import(new URL('./bindings/getLlama.js', pathToFileURL(main)).href)) as { getLlama?: unknown };
    return typeof mod.getLlama === 'function' ? (mod.getLlama as LlamaLib['getLlama']) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Import node-llama-cpp and load its backend. It takes most of start-up (import, and a test of the
 * prebuilt binary in a child process on Linux), so callers start it first and overlap the rest;
 * getLlama starts as soon as its own module is loaded, so the test runs while the rest of the package loads.
 */
export async function startLlama(options: { threads?: number; gpu?: GpuChoice }): Promise<LlamaStart> {
  const threads = options.threads ?? os.availableParallelism();
  const gpu = options.gpu ?? 'auto';
  // Trying CUDA and Vulkan builds costs seconds; on Linux without GPU devices it cannot succeed.
  const [early, noDevice] = await Promise.all([importGetLlama(), gpu === 'auto' ? linuxGpuDevicePresent().then((present) => !present) : Promise.resolve(false)]);
  const begin = (getLlama: LlamaLib['getLlama']) =>
    getLlama({ gpu: gpu === 'none' || noDevice ? false : 'auto', build: 'never', maxThreads: threads, logLevel: 'error' as LlamaLib['LlamaLogLevel']['error'], progressLogs: false });
  const loading = early ? begin(early) : undefined;
  // Its failure is reported once awaited below; until then it must not count as unhandled.
  loading?.catch(() => {});
  let lib: LlamaLib;
  try {
    lib = await importNodeLlamaCpp();
  } catch (err) {
    await loading?.then((l) => l.dispose()).catch(() => {});
    throw err;
  }
  let llama: Llama;
  try {
    llama = await (loading ?? begin(lib.getLlama));
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
  private readonly grammarWorker = new GrammarWorker();

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
        const constrained = constrainedAnswer(options);
        if (constrained) {
          // Calls and schema answers are generated under one grammar, so the name is always a tool's and a finished answer always parses.
          const grammar = await this.grammarFrom(constrained.grammar, options.toolChoice === 'auto' ? 'response_format' : 'tools');
          const prompt = withInstruction(history, constrained.instruction);
          const res = await chat.generateResponse(prompt, { ...common, maxTokens: this.answerRoom(prompt, options.maxTokens), grammar });
          const cut = res.metadata.stopReason === 'maxTokens';
          const read = constrained.read(res.response, cut);
          if ('text' in read) {
            if (read.text) onTextChunk(read.text);
            return { text: read.text, stopReason: res.metadata.stopReason };
          }
          return { text: '', stopReason: cut ? 'maxTokens' : 'functionCalls', toolCalls: [read.call] };
        }
        if (options.tools && options.tools.length > 0) {
          const functions = Object.fromEntries(options.tools.map((t) => [t.name, { ...(t.description ? { description: t.description } : {}), ...(t.parameters ? { params: t.parameters as never } : {}) }]));
          const res = await chat.generateResponse(history, {
            ...common,
            maxTokens: this.answerRoom(history, options.maxTokens, functions),
            onTextChunk,
            functions,
            documentFunctionParams: true,
            ...(options.parallelToolCalls === false ? { maxParallelFunctionCalls: 1 } : {}),
          });
          const toolCalls = (res.functionCalls ?? []).map((c) => ({ name: c.functionName, arguments: JSON.stringify(c.params ?? {}) }));
          return { text: res.response, stopReason: toolCalls.length > 0 ? 'functionCalls' : res.metadata.stopReason, ...(toolCalls.length > 0 ? { toolCalls } : {}) };
        }
        const format = options.responseFormat;
        const grammar = format ? (format.type === 'json_object' ? await this.llama.getGrammarFor('json') : await this.grammarFrom((part) => part(format.schema, 'a-').then((p) => grammarText(p.root, [p])), 'response_format')) : undefined;
        const res = await chat.generateResponse(history, { ...common, maxTokens: this.answerRoom(history, options.maxTokens), onTextChunk, ...(grammar ? { grammar } : {}) });
        return { text: res.response, stopReason: res.metadata.stopReason };
      } finally {
        chat.dispose({ disposeSequence: false });
      }
    });
  }

  /**
   * Tokens left for the answer once this exact prompt (template, instructions and function
   * documentation included) is in the context. Generating past the context's end would make
   * node-llama-cpp shift the context and evaluate the prompt again, which breaks the usage count.
   */
  private answerRoom(history: ChatHistoryItem[], asked: number | undefined, functions?: Record<string, unknown>): number {
    this.chatWrapper ??= this.lib.resolveChatWrapper(this.model);
    const { contextText } = this.chatWrapper.generateContextState({ chatHistory: history, ...(functions ? { availableFunctions: functions as never, documentFunctionParams: true } : {}) });
    const promptTokens = contextText.tokenize(this.model.tokenizer).length;
    const room = this.contextSize - promptTokens;
    if (room < 1) {
      throw badRequest('messages', `come to ${promptTokens} tokens with the chat template${functions ? ' and the tool documentation' : ''}, but this model's context holds ${this.contextSize}; shorten them or serve with a larger --ctx-size`, 'context_length_exceeded');
    }
    return Math.min(asked ?? room, room);
  }

  /** A grammar from parts node-llama-cpp writes (one per schema), renamed and joined by `build`. */
  private async grammarFrom(build: (part: (schema: { readonly [key: string]: unknown }, prefix: string) => Promise<GrammarPart>) => Promise<string>, param: string) {
    let text: string;
    try {
      text = await build((schema, prefix) => schemaPart(schema, prefix, (s) => this.grammarWorker.gbnfFor(s)));
      // The grammar's own parse is synchronous; give queued requests (and /health) a turn first.
      await new Promise<void>((resolve) => setImmediate(resolve));
      return await this.llama.createGrammar({ grammar: text, stopGenerationTriggers: [GRAMMAR_STOP], trimWhitespaceSuffix: true });
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
    await this.grammarWorker.dispose();
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

/** A call or an answer read back from constrained text. */
type ReadBack = { text: string } | { call: { name: string; arguments: string } };

interface ConstrainedAnswer {
  instruction: string;
  grammar(part: (schema: { readonly [key: string]: unknown }, prefix: string) => Promise<GrammarPart>): Promise<string>;
  /** `cut`: generation stopped at max_tokens, so the text may end early. */
  read(text: string, cut: boolean): ReadBack;
}

/** Before a call's arguments when the model may also answer with JSON (which never starts with "c"). */
const CALL_MARK = 'call ';

/**
 * tool_choice "required" or a named function, or tools the model may call alongside a
 * response_format: the answer is generated under one grammar. A call is written as its name, a
 * space and its arguments (a few tokens, where a JSON wrapper costs dozens), so a call cut by
 * max_tokens still names a real tool and only its arguments are partial.
 */
function constrainedAnswer(options: GenerationOptions): ConstrainedAnswer | undefined {
  const tools = options.tools ?? [];
  const choice = options.toolChoice;
  if (!choice || tools.length === 0) return undefined;
  const format = options.responseFormat;
  if (choice === 'auto' && !format) return undefined;
  const paramsOf = (t: ToolSpec) => t.parameters ?? { type: 'object', properties: {} };
  const describe = (t: ToolSpec) => `- ${t.name}${t.description ? `: ${t.description}` : ''}\n  parameters: ${JSON.stringify(paramsOf(t))}`;
  if (typeof choice === 'object') {
    const tool = tools.find((t) => t.name === choice.name);
    if (!tool) throw badRequest('tool_choice.function.name', `names "${choice.name}", which is not among the tools (${tools.map((t) => t.name).join(', ')})`);
    return {
      instruction: `Call this function now. Answer with only its arguments as one JSON object.\n${describe(tool)}`,
      grammar: async (part) => {
        const args = await part(paramsOf(tool), 't-');
        return grammarText(args.root, [args]);
      },
      read: (text, cut) => ({ call: { name: tool.name, arguments: cut ? text : JSON.stringify(JSON.parse(text)) } }),
    };
  }
  const calls = async (part: (schema: { readonly [key: string]: unknown }, prefix: string) => Promise<GrammarPart>) => {
    const parts = await Promise.all(tools.map((t, i) => part(paramsOf(t), `t${i}-`)));
    return { root: `( ${tools.map((t, i) => `${gbnfLiteral(`${t.name} `)} ${parts[i]!.root}`).join(' | ')} )`, parts };
  };
  const readCall = (text: string, cut: boolean): ReadBack => {
    const space = text.indexOf(' ');
    const name = space < 0 ? text : text.slice(0, space);
    // Cut inside the name, the grammar still guarantees it begins some tool's name.
    const tool = tools.find((t) => t.name === name) ?? (cut || space < 0 ? tools.find((t) => t.name.startsWith(name)) : undefined);
    if (!tool) throw new Error(`the grammar let through a call to "${name}", which is not among the tools`);
    const args = space < 0 ? '' : text.slice(space + 1);
    return { call: { name: tool.name, arguments: cut ? args : JSON.stringify(JSON.parse(args)) } };
  };
  if (choice === 'required') {
    return {
      instruction: `Call one of these functions now. Answer with the function's name, one space, then its arguments as one JSON object.\n${tools.map(describe).join('\n')}`,
      grammar: async (part) => {
        const { root, parts } = await calls(part);
        return grammarText(root, parts);
      },
      read: readCall,
    };
  }
  const schema = format!.type === 'json_schema' ? format!.schema : { type: 'object', additionalProperties: true };
  return {
    instruction:
      `You may call one of these functions. To call one, answer with "${CALL_MARK}", the function's name, one space, then its arguments as one JSON object.\n${tools.map(describe).join('\n')}\n` +
      `Otherwise answer with only JSON matching this schema: ${JSON.stringify(schema)}`,
    grammar: async (part) => {
      const { root, parts } = await calls(part);
      const answer = await part(schema, 'a-');
      return grammarText(`( ${gbnfLiteral(CALL_MARK)} ${root} | ${answer.root} )`, [...parts, answer]);
    },
    read: (text, cut) => {
      if (text.startsWith(CALL_MARK)) return readCall(text.slice(CALL_MARK.length), cut);
      if (cut && text !== '' && CALL_MARK.startsWith(text)) return readCall('', true);
      return { text };
    },
  };
}

/** The instruction joins the first system message, or becomes one. */
function withInstruction(history: ChatHistoryItem[], instruction: string): ChatHistoryItem[] {
  const first = history[0];
  if (first?.type === 'system' && typeof first.text === 'string') return [{ type: 'system', text: `${first.text}\n\n${instruction}` }, ...history.slice(1)];
  return [{ type: 'system', text: instruction }, ...history];
}

function badRequest(param: string, problem: string, code?: string): ModelshipError {
  return new ModelshipError('INFER_BAD_REQUEST', `"${param}" ${problem}.`, { details: { param, ...(code ? { code } : {}) } });
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
