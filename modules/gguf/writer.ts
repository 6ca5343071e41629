/**
 * Writes a tiny but valid GGUF v3 llama model (F32, 64 wide, 2 layers, byte-fallback SPM vocab),
 * so tests, templates and the quickstart can serve a real model without downloading weights; a
 * larger `shape` makes a model that costs as much per token as a real one (benchmarks).
 *
 * Two modes:
 * - `random`: seeded weights; loads and generates like any model, answers are noise.
 * - `canned`: hand-set weights; greedy decoding answers one known sentence, then EOS, whatever the
 *   prompt. Attention and FFN outputs are zero, so the residual stream is the token embedding and the
 *   next token is a lookup from the previous one: every ordinary token points at the sentence's first
 *   piece, piece i points at piece i+1, the last piece points at EOS (or back at the first with `loop`).
 *   The sentence pieces are multi-character tokens with no shorter pieces to merge from, so the SPM
 *   tokenizer never produces them from prompt text and a prompt can never enter the chain.
 */
import { open, rename, rm } from 'node:fs/promises';
import { ModelshipError } from '../errors/index.js';

export const CANNED_SENTENCE = 'Hello from modelship.';

export interface TinyModelOptions {
  mode: 'canned' | 'random';
  /** The answer of a canned model; words must be distinct. Default: CANNED_SENTENCE. */
  sentence?: string;
  /** Seed of the random weights (and of the canned model's embedding features). Default 42. */
  seed?: number;
  /** Canned only: after the last piece start the sentence again instead of EOS (benchmarks). */
  loop?: boolean;
  /** general.name; default "tiny-llama-<mode>". */
  name?: string;
  /** llama.context_length; default 512. */
  contextLength?: number;
  /** Width, depth and heads; default the tiny 64 wide, 2 layers. Compute per token grows with layers * width^2. */
  shape?: Partial<ModelShape>;
}

export interface ModelShape {
  /** llama.embedding_length: a multiple of `heads`. */
  embedding: number;
  layers: number;
  feedForward: number;
  heads: number;
}

const TINY: ModelShape = { embedding: 64, layers: 2, feedForward: 128, heads: 4 };

export interface TinyModelInfo {
  path: string;
  bytes: number;
  vocabSize: number;
  tensorCount: number;
  /** The canned answer, when mode is canned. */
  sentence?: string;
}

const ALIGNMENT = 32;
const RMS_EPS = 1e-5;
/** How strongly the output matrix prefers the chain's next token (logit margin). */
const CHAIN_WEIGHT = 12;
const SPACE_MARK = '\u2581';

const GGUF_MAGIC = 0x46554747; // "GGUF" read as little-endian uint32
const GGUF_VERSION = 3;
const GGML_TYPE_F32 = 0;

/** GGUF metadata value types (gguf.h). */
const T = { UINT32: 4, INT32: 5, FLOAT32: 6, BOOL: 7, STRING: 8, ARRAY: 9 } as const;

/** llama.cpp token attributes written as tokenizer.ggml.token_type. */
const TOKEN_TYPE = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, BYTE: 6 } as const;
const UNK_ID = 0;
const BOS_ID = 1;
const EOS_ID = 2;
const FIRST_BYTE_ID = 3;
/** "▁" itself, so a space detokenizes as a space rather than as the bytes of U+2581. */
const SPACE_ID = FIRST_BYTE_ID + 256;
const FIRST_PIECE_ID = SPACE_ID + 1;

type MetaValue =
  | { type: typeof T.UINT32 | typeof T.INT32 | typeof T.FLOAT32; value: number }
  | { type: typeof T.BOOL; value: boolean }
  | { type: typeof T.STRING; value: string }
  | { type: typeof T.ARRAY; items: typeof T.STRING; value: string[] }
  | { type: typeof T.ARRAY; items: typeof T.FLOAT32 | typeof T.INT32; value: number[] };

interface TensorSpec {
  name: string;
  /** ggml order: dims[0] varies fastest. */
  dims: number[];
  fill: (data: Float32Array) => void;
}

export async function writeTinyModel(path: string, options: TinyModelOptions): Promise<TinyModelInfo> {
  const seed = options.seed ?? 42;
  const shape = shapeOf(options.shape);
  const sentence = options.mode === 'canned' ? (options.sentence ?? CANNED_SENTENCE) : undefined;
  const pieces = sentence === undefined ? [] : sentencePieces(sentence, shape);
  const vocab = buildVocab(pieces);
  const metadata = buildMetadata(options, vocab, shape);
  const tensors =
    options.mode === 'canned'
      ? cannedTensors(vocab.tokens.length, pieces.length, seed, options.loop === true, shape)
      : randomTensors(vocab.tokens.length, seed, shape);
  const bytes = await writeGguf(path, metadata, tensors);
  return {
    path,
    bytes,
    vocabSize: vocab.tokens.length,
    tensorCount: tensors.length,
    ...(sentence === undefined ? {} : { sentence }),
  };
}

function shapeOf(given: Partial<ModelShape> | undefined): ModelShape {
  const shape = { ...TINY, ...given };
  for (const [key, value] of Object.entries(shape)) {
    if (!Number.isInteger(value) || value < 1) throw new ModelshipError('INPUT_INVALID', `model shape ${key} is ${value}: give a positive whole number.`);
  }
  if (shape.embedding % shape.heads !== 0) {
    throw new ModelshipError('INPUT_INVALID', `model shape embedding ${shape.embedding} is not a multiple of heads ${shape.heads}: each head takes an equal share.`);
  }
  return shape;
}

/** Split the answer into word pieces, SentencePiece style ("▁" marks a leading space). */
function sentencePieces(sentence: string, shape: ModelShape): string[] {
  const words = sentence.split(' ').filter((w) => w.length > 0);
  if (words.length === 0) throw new ModelshipError('INPUT_INVALID', 'the canned sentence is empty: give a few words.');
  const pieces = words.map((w, i) => (i === 0 ? w : SPACE_MARK + w));
  if (pieces.length > shape.embedding - 2) {
    throw new ModelshipError('INPUT_INVALID', `the canned sentence has ${pieces.length} words; at most ${shape.embedding - 2} fit the model.`);
  }
  const seen = new Set<string>();
  for (const p of pieces) {
    if ([...p].length < 2) {
      throw new ModelshipError('INPUT_INVALID', `the canned sentence's first word "${p}" is one character; start with a longer word.`);
    }
    if (seen.has(p)) throw new ModelshipError('INPUT_INVALID', `the canned sentence repeats "${p.replace(SPACE_MARK, ' ')}"; use distinct words.`);
    seen.add(p);
  }
  return pieces;
}

function buildVocab(pieces: string[]): { tokens: string[]; types: number[]; scores: number[] } {
  const tokens = ['<unk>', '<s>', '</s>'];
  const types: number[] = [TOKEN_TYPE.UNKNOWN, TOKEN_TYPE.CONTROL, TOKEN_TYPE.CONTROL];
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
    types.push(TOKEN_TYPE.BYTE);
  }
  tokens.push(SPACE_MARK);
  types.push(TOKEN_TYPE.NORMAL);
  for (const p of pieces) {
    tokens.push(p);
    types.push(TOKEN_TYPE.NORMAL);
  }
  return { tokens, types, scores: tokens.map(() => 0) };
}

function buildMetadata(options: TinyModelOptions, vocab: { tokens: string[]; types: number[]; scores: number[] }, shape: ModelShape): [string, MetaValue][] {
  const u32 = (value: number): MetaValue => ({ type: T.UINT32, value });
  return [
    ['general.architecture', { type: T.STRING, value: 'llama' }],
    ['general.name', { type: T.STRING, value: options.name ?? `tiny-llama-${options.mode}` }],
    ['general.alignment', u32(ALIGNMENT)],
    ['general.file_type', u32(0)],
    ['llama.context_length', u32(options.contextLength ?? 512)],
    ['llama.embedding_length', u32(shape.embedding)],
    ['llama.block_count', u32(shape.layers)],
    ['llama.feed_forward_length', u32(shape.feedForward)],
    ['llama.attention.head_count', u32(shape.heads)],
    ['llama.attention.head_count_kv', u32(shape.heads)],
    ['llama.attention.layer_norm_rms_epsilon', { type: T.FLOAT32, value: RMS_EPS }],
    ['llama.rope.dimension_count', u32(shape.embedding / shape.heads)],
    // Mean pooling makes an embedding depend on every token of the input, not just the last.
    ['llama.pooling_type', u32(1)],
    ['tokenizer.ggml.model', { type: T.STRING, value: 'llama' }],
    ['tokenizer.ggml.tokens', { type: T.ARRAY, items: T.STRING, value: vocab.tokens }],
    ['tokenizer.ggml.scores', { type: T.ARRAY, items: T.FLOAT32, value: vocab.scores }],
    ['tokenizer.ggml.token_type', { type: T.ARRAY, items: T.INT32, value: vocab.types }],
    ['tokenizer.ggml.unknown_token_id', u32(UNK_ID)],
    ['tokenizer.ggml.bos_token_id', u32(BOS_ID)],
    ['tokenizer.ggml.eos_token_id', u32(EOS_ID)],
    ['tokenizer.ggml.add_bos_token', { type: T.BOOL, value: true }],
    ['tokenizer.ggml.add_eos_token', { type: T.BOOL, value: false }],
  ];
}

/** The tensors every llama block needs; `weights` says how to fill each kind. */
function llamaTensors(vocabSize: number, shape: ModelShape, weights: {
  embedding: (data: Float32Array) => void;
  output: (data: Float32Array) => void;
  projection: (data: Float32Array) => void;
  /** attn_output and ffn_down: the two matrices that write into the residual stream. */
  residualWrite: (data: Float32Array) => void;
}): TensorSpec[] {
  const ones = (d: Float32Array) => d.fill(1);
  const { embedding: width, layers, feedForward } = shape;
  const list: TensorSpec[] = [{ name: 'token_embd.weight', dims: [width, vocabSize], fill: weights.embedding }];
  for (let l = 0; l < layers; l++) {
    const b = `blk.${l}.`;
    list.push(
      { name: `${b}attn_norm.weight`, dims: [width], fill: ones },
      { name: `${b}attn_q.weight`, dims: [width, width], fill: weights.projection },
      { name: `${b}attn_k.weight`, dims: [width, width], fill: weights.projection },
      { name: `${b}attn_v.weight`, dims: [width, width], fill: weights.projection },
      { name: `${b}attn_output.weight`, dims: [width, width], fill: weights.residualWrite },
      { name: `${b}ffn_norm.weight`, dims: [width], fill: ones },
      { name: `${b}ffn_gate.weight`, dims: [width, feedForward], fill: weights.projection },
      { name: `${b}ffn_up.weight`, dims: [width, feedForward], fill: weights.projection },
      { name: `${b}ffn_down.weight`, dims: [feedForward, width], fill: weights.residualWrite },
    );
  }
  list.push(
    { name: 'output_norm.weight', dims: [width], fill: ones },
    { name: 'output.weight', dims: [width, vocabSize], fill: weights.output },
  );
  return list;
}

function randomTensors(vocabSize: number, seed: number, shape: ModelShape): TensorSpec[] {
  const rng = gaussian(seed);
  const random = (scale: number) => (d: Float32Array) => {
    for (let i = 0; i < d.length; i++) d[i] = rng() * scale;
  };
  return llamaTensors(vocabSize, shape, { embedding: random(1), output: random(0.5), projection: random(0.1), residualWrite: random(0.1) });
}

/**
 * Embedding dimension 0 marks "any ordinary token", dimension 1+i marks sentence piece i; the spare
 * dimensions carry seeded features for ordinary tokens so embeddings still tell texts apart.
 */
function cannedTensors(vocabSize: number, pieceCount: number, seed: number, loop: boolean, shape: ModelShape): TensorSpec[] {
  const rng = gaussian(seed);
  const width = shape.embedding;
  const firstSpare = 1 + pieceCount;
  const embedding = (d: Float32Array) => {
    for (let t = 0; t < vocabSize; t++) {
      const row = t * width;
      const piece = t - FIRST_PIECE_ID;
      if (piece >= 0) {
        d[row + 1 + piece] = 1;
        continue;
      }
      d[row] = 1;
      for (let j = firstSpare; j < width; j++) d[row + j] = rng() * 0.5;
    }
  };
  const output = (d: Float32Array) => {
    d[FIRST_PIECE_ID * width] = CHAIN_WEIGHT;
    for (let i = 1; i < pieceCount; i++) d[(FIRST_PIECE_ID + i) * width + i] = CHAIN_WEIGHT;
    const after = loop ? FIRST_PIECE_ID : EOS_ID;
    d[after * width + pieceCount] = CHAIN_WEIGHT;
  };
  const projection = (d: Float32Array) => {
    for (let i = 0; i < d.length; i++) d[i] = rng() * 0.1;
  };
  // Zero writes keep the residual stream equal to the token embedding through both blocks.
  return llamaTensors(vocabSize, shape, { embedding, output, projection, residualWrite: () => {} });
}

/** Seeded standard normal numbers (mulberry32 + Box-Muller): same seed, same file. */
function gaussian(seed: number): () => number {
  let a = seed >>> 0;
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => {
    const u = Math.max(uniform(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * uniform());
  };
}

/** Header, metadata and tensor infos, then the aligned data section, one tensor at a time. */
async function writeGguf(path: string, metadata: [string, MetaValue][], tensors: TensorSpec[]): Promise<number> {
  const header = new ByteWriter();
  header.u32(GGUF_MAGIC).u32(GGUF_VERSION).u64(tensors.length).u64(metadata.length);
  for (const [key, value] of metadata) {
    header.str(key);
    writeValue(header, value);
  }
  let offset = 0;
  const offsets: number[] = [];
  for (const t of tensors) {
    offset = alignUp(offset);
    offsets.push(offset);
    header.str(t.name).u32(t.dims.length);
    for (const d of t.dims) header.u64(d);
    header.u32(GGML_TYPE_F32).u64(offset);
    offset += elementCount(t) * 4;
  }
  const head = header.toBuffer();
  const dataStart = alignUp(head.length);

  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  const file = await open(tmp, 'w');
  try {
    await file.write(head);
    await file.write(Buffer.alloc(dataStart - head.length));
    let written = 0;
    for (const [i, t] of tensors.entries()) {
      if (offsets[i]! > written) {
        await file.write(Buffer.alloc(offsets[i]! - written));
        written = offsets[i]!;
      }
      const data = new Float32Array(elementCount(t));
      t.fill(data);
      // Float32Array is host-endian; every platform node-llama-cpp ships for is little-endian.
      await file.write(new Uint8Array(data.buffer));
      written += data.byteLength;
    }
    await file.sync();
    await file.close();
    await rename(tmp, path);
    return dataStart + written;
  } catch (err) {
    await file.close().catch(() => {});
    await rm(tmp, { force: true });
    throw err;
  }
}

function writeValue(w: ByteWriter, v: MetaValue): void {
  w.u32(v.type);
  switch (v.type) {
    case T.UINT32:
      w.u32(v.value);
      return;
    case T.INT32:
      w.i32(v.value);
      return;
    case T.FLOAT32:
      w.f32(v.value);
      return;
    case T.BOOL:
      w.u8(v.value ? 1 : 0);
      return;
    case T.STRING:
      w.str(v.value);
      return;
    case T.ARRAY:
      w.u32(v.items).u64(v.value.length);
      for (const item of v.value) {
        if (typeof item === 'string') w.str(item);
        else if (v.items === T.FLOAT32) w.f32(item);
        else w.i32(item);
      }
      return;
    default: {
      const never: never = v;
      throw new Error(`unhandled GGUF value ${JSON.stringify(never)}`);
    }
  }
}

function elementCount(t: TensorSpec): number {
  return t.dims.reduce((a, b) => a * b, 1);
}

function alignUp(n: number): number {
  return Math.ceil(n / ALIGNMENT) * ALIGNMENT;
}

/** Little-endian byte builder for the header (small: the vocab is a few KB). */
class ByteWriter {
  private chunks: Buffer[] = [];

  private push(size: number, write: (b: Buffer) => void): this {
    const b = Buffer.alloc(size);
    write(b);
    this.chunks.push(b);
    return this;
  }
  u8(n: number): this {
    return this.push(1, (b) => b.writeUInt8(n));
  }
  u32(n: number): this {
    return this.push(4, (b) => b.writeUInt32LE(n));
  }
  i32(n: number): this {
    return this.push(4, (b) => b.writeInt32LE(n));
  }
  f32(n: number): this {
    return this.push(4, (b) => b.writeFloatLE(n));
  }
  u64(n: number): this {
    return this.push(8, (b) => b.writeBigUInt64LE(BigInt(n)));
  }
  str(s: string): this {
    const bytes = Buffer.from(s, 'utf8');
    this.u64(bytes.length);
    this.chunks.push(bytes);
    return this;
  }
  toBuffer(): Buffer {
    return Buffer.concat(this.chunks);
  }
}
