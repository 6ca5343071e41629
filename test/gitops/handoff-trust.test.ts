/**
 * The hand-off's writes and secrets: no write through a link in the GitOps tree or into `.git`, no
 * credential of the repository URL in a manifest, a message or a kept clone, the branch checked
 * before anything, nothing recorded in the model registry before the repository is reached, and no
 * temporary clone left behind by a failed run.
 */
import { mkdir, readdir, readFile, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { handoff, type HandoffOptions } from '../../modules/gitops/index.js';
import { publicRepositoryUrl, redactRepositoryUrl } from '../../modules/gitops/repository-url.js';
import type { RegisterInput, RegisterResult } from '../../modules/registry/contract.js';
import { tempDir } from '../modelpack/helpers.js';
import { bareRepository, gitLog, gitShow, pushModel, type PushedModel } from './helpers.js';

const registry = inject('registry');
const SECRET = 'ghs_s3cretTOKENvalue42';

let model: PushedModel;
let tmp: string;
const savedTmp = process.env['TMPDIR'];

beforeAll(async () => {
  model = await pushModel(registry, { format: 'gguf', modelcar: true, repository: 'gitops/trust-model' });
  // os.tmpdir() follows TMPDIR: temporary clones land where this test can count them.
  tmp = await tempDir('gitops-trust-tmp-');
  process.env['TMPDIR'] = tmp;
}, 120_000);
afterAll(() => {
  if (savedTmp === undefined) delete process.env['TMPDIR'];
  else process.env['TMPDIR'] = savedTmp;
});

function recorder() {
  const calls: RegisterInput[] = [];
  const register = async (input: RegisterInput): Promise<RegisterResult> => {
    calls.push(input);
    return { registeredModelId: '1', modelVersionId: '2', modelArtifactId: '3', created: { registeredModel: true, modelVersion: true, modelArtifact: true }, registry: 'embedded:test' };
  };
  return { calls, register };
}

function options(repository: string, extra: Partial<HandoffOptions['gitops']> = {}, register?: HandoffOptions['register']): HandoffOptions {
  return {
    target: model.target, registry: model.registry, repository: model.repository, selector: model.tag,
    namespace: 'models', env: 'dev', delivery: 'flux', policy: 'kyverno',
    identity: { kind: 'key', publicKeyPem: '-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n' },
    ...(register ? { register } : {}),
    gitops: { repository, ...(repository.startsWith('https://') ? {} : { clusterUrl: 'https://github.com/acme/gitops.git' }), branch: 'main', root: 'models', author: { name: 'ci', email: 'ci@example.com' }, ...extra },
    insecureRegistry: true,
  };
}

async function leftoverClones(): Promise<string[]> {
  return (await readdir(tmp)).filter((n) => n.startsWith('modelship-gitops-'));
}

/** A bare repository whose main branch holds `links` (path -> target) as committed symbolic links. */
async function repositoryWithLinks(links: Record<string, string>): Promise<string> {
  const bare = await bareRepository();
  const work = await tempDir('gitops-links-');
  await execa('git', ['clone', '-q', bare, work]);
  for (const [path, target] of Object.entries(links)) {
    await mkdir(join(work, path, '..'), { recursive: true });
    await symlink(target, join(work, path));
  }
  await execa('git', ['-C', work, '-c', 'user.name=t', '-c', 'user.email=t@e', 'add', '-A']);
  await execa('git', ['-C', work, '-c', 'user.name=t', '-c', 'user.email=t@e', 'commit', '-qm', 'links']);
  await execa('git', ['-C', work, 'push', '-q', 'origin', 'HEAD:main']);
  return bare;
}

describe('hand-off writes', () => {
  it('refuses a GitOps tree with a folder link on the way, before writing anything outside the clone', async () => {
    for (const link of ['models', 'models/tiny-chat/delivery/dev']) {
      const elsewhere = await tempDir('gitops-elsewhere-');
      const bare = await repositoryWithLinks({ [link]: elsewhere });
      const { register } = recorder();
      await expect(handoff(options(bare, {}, register))).rejects.toMatchObject({ code: 'GITOPS_INVALID_PATH', message: expect.stringContaining(`symbolic link at ${link}`) });
      expect({ link, written: await readdir(elsewhere) }).toEqual({ link, written: [] });
      expect(await gitLog(bare)).toHaveLength(1);
    }
    expect(await leftoverClones()).toEqual([]);
  }, 120_000);

  it('refuses a --path with a .git component before any work', async () => {
    const bare = await bareRepository();
    for (const root of ['.git', 'models/.git/hooks', '.GIT/x']) {
      const { calls, register } = recorder();
      await expect(handoff(options(bare, { root }, register))).rejects.toMatchObject({ code: 'GITOPS_INVALID_PATH', message: expect.stringContaining('.git') });
      expect(calls).toEqual([]);
    }
    expect(await gitLog(bare).catch(() => [])).toEqual([]);
  }, 60_000);

  it('checks --branch before anything: HEAD, full refs, refspecs and options are refused', async () => {
    const bare = await bareRepository();
    for (const branch of ['HEAD', 'refs/heads/x', '+main', '-f', 'a..b', 'x y', 'x.lock', '']) {
      const { calls, register } = recorder();
      await expect(handoff(options(bare, { branch }, register))).rejects.toMatchObject({ code: 'GITOPS_INVALID_BRANCH' });
      expect(calls).toEqual([]);
    }
    const { stdout } = await execa('git', ['--git-dir', bare, 'for-each-ref']);
    expect(stdout).toBe('');
    expect(await leftoverClones()).toEqual([]);
  }, 60_000);

  it('records nothing in the model registry when the repository cannot be reached, and leaves no clone behind', async () => {
    const { calls, register } = recorder();
    const missing = join(await tempDir('gitops-missing-'), 'nothing.git');
    await expect(handoff(options(missing, {}, register))).rejects.toMatchObject({ code: 'GITOPS_GIT_FAILED' });
    expect(calls).toEqual([]);
    expect(await leftoverClones()).toEqual([]);
  }, 60_000);

  it('marks the version pending until the push lands, then records the commit', async () => {
    const bare = await bareRepository();
    const { calls, register } = recorder();
    const result = await handoff(options(bare, {}, register));
    expect(calls.map((c) => c.properties?.['modelship.handoff'])).toEqual(['pending', `pushed main@${result.publish!.commit.slice(0, 12)}`]);
    expect(await leftoverClones()).toEqual([]);
  }, 60_000);
});

describe('hand-off secrets', () => {
  it('strips the token from the Flux GitRepository and the clone, and redacts it from every message', async () => {
    const bare = await bareRepository();
    const url = `https://x-access-token:${SECRET}@git.example.com/acme/gitops.git`;
    // git fetches the https URL from the bare repository on disk (insteadOf), so the secret is really used.
    const saved = { ...process.env };
    Object.assign(process.env, { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: `url.${bare}.insteadOf`, GIT_CONFIG_VALUE_0: url });
    try {
      const workdir = join(await tempDir('gitops-secret-'), 'clone');
      const result = await handoff(options(url, { workdir }));
      expect(result.publish?.committed).toBe(true);
      const flux = await gitShow(bare, 'models/tiny-chat/delivery/dev/flux.yaml');
      expect(flux).toContain('url: https://git.example.com/acme/gitops.git');
      const { stdout: everything } = await execa('git', ['--git-dir', bare, 'grep', '-I', '-e', SECRET, 'main']).catch((e: { stdout: string }) => e);
      expect(everything).toBe('');
      expect(await readFile(join(workdir, '.git', 'config'), 'utf8')).not.toContain(SECRET);
    } finally {
      for (const k of ['GIT_CONFIG_COUNT', 'GIT_CONFIG_KEY_0', 'GIT_CONFIG_VALUE_0']) if (saved[k] === undefined) delete process.env[k];
    }
    // Unreachable with a token: the error names the URL without it, and no clone holding it stays.
    const failed = await handoff(options(`https://x-access-token:${SECRET}@127.0.0.1:1/acme/gitops.git`)).then(() => undefined, (e: Error) => e);
    expect(failed).toMatchObject({ code: 'GITOPS_GIT_FAILED' });
    expect(JSON.stringify({ message: failed!.message, details: (failed as { details?: unknown }).details })).not.toContain(SECRET);
    expect(failed!.message).toContain('https://127.0.0.1:1/acme/gitops.git');
    expect(await leftoverClones()).toEqual([]);
  }, 120_000);

  it('publicRepositoryUrl drops http userinfo and ssh passwords; redaction covers the encoded forms', () => {
    expect(publicRepositoryUrl(`https://x-access-token:${SECRET}@github.com/acme/gitops.git`)).toBe('https://github.com/acme/gitops.git');
    expect(publicRepositoryUrl(`https://${SECRET}@github.com/acme/gitops.git`)).toBe('https://github.com/acme/gitops.git');
    expect(publicRepositoryUrl('ssh://git:pw@example.com/gitops.git')).toBe('ssh://git@example.com/gitops.git');
    expect(publicRepositoryUrl('git@github.com:acme/gitops.git')).toBe('git@github.com:acme/gitops.git');
    expect(publicRepositoryUrl('/srv/gitops.git')).toBe('/srv/gitops.git');
    const url = 'https://u:p%40ss%2Fword@h/r.git';
    expect(redactRepositoryUrl(`fatal: unable to access '${url}': p@ss/word`, url)).toBe(`fatal: unable to access 'https://h/r.git': ***`);
  });
});
