import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { CANNED_SENTENCE, writeTinyModel } from '../../modules/gguf/index.js';
import { loadNativeEngine, startInferenceServer, type Engine, type InferenceServer } from '../../modules/infer/index.js';

const repoRoot = path.resolve(import.meta.dirname, '..', '..');
let dir: string;
let engine: Engine;
let server: InferenceServer;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'templates-chat-'));
  const model = await writeTinyModel(path.join(dir, 'tiny.gguf'), { mode: 'canned' });
  engine = await loadNativeEngine({ modelPath: model.path, threads: 1, gpu: 'none', contextSize: 512 });
  server = await startInferenceServer({ engine, host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await server?.close();
  await engine?.dispose();
  await rm(dir, { recursive: true, force: true });
});

describe('templates/chat', () => {
  it('streams an answer per line of stdin and keeps chatting until /bye', async () => {
    // The README's `npm run chat`, against this server.
    const res = await execa('npm', ['run', '--silent', 'chat'], {
      cwd: path.join(repoRoot, 'templates/chat'),
      env: { OPENAI_BASE_URL: `${server.url}/v1`, npm_config_update_notifier: 'false' },
      input: 'Hello\nAnd again?\n/bye\nnever asked\n',
      timeout: 30_000,
      reject: false,
    });
    expect(res.stderr).toBe('');
    expect(res.exitCode).toBe(0);
    expect(res.stdout).toBe(`${CANNED_SENTENCE}\n${CANNED_SENTENCE}`);
  });

  it('ends at the end of its input without /bye', async () => {
    // `npm run chat` is `node chat.mjs`.
    const res = await execa(process.execPath, ['chat.mjs'], {
      cwd: path.join(repoRoot, 'templates/chat'),
      env: { OPENAI_BASE_URL: `${server.url}/v1` },
      input: 'Hi\n',
      timeout: 30_000,
      reject: false,
    });
    expect(res.stderr).toBe('');
    expect(res.exitCode).toBe(0);
    expect(res.stdout).toBe(CANNED_SENTENCE);
  });
});
