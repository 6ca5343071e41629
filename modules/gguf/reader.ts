/**
 * GGUF (v2/v3) header reader: magic, version, metadata key/values and tensor infos, read in small
 * chunks from the file so a multi-gigabyte model costs a few kilobytes of memory.
 * Format: https://github.com/ggml-org/ggml/blob/master/docs/gguf.md
 */
import { open, type FileHandle } from 'node:fs/promises';
import { ModelshipError } from '../errors/index.js';

export const GGUF_MAGIC = 'GGUF';
const DEFAULT_ALIGNMENT = 32;
/** Arrays longer than this (token lists) are summarised, not kept. */
const MAX_KEPT_ARRAY = 1024;
const MAX_STRING_BYTES = 1 << 26;

export const GGUF_VALUE_TYPES = ['uint8', 'int8', 'uint16', 'int16', 'uint32', 'int32', 'float32', 'bool', 'string', 'array', 'uint64', 'int64', 'float64'] as const;
export type GgufValueType = (typeof GGUF_VALUE_TYPES)[number];

export interface GgufArray {
  itemType: GgufValueType;
  length: number;
  /** Present when the array has at most 1024 items. */
  values?: GgufValue[];
}
export type GgufValue = number | bigint | boolean | string | GgufArray;

export interface GgufTensorInfo {
  name: string;
  dims: number[];
  /** ggml type number; `typeName` is its name (F16, Q4_K...). */
  type: number;
  typeName: string;
  /** Offset relative to the start of the data section. */
  offset: number;
  /** Bytes the tensor's data takes. */
  size: number;
}

export interface GgufHeader {
  path: string;
  version: number;
  tensorCount: number;
  metadata: Record<string, GgufValue>;
  alignment: number;
  fileSize: number;
  /** Read when asked for (`tensors: true`). */
  tensors?: GgufTensorInfo[];
  /** Byte offset where tensor data starts (aligned). */
  dataOffset?: number;
}

/** ggml tensor types: [name, elements per block, bytes per block]. */
const GGML_TYPES: Record<number, [string, number, number]> = {
  0: ['F32', 1, 4], 1: ['F16', 1, 2], 2: ['Q4_0', 32, 18], 3: ['Q4_1', 32, 20], 6: ['Q5_0', 32, 22], 7: ['Q5_1', 32, 24],
  8: ['Q8_0', 32, 34], 9: ['Q8_1', 32, 36], 10: ['Q2_K', 256, 84], 11: ['Q3_K', 256, 110], 12: ['Q4_K', 256, 144],
  13: ['Q5_K', 256, 176], 14: ['Q6_K', 256, 210], 15: ['Q8_K', 256, 292], 16: ['IQ2_XXS', 256, 66], 17: ['IQ2_XS', 256, 74],
  18: ['IQ3_XXS', 256, 98], 19: ['IQ1_S', 256, 50], 20: ['IQ4_NL', 32, 18], 21: ['IQ3_S', 256, 110], 22: ['IQ2_S', 256, 82],
  23: ['IQ4_XS', 256, 136], 24: ['I8', 1, 1], 25: ['I16', 1, 2], 26: ['I32', 1, 4], 27: ['I64', 1, 8], 28: ['F64', 1, 8],
  29: ['IQ1_M', 256, 56], 30: ['BF16', 1, 2], 34: ['TQ1_0', 256, 54], 35: ['TQ2_0', 256, 66], 39: ['MXFP4', 32, 17],
};

/** llama.cpp `llama_ftype` (general.file_type) → the name users know. */
export const GGUF_FILE_TYPES: Record<number, string> = {
  0: 'F32', 1: 'F16', 2: 'Q4_0', 3: 'Q4_1', 4: 'Q4_1_SOME_F16', 7: 'Q8_0', 8: 'Q5_0', 9: 'Q5_1', 10: 'Q2_K', 11: 'Q3_K_S',
  12: 'Q3_K_M', 13: 'Q3_K_L', 14: 'Q4_K_S', 15: 'Q4_K_M', 16: 'Q5_K_S', 17: 'Q5_K_M', 18: 'Q6_K', 19: 'IQ2_XXS', 20: 'IQ2_XS',
  21: 'Q2_K_S', 22: 'IQ3_XS', 23: 'IQ3_XXS', 24: 'IQ1_S', 25: 'IQ4_NL', 26: 'IQ3_S', 27: 'IQ3_M', 28: 'IQ2_S', 29: 'IQ2_M',
  30: 'IQ4_XS', 31: 'IQ1_M', 32: 'BF16', 36: 'TQ1_0', 37: 'TQ2_0', 38: 'MXFP4_MOE',
};

function invalid(path: string, offset: number, what: string): ModelshipError {
  return new ModelshipError('MODEL_INVALID', `${path}: not a valid GGUF file at byte ${offset}: ${what}`, { details: { file: path, offset } });
}

/** Sequential reads through a small window over the file. */
class Cursor {
  pos = 0;
  private buf = Buffer.alloc(0);
  private bufStart = 0;
  constructor(private readonly fh: FileHandle, readonly path: string, readonly size: number) {}

  async ensure(n: number, what: string): Promise<Buffer> {
    if (this.pos + n > this.size) throw invalid(this.path, this.pos, `file ends while reading ${what} (needs ${n} bytes, ${this.size - this.pos} left)`);
    const have = this.bufStart + this.buf.length - this.pos;
    if (this.pos < this.bufStart || have < n) {
      const len = Math.min(Math.max(n, 1 << 16), this.size - this.pos);
      const chunk = Buffer.alloc(len);
      const { bytesRead } = await this.fh.read(chunk, 0, len, this.pos);
      if (bytesRead < n) throw invalid(this.path, this.pos + bytesRead, `file ends while reading ${what}`);
      this.buf = chunk.subarray(0, bytesRead);
      this.bufStart = this.pos;
    }
    const at = this.pos - this.bufStart;
    this.pos += n;
    return this.buf.subarray(at, at + n);
  }

  async u32(what: string): Promise<number> {
    return (await this.ensure(4, what)).readUInt32LE(0);
  }
  async u64(what: string): Promise<bigint> {
    return (await this.ensure(8, what)).readBigUInt64LE(0);
  }
  async count(what: string, minItemBytes: number): Promise<number> {
    const at = this.pos;
    const n = await this.u64(what);
    // A count that cannot fit in the rest of the file is corruption, not a reason to allocate.
    if (n * BigInt(minItemBytes) > BigInt(this.size - this.pos)) throw invalid(this.path, at, `${what} ${n} is larger than the rest of the file allows`);
    return Number(n);
  }
  async string(what: string): Promise<string> {
    const at = this.pos;
    const len = await this.u64(`length of ${what}`);
    if (len > BigInt(MAX_STRING_BYTES)) throw invalid(this.path, at, `${what} claims ${len} bytes`);
    return (await this.ensure(Number(len), what)).toString('utf8');
  }
  async value(type: number, what: string, depth = 0): Promise<GgufValue> {
    const at = this.pos;
    switch (type) {
      case 0: return (await this.ensure(1, what)).readUInt8(0);
      case 1: return (await this.ensure(1, what)).readInt8(0);
      case 2: return (await this.ensure(2, what)).readUInt16LE(0);
      case 3: return (await this.ensure(2, what)).readInt16LE(0);
      case 4: return (await this.ensure(4, what)).readUInt32LE(0);
      case 5: return (await this.ensure(4, what)).readInt32LE(0);
      case 6: return (await this.ensure(4, what)).readFloatLE(0);
      case 7: {
        const b = (await this.ensure(1, what)).readUInt8(0);
        if (b > 1) throw invalid(this.path, at, `${what} is a bool with value ${b}`);
        return b === 1;
      }
      case 8: return this.string(what);
      case 9: {
        if (depth > 0) throw invalid(this.path, at, `${what} nests arrays, which GGUF readers do not accept`);
        const itemType = await this.u32(`item type of ${what}`);
        if (GGUF_VALUE_TYPES[itemType] === undefined) throw invalid(this.path, at, `${what} has unknown item type ${itemType}`);
        const length = await this.count(`length of ${what}`, itemType === 8 ? 8 : 1);
        const values: GgufValue[] = [];
        for (let i = 0; i < length; i++) {
          const v = await this.value(itemType, `${what}[${i}]`, depth + 1);
          if (length <= MAX_KEPT_ARRAY) values.push(v);
        }
        return { itemType: GGUF_VALUE_TYPES[itemType]!, length, ...(length <= MAX_KEPT_ARRAY ? { values } : {}) };
      }
      case 10: return safeNumber((await this.ensure(8, what)).readBigUInt64LE(0));
      case 11: return safeNumber((await this.ensure(8, what)).readBigInt64LE(0));
      case 12: return (await this.ensure(8, what)).readDoubleLE(0);
      default: throw invalid(this.path, at, `${what} has unknown value type ${type}`);
    }
  }
}

function safeNumber(n: bigint): number | bigint {
  return n <= BigInt(Number.MAX_SAFE_INTEGER) && n >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(n) : n;
}

export interface ReadGgufOptions {
  /** Also read the tensor infos and check they fit the file. */
  tensors?: boolean;
}

/** Reads the header and metadata (and optionally tensor infos) without touching tensor data. */
export async function readGgufHeader(path: string, opts: ReadGgufOptions = {}): Promise<GgufHeader> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    throw new ModelshipError('MODEL_INVALID', `${path}: cannot open GGUF file: ${(err as Error).message}`, { cause: err });
  }
  try {
    const size = (await fh.stat()).size;
    const c = new Cursor(fh, path, size);
    if (size < 4) throw invalid(path, 0, 'file is shorter than the 4-byte magic');
    const magic = (await c.ensure(4, 'magic')).toString('latin1');
    if (magic !== GGUF_MAGIC) throw invalid(path, 0, `magic is ${JSON.stringify(magic)}, expected "GGUF"`);
    const version = await c.u32('version');
    if (version !== 2 && version !== 3) throw invalid(path, 4, `version ${version} is not supported (GGUF 2 or 3)`);
    const tensorCount = await c.count('tensor count', 24);
    const kvCount = await c.count('metadata count', 13);
    const metadata: Record<string, GgufValue> = {};
    for (let i = 0; i < kvCount; i++) {
      const at = c.pos;
      const key = await c.string(`metadata key ${i}`);
      if (Object.hasOwn(metadata, key)) throw invalid(path, at, `metadata key "${key}" appears twice`);
      const type = await c.u32(`type of "${key}"`);
      metadata[key] = await c.value(type, `"${key}"`);
    }
    const alignment = typeof metadata['general.alignment'] === 'number' ? metadata['general.alignment'] : DEFAULT_ALIGNMENT;
    if (!Number.isInteger(alignment) || alignment <= 0 || alignment % 8 !== 0) throw invalid(path, 0, `general.alignment ${alignment} is not a positive multiple of 8`);
    const header: GgufHeader = { path, version, tensorCount, metadata, alignment, fileSize: size };
    if (opts.tensors) await readTensorInfos(c, header);
    return header;
  } finally {
    await fh.close();
  }
}

async function readTensorInfos(c: Cursor, header: GgufHeader): Promise<void> {
  const tensors: GgufTensorInfo[] = [];
  for (let i = 0; i < header.tensorCount; i++) {
    const at = c.pos;
    const name = await c.string(`tensor ${i} name`);
    const nDims = await c.u32(`dimensions of tensor "${name}"`);
    if (nDims === 0 || nDims > 4) throw invalid(header.path, at, `tensor "${name}" has ${nDims} dimensions (1 to 4 expected)`);
    const dims: number[] = [];
    for (let d = 0; d < nDims; d++) dims.push(Number(await c.u64(`dimension ${d} of tensor "${name}"`)));
    const type = await c.u32(`type of tensor "${name}"`);
    const offset = Number(await c.u64(`offset of tensor "${name}"`));
    const ggml = GGML_TYPES[type];
    if (!ggml) throw invalid(header.path, at, `tensor "${name}" has unknown ggml type ${type}`);
    const [typeName, blockElems, blockBytes] = ggml;
    const elements = dims.reduce((a, b) => a * b, 1);
    if (dims[0]! % blockElems !== 0) throw invalid(header.path, at, `tensor "${name}" first dimension ${dims[0]} is not a multiple of ${typeName}'s block size ${blockElems}`);
    if (offset % header.alignment !== 0) throw invalid(header.path, at, `tensor "${name}" offset ${offset} is not aligned to ${header.alignment}`);
    tensors.push({ name, dims, type, typeName, offset, size: (elements / blockElems) * blockBytes });
  }
  const dataOffset = Math.ceil(c.pos / header.alignment) * header.alignment;
  const needed = tensors.reduce((end, t) => Math.max(end, t.offset + t.size), 0);
  if (dataOffset + needed > header.fileSize) {
    throw invalid(header.path, header.fileSize, `tensor data needs ${dataOffset + needed} bytes but the file has ${header.fileSize}: the file is truncated`);
  }
  header.tensors = tensors;
  header.dataOffset = dataOffset;
}

/** Keys llama.cpp needs to load a llama-architecture model. */
const REQUIRED_KEYS: Record<string, string[]> = {
  llama: [
    'llama.context_length',
    'llama.embedding_length',
    'llama.block_count',
    'llama.feed_forward_length',
    'llama.attention.head_count',
    'llama.attention.layer_norm_rms_epsilon',
    'tokenizer.ggml.model',
    'tokenizer.ggml.tokens',
  ],
};

/**
 * Full structural check before handing a file to llama.cpp: header, metadata, the keys the
 * architecture needs, tensor infos, and a data section long enough for every tensor.
 */
export async function validateGguf(path: string): Promise<GgufHeader> {
  const header = await readGgufHeader(path, { tensors: true });
  const arch = header.metadata['general.architecture'];
  if (typeof arch !== 'string' || arch === '') throw invalid(path, 0, 'metadata has no general.architecture string');
  const missing = (REQUIRED_KEYS[arch] ?? []).filter((key) => !Object.hasOwn(header.metadata, key));
  if (missing.length) throw invalid(path, 0, `architecture "${arch}" needs metadata ${missing.join(', ')}, which the file lacks`);
  return header;
}

export interface GgufModelInfo {
  architecture?: string;
  name?: string;
  sizeLabel?: string;
  license?: string;
  /** e.g. Q4_K_M; absent for unquantized files. */
  quantization?: string;
  /** e.g. fp16, bf16, fp32 for unquantized files. */
  precision?: string;
  contextLength?: number;
  /** Sum of tensor elements, when tensor infos were read. */
  paramCount?: number;
}

const UNQUANTIZED: Record<string, string> = { F32: 'fp32', F16: 'fp16', BF16: 'bf16' };

/** The facts a spec wants from a GGUF header. */
export function ggufModelInfo(header: GgufHeader): GgufModelInfo {
  const m = header.metadata;
  const str = (key: string) => (typeof m[key] === 'string' && m[key] !== '' ? (m[key] as string) : undefined);
  const architecture = str('general.architecture');
  const info: GgufModelInfo = { architecture, name: str('general.name'), sizeLabel: str('general.size_label'), license: str('general.license') };
  const fileType = m['general.file_type'];
  const typeName = typeof fileType === 'number' ? GGUF_FILE_TYPES[fileType] : undefined;
  if (typeName) {
    if (UNQUANTIZED[typeName]) info.precision = UNQUANTIZED[typeName];
    else info.quantization = typeName;
  }
  const ctx = architecture ? m[`${architecture}.context_length`] : undefined;
  if (typeof ctx === 'number') info.contextLength = ctx;
  if (header.tensors) {
    info.paramCount = header.tensors.reduce((sum, t) => sum + t.dims.reduce((a, b) => a * b, 1), 0);
  }
  return Object.fromEntries(Object.entries(info).filter(([, v]) => v !== undefined)) as GgufModelInfo;
}
