import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { getLlama, LlamaCompletion, type Llama } from 'node-llama-cpp';
import { CANNED_SENTENCE, readGgufHeader, validateGguf, writeTinyModel } from '../../modules/gguf/index.js';

let dir: string;
let llama: Llama;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'gguf-writer-'));
  llama = await getLlama({ gpu: false, build: 'never', maxThreads: 1, progressLogs: false });
});

afterAll(async () => {
  await llama?.dispose();
  await rm(dir, { recursive: true, force: true });
});

/** Greedy completion of `prompt` by llama.cpp itself. */
async function complete(file: string, prompt: string, maxTokens: number): Promise<{ text: string; stop: string }> {
  const model = await llama.loadModel({ modelPath: file });
  const context = await model.createContext({ contextSize: 256, threads: 1 });
  try {
    const completion = new LlamaCompletion({ contextSequence: context.getSequence() });
    const res = await completion.generateCompletionWithMeta(prompt, { maxTokens, temperature: 0 });
    return { text: res.response, stop: res.metadata.stopReason };
  } finally {
    await context.dispose();
    await model.dispose();
  }
}

describe('writeTinyModel', () => {
  it('writes a GGUF v3 llama model with the keys llama.cpp needs, and no temp file left', async () => {
    const info = await writeTinyModel(path.join(dir, 'canned.gguf'), { mode: 'canned' });
    const header = await validateGguf(info.path);
    expect(header.version).toBe(3);
    expect(header.alignment).toBe(32);
    expect(header.fileSize).toBe(info.bytes);
    expect(info.bytes).toBeGreaterThan(300_000);
    expect(info.bytes).toBeLessThan(800_000);
    expect(header.metadata['general.architecture']).toBe('llama');
    expect(header.metadata['llama.embedding_length']).toBe(64);
    expect(header.metadata['llama.block_count']).toBe(2);
    expect(header.metadata['tokenizer.ggml.model']).toBe('llama');
    expect(header.tensors!.map((t) => t.typeName).every((t) => t === 'F32')).toBe(true);
    expect(header.tensors!.find((t) => t.name === 'token_embd.weight')!.dims).toEqual([64, info.vocabSize]);
    for (const t of header.tensors!) expect(t.offset % 32).toBe(0);
    expect((await readdir(dir)).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  it('is deterministic for a seed and differs across seeds', async () => {
    const a = await writeTinyModel(path.join(dir, 'a.gguf'), { mode: 'random', seed: 7 });
    const b = await writeTinyModel(path.join(dir, 'b.gguf'), { mode: 'random', seed: 7 });
    const c = await writeTinyModel(path.join(dir, 'c.gguf'), { mode: 'random', seed: 8 });
    const [ba, bb, bc] = await Promise.all([a, b, c].map((m) => readFile(m.path)));
    expect(ba!.equals(bb!)).toBe(true);
    expect(ba!.equals(bc!)).toBe(false);
    expect(ba!.length).toBe(bc!.length);
  });

  it('canned weights make llama.cpp answer the sentence and stop, whatever the prompt', async () => {
    const file = path.join(dir, 'canned.gguf');
    for (const prompt of ['Once upon a time', 'Hello from', '']) {
      expect(await complete(file, prompt, 32)).toEqual({ text: CANNED_SENTENCE, stop: 'eogToken' });
    }
  });

  it('takes a custom sentence, and loops it when asked', async () => {
    const custom = await writeTinyModel(path.join(dir, 'custom.gguf'), { mode: 'canned', sentence: 'Paris is in France.' });
    expect((await complete(custom.path, 'Where is Paris?', 32)).text).toBe('Paris is in France.');
    const loop = await writeTinyModel(path.join(dir, 'loop.gguf'), { mode: 'canned', sentence: 'one two three', loop: true });
    const looped = await complete(loop.path, 'count', 9);
    expect(looped).toEqual({ text: 'one two threeone two threeone two three', stop: 'maxTokens' });
  });

  it('random weights load and generate', async () => {
    const file = path.join(dir, 'a.gguf');
    const res = await complete(file, 'hi', 8);
    expect(['maxTokens', 'eogToken']).toContain(res.stop);
  });

  it('refuses sentences it cannot spell', async () => {
    await expect(writeTinyModel(path.join(dir, 'x.gguf'), { mode: 'canned', sentence: 'my cat and my dog and me' })).rejects.toMatchObject({ code: 'INPUT_INVALID', message: expect.stringContaining('repeats " and"') });
    await expect(writeTinyModel(path.join(dir, 'x.gguf'), { mode: 'canned', sentence: '  ' })).rejects.toMatchObject({ code: 'INPUT_INVALID' });
    await expect(writeTinyModel(path.join(dir, 'x.gguf'), { mode: 'canned', sentence: 'I am' })).rejects.toMatchObject({ code: 'INPUT_INVALID' });
    const header = await readGgufHeader(path.join(dir, 'canned.gguf'));
    expect(header.tensorCount).toBe(21);
  });

  it('writes a larger shape that llama.cpp loads and that still answers the sentence', async () => {
    const shape = { embedding: 96, layers: 3, feedForward: 256, heads: 6 };
    const info = await writeTinyModel(path.join(dir, 'wide.gguf'), { mode: 'canned', sentence: 'one two three', loop: true, shape });
    const header = await validateGguf(info.path);
    expect(header.metadata['llama.embedding_length']).toBe(96);
    expect(header.metadata['llama.block_count']).toBe(3);
    expect(header.metadata['llama.feed_forward_length']).toBe(256);
    expect(header.metadata['llama.attention.head_count']).toBe(6);
    expect(header.metadata['llama.rope.dimension_count']).toBe(16);
    expect(header.tensorCount).toBe(3 + 3 * 9);
    expect(header.tensors!.find((t) => t.name === 'blk.2.ffn_down.weight')!.dims).toEqual([256, 96]);
    expect(await complete(info.path, 'count', 6)).toEqual({ text: 'one two threeone two three', stop: 'maxTokens' });
  });

  it('refuses a shape whose width the heads cannot share', async () => {
    await expect(writeTinyModel(path.join(dir, 'x.gguf'), { mode: 'random', shape: { embedding: 100, heads: 6 } })).rejects.toMatchObject({ code: 'INPUT_INVALID', message: expect.stringContaining('embedding 100 is not a multiple of heads 6') });
    await expect(writeTinyModel(path.join(dir, 'x.gguf'), { mode: 'random', shape: { layers: 0 } })).rejects.toMatchObject({ code: 'INPUT_INVALID', message: expect.stringContaining('layers is 0') });
  });
});
