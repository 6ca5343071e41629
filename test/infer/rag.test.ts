import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CANNED_SENTENCE, writeTinyModel } from '../../modules/gguf/index.js';
import { runCli } from '../helpers/cli.js';
import {
  MIN_CUT_TOKENS,
  chunkText,
  engineEmbedder,
  fitPassages,
  indexRetriever,
  loadIndex,
  loadNativeEngine,
  startInferenceServer,
  updateIndex,
  type Engine,
  type InferenceServer,
} from '../../modules/infer/index.js';

let dir: string;

async function ragIndex() {
  const res = await runCli(['rag', 'index', 'docs', '--model', 'model', '--threads', '1', '--gpu', 'none', '--json'], { cwd: dir });
  expect(res.stderr).toBe('');
  expect(res.code).toBe(0);
  return res.json();
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'infer-rag-'));
  await mkdir(path.join(dir, 'docs', 'hardware'), { recursive: true });
  await mkdir(path.join(dir, 'model'));
  await writeTinyModel(path.join(dir, 'model', 'tiny.gguf'), { mode: 'canned' });
  await writeFile(path.join(dir, 'docs', 'cats.md'), '# Cats\n\nCats purr when content and sleep sixteen hours a day.\n\nTheir whiskers sense air currents.\n');
  await writeFile(path.join(dir, 'docs', 'hardware', 'gpus.md'), '# GPUs\n\nCUDA kernels run on the GPU and read weights from HBM memory.\n\nAn H100 has 80 GB of memory.\n');
  await writeFile(path.join(dir, 'docs', 'bread.txt'), 'Bread needs flour, water, salt and yeast. Knead it and let the dough rise overnight.\n');
  await writeFile(path.join(dir, 'docs', 'image.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47]));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('chunkText', () => {
  it('splits on headings and blank lines and respects the size limit', () => {
    const text = `# A\n\n${'word '.repeat(300)}\n\n## B\n\nshort`;
    const chunks = chunkText(text, { maxChars: 400 });
    expect(chunks.length).toBeGreaterThan(3);
    for (const c of chunks) expect(c.length).toBeLessThanOrEqual(400);
    expect(chunks.at(-1)).toContain('short');
  });
});

describe('rag index and retrieval', () => {
  it('indexes text files, then re-embeds only what changed', async () => {
    const first = await ragIndex();
    expect(first).toMatchObject({ files: 3, embedded: 3, unchanged: 0, removed: 0, embedder: 'native:tiny' });
    expect(first.passages).toBeGreaterThanOrEqual(3);
    const lines = (await readFile(path.join(dir, '.modelship/rag/passages.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.path)).toContain('hardware/gpus.md');
    expect(lines[0].vector).toHaveLength(64);
    expect(lines[0].sha256).toMatch(/^[0-9a-f]{64}$/);

    expect(await ragIndex()).toMatchObject({ files: 3, embedded: 0, unchanged: 3, removed: 0 });

    // Touched but identical: the hash says unchanged.
    const later = new Date(Date.now() + 5000);
    await utimes(path.join(dir, 'docs', 'cats.md'), later, later);
    expect(await ragIndex()).toMatchObject({ embedded: 0, unchanged: 3 });

    await writeFile(path.join(dir, 'docs', 'bread.txt'), 'Sourdough bread uses a starter instead of yeast.\n');
    await rm(path.join(dir, 'docs', 'cats.md'));
    expect(await ragIndex()).toMatchObject({ files: 2, embedded: 1, unchanged: 1, removed: 1 });
  });

  it('answers with the file that holds the answer as its source', async () => {
    const engine = await loadNativeEngine({ modelPath: path.join(dir, 'model', 'tiny.gguf'), modelId: 'tiny', threads: 1, gpu: 'none', contextSize: 512 });
    const { passages, embedder } = await loadIndex(path.join(dir, '.modelship/rag'));
    const own = engineEmbedder(engine);
    expect(embedder).toBe(own.id);
    const server = await startInferenceServer({ engine, retriever: indexRetriever(passages, own, 1) });
    try {
      const res = await fetch(`${server.url}/v1/chat/completions`, {
        method: 'POST',
        body: JSON.stringify({ messages: [{ role: 'user', content: 'How much memory does an H100 GPU have?' }] }),
      });
      const body = (await res.json()) as any;
      expect(res.status).toBe(200);
      expect(body.choices[0].message.content).toBe(CANNED_SENTENCE);
      expect(body.sources).toEqual([{ source: 'hardware/gpus.md', score: expect.any(Number) }]);
      const bread: any = await (await fetch(`${server.url}/v1/chat/completions`, {
        method: 'POST',
        body: JSON.stringify({ messages: [{ role: 'user', content: 'What does sourdough use instead of yeast?' }] }),
      })).json();
      expect(bread.sources[0].source).toBe('bread.txt');
    } finally {
      await server.close();
      await engine.dispose();
    }
  });

  it('refuses a container engine, since retrieval runs in-process', async () => {
    const { code, stderr } = await runCli(['rag', 'serve', 'model', '--engine', 'podman'], { cwd: dir });
    expect(code).toBe(2);
    expect(stderr).toContain('--engine podman is not supported');
  });

  it('refuses to serve without an index', async () => {
    const { code, stderr } = await runCli(['rag', 'serve', 'model', '--index', 'missing'], { cwd: dir });
    expect(code).toBe(2);
    expect(stderr).toContain('rag index DOCS_DIR');
  });
});

/** About 1 KB of prose on one topic, in paragraphs the chunker keeps together up to 800 characters. */
function article(topic: string, facts: string[]): string {
  const filler = `${topic} is described here at some length so that the file is about one kilobyte, as real notes are.`;
  return `# ${topic}\n\n${facts.join(' ')} ${filler}\n\n${Array.from({ length: 8 }, () => filler).join(' ')}\n`;
}

describe('rag serve within a 512-token context', () => {
  let root: string;
  let engine: Engine;
  let server: InferenceServer;
  let indexed: Awaited<ReturnType<typeof loadIndex>>['passages'];

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'infer-rag-fit-'));
    await mkdir(path.join(root, 'docs'));
    const model = await writeTinyModel(path.join(root, 'tiny.gguf'), { mode: 'canned' });
    await writeFile(path.join(root, 'docs', 'server.md'), article('Stopping the server', ['Press Ctrl+C to stop the server; it finishes running requests first.']));
    await writeFile(path.join(root, 'docs', 'gpus.md'), article('GPUs', ['CUDA and Metal are picked automatically; --gpu none forces the CPU.']));
    await writeFile(path.join(root, 'docs', 'signing.md'), article('Signing', ['Artifacts are signed with cosign and OpenSSF model signing.']));
    await writeFile(path.join(root, 'docs', 'cards.md'), article('Model cards', ['The model card lists the training data and the licence.']));
    engine = await loadNativeEngine({ modelPath: model.path, modelId: 'tiny', threads: 1, gpu: 'none', contextSize: 512 });
    const own = engineEmbedder(engine);
    await updateIndex(path.join(root, 'docs'), path.join(root, 'index'), own);
    indexed = (await loadIndex(path.join(root, 'index'))).passages;
    server = await startInferenceServer({ engine, retriever: indexRetriever(indexed, own, 3) });
  });

  afterAll(async () => {
    await server?.close();
    await engine?.dispose();
    await rm(root, { recursive: true, force: true });
  });

  async function ask(question: string, extra: Record<string, unknown> = {}) {
    const res = await fetch(`${server.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ messages: [{ role: 'user', content: question }], ...extra }) });
    return { status: res.status, body: (await res.json()) as any };
  }

  it('indexes passages longer than the embedding context, keeping their whole text', async () => {
    expect(indexed.length).toBeGreaterThan(4);
    const longest = indexed.reduce((a, b) => (engine.countTokens(a.text) >= engine.countTokens(b.text) ? a : b));
    expect(engine.countTokens(longest.text)).toBeGreaterThan(512);
    expect(longest.vector).toHaveLength(64);
    expect(longest.text.length).toBeGreaterThan(700);
  });

  it('answers (200) with the passages that fit, not a context_length_exceeded 400', async () => {
    const { status, body } = await ask('How do I stop the server?');
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body.choices[0].message.content).toBe(CANNED_SENTENCE);
    expect(body.sources.length).toBeGreaterThan(0);
    expect(body.sources.length).toBeLessThan(3);
    expect(body.sources[0].source).toBe('server.md');
    // Room was kept for the answer: a quarter of the context without max_tokens.
    expect(body.usage.prompt_tokens).toBeLessThanOrEqual(512 - 128);
    expect(body.usage.prompt_tokens).toBeGreaterThan(512 - 128 - 64);
  });

  it('keeps the room max_tokens asks for, and streams the same sources', async () => {
    const { status, body } = await ask('How do I stop the server?', { max_tokens: 200 });
    expect(status).toBe(200);
    expect(body.usage.prompt_tokens).toBeLessThanOrEqual(512 - 200);
    const res = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({ messages: [{ role: 'user', content: 'How do I stop the server?' }], max_tokens: 200, stream: true }),
    });
    const first = JSON.parse((await res.text()).split('\n').find((l) => l.startsWith('data: {'))!.slice(6));
    expect(first.sources).toEqual(body.sources);
    // A short answer leaves room for more: the passage that does not fit whole is cut, and says so.
    const short = await ask('How do I stop the server?', { max_tokens: 64 });
    expect(short.body.usage.prompt_tokens).toBeLessThanOrEqual(512 - 64);
    expect(short.body.sources.length).toBeGreaterThan(body.sources.length);
    expect(short.body.sources.at(-1).truncated).toBe(true);
    expect(short.body.sources.slice(0, -1).every((s: any) => s.truncated === undefined)).toBe(true);
  });

  it('counts the prompt as the engine evaluates it, chat template included', async () => {
    const messages = [{ role: 'user' as const, content: 'How do I stop the server?' }];
    const fitted = fitPassages(engine, messages, [{ source: 'a.md', text: 'Press Ctrl+C to stop the server.', score: 1 }], 128);
    expect(fitted.used).toHaveLength(1);
    // The same prompt sent to a server without retrieval: the count is the engine's own meter, or a few tokens over it.
    const plain = await startInferenceServer({ engine });
    try {
      const res = await fetch(`${plain.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ messages: fitted.messages }) });
      const body = (await res.json()) as any;
      expect(fitted.promptTokens).toBeGreaterThanOrEqual(body.usage.prompt_tokens);
      expect(fitted.promptTokens).toBeLessThanOrEqual(body.usage.prompt_tokens + 8);
      // A count of the contents alone misses the template.
      expect(engine.countTokens(fitted.messages.map((m) => m.content).join('\n'))).toBeLessThan(body.usage.prompt_tokens - 8);
    } finally {
      await plain.close();
    }
  });
});

describe('fitPassages', () => {
  let engine: Engine;
  let root: string;
  const question = [{ role: 'user' as const, content: 'What is in the notes?' }];
  const words = (n: number, word: string) => Array.from({ length: n }, (_, i) => `${word}${i}`).join(' ');

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'infer-rag-fitp-'));
    const model = await writeTinyModel(path.join(root, 'tiny.gguf'), { mode: 'canned' });
    engine = await loadNativeEngine({ modelPath: model.path, modelId: 'tiny', threads: 1, gpu: 'none', contextSize: 512 });
  });

  afterAll(async () => {
    await engine?.dispose();
    await rm(root, { recursive: true, force: true });
  });

  it('keeps every passage whole when all fit', () => {
    const passages = [
      { source: 'a.md', text: 'alpha notes', score: 0.9 },
      { source: 'b.md', text: 'beta notes', score: 0.8 },
    ];
    const fitted = fitPassages(engine, question, passages, 128);
    expect(fitted.used).toEqual(passages);
    expect(fitted.messages[0]!.content).toContain('[2] (b.md)\nbeta notes');
    expect(fitted.messages.slice(1)).toEqual(question);
  });

  it('cuts the passage that overflows at a word end and drops what no longer fits', () => {
    const passages = [
      { source: 'a.md', text: words(40, 'a'), score: 0.9 },
      { source: 'b.md', text: words(400, 'b'), score: 0.8 },
      { source: 'c.md', text: words(40, 'c'), score: 0.7 },
    ];
    const fitted = fitPassages(engine, question, passages, 128);
    expect(fitted.used.map((p) => [p.source, p.truncated ?? false])).toEqual([
      ['a.md', false],
      ['b.md', true],
    ]);
    expect(fitted.promptTokens).toBeLessThanOrEqual(512 - 128);
    expect(fitted.promptTokens).toBeGreaterThan(512 - 128 - 16);
    expect(fitted.used[1]!.text).toMatch(/^b0 b1 .* b\d+ …$/);
    expect(fitted.messages[0]!.content).toContain(fitted.used[1]!.text);
  });

  it('skips a passage whose fitting start would be too short, so a shorter one below still fits', () => {
    // A first passage that leaves between 15 and MIN_CUT_TOKENS tokens free.
    const leftAfter = (n: number) => 512 - 128 - fitPassages(engine, question, [{ source: 'a.md', text: words(n, 'a'), score: 0.9 }], 128).promptTokens;
    let n = 1;
    while (leftAfter(n) >= MIN_CUT_TOKENS) n++;
    expect(leftAfter(n)).toBeGreaterThanOrEqual(15);
    const first = { source: 'a.md', text: words(n, 'a'), score: 0.9 };
    const long = { source: 'b.md', text: words(200, 'b'), score: 0.8 };
    const short = { source: 'c.md', text: 'c', score: 0.7 };
    expect(fitPassages(engine, question, [first, long, short], 128).used.map((p) => p.source)).toEqual(['a.md', 'c.md']);
    // With more room, the long one is cut instead.
    expect(fitPassages(engine, question, [first, long], 64).used.map((p) => [p.source, p.truncated ?? false])).toEqual([
      ['a.md', false],
      ['b.md', true],
    ]);
  });

  it('uses no passage when the answer needs all the room', () => {
    const fitted = fitPassages(engine, question, [{ source: 'a.md', text: words(50, 'a'), score: 1 }], 500);
    expect(fitted.used).toEqual([]);
    expect(fitted.messages).toEqual(question);
  });
});
