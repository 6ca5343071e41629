/**
 * A minimal GGUF writer for reader tests: any metadata, F32 tensors, optional truncation,
 * so each malformed case is one small file.
 */
import { writeFile } from 'node:fs/promises';

export type FixtureValue =
  | { type: 'string'; value: string }
  | { type: 'uint32'; value: number }
  | { type: 'float32'; value: number }
  | { type: 'bool'; value: boolean }
  | { type: 'strings'; value: string[] };

export interface FixtureTensor {
  name: string;
  dims: number[];
}

function str(s: string): Buffer {
  const bytes = Buffer.from(s, 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(bytes.length));
  return Buffer.concat([len, bytes]);
}
function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}
function u64(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
}

function value(v: FixtureValue): Buffer {
  switch (v.type) {
    case 'string': return Buffer.concat([u32(8), str(v.value)]);
    case 'uint32': return Buffer.concat([u32(4), u32(v.value)]);
    case 'float32': { const b = Buffer.alloc(4); b.writeFloatLE(v.value); return Buffer.concat([u32(6), b]); }
    case 'bool': return Buffer.concat([u32(7), Buffer.from([v.value ? 1 : 0])]);
    case 'strings': return Buffer.concat([u32(9), u32(8), u64(v.value.length), ...v.value.map(str)]);
  }
}

export function ggufBytes(opts: { version?: number; metadata: Record<string, FixtureValue>; tensors?: FixtureTensor[] }): Buffer {
  const tensors = opts.tensors ?? [];
  const parts: Buffer[] = [Buffer.from('GGUF', 'latin1'), u32(opts.version ?? 3), u64(tensors.length), u64(Object.keys(opts.metadata).length)];
  for (const [key, v] of Object.entries(opts.metadata)) parts.push(str(key), value(v));
  let offset = 0;
  const sizes: number[] = [];
  for (const t of tensors) {
    parts.push(str(t.name), u32(t.dims.length), ...t.dims.map(u64), u32(0), u64(offset));
    const size = t.dims.reduce((a, b) => a * b, 1) * 4;
    sizes.push(size);
    offset += Math.ceil(size / 32) * 32;
  }
  const head = Buffer.concat(parts);
  const pad = Buffer.alloc((32 - (head.length % 32)) % 32);
  return Buffer.concat([head, pad, Buffer.alloc(offset)]);
}

export async function writeGguf(path: string, opts: Parameters<typeof ggufBytes>[0]): Promise<void> {
  await writeFile(path, ggufBytes(opts));
}

export const LLAMA_METADATA: Record<string, FixtureValue> = {
  'general.architecture': { type: 'string', value: 'llama' },
  'general.name': { type: 'string', value: 'Tiny Llama' },
  'general.size_label': { type: 'string', value: '135M' },
  'general.license': { type: 'string', value: 'apache-2.0' },
  'general.file_type': { type: 'uint32', value: 15 },
  'llama.context_length': { type: 'uint32', value: 2048 },
  'llama.embedding_length': { type: 'uint32', value: 8 },
  'llama.block_count': { type: 'uint32', value: 1 },
  'llama.feed_forward_length': { type: 'uint32', value: 16 },
  'llama.attention.head_count': { type: 'uint32', value: 2 },
  'llama.attention.layer_norm_rms_epsilon': { type: 'float32', value: 1e-5 },
  'tokenizer.ggml.model': { type: 'string', value: 'llama' },
  'tokenizer.ggml.tokens': { type: 'strings', value: ['<unk>', '<s>', '</s>', 'a'] },
};
