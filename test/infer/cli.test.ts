import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, open, readFile, readdir, rm, writeFile } from 'node:fs/promises';
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

  it('is named after the artifact, and answers to its reference and file name too', async () => {
    const dry = await cli(['serve', 'tiny:v1', '--dryrun', '--json']);
    expect(JSON.parse(dry.stdout)).toMatchObject({ model: 'tiny', reference: 'tiny:v1' });
    const child = execa(path.join(repoRoot, 'node_modules/.bin/tsx'), [path.join(repoRoot, 'test/infer/run-cli.ts'), 'serve', 'tiny:v1', '--port', '0', '--threads', '1', '--gpu', 'none', '--json'], {
      cwd: dir,
      reject: false,
      env: { CI: '1', MODELSHIP_HOME: path.join(dir, 'home') },
    });
    try {
      const ready = await readyLine(child);
      expect(ready.model).toBe('tiny');
      const client = new OpenAI({ baseURL: ready.url, apiKey: 'unused', maxRetries: 0 });
      expect((await client.models.list()).data.map((m) => m.id)).toEqual(['tiny']);
      for (const id of ['tiny', 'tiny:v1', 'tiny-chat']) expect((await client.models.retrieve(id)).id).toBe('tiny');
    } finally {
      child.kill('SIGTERM');
      await child;
    }
  });

  it('clears unpack folders left by a killed serve, keeping those of live ones', async () => {
    const serveDir = path.join(dir, 'home', 'serve');
    const gone = await execa(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    const stale = path.join(serveDir, `sha256-${'a'.repeat(64)}.tmp-${gone.stdout}`);
    const live = path.join(serveDir, `sha256-${'b'.repeat(64)}.tmp-${process.pid}`);
    await mkdir(stale, { recursive: true });
    await writeFile(path.join(stale, 'half.gguf'), 'partial');
    await mkdir(live, { recursive: true });
    const res = await cli(['serve', 'tiny:v1', '--dryrun']);
    expect(res.code).toBe(0);
    await expect(readFile(path.join(stale, 'half.gguf'))).rejects.toThrow();
    expect((await readdir(serveDir)).filter((n) => n.includes('.tmp-'))).toEqual([path.basename(live)]);
    await rm(live, { recursive: true });
  });

  it('refuses an artifact whose config nests 200,000 deep in one line (input error)', async () => {
    const layout = path.join(dir, 'deep-layout');
    const blob = async (bytes: Buffer | string) => {
      const data = Buffer.from(bytes);
      const digest = createHash('sha256').update(data).digest('hex');
      await mkdir(path.join(layout, 'blobs', 'sha256'), { recursive: true });
      await writeFile(path.join(layout, 'blobs', 'sha256', digest), data);
      return { digest: `sha256:${digest}`, size: data.length };
    };
    const weights = await blob(await readFile(path.join(modelDir, 'tiny-chat.gguf')));
    const config = await blob('['.repeat(200_000) + ']'.repeat(200_000));
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      artifactType: 'application/vnd.cncf.model.manifest.v1+json',
      config: { mediaType: 'application/vnd.cncf.model.config.v1+json', ...config },
      layers: [{ mediaType: 'application/vnd.cncf.model.weight.v1.raw', ...weights, annotations: { 'org.cncf.model.filepath': 'tiny-chat.gguf' } }],
    });
    const m = await blob(manifest);
    await writeFile(path.join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    await writeFile(path.join(layout, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...m, annotations: { 'org.opencontainers.image.ref.name': 'deep' } }] }));
    const res = await cli(['serve', 'oci:deep-layout:deep', '--dryrun']);
    expect(res.stderr).not.toContain('bug in modelship');
    expect(res.code).toBe(3);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('says so when the artifact holds no model', async () => {
    const docs = path.join(dir, 'only-docs');
    await mkdir(docs, { recursive: true });
    await writeFile(path.join(docs, 'README.md'), '# no weights\n');
    const packed = await cli(['pack', 'only-docs', '-t', 'docs:v1']);
    expect(packed.code).toBe(0);
    const res = await cli(['serve', 'docs:v1', '--dryrun']);
    expect(res.code).toBe(4);
    // The artifact is named, not the cache folder it was unpacked into.
    expect(res.stderr).toContain('docs:v1 holds no model weights');
    expect(res.stderr).not.toContain(path.join(dir, 'home'));
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

describe('modelship serve: where it cannot listen', () => {
  it('a port in use and an address not on this machine each get one line and exit 2', async () => {
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const port = (holder.address() as net.AddressInfo).port;
    try {
      const busy = await cli(['serve', 'model', '--port', String(port), '--threads', '1', '--gpu', 'none']);
      expect(busy.code).toBe(2);
      expect(busy.stderr.trim()).toBe(`error: port ${port} on 127.0.0.1 is already in use: stop what listens there, or pick another with --port (0 picks a free one).`);
    } finally {
      holder.close();
    }
    const foreign = await cli(['serve', 'model', '--host', '203.0.113.5', '--port', '0', '--threads', '1', '--gpu', 'none', '--json']);
    expect(foreign.code).toBe(2);
    expect(JSON.parse(foreign.stdout).error.code).toBe('INFER_ADDRESS_UNAVAILABLE');
    expect(foreign.stderr.trim().split('\n')).toHaveLength(1);
  });
});

async function readyLine(child: ReturnType<typeof execa>): Promise<{ url: string; model: string }> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]!));
    });
    void child.then((r) => reject(new Error(`serve exited early: ${String(r.stderr)}`)));
  });
}

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
