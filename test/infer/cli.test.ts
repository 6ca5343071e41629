import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import OpenAI from 'openai';
import { CANNED_SENTENCE, writeTinyModel } from '../../modules/gguf/index.js';
import { runCli } from '../helpers/cli.js';

const repoRoot = path.resolve(import.meta.dirname, '..', '..');
let dir: string;
let modelDir: string;

function cli(args: string[], stdin?: string) {
  return runCli(args, { cwd: dir, env: { MODELSHIP_HOME: path.join(dir, 'home') }, ...(stdin === undefined ? {} : { stdin }) });
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'infer-cli-'));
  modelDir = path.join(dir, 'model');
  await mkdir(modelDir);
  await writeTinyModel(path.join(modelDir, 'tiny-chat.gguf'), { mode: 'canned' });
  await writeFile(path.join(modelDir, 'README.md'), '# tiny\n');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('modelship run', () => {
  it('chats over piped stdin, keeping history, until /bye', async () => {
    const res = await cli(['run', 'model', '--threads', '1'], 'Hi there\nAnd again?\n/bye\nnot read\n');
    expect(res.code).toBe(0);
    expect(res.stdout).toBe(`${CANNED_SENTENCE}\n${CANNED_SENTENCE}\n`);
    // --gpu auto: one line says which backend runs and why.
    expect(res.stderr).toMatch(/^using (CPU \(1 threads\): (no GPU device on this machine|no CUDA, Vulkan or Metal build).*|CUDA on .+|Vulkan on .+)$/m);
  });

  it('answers one prompt given on the command line, as JSON', async () => {
    const res = await cli(['run', 'model/tiny-chat.gguf', 'Who are you?', '--threads', '1', '--gpu', 'none', '--json']);
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toEqual({
      model: 'tiny-chat',
      messages: [
        { role: 'user', content: 'Who are you?' },
        { role: 'assistant', content: CANNED_SENTENCE },
      ],
    });
  });
});

describe('a packed model', () => {
  it('is unpacked once into the store cache and served by reference', async () => {
    const packed = await cli(['pack', 'model', '-t', 'tiny:v1']);
    expect(packed.stderr).toBe('');
    expect(packed.code).toBe(0);
    const dry = await cli(['serve', 'tiny:v1', '--dryrun', '--json', '--port', '0']);
    expect(dry.code).toBe(0);
    const plan = JSON.parse(dry.stdout);
    expect(plan.file).toMatch(new RegExp(`^${path.join(dir, 'home', 'serve')}/sha256-[0-9a-f]{64}/tiny-chat\\.gguf$`));
    // The README is documentation, not needed to serve.
    await expect(readFile(path.join(path.dirname(plan.file), 'README.md'))).rejects.toThrow();
    const answered = await cli(['run', 'tiny:v1', 'Hello?', '--threads', '1', '--gpu', 'none', '--json']);
    expect(answered.code).toBe(0);
    expect(JSON.parse(answered.stdout).messages[1].content).toBe(CANNED_SENTENCE);
  });

  it('says so when the artifact holds no model', async () => {
    const docs = path.join(dir, 'only-docs');
    await mkdir(docs, { recursive: true });
    await writeFile(path.join(docs, 'README.md'), '# no weights\n');
    const packed = await cli(['pack', 'only-docs', '-t', 'docs:v1']);
    expect(packed.code).toBe(0);
    const res = await cli(['serve', 'docs:v1', '--dryrun']);
    expect(res.code).toBe(4);
    expect(res.stderr).toContain('holds no model weights');
  });

  it('says so when the reference is unknown', async () => {
    const res = await cli(['serve', 'nothing-here:v9', '--dryrun']);
    expect(res.code).toBe(4);
  });
});

describe('modelship serve: bad models get clear errors before llama.cpp sees them', () => {
  it('refuses a truncated GGUF with exit 3, naming the file', async () => {
    const whole = await readFile(path.join(modelDir, 'tiny-chat.gguf'));
    const bad = path.join(dir, 'truncated.gguf');
    await writeFile(bad, whole.subarray(0, 2000));
    const res = await cli(['serve', bad, '--port', '0', '--gpu', 'none']);
    expect(res.code).toBe(3);
    expect(res.stderr).toContain(bad);
    expect(res.stderr).not.toContain('internal error');
  });

  it('refuses a file that is not GGUF at all', async () => {
    const bad = path.join(dir, 'garbage.gguf');
    const f = await open(bad, 'w');
    await f.write(Buffer.from('this is not a model\n'.repeat(100)));
    await f.close();
    const res = await cli(['serve', bad, '--port', '0', '--gpu', 'none', '--json']);
    expect(res.code).toBe(3);
    expect(JSON.parse(res.stdout).error.code).toBe('MODEL_INVALID');
  });

  it('says so when the path does not exist (exit 4)', async () => {
    const res = await cli(['serve', 'nowhere/model.gguf']);
    expect(res.code).toBe(4);
    expect(res.stderr).toContain(`no model file or folder at ${path.join(dir, 'nowhere/model.gguf')}`);
  });

  it('says so when a folder holds no model (exit 4)', async () => {
    const empty = path.join(dir, 'docs-only');
    await mkdir(empty, { recursive: true });
    await writeFile(path.join(empty, 'README.md'), 'no weights here\n');
    const res = await cli(['serve', 'docs-only']);
    expect(res.code).toBe(4);
    expect(res.stderr).toContain(`${empty} holds no model weights`);
  });

  it('sends safetensors to a container engine', async () => {
    const st = path.join(dir, 'st-model');
    await mkdir(st, { recursive: true });
    await writeFile(path.join(st, 'model.safetensors'), Buffer.alloc(16));
    const native = await cli(['serve', 'st-model']);
    expect(native.code).toBe(3);
    expect(native.stderr).toContain('--engine podman');
    const dry = await cli(['serve', 'st-model', '--engine', 'docker', '--gpu', 'none', '--port', '9000', '--dryrun']);
    expect(dry.code).toBe(0);
    expect(dry.stdout.trim()).toBe(`docker run --rm --name modelship-st-model -p 127.0.0.1:9000:8000 --ipc=host -v ${st}:/models:ro vllm/vllm-openai:latest --model /models --served-model-name st-model --host 0.0.0.0 --port 8000`);
  });

  it('rejects bad flags as usage errors (exit 2)', async () => {
    expect((await cli(['serve', 'model', '--engine', 'kubernetes'])).code).toBe(2);
    expect((await cli(['serve', 'model', '--port', 'eighty'])).code).toBe(2);
    expect((await cli(['serve'])).code).toBe(2);
  });
});

describe('modelship serve as a process', () => {
  it('reports ready, answers the openai client, and frees the port on SIGTERM', async () => {
    const child = execa(path.join(repoRoot, 'node_modules/.bin/tsx'), [path.join(repoRoot, 'test/infer/run-cli.ts'), 'serve', modelDir, '--port', '0', '--threads', '1', '--gpu', 'none', '--json'], {
      cwd: dir,
      reject: false,
      env: { CI: '1' },
    });
    const ready = await new Promise<{ url: string; model: string; engine: string; backend: string; readyMs: number }>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const line = out.split('\n')[0];
        if (out.includes('\n')) resolve(JSON.parse(line!));
      });
      void child.then((r) => reject(new Error(`serve exited early: ${r.stderr}`)));
    });
    // Start-up time is measured by bench/serve.ts; under test it only has to be reported.
    expect(ready).toMatchObject({ model: 'tiny-chat', engine: 'native', backend: expect.stringContaining('using CPU'), readyMs: expect.any(Number) });
    expect(ready.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    const client = new OpenAI({ baseURL: ready.url, apiKey: 'unused', maxRetries: 0 });
    const answer = await client.chat.completions.create({ model: ready.model, messages: [{ role: 'user', content: 'Hello?' }] });
    expect(answer.choices[0]!.message.content).toBe(CANNED_SENTENCE);
    child.kill('SIGTERM');
    const result = await child;
    expect(result.exitCode).toBe(0);
    const port = Number(new URL(ready.url).port);
    const refused = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), resolve(false)));
      socket.once('error', () => resolve(true));
    });
    expect(refused).toBe(true);
  });
});
