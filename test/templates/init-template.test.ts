/**
 * `modelship init --template`: each template created in a fresh folder passes its own
 * `modelship check`, installs with npm as its README says, and starts the way the README says,
 * with `modelship` on PATH as a user who installed it has it.
 */
import { chmod, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { TEMPLATE_NAMES } from '../../modules/example/template.js';
import { CANNED_SENTENCE } from '../../modules/gguf/index.js';
import { readSafetensorsHeader } from '../../modules/project/safetensors.js';
import { freePort } from '../helpers/registry.js';
import { runCli } from '../helpers/cli.js';

const repoRoot = path.resolve(import.meta.dirname, '..', '..');
let root: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'modelship-templates-'));
  // `modelship` on PATH, as after `npm install -g` from a clone (run from the sources here).
  const bin = path.join(root, 'bin');
  await mkdir(bin);
  await writeFile(path.join(bin, 'modelship'), `#!/bin/sh\nexec "${path.join(repoRoot, 'node_modules', '.bin', 'tsx')}" "${path.join(repoRoot, 'test', 'infer', 'run-cli.ts')}" "$@"\n`);
  await chmod(path.join(bin, 'modelship'), 0o755);
  env = { PATH: `${bin}:${process.env['PATH']}`, HOME: process.env['HOME'] ?? root, MODELSHIP_HOME: path.join(root, 'home'), npm_config_update_notifier: 'false', npm_config_audit: 'false', npm_config_fund: 'false' };
});

async function create(name: string, folder: string, extra: string[] = ['--no-git']): Promise<string> {
  const dir = path.join(root, folder);
  const created = await runCli(['init', '--template', name, dir, ...extra]);
  expect(created.code, created.stderr).toBe(0);
  return dir;
}

async function npm(dir: string, args: string[], extra: NodeJS.ProcessEnv = {}) {
  return execa('npm', args, { cwd: dir, env: { ...env, ...extra }, extendEnv: false, reject: false, timeout: 180_000 });
}

/** Waits for the OpenAI-compatible server a README's script starts on `port`. */
async function ready(port: number, child: ResultPromise): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`the server exited: ${String(child.exitCode)}`);
    const ok = await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok, () => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('the server did not start');
}

describe('modelship init --template', () => {
  it.each(TEMPLATE_NAMES)('%s: a fresh project passes its own modelship check (MOF Class III required)', async (name) => {
    const dir = await create(name, `check-${name}`);
    expect(await readFile(path.join(dir, 'modelship.yaml'), 'utf8')).toMatch(/pipeline:\n {2}mof:\n {4}require: 3\n/);
    for (const file of ['Containerfile', 'dagger.json', '.github/workflows/model.yml', 'README.md', 'DATACARD.md']) {
      expect((await readFile(path.join(dir, file), 'utf8')).length, file).toBeGreaterThan(0);
    }
    const check = await runCli(['check', '--json'], { cwd: dir, env: { MODELSHIP_HOME: path.join(root, `home-${name}`) } });
    expect(check.code, check.stdout).toBe(0);
    const steps = check.json().steps as Array<{ step: string; status: string; summary: string }>;
    expect(steps.find((s) => s.step === 'mof')?.summary).toMatch(/meets Class III/);
    expect(steps.filter((s) => s.status === 'failed')).toEqual([]);
  }, 240_000);

  it('pytorch: real safetensors weights, the training script and the dataset are in the model', async () => {
    const dir = await create('pytorch', 'pytorch-files');
    const header = await readSafetensorsHeader(path.join(dir, 'model', 'model.safetensors'));
    expect(header.paramCount).toBe(8 * 4 + 8 + 2 * 8 + 2);
    const spec = await readFile(path.join(dir, 'modelship.yaml'), 'utf8');
    for (const file of ['model/model.safetensors', 'train.py', 'model.py', 'data']) expect(spec).toContain(file);
  });

  it('creates a git repository with the pre-push hook, and refuses a folder that is not empty', async () => {
    const dir = await create('chat', 'git-chat', []);
    expect(await readFile(path.join(dir, '.git', 'hooks', 'pre-push'), 'utf8')).toContain('modelship hooks run pre-push');
    const again = await runCli(['init', '--template', 'chat', dir]);
    expect(again.code).toBe(2);
    const unknown = await runCli(['init', '--template', 'nope', path.join(root, 'nope')]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/choose one of chat, rag, agents, pytorch/);
  });

  it('chat: npm install, npm run serve, npm run chat, as its README says', async () => {
    const dir = await create('chat', 'run-chat');
    expect((await npm(dir, ['install'])).exitCode).toBe(0);
    const port = await freePort();
    const server = execa('npm', ['run', 'serve'], { cwd: dir, env: { ...env, PORT: String(port) }, extendEnv: false, reject: false });
    try {
      await ready(port, server);
      const chat = await execa('npm', ['run', '--silent', 'chat'], { cwd: dir, env: { ...env, OPENAI_BASE_URL: `http://127.0.0.1:${port}/v1` }, extendEnv: false, reject: false, input: 'Hello\n/bye\n', timeout: 60_000 });
      expect(chat.stdout).toBe(CANNED_SENTENCE);
      expect(chat.exitCode, chat.stderr).toBe(0);
    } finally {
      server.kill('SIGTERM');
    }
  }, 300_000);

  it('rag: npm install, npm start, npm run ask, as its README says', async () => {
    const dir = await create('rag', 'run-rag');
    expect((await npm(dir, ['install'])).exitCode).toBe(0);
    const port = await freePort();
    const server = execa('npm', ['start'], { cwd: dir, env: { ...env, PORT: String(port) }, extendEnv: false, reject: false });
    try {
      await ready(port, server);
      const asked = await npm(dir, ['run', '--silent', 'ask', '--', 'How do I stop the server?'], { OPENAI_BASE_URL: `http://127.0.0.1:${port}/v1` });
      expect(asked.exitCode, asked.stderr).toBe(0);
      const [answer, ...sources] = asked.stdout.split('\n');
      expect(answer).toBe(CANNED_SENTENCE);
      expect(sources[0]).toMatch(/^source: faq\.md /);
    } finally {
      server.kill('SIGTERM');
    }
  }, 300_000);

  it('agents: npm install, npm start with a task, as its README says', async () => {
    const dir = await create('agents', 'run-agents');
    expect((await npm(dir, ['install'])).exitCode).toBe(0);
    const started = await npm(dir, ['start', '--', 'How many words are in README.md?']);
    expect(started.exitCode, started.stderr).toBe(0);
    expect(started.stdout.trim().length).toBeGreaterThan(0);
  }, 300_000);
});
