import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { isModelshipError } from '../../modules/errors/index.js';
import { githubRepositoryOf, openPullRequest } from '../../modules/gitops/index.js';
import { runCli } from '../helpers/cli.js';
import { startFakeGitHub, type FakeGitHub } from '../helpers/github-api.js';
import { tempDir } from '../modelpack/helpers.js';
import { bareRepository, gitLog, pushModel, signingKeys, signModel } from './helpers.js';

const registry = inject('registry');
const TOKEN = 'ghs_test_token';
let github: FakeGitHub;

beforeAll(async () => {
  github = await startFakeGitHub({ token: TOKEN });
});
afterAll(async () => {
  await github.close();
});

describe('pull request', () => {
  it('the fake GitHub refuses what the REST description refuses', async () => {
    const res = await fetch(`${github.url}/repos/acme/gitops/pulls`, {
      method: 'POST',
      headers: { authorization: `token ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 't', head: 'h', base: 'main', maintainer_can_modify: 'yes', reviewers: ['x'] }),
    });
    expect(res.status).toBe(422);
    expect(github.violations()).toEqual(expect.arrayContaining([expect.stringContaining('body/maintainer_can_modify: must be boolean'), expect.stringContaining('must NOT have additional properties (reviewers)')]));
    github.calls.length = 0;
    const list = await fetch(`${github.url}/repos/acme/gitops/pulls?state=merged`, { headers: { authorization: `token ${TOKEN}` } });
    expect(list.status).toBe(422);
    expect(github.violations()[0]).toContain('query parameter state');
    github.calls.length = 0;
  });

  it('opens one pull request per branch and updates it on the next hand-off', async () => {
    const input = { repository: 'acme/gitops', head: 'modelship/tiny-chat-dev-0123456789ab', base: 'main', title: 'Deploy tiny-chat v1 to dev', body: 'first', token: TOKEN, apiUrl: github.url };
    const created = await openPullRequest(input);
    expect(created.created).toBe(true);
    expect(created.url).toBe(`https://github.com/acme/gitops/pull/${created.number}`);
    const again = await openPullRequest({ ...input, body: 'second' });
    expect(again).toEqual({ number: created.number, url: created.url, created: false });
    expect(github.pulls.find((p) => p['number'] === created.number)?.['body']).toBe('second');
    expect(github.calls.map((c) => c.operationId)).toEqual(['pulls/list', 'pulls/create', 'pulls/list', 'pulls/update']);
    expect(github.violations()).toEqual([]);
    const denied = await openPullRequest({ ...input, token: 'wrong' }).catch((e: unknown) => e);
    expect(isModelshipError(denied) && denied.code).toBe('GITOPS_TOKEN_MISSING');
    github.calls.length = 0;
  });

  it('reads owner/name from GitHub clone URLs only', () => {
    expect(githubRepositoryOf('https://github.com/acme/gitops.git')).toBe('acme/gitops');
    expect(githubRepositoryOf('git@github.com:acme/gitops.git')).toBe('acme/gitops');
    expect(githubRepositoryOf('https://gitlab.com/acme/gitops.git')).toBeUndefined();
  });

  it('modelship handoff --pr pushes a branch and opens a pull request naming the MOF class, the signature check and the SBOM', async () => {
    const keys = await signingKeys();
    const model = await pushModel(registry, { format: 'gguf', modelcar: true, repository: 'gitops/pr-model' });
    await signModel(model, keys);
    const cwd = await tempDir('gitops-pr-');
    const sbom = await runCli(['sbom', model.reference, '--attach', '--plain-http', '--json'], { cwd });
    expect(sbom.code, sbom.stderr).toBe(0);
    const bare = await bareRepository();
    const run = await runCli(
      ['handoff', model.reference, '--gitops', bare, '--cluster-url', 'https://github.com/acme/gitops.git', '--github-repo', 'acme/gitops', '--key', keys.publicFile, '--pr', '--plain-http', '--json'],
      // Its own MODELSHIP_HOME: the embedded model registry of the user running the tests stays out of it.
      { cwd, env: { GITHUB_TOKEN: TOKEN, GITHUB_API_URL: github.url, MODELSHIP_HOME: `${cwd}/.modelship` } },
    );
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const branch = `modelship/tiny-chat-dev-${model.pulled.digest.slice(7, 19)}`;
    expect(run.json()).toMatchObject({ publish: { committed: true, branch }, pullRequest: { created: true } });
    expect(await gitLog(bare, branch)).toHaveLength(1);
    expect(github.violations()).toEqual([]);
    const created = github.calls.find((c) => c.operationId === 'pulls/create')!.body as { head: string; base: string; body: string };
    expect(created).toMatchObject({ head: branch, base: 'main' });
    expect(created.body).toMatch(/MOF class: (Class I{1,3}|Unclassified)/);
    // Each verifier the hand-off writes for, with the signature it reads on the digest it reads.
    expect(created.body).toContain(`Kyverno 1.19 (type: SigstoreBundle) finds its sigstore-bundle signature on ${model.pulled.digest}`);
    expect(created.body).toMatch(/Flux 2\.8 OCIRepository finds its sigstore-bundle signature on sha256:[0-9a-f]{64}/);
    expect(created.body).toMatch(/SBOM: cyclonedx sha256:[0-9a-f]{64}, \d+ components/);
  });
});
