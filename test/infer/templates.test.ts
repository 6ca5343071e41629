import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Ajv } from 'ajv';
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
  engine = await loadNativeEngine({ modelPath: model.path, threads: 1, gpu: 'none', contextSize: 2048 });
  server = await startInferenceServer({ engine });
  await writeFile(path.join(dir, 'notes.txt'), 'one two three four five\n');
});

afterAll(async () => {
  await server?.close();
  await engine?.dispose();
  await rm(dir, { recursive: true, force: true });
});

describe('templates/agents', () => {
  it('the model calls an MCP tool through OpenAI tool calls, gets its result, then answers', async () => {
    const agents = await import(pathToFileURL(path.join(repoRoot, 'templates/agents/agents.mjs')).href);
    const llm = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'local', maxRetries: 0 });
    const tools = await agents.connectTools(process.execPath, [path.join(repoRoot, 'templates/agents/tools-server.mjs')], { AGENT_WORKSPACE: dir });
    try {
      const { tools: available } = await tools.listTools();
      expect(available.map((t: { name: string }) => t.name).sort()).toEqual(['add', 'word_count']);
      // The canned model cannot choose a tool itself; a forced first call is generated from the
      // tool's MCP input schema, runs on the real tool server, and its result goes back.
      const forced = await agents.runTask(llm, 'tiny', tools, 'Add some numbers', { toolChoice: { type: 'function', function: { name: 'add' } } });
      expect(forced.steps).toHaveLength(1);
      const [step] = forced.steps;
      expect(step.tool).toBe('add');
      const addSchema = available.find((t: { name: string }) => t.name === 'add').inputSchema;
      expect(new Ajv({ strict: false }).validate(addSchema, step.input)).toBe(true);
      expect(step.output).toBe(String(step.input.numbers.reduce((a: number, b: number) => a + b, 0)));
      expect(step.isError).toBe(false);
      expect(forced.messages.find((m: { role: string }) => m.role === 'tool')).toMatchObject({ content: step.output });
      expect(forced.answer).toBe(CANNED_SENTENCE);

      // Left to decide ("auto"), the canned model answers in prose and calls nothing.
      const free = await agents.runTask(llm, 'tiny', tools, 'Say hello');
      expect(free).toMatchObject({ answer: CANNED_SENTENCE, steps: [] });

      const counted = await tools.callTool({ name: 'word_count', arguments: { file: 'notes.txt' } });
      expect(counted.content[0].text).toBe('5');
      const escaped = await tools.callTool({ name: 'word_count', arguments: { file: '../../etc/passwd' } });
      expect([escaped.content[0].text, escaped.isError]).toEqual(['../../etc/passwd is outside the workspace', true]);
    } finally {
      await tools.close();
    }
  });
});
