/**
 * safetensors header: 8-byte little-endian length, then JSON naming each tensor's dtype and shape.
 * Only the header is read.
 */
import { parseJsonBounded } from '../json/bounded.js';
import { open } from 'node:fs/promises';
import { ModelshipError } from '../errors/index.js';

/** A bigger header is corruption, not a model (real ones are at most a few MB). */
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

export interface SafetensorsInfo {
  /** Elements per dtype, e.g. { BF16: 7241732096 }. */
  elementsByDtype: Record<string, number>;
  paramCount: number;
  metadata: Record<string, string>;
}

export async function readSafetensorsHeader(file: string): Promise<SafetensorsInfo> {
  const fh = await open(file, 'r');
  try {
    const size = (await fh.stat()).size;
    const head = Buffer.alloc(8);
    if (size < 8 || (await fh.read(head, 0, 8, 0)).bytesRead < 8) throw invalid(file, 0, 'file is shorter than the 8-byte header length');
    const length = head.readBigUInt64LE(0);
    if (length > BigInt(Math.min(MAX_HEADER_BYTES, size - 8))) throw invalid(file, 0, `header length ${length} does not fit the file (${size} bytes)`);
    const json = Buffer.alloc(Number(length));
    await fh.read(json, 0, json.length, 8);
    let header: Record<string, unknown>;
    try {
      header = parseJsonBounded(json.toString('utf8'), (limit) => invalid(file, 8, `header nests arrays or objects more than ${limit} deep; the file is malformed or malicious`)) as Record<string, unknown>;
    } catch (err) {
      if (err instanceof ModelshipError) throw err;
      throw invalid(file, 8, `header is not JSON (${(err as Error).message})`);
    }
    const info: SafetensorsInfo = { elementsByDtype: {}, paramCount: 0, metadata: {} };
    for (const [name, entry] of Object.entries(header)) {
      if (name === '__metadata__') {
        info.metadata = Object.fromEntries(Object.entries(entry as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
        continue;
      }
      const { dtype, shape } = entry as { dtype?: unknown; shape?: unknown };
      if (typeof dtype !== 'string' || !Array.isArray(shape)) throw invalid(file, 8, `tensor "${name}" has no dtype or shape`);
      const elements = shape.reduce((a: number, b) => a * Number(b), 1);
      info.elementsByDtype[dtype] = (info.elementsByDtype[dtype] ?? 0) + elements;
      info.paramCount += elements;
    }
    return info;
  } finally {
    await fh.close();
  }
}

function invalid(file: string, offset: number, what: string): ModelshipError {
  return new ModelshipError('MODEL_INVALID', `${file}: not a valid safetensors file at byte ${offset}: ${what}`, { details: { file, offset } });
}

const PRECISION_BY_DTYPE: Record<string, string> = {
  F64: 'fp64', F32: 'fp32', F16: 'fp16', BF16: 'bf16', F8_E4M3: 'fp8', F8_E5M2: 'fp8', I8: 'int8', U8: 'uint8', I32: 'int32', I64: 'int64',
};

/** The dtype holding most of the parameters, as a precision name (bf16, fp16...). */
export function dominantPrecision(elementsByDtype: Record<string, number>): string | undefined {
  const top = Object.entries(elementsByDtype).sort((a, b) => b[1] - a[1])[0];
  return top ? (PRECISION_BY_DTYPE[top[0]] ?? top[0].toLowerCase()) : undefined;
}
