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
  n: z.literal(1).optional(),
};

/** A message's content: a string, or text parts (images are not supported by these models). */
const content = z.union([
  z.string(),
  z.array(z.object({ type: z.literal('text'), text: z.string() })).transform((parts) => parts.map((p) => p.text).join('')),
]);

export const ChatCompletionRequest = z.object({
  ...sampling,
  messages: z
    .array(
      z.object({
        role: z.enum(['system', 'developer', 'user', 'assistant']),
        content: content.nullable().transform((c) => c ?? ''),
      }),
    )
    .min(1),
});
export type ChatCompletionRequest = z.infer<typeof ChatCompletionRequest>;

export const CompletionRequest = z.object({
  ...sampling,
  prompt: z.union([z.string(), z.array(z.string()).length(1).transform((p) => p[0]!)]),
});
export type CompletionRequest = z.infer<typeof CompletionRequest>;

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
  const issue = error.issues[0]!;
  const param = issue.path.map(String).join('.') || null;
  const where = param ? `"${param}": ` : '';
  return new ApiError(400, `${where}${issue.message}`, 'invalid_request_error', 'invalid_value', param);
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
