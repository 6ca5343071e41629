/** `init --template` into a folder given as a symbolic link: the link is followed first, or refused before anything is written. */
import { lstat, mkdir, mkdtemp, readdir, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

describe('init --template DIR where DIR is a link', () => {
  it('writes the project into the folder the link points at, and the link stays a link', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'modelship-init-link-'));
    const real = path.join(root, 'real');
    await mkdir(real);
    const link = path.join(root, 'link');
    await symlink(real, link);
    const run = await runCli(['init', '--template', 'chat', link, '--no-git', '--json'], { cwd: root, env: { MODELSHIP_HOME: path.join(root, 'home') } });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(await readdir(real)).toContain('modelship.yaml');
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
  }, 120_000);

  it('refuses a dangling link before writing anything', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'modelship-init-link-'));
    const link = path.join(root, 'link');
    await symlink(path.join(root, 'missing'), link);
    const run = await runCli(['init', '--template', 'chat', link, '--no-git', '--json'], { cwd: root, env: { MODELSHIP_HOME: path.join(root, 'home') } });
    expect(run.code).not.toBe(0);
    expect(run.json().error.message).toMatch(/is a link to .*missing, which does not exist/);
    expect((await readdir(root)).sort()).toEqual(['link']);
  }, 60_000);
});
