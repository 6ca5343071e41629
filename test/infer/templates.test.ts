import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import OpenAI from 'openai';
import { CANNED_SENTENCE, writeTinyModel } from '../../modules/gguf/index.js';
import { loadNativeEngine, startInferenceServer, type Engine, type InferenceServer } from '../../modules/infer/index.js';

const repoRoot = path.resolve(import.meta.dirname, '..', '..');
let dir: string;
let engine: Engine;
let server: InferenceServer;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'infer-templates-'));
  const model = await writeTinyModel(path.join(dir, 'tiny.gguf'), { mode: 'canned' });
  engine = await loadNativeEngine({ modelPath: model.path, threads: 1, gpu: 'none', contextSize: 512 });
  server = await startInferenceServer({ engine });
  await writeFile(path.join(dir, 'notes.txt'), 'one two three four five\n');
});

afterAll(async () => {
  await server?.close();
  await engine?.dispose();
  await rm(dir, { recursive: true, force: true });
});

describe('templates/agents', () => {
  it('plans with the model and works through MCP tools on a real stdio tool server', async () => {
    const agents = await import(pathToFileURL(path.join(repoRoot, 'templates/agents/agents.mjs')).href);
    const llm = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'local', maxRetries: 0 });
    const tools = await agents.connectTools(process.execPath, [path.join(repoRoot, 'templates/agents/tools-server.mjs')], { AGENT_WORKSPACE: dir });
    try {
      const { tools: available } = await tools.listTools();
      expect(available.map((t: { name: string }) => t.name).sort()).toEqual(['add', 'word_count']);
      // The tiny model answers prose, so the planner falls back to asking the model.
      const planned = await agents.plan(llm, 'tiny', 'Say hello', available);
      expect(planned.raw).toBe(CANNED_SENTENCE);
      const results = await agents.work(llm, 'tiny', tools, [
        ...planned.steps,
        { tool: 'word_count', input: { file: 'notes.txt' } },
        { tool: 'add', input: { numbers: [2, 3.5] } },
        { tool: 'word_count', input: { file: '../../etc/passwd' } },
      ]);
      expect(results.map((r: { output: string; isError: boolean }) => [r.output, r.isError])).toEqual([
        [CANNED_SENTENCE, false],
        ['5', false],
        ['5.5', false],
        ['../../etc/passwd is outside the workspace', true],
      ]);
    } finally {
      await tools.close();
    }
  });
});
