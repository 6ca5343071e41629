/**
 * The OpenAI-compatible request bodies (validated with zod) and the OpenAI error shape.
 * Unknown fields are accepted and ignored, as OpenAI-compatible servers do.
 */
import { z } from 'zod';

const stopField = z.union([z.string(), z.array(z.string()).max(4)]).optional();

const sampling = {
  model: z.string().optional(),
  max_tokens: z.number().int().positive().optional(),
  max_completion_tokens: z.number().int().positive().optional(),
  temperature: z.number().min(0).max(2).optional(),
  top_p: z.number().gt(0).max(1).optional(),
  seed: z.number().int().optional(),
  stop: stopField,
  stream: z.boolean().optional(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullish(),
  // Checked by the server: values other than 1 get OpenAI's "unsupported_value".
  n: z.number().int().positive().nullish(),
};

/** A message's content: a string, or text parts (images are not supported by these models). */
const content = z.union([
  z.string(),
  z.array(z.object({ type: z.literal('text'), text: z.string() })).transform((parts) => parts.map((p) => p.text).join('')),
]);

const toolCall = z.object({
  id: z.string().min(1),
  type: z.literal('function'),
  function: z.object({ name: z.string().min(1), arguments: z.string() }),
});

const message = z.discriminatedUnion('role', [
  z.object({ role: z.enum(['system', 'developer', 'user']), content: content.nullable().transform((c) => c ?? '') }),
  z.object({ role: z.literal('assistant'), content: content.nullish().transform((c) => c ?? ''), tool_calls: z.array(toolCall).optional() }),
  z.object({ role: z.literal('tool'), tool_call_id: z.string().min(1), content: content.nullable().transform((c) => c ?? '') }),
]);

const FUNCTION_NAME = /^[A-Za-z0-9_-]{1,64}$/;

const tool = z.object({
  type: z.literal('function'),
  function: z.object({
    name: z.string().regex(FUNCTION_NAME, 'must be 1 to 64 letters, digits, underscores or dashes'),
    description: z.string().optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
    strict: z.boolean().nullish(),
  }),
});

const toolChoice = z.union([
  z.enum(['none', 'auto', 'required']),
  z.object({ type: z.literal('function'), function: z.object({ name: z.string().min(1) }) }),
]);

const responseFormat = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text') }),
  z.object({ type: z.literal('json_object') }),
  z.object({
    type: z.literal('json_schema'),
    json_schema: z.object({
      name: z.string().regex(FUNCTION_NAME, 'must be 1 to 64 letters, digits, underscores or dashes'),
      description: z.string().optional(),
      schema: z.record(z.string(), z.unknown()).optional(),
      strict: z.boolean().nullish(),
    }),
  }),
]);

export const ChatCompletionRequest = z.object({
  ...sampling,
  messages: z.array(message).min(1),
  tools: z.array(tool).optional(),
  tool_choice: toolChoice.optional(),
  parallel_tool_calls: z.boolean().optional(),
  response_format: responseFormat.optional(),
});
export type ChatCompletionRequest = z.infer<typeof ChatCompletionRequest>;

/** Prompts in one /v1/completions request; each is generated in turn in one queue slot. */
export const MAX_PROMPTS = 64;

export const CompletionRequest = z.object({
  ...sampling,
  // Several prompts get one choice each, in order (LangChain's generate(['a', 'b']) sends this).
  prompt: z.union([z.string(), z.array(z.string()).min(1, 'must hold at least one prompt').max(MAX_PROMPTS, `holds more than ${MAX_PROMPTS} prompts; send at most ${MAX_PROMPTS} per request`)]),
});
export type CompletionRequest = z.infer<typeof CompletionRequest>;

/**
 * OpenAI parameters these models cannot honour: set to anything but their default, they get
 * OpenAI's own "unsupported_value" error rather than being ignored.
 */
export function refuseUnsupported(body: Record<string, unknown>): void {
  const unsupported = (param: string, why: string) =>
    new ApiError(400, `Unsupported value: '${param}' ${why}.`, 'invalid_request_error', 'unsupported_value', param);
  if (body['n'] !== undefined && body['n'] !== null && body['n'] !== 1) {
    throw unsupported('n', `does not support ${JSON.stringify(body['n'])} with this server. Only the default (1) value is supported; send one request per answer`);
  }
  if (body['best_of'] !== undefined && body['best_of'] !== null && body['best_of'] !== 1) throw unsupported('best_of', 'is not supported with this server. Only the default (1) value is supported');
  if (body['logprobs'] !== undefined && body['logprobs'] !== null && body['logprobs'] !== false) throw unsupported('logprobs', 'is not supported with this server');
  if (body['top_logprobs'] !== undefined && body['top_logprobs'] !== null) throw unsupported('top_logprobs', 'is not supported with this server');
  if (body['echo'] === true) throw unsupported('echo', 'is not supported with this server');
  if (typeof body['suffix'] === 'string' && body['suffix'] !== '') throw unsupported('suffix', 'is not supported with this server');
  const bias = body['logit_bias'];
  if (bias && typeof bias === 'object' && Object.keys(bias).length > 0) throw unsupported('logit_bias', 'is not supported with this server');
  const modalities = body['modalities'];
  if (Array.isArray(modalities) && modalities.some((m) => m !== 'text')) throw unsupported('modalities', 'supports only ["text"] with this server');
  if (body['audio'] !== undefined && body['audio'] !== null) throw unsupported('audio', 'is not supported with this server');
}

export const EmbeddingRequest = z.object({
  model: z.string().optional(),
  input: z.union([z.string(), z.array(z.string()).min(1).max(2048)]),
  encoding_format: z.enum(['float', 'base64']).optional(),
  dimensions: z.number().int().positive().optional(),
});
export type EmbeddingRequest = z.infer<typeof EmbeddingRequest>;

export interface OpenAIError {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/** An HTTP failure on its way to the client in OpenAI's error shape. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: 'invalid_request_error' | 'not_found_error' | 'server_error' | 'overloaded_error',
    readonly code: string | null = null,
    readonly param: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  toBody(): OpenAIError {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

/** The first zod issue as a 400, naming the field at fault. */
export function invalidBody(error: z.ZodError): ApiError {
  const { issue, path } = closestIssue(error.issues[0]!, []);
  const param = path.map(String).join('.') || null;
  const where = param ? `"${param}": ` : '';
  return new ApiError(400, `${where}${issue.message}`, 'invalid_request_error', 'invalid_value', param);
}

/** In a union, the issue of the option whose type the value has (a prompt list over the limit says so, not "Invalid input"). */
function closestIssue(issue: z.core.$ZodIssue, at: PropertyKey[]): { issue: z.core.$ZodIssue; path: PropertyKey[] } {
  const path = [...at, ...issue.path];
  if (issue.code !== 'invalid_union') return { issue, path };
  const matched = issue.errors.find((branch) => branch.length > 0 && !(branch[0]!.code === 'invalid_type' && branch[0]!.path.length === 0));
  return matched ? closestIssue(matched[0]!, path) : { issue, path };
}

/** Little-endian float32 bytes, base64: what OpenAI returns for encoding_format "base64". */
export function encodeBase64Floats(vector: number[]): string {
  const floats = new Float32Array(vector);
  const bytes = Buffer.alloc(floats.length * 4);
  floats.forEach((f, i) => bytes.writeFloatLE(f, i * 4));
  return bytes.toString('base64');
}

export function decodeBase64Floats(text: string): number[] {
  const bytes = Buffer.from(text, 'base64');
  const out: number[] = [];
  for (let i = 0; i + 4 <= bytes.length; i += 4) out.push(bytes.readFloatLE(i));
  return out;
}
