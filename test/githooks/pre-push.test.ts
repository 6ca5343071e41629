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
const TSX = path.join(repoRoot, 'node_modules', '.bin', 'tsx');
const RUN_CLI = path.join(repoRoot, 'test', 'infer', 'run-cli.ts');
/** A PATH with git and sh and no modelship: the hook must find the CLI some other way, or refuse. */
const BARE_PATH = '/usr/local/bin:/usr/bin:/bin';

let root: string;
let keyFile: string;

async function git(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  return exec('git', args, { cwd, env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com', ...env } });
}

/** A push through git itself, in only the given environment: the hook's verdict is git's exit status. */
async function push(cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number; output: string }> {
  const clean = { PATH: BARE_PATH, HOME: root, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com', ...env };
  try {
    const r = await exec('git', ['push', 'origin', 'HEAD:main'], { cwd, env: clean });
    return { code: 0, output: r.stdout + r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, output: e.stdout + e.stderr };
  }
}

async function remoteHead(bare: string): Promise<string> {
  return (await git(bare, ['rev-parse', 'main']).catch(() => ({ stdout: '' }))).stdout.trim();
}

/** The CLI run by its path as its own process (a clone: node, tsx's loader, the script), as a user runs it. */
async function cliProcess(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return exec(TSX, [RUN_CLI, ...args], { cwd, env: { PATH: BARE_PATH, HOME: root } }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
}

interface Repository { work: string; bare: string; project: string; env: NodeJS.ProcessEnv }

/** A repository holding a Class III model project (at `sub`) that requires Class III, with a bare remote. */
async function repository(name: string, sub = '.'): Promise<Repository> {
  const base = path.join(root, name);
  const work = path.join(base, 'work');
  const project = path.join(work, sub);
  const bare = path.join(base, 'remote.git');
  await git(root, ['init', '-q', '--bare', '-b', 'main', bare]);
  await writeExampleProject(project);
  expect((await runCli(['init', project])).code).toBe(0);
  const spec = path.join(project, 'modelship.yaml');
  await writeFile(spec, `${await readFile(spec, 'utf8')}pipeline:\n  mof:\n    require: 3\n`);
  await git(work, ['init', '-q', '-b', 'main']);
  await git(work, ['remote', 'add', 'origin', bare]);
  await git(work, ['add', '-A']);
  await git(work, ['commit', '-qm', 'model']);
  const env = { MODELSHIP_HOME: path.join(base, 'home'), MODELSHIP_SIGNING_KEY: keyFile, MODELSHIP_KEY_PASSWORD: '' };
  return { work, bare, project, env };
}

/** Drops the data card: the project falls below Class III. */
async function breakGate(repo: Repository): Promise<void> {
  await rm(path.join(repo.project, 'DATACARD.md'));
  const spec = path.join(repo.project, 'modelship.yaml');
  await writeFile(spec, (await readFile(spec, 'utf8')).replace(/^ {2}- DATACARD\.md\n/m, ''));
  await git(repo.work, ['commit', '-qam', 'drop the data card']);
}

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'modelship hook '));
  expect((await runCli(['keys', 'generate', '-o', path.join(root, 'signing')], { env: { MODELSHIP_KEY_PASSWORD: '' } })).code).toBe(0);
  keyFile = path.join(root, 'signing.key');
});

describe('pre-push hook', () => {
  it('installed by a clone run by its path, with no modelship on PATH: refuses a push that breaks the MOF gate and lets the fix through', async () => {
    const repo = await repository('clone');
    const installed = await cliProcess(['hooks', 'install', repo.work, '--json'], repo.work);
    expect(installed.code, installed.stderr).toBe(0);
    const hook = installed.stdout ? JSON.parse(installed.stdout) : {};
    expect(hook).toMatchObject({ via: '.git/hooks', file: path.join(repo.work, '.git', 'hooks', 'pre-push') });
    // What was recorded is how it ran: node, tsx's loader, the script by its absolute path.
    expect(hook.command[0]).toBe(process.execPath);
    expect(hook.command.at(-1)).toBe(RUN_CLI);

    const good = await push(repo.work, repo.env);
    expect(good.code, good.output).toBe(0);
    expect(good.output).toMatch(/ok {3}verify/);
    const landed = await remoteHead(repo.bare);
    expect(landed).toBe((await git(repo.work, ['rev-parse', 'HEAD'])).stdout.trim());

    const card = await readFile(path.join(repo.project, 'DATACARD.md'), 'utf8');
    const spec = await readFile(path.join(repo.project, 'modelship.yaml'), 'utf8');
    await breakGate(repo);
    const refused = await push(repo.work, repo.env);
    expect(refused.code).not.toBe(0);
    expect(refused.output).toMatch(/FAIL mof .*GATE_FAILED/);
    expect(refused.output).toMatch(/add Data card \(missing\)/);
    expect(refused.output).toMatch(/push refused: fix \. and push again/);
    expect(await remoteHead(repo.bare)).toBe(landed);

    // The fix: a revised data card, listed again; the check runs on it and passes.
    await writeFile(path.join(repo.project, 'DATACARD.md'), `${card}\nRevised.\n`);
    await writeFile(path.join(repo.project, 'modelship.yaml'), spec);
    await git(repo.work, ['add', '-A']);
    await git(repo.work, ['commit', '-qm', 'a revised data card']);
    const fixed = await push(repo.work, repo.env);
    expect(fixed.code, fixed.output).toBe(0);
    expect(fixed.output).toMatch(/ok {3}mof/);
    expect(await remoteHead(repo.bare)).toBe((await git(repo.work, ['rev-parse', 'HEAD'])).stdout.trim());

    // HUSKY=0 skips the hook once, as husky's own hooks do.
    await breakGate(repo);
    const skipped = await push(repo.work, { ...repo.env, HUSKY: '0' });
    expect(skipped.code, skipped.output).toBe(0);
  }, 300_000);

  it('refuses the push when it cannot find modelship at all, and leaves the remote unchanged', async () => {
    const repo = await repository('missing');
    // Installed in-process: nothing recorded, and neither PATH nor node_modules/.bin has modelship.
    expect((await runCli(['hooks', 'install', repo.work])).code).toBe(0);
    const refused = await push(repo.work, repo.env);
    expect(refused.code).not.toBe(0);
    expect(refused.output).toMatch(/cannot run modelship .*push refused/);
    expect(await remoteHead(repo.bare)).toBe('');
  }, 240_000);

  it('runs "modelship" from PATH, as a global install provides it', async () => {
    const repo = await repository('global');
    const bin = path.join(root, 'global-bin');
    await mkdir(bin, { recursive: true });
    await writeFile(path.join(bin, 'modelship'), `#!/bin/sh\nexec '${TSX}' '${RUN_CLI}' "$@"\n`, { mode: 0o755 });
    expect((await runCli(['hooks', 'install', repo.work])).code).toBe(0);
    await breakGate(repo);
    const refused = await push(repo.work, { ...repo.env, PATH: `${bin}:${BARE_PATH}` });
    expect(refused.code).not.toBe(0);
    expect(refused.output).toMatch(/FAIL mof .*GATE_FAILED/);
    expect(await remoteHead(repo.bare)).toBe('');
  }, 240_000);

  it('sees weights moved out of a project (git mv) as touching the project', async () => {
    const repo = await repository('moved', 'proj');
    expect((await cliProcess(['hooks', 'install', repo.work], repo.work)).code).toBe(0);
    const good = await push(repo.work, repo.env);
    expect(good.code, good.output).toBe(0);
    const landed = await remoteHead(repo.bare);
    await mkdir(path.join(repo.work, 'archive'));
    await git(repo.work, ['mv', 'proj/model/tiny-chat.gguf', 'archive/']);
    await git(repo.work, ['commit', '-qm', 'archive the weights']);
    const refused = await push(repo.work, repo.env);
    expect(refused.code, refused.output).not.toBe(0);
    expect(refused.output).toMatch(/modelship check proj/);
    expect(await remoteHead(repo.bare)).toBe(landed);
  }, 240_000);

  it('does not run the pipeline for a push that changes no file of the model', async () => {
    const repo = await repository('unrelated');
    expect((await cliProcess(['hooks', 'install', repo.work], repo.work)).code).toBe(0);
    expect((await push(repo.work, repo.env)).code).toBe(0);
    const home = repo.env['MODELSHIP_HOME']!;
    await rm(home, { recursive: true, force: true });
    await mkdir(path.join(repo.work, 'notes'));
    await writeFile(path.join(repo.work, 'notes', 'todo.txt'), 'later\n');
    await git(repo.work, ['add', '-A']);
    await git(repo.work, ['commit', '-qm', 'notes']);
    const pushed = await push(repo.work, repo.env);
    expect(pushed.code, pushed.output).toBe(0);
    expect(pushed.output).not.toMatch(/modelship check/);
    // Nothing was packed: the store was never created.
    expect(existsSync(home)).toBe(false);
  }, 240_000);

  it('through husky 9 (core.hooksPath at .husky/_): installed in .husky/, and git runs it', async () => {
    const repo = await repository('husky');
    await writeFile(path.join(repo.work, 'package.json'), JSON.stringify({ devDependencies: { husky: '^9.1.7' } }));
    // husky's own installer, as "prepare": "husky" runs it.
    await exec(process.execPath, [path.join(repoRoot, 'node_modules', 'husky', 'bin.js')], { cwd: repo.work, env: { PATH: BARE_PATH } });
    expect((await git(repo.work, ['config', 'core.hooksPath'])).stdout.trim()).toBe('.husky/_');
    const installed = await cliProcess(['hooks', 'install', repo.work, '--json'], repo.work);
    expect(JSON.parse(installed.stdout)).toMatchObject({ via: 'husky', file: path.join(repo.work, '.husky', 'pre-push') });
    await breakGate(repo);
    const refused = await push(repo.work, repo.env);
    expect(refused.code).not.toBe(0);
    expect(refused.output).toMatch(/FAIL mof .*GATE_FAILED/);
    expect(await remoteHead(repo.bare)).toBe('');
  }, 240_000);
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

    // package.json lists husky but git does not run husky's hooks (no core.hooksPath): .git/hooks.
    const listed = path.join(root, 'husky-listed');
    await git(root, ['init', '-q', listed]);
    await writeFile(path.join(listed, 'package.json'), JSON.stringify({ devDependencies: { husky: '^9.1.7' } }));
    expect((await runCli(['hooks', 'install', listed, '--json'])).json()).toMatchObject({ via: '.git/hooks', file: path.join(listed, '.git', 'hooks', 'pre-push'), changed: true });

    // core.hooksPath = ~/.githooks is the user's home folder, as git expands it, not a folder named ~.
    const tilde = path.join(root, 'tilde');
    await git(root, ['init', '-q', tilde]);
    await git(tilde, ['config', 'core.hooksPath', '~/.githooks']);
    const home = path.join(root, 'home-tilde');
    await mkdir(home);
    const prevHome = process.env['HOME'];
    process.env['HOME'] = home;
    try {
      expect((await runCli(['hooks', 'install', tilde, '--json'])).json()).toMatchObject({ via: 'core.hooksPath', file: path.join(home, '.githooks', 'pre-push') });
    } finally {
      process.env['HOME'] = prevHome;
    }
    expect(existsSync(path.join(tilde, '~'))).toBe(false);

    const custom = path.join(root, 'custom');
    await git(root, ['init', '-q', custom]);
    await git(custom, ['config', 'core.hooksPath', 'githooks']);
    expect((await runCli(['hooks', 'install', custom, '--json'])).json()).toMatchObject({ via: 'core.hooksPath', file: path.join(custom, 'githooks', 'pre-push') });
  });
});
