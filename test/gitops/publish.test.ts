import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { isModelshipError } from '../../modules/errors/index.js';
import { publishLayout, type PublishOptions } from '../../modules/gitops/index.js';
import { tempDir } from '../modelpack/helpers.js';
import { bareRepository, gitLog, gitShow } from './helpers.js';

const author = { name: 'ci', email: 'ci@example.com' };

async function options(repository: string, files: Record<string, string>, message: string): Promise<PublishOptions> {
  return { repository, branch: 'main', files: Object.entries(files).map(([path, text]) => ({ path, text })), message, workdir: join(await tempDir('gitops-clone-'), 'clone'), author };
}

describe('publishing to the GitOps repository', () => {
  it('lands two hand-offs racing for one repository from two clones in separate processes', async () => {
    const bare = await bareRepository();
    await publishLayout(await options(bare, { 'README.md': 'gitops\n' }, 'start'));
    // Two processes, each with its own clone, pushing at the same moment.
    const script = `import { publishLayout } from ${JSON.stringify(join(import.meta.dirname, '../../modules/gitops/publish.ts'))};
const [repository, name, workdir] = process.argv.slice(2);
const r = await publishLayout({ repository, branch: 'main', files: [{ path: 'models/' + name + '/overlays/dev/pin.yaml', text: name + '\\n' }], message: 'handoff ' + name, workdir, author: { name: 'ci', email: 'ci@example.com' } });
console.log(JSON.stringify(r));`;
    const file = join(await tempDir('gitops-race-'), 'publish.mts');
    await writeFile(file, script);
    const racers = await Promise.all(['alpha', 'beta', 'gamma'].map(async (name) => execa('npx', ['tsx', file, bare, name, join(await tempDir('gitops-racer-'), 'clone')], { cwd: join(import.meta.dirname, '../..') })));
    const results = racers.map((r) => JSON.parse(r.stdout) as { committed: boolean; attempts: number });
    expect(results.every((r) => r.committed)).toBe(true);
    const log = await gitLog(bare);
    expect(log).toHaveLength(4);
    expect(log.map((l) => l.split(' ').slice(1).join(' ')).sort()).toEqual(['handoff alpha', 'handoff beta', 'handoff gamma', 'start']);
    for (const name of ['alpha', 'beta', 'gamma']) expect(await gitShow(bare, `models/${name}/overlays/dev/pin.yaml`)).toBe(name);
    // Linear history: each racer that lost replayed its change on the winner's commit.
    const { stdout } = await execa('git', ['--git-dir', bare, 'rev-list', '--merges', 'main']);
    expect(stdout).toBe('');
  }, 120_000);

  it('lands two concurrent writers of the same file in one process: the last replay wins, both commits stay', async () => {
    const bare = await bareRepository();
    const [a, b] = await Promise.all([
      publishLayout(await options(bare, { 'models/m/overlays/dev/pin.yaml': 'sha256:aa\n' }, 'handoff aa')),
      publishLayout(await options(bare, { 'models/m/overlays/dev/pin.yaml': 'sha256:bb\n' }, 'handoff bb')),
    ]);
    expect(a.committed && b.committed).toBe(true);
    expect(Math.max(a.attempts, b.attempts)).toBe(2);
    const last = a.attempts === 2 ? 'sha256:aa' : 'sha256:bb';
    expect(await gitShow(bare, 'models/m/overlays/dev/pin.yaml')).toBe(last);
    expect(await gitLog(bare)).toHaveLength(2);
  });

  it('commits nothing when the repository already holds the same files', async () => {
    const bare = await bareRepository();
    const first = await publishLayout(await options(bare, { 'a/b.yaml': 'x: 1\n' }, 'one'));
    const again = await publishLayout(await options(bare, { 'a/b.yaml': 'x: 1\n' }, 'two'));
    expect(again).toMatchObject({ committed: false, commit: first.commit, changed: [] });
    expect(await gitLog(bare)).toHaveLength(1);
  });

  it('reuses its clone on the next hand-off, but never over uncommitted work', async () => {
    const bare = await bareRepository();
    const opts = await options(bare, { 'a/b.yaml': 'x: 1\n' }, 'one');
    await publishLayout(opts);
    const next = await publishLayout({ ...opts, files: [{ path: 'a/b.yaml', text: 'x: 2\n' }], message: 'two' });
    expect(next.committed).toBe(true);
    await writeFile(join(opts.workdir, 'a/b.yaml'), 'edited by hand\n');
    const err = await publishLayout({ ...opts, files: [{ path: 'a/b.yaml', text: 'x: 3\n' }], message: 'three' }).catch((e: unknown) => e);
    expect(isModelshipError(err) && err.code).toBe('GITOPS_GIT_FAILED');
    expect((err as Error).message).toContain('uncommitted changes (a/b.yaml)');
    expect(await gitLog(bare)).toHaveLength(2);
  });

  it('reports a push the remote rejects, and keeps the commit in the clone', async () => {
    const bare = await bareRepository();
    const hook = join(bare, 'hooks', 'pre-receive');
    await writeFile(hook, '#!/bin/sh\necho "protected branch: changes need a pull request" >&2\nexit 1\n');
    await chmod(hook, 0o755);
    const opts = await options(bare, { 'models/m/base/inferenceservice.yaml': 'kind: InferenceService\n' }, 'handoff m');
    const err = await publishLayout(opts).catch((e: unknown) => e);
    expect(isModelshipError(err) && err.code).toBe('GITOPS_PUSH_REJECTED');
    const message = (err as Error).message;
    expect(message).toContain('protected branch: changes need a pull request');
    expect(message).toContain(`git -C ${opts.workdir} push origin HEAD:refs/heads/main`);
    // Nothing lost: the clone holds the commit, and pushing it once the hook is gone lands it.
    const commit = (err as { details: { commit: string } }).details.commit;
    const { stdout } = await execa('git', ['-C', opts.workdir, 'show', '--format=%s', '--stat', commit]);
    expect(stdout).toContain('handoff m');
    await writeFile(hook, '#!/bin/sh\nexit 0\n');
    await execa('git', ['-C', opts.workdir, 'push', 'origin', 'HEAD:refs/heads/main']);
    expect((await gitLog(bare))[0]).toBe(`${commit} handoff m`);
  });
});
