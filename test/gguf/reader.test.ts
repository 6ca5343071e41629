import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ggufModelInfo, readGgufHeader, validateGguf, writeTinyModel } from '../../modules/gguf/index.js';
import { isModelshipError } from '../../modules/errors/index.js';
import { ggufBytes, LLAMA_METADATA, writeGguf } from '../project/gguf-fixture.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'gguf-reader-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function expectInvalid(file: string, pattern: RegExp, offset?: number) {
  try {
    await validateGguf(file);
    expect.unreachable('validateGguf accepted a bad file');
  } catch (err) {
    expect(isModelshipError(err) && err.code).toBe('MODEL_INVALID');
    expect((err as Error).message).toContain(file);
    expect((err as Error).message).toMatch(pattern);
    if (offset !== undefined) expect((err as { details?: { offset?: number } }).details?.offset).toBe(offset);
  }
}

const TENSORS = [{ name: 'token_embd.weight', dims: [8, 4] }, { name: 'output_norm.weight', dims: [8] }];

describe('readGgufHeader', () => {
  it('reads the tiny llama model the GGUF writer makes, and validates it', async () => {
    const file = path.join(dir, 'tiny.gguf');
    const written = await writeTinyModel(file, { mode: 'random', name: 'tiny-test' });
    const header = await validateGguf(file);
    expect(header.version).toBe(3);
    expect(header.tensorCount).toBe(written.tensorCount);
    expect(header.metadata['general.architecture']).toBe('llama');
    expect(header.metadata['general.name']).toBe('tiny-test');
    const tokens = header.metadata['tokenizer.ggml.tokens'];
    expect(typeof tokens === 'object' && 'length' in tokens ? tokens.length : 0).toBe(written.vocabSize);
    // The last tensor ends exactly at the end of the file.
    const last = header.tensors!.reduce((a, t) => (t.offset > a.offset ? t : a));
    expect(header.dataOffset! + last.offset + last.size).toBeLessThanOrEqual(written.bytes);
    const info = ggufModelInfo(header);
    expect(info).toMatchObject({ architecture: 'llama', name: 'tiny-test', contextLength: 512 });
    expect(info.paramCount).toBeGreaterThan(0);
  });

  it('maps metadata to model facts (file_type 15 is Q4_K_M)', async () => {
    const file = path.join(dir, 'facts.gguf');
    await writeGguf(file, { metadata: LLAMA_METADATA, tensors: TENSORS });
    const info = ggufModelInfo(await readGgufHeader(file, { tensors: true }));
    expect(info).toEqual({ architecture: 'llama', name: 'Tiny Llama', sizeLabel: '135M', license: 'apache-2.0', quantization: 'Q4_K_M', contextLength: 2048, paramCount: 40 });
  });

  it('reads version 2 files and reports F16 as precision, not quantization', async () => {
    const file = path.join(dir, 'v2.gguf');
    await writeGguf(file, { version: 2, metadata: { ...LLAMA_METADATA, 'general.file_type': { type: 'uint32', value: 1 } } });
    const info = ggufModelInfo(await readGgufHeader(file));
    expect(info.precision).toBe('fp16');
    expect(info.quantization).toBeUndefined();
  });
});

describe('validateGguf refuses bad files', () => {
  it('a wrong magic, at byte 0', async () => {
    const file = path.join(dir, 'magic.gguf');
    await writeFile(file, Buffer.from('GGML' + '\0'.repeat(40), 'latin1'));
    await expectInvalid(file, /magic is "GGML"/, 0);
  });
  it('an unsupported version, at byte 4', async () => {
    const file = path.join(dir, 'v1.gguf');
    await writeGguf(file, { version: 1, metadata: {} });
    await expectInvalid(file, /version 1 is not supported/, 4);
  });
  it('a file cut inside the metadata', async () => {
    const file = path.join(dir, 'cut-meta.gguf');
    const bytes = ggufBytes({ metadata: LLAMA_METADATA });
    await writeFile(file, bytes.subarray(0, bytes.length - 40));
    await expectInvalid(file, /file ends while reading/);
  });
  it('a file whose tensor data is truncated', async () => {
    const file = path.join(dir, 'cut-data.gguf');
    await writeTinyModel(file, { mode: 'random' });
    const size = (await readFile(file)).length;
    await truncate(file, size - 100);
    await expectInvalid(file, /truncated/, size - 100);
  });
  it('a llama file without the keys llama.cpp needs, naming them', async () => {
    const file = path.join(dir, 'missing.gguf');
    const { ['llama.block_count']: _a, ['tokenizer.ggml.tokens']: _b, ...rest } = LLAMA_METADATA;
    await writeGguf(file, { metadata: rest, tensors: TENSORS });
    await expectInvalid(file, /llama\.block_count, tokenizer\.ggml\.tokens/);
  });
  it('a count larger than the file', async () => {
    const file = path.join(dir, 'count.gguf');
    const bytes = ggufBytes({ metadata: LLAMA_METADATA });
    bytes.writeBigUInt64LE(1n << 40n, 16);
    await writeFile(file, bytes);
    await expectInvalid(file, /metadata count .* larger than the rest of the file/, 16);
  });
  it('a file with no architecture', async () => {
    const file = path.join(dir, 'noarch.gguf');
    await writeGguf(file, { metadata: { 'general.name': { type: 'string', value: 'x' } } });
    await expectInvalid(file, /general\.architecture/);
  });
  it('a file that does not exist', async () => {
    await expect(readGgufHeader(path.join(dir, 'nope.gguf'))).rejects.toThrow(/cannot open GGUF file/);
  });
});
