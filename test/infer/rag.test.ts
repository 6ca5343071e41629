import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CANNED_SENTENCE, writeTinyModel } from '../../modules/gguf/index.js';
import { runCli } from '../helpers/cli.js';
import { chunkText, engineEmbedder, indexRetriever, loadIndex, loadNativeEngine, startInferenceServer } from '../../modules/infer/index.js';

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
