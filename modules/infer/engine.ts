/**
 * What the server needs from a model runtime. The native engine (node-llama-cpp) implements it
 * in-process; anything else that can chat, complete and embed can stand behind the same API.
 */

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string;
  /** Calls the assistant made (role assistant). */
  toolCalls?: ToolCall[];
  /** The call this message answers (role tool). */
  toolCallId?: string;
}

export interface ToolCall {
  id: string;
  name: string;
  /** The arguments as JSON text, as OpenAI sends them. */
  arguments: string;
}

/** A function the model may call; `parameters` is already in the grammar's schema subset. */
export interface ToolSpec {
  name: string;
  description?: string;
  parameters?: { readonly [key: string]: unknown };
}

/** auto: the model decides; required: it must call one of the tools; {name}: it must call that one. */
export type ToolChoice = 'auto' | 'required' | { name: string };

export interface GenerationOptions {
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  seed?: number;
  /** Extra texts that end the answer (OpenAI `stop`). */
  stop?: string[];
  signal?: AbortSignal;
  tools?: ToolSpec[];
  toolChoice?: ToolChoice;
  /** false: at most one call per answer. */
  parallelToolCalls?: boolean;
  /** Constrain the answer to JSON: any JSON object, or JSON matching a schema (grammar subset). */
  responseFormat?: { type: 'json_object' } | { type: 'json_schema'; schema: { readonly [key: string]: unknown } };
}

export interface GenerationResult {
  text: string;
  finishReason: 'stop' | 'length' | 'tool_calls';
  /** Calls the model made instead of (or after) text; ids are assigned by the server. */
  toolCalls?: { name: string; arguments: string }[];
  promptTokens: number;
  completionTokens: number;
}

export interface EmbeddingResult {
  vectors: number[][];
  promptTokens: number;
}

/** A generation streams text chunks and returns its result when done. */
export type Generation = AsyncGenerator<string, GenerationResult, void>;

export interface Engine {
  /** The id clients send as `model`. */
  readonly modelId: string;
  /** Tokens that fit one request (prompt plus answer). */
  readonly contextSize: number;
  /** One line on what runs the model, e.g. "CPU, 2 threads". */
  readonly backend: string;
  countTokens(text: string): number;
  /** Tokens of the prompt `chat` would evaluate for these messages, chat template included, when the engine can tell. */
  countChatTokens?(messages: ChatMessage[]): number;
  chat(messages: ChatMessage[], options: GenerationOptions): Generation;
  complete(prompt: string, options: GenerationOptions): Generation;
  embed(inputs: string[]): Promise<EmbeddingResult>;
  dispose(): Promise<void>;
}

/** Drain a generation when the caller does not stream. */
export async function collect(generation: Generation, onChunk?: (text: string) => void): Promise<GenerationResult> {
  for (;;) {
    const next = await generation.next();
    if (next.done) return next.value;
    onChunk?.(next.value);
  }
}
