import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { CANNED_SENTENCE, writeTinyModel } from '../../modules/gguf/index.js';
import {
  engineEmbedder,
  indexRetriever,
  loadIndex,
  loadNativeEngine,
  startInferenceServer,
  updateIndex,
  type Engine,
  type InferenceServer,
} from '../../modules/infer/index.js';

const templateDir = path.resolve(import.meta.dirname, '..', '..', 'templates', 'rag');
let dir: string;
let engine: Engine;
let server: InferenceServer;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'templates-rag-'));
  const model = await writeTinyModel(path.join(dir, 'tiny.gguf'), { mode: 'canned' });
  // The retrieved passages go into the prompt: byte-level tokens need more than 512.
  engine = await loadNativeEngine({ modelPath: model.path, threads: 1, gpu: 'none', contextSize: 2048 });
  // `npm start`: `rag index knowledge` (the template's own knowledge/), then `rag serve` with the default top 3.
  const indexDir = path.join(dir, 'rag');
  const embedder = engineEmbedder(engine);
  const stats = await updateIndex(path.join(templateDir, 'knowledge'), indexDir, embedder);
  expect(stats).toMatchObject({ files: 2, embedded: 2, unchanged: 0, removed: 0 });
  const { passages } = await loadIndex(indexDir);
  server = await startInferenceServer({ engine, host: '127.0.0.1', port: 0, retriever: indexRetriever(passages, embedder, 3) });
});

afterAll(async () => {
  await server?.close();
  await engine?.dispose();
  await rm(dir, { recursive: true, force: true });
});

/** `npm run ask -- QUESTION` (the README's command), or `node ask.mjs QUESTION` (what it runs). */
async function ask(how: 'npm' | 'node', ...question: string[]) {
  const [file, args] = how === 'npm' ? ['npm', ['run', '--silent', 'ask', '--', ...question]] : [process.execPath, ['ask.mjs', ...question]];
  const res = await execa(file, args, {
    cwd: templateDir,
    env: { OPENAI_BASE_URL: `${server.url}/v1`, npm_config_update_notifier: 'false' },
    timeout: 30_000,
    reject: false,
  });
  expect(res.stderr).toBe('');
  expect(res.exitCode).toBe(0);
  const [answer, ...sources] = res.stdout.split('\n');
  for (const line of sources) expect(line).toMatch(/^source: \S+ \(score -?\d+\.\d{3}\)$/);
  return { answer, sources: sources.map((l) => l.split(' ')[1]) };
}

describe('templates/rag', () => {
  it('indexed the template docs with the engine embeddings', async () => {
    const { passages, embedder } = await loadIndex(path.join(dir, 'rag'));
    expect(embedder).toBe('native:tiny');
    expect([...new Set(passages.map((p) => p.path))]).toEqual(['faq.md', 'modelship.md']);
    expect(passages.find((p) => p.path === 'faq.md')?.text).toBe((await readFile(path.join(templateDir, 'knowledge', 'faq.md'), 'utf8')).trim());
  });

  it('answers the README question with faq.md as the first source', async () => {
    expect(await ask('npm', 'How do I stop the server?')).toEqual({ answer: CANNED_SENTENCE, sources: ['faq.md', 'modelship.md'] });
  });

  it('asks the README question when given none', async () => {
    expect(await ask('node')).toEqual({ answer: CANNED_SENTENCE, sources: ['faq.md', 'modelship.md'] });
  });

  it('ranks the file that holds the answer first', async () => {
    expect(await ask('node', 'Does serve use CUDA or Metal?')).toEqual({ answer: CANNED_SENTENCE, sources: ['modelship.md', 'faq.md'] });
  });
});
