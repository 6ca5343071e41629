/**
 * What `modelship init --template` pins and names: the modelship repository only from a clone whose
 * top is the package itself (never the user's repository above node_modules), the release as a
 * commit or tag in the workflow and dagger.json, a .gitignore, a name per project, and images and
 * scripts that run what the README says.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { cloneOf, createFromTemplate, TEMPLATE_NAMES } from '../../modules/example/template.js';

const exec = promisify(execFile);
const repoRoot = path.resolve(import.meta.dirname, '..', '..');
const gitEnv = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com' };
let root: string;

async function git(cwd: string, args: string[]) {
  return (await exec('git', args, { cwd, env: gitEnv })).stdout.trim();
}

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'modelship-pinning-'));
});

describe('template pinning', () => {
  it('takes the repository from a clone of modelship, never from the user\'s repository above node_modules', async () => {
    const app = path.join(root, 'app');
    const installed = path.join(app, 'node_modules', 'modelship');
    await mkdir(installed, { recursive: true });
    await writeFile(path.join(installed, 'package.json'), '{"name":"modelship"}\n');
    await git(root, ['init', '-q', app]);
    await git(app, ['remote', 'add', 'origin', 'https://github.com/someone/their-app.git']);
    await git(app, ['commit', '-q', '--allow-empty', '-m', 'app']);
    expect(await cloneOf(installed)).toBeUndefined();

    const clone = path.join(root, 'clone');
    await git(root, ['init', '-q', clone]);
    await git(clone, ['remote', 'add', 'origin', 'git@github.com:acme/modelship.git']);
    await git(clone, ['commit', '-q', '--allow-empty', '-m', 'modelship']);
    expect(await cloneOf(clone)).toEqual({ repository: 'acme/modelship', commit: await git(clone, ['rev-parse', 'HEAD']) });
  });

  it('pins the workflow and dagger.json to the release init ran from, and ignores node_modules and .modelship', async () => {
    const project = await createFromTemplate('chat', path.join(root, 'pinned'), { git: false, repository: 'acme/modelship' });
    expect(project.ref).toMatch(/^([0-9a-f]{40}|v\d+\.\d+\.\d+.*)$/);
    const workflow = parseYaml(await readFile(path.join(project.dir, '.github', 'workflows', 'model.yml'), 'utf8'));
    const checkouts = Object.values(workflow.jobs as Record<string, { steps: Array<{ uses?: string; with?: Record<string, string> }> }>)
      .flatMap((j) => j.steps)
      .filter((s) => s.with?.['repository']);
    expect(checkouts.length).toBeGreaterThan(0);
    for (const step of checkouts) expect(step.with).toMatchObject({ repository: 'acme/modelship', ref: project.ref, path: '.modelship' });
    const dagger = JSON.parse(await readFile(path.join(project.dir, 'dagger.json'), 'utf8'));
    expect(dagger.dependencies[0].source).toBe(`github.com/acme/modelship@${project.ref}`);
    const ignore = (await readFile(path.join(project.dir, '.gitignore'), 'utf8')).split('\n');
    expect(ignore).toEqual(expect.arrayContaining(['node_modules/', '.modelship/']));
    for (const file of project.files) {
      if (/\.(ya?ml|json|md|mjs)$|Containerfile$/.test(file)) expect(await readFile(path.join(project.dir, file), 'utf8'), file).not.toMatch(/\{\{MODELSHIP_/);
    }
  });

  it('names each project after its folder, so two projects never pack to the same reference', async () => {
    const a = await createFromTemplate('chat', path.join(root, 'Support Bot'), { git: false });
    const b = await createFromTemplate('rag', path.join(root, 'docs-helper'), { git: false });
    const nameOf = async (dir: string) => (parseYaml(await readFile(path.join(dir, 'modelship.yaml'), 'utf8')) as { name?: string; descriptor?: { name?: string } });
    const [sa, sb] = [await nameOf(a.dir), await nameOf(b.dir)];
    expect(JSON.stringify(sa)).toContain('support-bot');
    expect(JSON.stringify(sb)).toContain('docs-helper');
    expect(JSON.stringify(sa)).not.toContain('"name":"tiny-chat"');
  });

  it('every app template has "npm start", and no image runs modelship, which no image holds', async () => {
    for (const name of TEMPLATE_NAMES.filter((t) => t !== 'pytorch')) {
      const pkg = JSON.parse(await readFile(path.join(repoRoot, 'templates', name, 'package.json'), 'utf8'));
      expect(pkg.scripts?.start, `${name} start`).toBeTruthy();
      const containerfile = await readFile(path.join(repoRoot, 'templates', name, 'Containerfile'), 'utf8');
      const cmd = /^CMD (.+)$/m.exec(containerfile)![1]!;
      const runs: string[] = JSON.parse(cmd);
      const script = runs[0] === 'npm' && runs[1] === 'start' ? String(pkg.scripts.start) : runs.join(' ');
      if (/^FROM .*node:/m.test(containerfile)) expect(script, `${name} image CMD`).not.toMatch(/(^|\s|&&\s*)modelship\s/);
    }
  });

  it('actions/setup installs modelship from its lockfile, not from version ranges', async () => {
    const setup = parseYaml(await readFile(path.join(repoRoot, 'actions', 'setup', 'action.yml'), 'utf8'));
    const script = setup.runs.steps.find((s: { id?: string }) => s.id === 'install').run as string;
    expect(script).toMatch(/npm ci /);
    expect(script).not.toMatch(/npm install/);
  });
});
