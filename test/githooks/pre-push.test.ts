/**
 * The pre-push hook in a real repository with a real bare remote: `git push` runs it as git does,
 * with the CLI started from source.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeExampleProject } from '../../modules/example/index.js';
import { HOOK_MARKER } from '../../modules/githooks/index.js';
import { runCli } from '../helpers/cli.js';

const exec = promisify(execFile);
const repoRoot = path.resolve(import.meta.dirname, '..', '..');
const MODELSHIP_BIN = `${path.join(repoRoot, 'node_modules', '.bin', 'tsx')} ${path.join(repoRoot, 'test', 'infer', 'run-cli.ts')}`;

let root: string;
let keyFile: string;

async function git(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  return exec('git', args, { cwd, env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com', ...env } });
}

/** A push through git itself: the hook's verdict is git's exit status. */
async function push(cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number; output: string }> {
  try {
    const r = await git(cwd, ['push', 'origin', 'HEAD:main'], env);
    return { code: 0, output: r.stdout + r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, output: e.stdout + e.stderr };
  }
}

async function remoteHead(bare: string): Promise<string> {
  return (await git(bare, ['rev-parse', 'main']).catch(() => ({ stdout: '' }))).stdout.trim();
}

/** A repository whose root is a Class III model project requiring Class III, with a bare remote. */
async function repository(name: string): Promise<{ work: string; bare: string; env: NodeJS.ProcessEnv }> {
  const base = path.join(root, name);
  const work = path.join(base, 'work');
  const bare = path.join(base, 'remote.git');
  await git(root, ['init', '-q', '--bare', '-b', 'main', bare]);
  await writeExampleProject(work);
  expect((await runCli(['init', work])).code).toBe(0);
  const spec = path.join(work, 'modelship.yaml');
  await writeFile(spec, `${await readFile(spec, 'utf8')}pipeline:\n  mof:\n    require: 3\n`);
  await git(work, ['init', '-q', '-b', 'main']);
  await git(work, ['remote', 'add', 'origin', bare]);
  await git(work, ['add', '-A']);
  await git(work, ['commit', '-qm', 'model']);
  const env = { MODELSHIP_HOME: path.join(base, 'home'), MODELSHIP_BIN, MODELSHIP_SIGNING_KEY: keyFile, MODELSHIP_KEY_PASSWORD: '' };
  const installed = await runCli(['hooks', 'install', work]);
  expect(installed.code, installed.stderr).toBe(0);
  expect(installed.stdout).toMatch(/installed .*\.git\/hooks\/pre-push \(in \.git\/hooks\)/);
  return { work, bare, env };
}

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'modelship-hook-'));
  expect((await runCli(['keys', 'generate', '-o', path.join(root, 'signing')], { env: { MODELSHIP_KEY_PASSWORD: '' } })).code).toBe(0);
  keyFile = path.join(root, 'signing.key');
});

describe('pre-push hook', () => {
  it('lets a good model through, refuses one that breaks the MOF gate, and leaves the remote unchanged', async () => {
    const { work, bare, env } = await repository('gate');
    const good = await push(work, env);
    expect(good.code, good.output).toBe(0);
    expect(good.output).toMatch(/ok {3}verify/);
    const landed = await remoteHead(bare);
    expect(landed).toBe((await git(work, ['rev-parse', 'HEAD'])).stdout.trim());

    // Remove the data card: the project falls below Class III.
    await rm(path.join(work, 'DATACARD.md'));
    const spec = path.join(work, 'modelship.yaml');
    await writeFile(spec, (await readFile(spec, 'utf8')).replace(/^ {2}- DATACARD\.md\n/m, ''));
    await git(work, ['commit', '-qam', 'drop the data card']);
    const refused = await push(work, env);
    expect(refused.code).not.toBe(0);
    expect(refused.output).toMatch(/FAIL mof .*GATE_FAILED/);
    expect(refused.output).toMatch(/add Data card \(missing\)/);
    expect(refused.output).toMatch(/push refused: fix \. and push again/);
    expect(await remoteHead(bare)).toBe(landed);

    // HUSKY=0 skips the hook once, as husky's own hooks do.
    const skipped = await push(work, { ...env, HUSKY: '0' });
    expect(skipped.code, skipped.output).toBe(0);
    expect(await remoteHead(bare)).not.toBe(landed);
  });

  it('does not run the pipeline for a push that changes no file of the model', async () => {
    const { work, env } = await repository('unrelated');
    expect((await push(work, env)).code).toBe(0);
    const home = env['MODELSHIP_HOME']!;
    await rm(home, { recursive: true, force: true });
    await mkdir(path.join(work, 'notes'));
    await writeFile(path.join(work, 'notes', 'todo.txt'), 'later\n');
    await git(work, ['add', '-A']);
    await git(work, ['commit', '-qm', 'notes']);
    const pushed = await push(work, env);
    expect(pushed.code, pushed.output).toBe(0);
    expect(pushed.output).not.toMatch(/modelship check/);
    // Nothing was packed: the store was never created.
    expect(existsSync(home)).toBe(false);
  });
});

describe('modelship hooks install', () => {
  it('never replaces a hook it did not write, updates its own, and uses husky where the repository does', async () => {
    const repo = path.join(root, 'install');
    await git(root, ['init', '-q', repo]);
    const hook = path.join(repo, '.git', 'hooks', 'pre-push');
    await writeFile(hook, '#!/bin/sh\necho mine\n');
    const refused = await runCli(['hooks', 'install', repo]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/did not write/);
    expect(await readFile(hook, 'utf8')).toBe('#!/bin/sh\necho mine\n');

    await rm(hook);
    expect((await runCli(['hooks', 'install', repo])).stdout).toMatch(/^installed /);
    expect(await readFile(hook, 'utf8')).toContain(HOOK_MARKER);
    expect((await runCli(['hooks', 'install', repo])).stdout).toMatch(/^already installed: /);

    const husky = path.join(root, 'husky');
    await git(root, ['init', '-q', husky]);
    await writeFile(path.join(husky, 'package.json'), JSON.stringify({ devDependencies: { husky: '^9.1.7' } }));
    const viaHusky = await runCli(['hooks', 'install', husky, '--json']);
    expect(viaHusky.json()).toMatchObject({ via: 'husky', file: path.join(husky, '.husky', 'pre-push'), changed: true });

    const custom = path.join(root, 'custom');
    await git(root, ['init', '-q', custom]);
    await git(custom, ['config', 'core.hooksPath', 'githooks']);
    expect((await runCli(['hooks', 'install', custom, '--json'])).json()).toMatchObject({ via: 'core.hooksPath', file: path.join(custom, 'githooks', 'pre-push') });
  });
});
