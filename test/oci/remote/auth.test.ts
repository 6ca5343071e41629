import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RemoteTarget, RegistrySessions, dockerCredentials, remoteOptionsFrom, staticCredentials } from '../../../modules/oci/remote/index.js';
import type { Reporter } from '../../../modules/progress/index.js';
import { startRegistry, type RunningRegistry } from '../../helpers/registry.js';
import { startTokenServer, type RunningTokenServer } from '../../helpers/token-server.js';
import { createCa } from '../../helpers/tls.js';
import { imageWith, randomBlob, uniqueRepo } from './helpers.js';

const run = promisify(execFile);

async function pushImage(repo: RemoteTarget, tag: string) {
  const layer = randomBlob(5_000);
  const { config, manifest } = imageWith([layer.descriptor]);
  for (const c of [layer, config, manifest]) await repo.push(c.descriptor, c.bytes);
  await repo.tag(manifest.descriptor, tag);
  return manifest.descriptor;
}

/** Every string an error or a reporter could show a person. */
function printable(err: unknown, notes: string[]): string {
  const e = err as Error & { details?: unknown; cause?: unknown };
  return [e.message, JSON.stringify(e.details ?? {}), String(e.stack ?? ''), e.cause instanceof Error ? e.cause.message : '', ...notes].join('\n');
}

function recordingReporter(notes: string[]): Reporter {
  return { start() {}, advance() {}, finish() {}, note: (m) => notes.push(m) };
}

describe('htpasswd Basic auth', () => {
  const password = 'Pw-basic-7c1e2f9a';
  let reg: RunningRegistry;
  beforeAll(async () => {
    const { stdout } = await run('htpasswd', ['-Bbn', 'alice', password]);
    reg = await startRegistry({ htpasswd: stdout });
  });
  afterAll(() => reg?.stop());

  it('answers the Basic challenge with stored credentials and refuses anonymous access', async () => {
    const repo = new RemoteTarget(reg.host, uniqueRepo('basic'), { plainHttp: true, credentials: staticCredentials({ [reg.host]: { username: 'alice', password } }) });
    const desc = await pushImage(repo, 'v1');
    expect(await repo.resolve('v1')).toEqual(desc);
    const anonymous = new RemoteTarget(reg.host, repo.repository, { plainHttp: true });
    await expect(anonymous.resolve('v1')).rejects.toMatchObject({ code: 'OCI_UNAUTHORIZED' });
  });

  it('reads credentials from $REGISTRY_AUTH_FILE as docker and podman write them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'modelship-auth-'));
    try {
      const file = join(dir, 'auth.json');
      await writeFile(file, JSON.stringify({ auths: { [`http://${reg.host}`]: { auth: Buffer.from(`alice:${password}`).toString('base64') } } }));
      const options = remoteOptionsFrom({ REGISTRY_AUTH_FILE: file, HOME: dir }, { plainHttp: true });
      const repo = new RemoteTarget(reg.host, uniqueRepo('basic-file'), options);
      await pushImage(repo, 'v1');
      expect((await repo.resolve('v1')).digest).toMatch(/^sha256:/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('never shows the password in errors or notes', async () => {
    const notes: string[] = [];
    const wrong = `${password}-wrong`;
    const repo = new RemoteTarget(reg.host, uniqueRepo('basic-leak'), {
      plainHttp: true,
      credentials: staticCredentials({ [reg.host]: { username: 'alice', password: wrong } }),
      reporter: recordingReporter(notes),
    });
    const err = await pushImage(repo, 'v1').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'OCI_UNAUTHORIZED' });
    const shown = printable(err, notes);
    expect(shown).not.toContain(wrong);
    expect(shown).not.toContain(Buffer.from(`alice:${wrong}`).toString('base64'));
  });
});

describe('token auth (Bearer) with a token server the registry trusts', () => {
  const alicePassword = 'Pw-token-alice-93b1';
  const bobPassword = 'Pw-token-bob-4f20';
  let tokens: RunningTokenServer;
  let reg: RunningRegistry;
  beforeAll(async () => {
    tokens = await startTokenServer({
      users: { alice: alicePassword, bob: bobPassword },
      grant: (user, _repository, asked) => (user === 'alice' ? asked : user === 'bob' ? asked.filter((a) => a === 'pull') : []),
    });
    reg = await startRegistry({ token: { realm: tokens.realm, service: tokens.service, issuer: tokens.issuer, rootCertPem: tokens.rootCertPem } });
  });
  afterAll(async () => {
    await reg?.stop();
    await tokens?.stop();
  });

  it('gets a token per repository scope, reuses it, and mounts with a pull scope on the source', async () => {
    const sessions = new RegistrySessions();
    const credentials = staticCredentials({ [reg.host]: { username: 'alice', password: alicePassword } });
    const one = new RemoteTarget(reg.host, uniqueRepo('tok'), { plainHttp: true, credentials, sessions });
    const two = new RemoteTarget(reg.host, uniqueRepo('tok'), { plainHttp: true, credentials, sessions });
    const before = tokens.requests.length;
    const desc = await pushImage(one, 'v1');
    const pushTokens = tokens.requests.length - before;
    expect(await one.resolve('v1')).toEqual(desc);
    const asked = tokens.requests.slice(before).flatMap((r) => r.scopes);
    expect(asked).toContain(`repository:${one.repository}:pull,push`);
    expect(asked.every((s) => s.startsWith(`repository:${one.repository}:`))).toBe(true);
    expect(tokens.requests.slice(before).every((r) => r.user === 'alice' && r.service === tokens.service)).toBe(true);
    // Cached per scope: the whole push asked at most once for push and once for pull.
    expect(pushTokens).toBeLessThanOrEqual(2);

    const blob = randomBlob(1000);
    await one.push(blob.descriptor, blob.bytes);
    const mark = tokens.requests.length;
    expect(await two.mount(blob.descriptor, one.repository)).toBe(true);
    const mountScopes = tokens.requests.slice(mark).flatMap((r) => r.scopes);
    expect(mountScopes).toEqual(expect.arrayContaining([`repository:${two.repository}:pull,push`, `repository:${one.repository}:pull`]));
  });

  it('trades a docker identitytoken for access tokens with the refresh-token grant', async () => {
    const oauth = await startTokenServer({ refreshTokens: { 'refresh-7a9b': 'alice' } });
    const reg2 = await startRegistry({ token: { realm: oauth.realm, service: oauth.service, issuer: oauth.issuer, rootCertPem: oauth.rootCertPem } });
    const dir = await mkdtemp(join(tmpdir(), 'modelship-idtoken-'));
    try {
      const file = join(dir, 'auth.json');
      await writeFile(file, JSON.stringify({ auths: { [reg2.host]: { identitytoken: 'refresh-7a9b' } } }));
      const repo = new RemoteTarget(reg2.host, uniqueRepo('idtoken'), remoteOptionsFrom({ REGISTRY_AUTH_FILE: file, HOME: dir }, { plainHttp: true }));
      const desc = await pushImage(repo, 'v1');
      expect(await repo.resolve('v1')).toEqual(desc);
      expect(oauth.requests.every((r) => r.user === 'alice' && r.service === oauth.service)).toBe(true);
      await writeFile(file, JSON.stringify({ auths: { [reg2.host]: { identitytoken: 'revoked' } } }));
      const refused = new RemoteTarget(reg2.host, repo.repository, remoteOptionsFrom({ REGISTRY_AUTH_FILE: file, HOME: dir }, { plainHttp: true }));
      const err = await refused.resolve('v1').catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'OCI_UNAUTHORIZED' });
      expect(printable(err, [])).not.toContain('revoked');
    } finally {
      await rm(dir, { recursive: true, force: true });
      await reg2.stop();
      await oauth.stop();
    }
  });

  it('accepts the OAuth2 access_token field', async () => {
    const oauth = await startTokenServer({ users: { alice: alicePassword }, accessTokenOnly: true });
    const reg2 = await startRegistry({ token: { realm: oauth.realm, service: oauth.service, issuer: oauth.issuer, rootCertPem: oauth.rootCertPem } });
    try {
      const repo = new RemoteTarget(reg2.host, uniqueRepo('oauth'), { plainHttp: true, credentials: staticCredentials({ [reg2.host]: { username: 'alice', password: alicePassword } }) });
      const desc = await pushImage(repo, 'v1');
      expect(await repo.resolve('v1')).toEqual(desc);
    } finally {
      await reg2.stop();
      await oauth.stop();
    }
  });

  it('a token without push access gets OCI_DENIED; a wrong password OCI_UNAUTHORIZED; neither shows a secret', async () => {
    const notes: string[] = [];
    const bob = new RemoteTarget(reg.host, uniqueRepo('tok-denied'), {
      plainHttp: true,
      credentials: staticCredentials({ [reg.host]: { username: 'bob', password: bobPassword } }),
      reporter: recordingReporter(notes),
    });
    const denied = await pushImage(bob, 'v1').catch((e: unknown) => e);
    expect(denied).toMatchObject({ code: 'OCI_DENIED' });
    expect(printable(denied, notes)).not.toContain(bobPassword);

    const wrong = new RemoteTarget(reg.host, uniqueRepo('tok-wrong'), {
      plainHttp: true,
      credentials: staticCredentials({ [reg.host]: { username: 'alice', password: `${alicePassword}-x` } }),
      reporter: recordingReporter(notes),
    });
    const refused = await wrong.resolve('v1').catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'OCI_UNAUTHORIZED' });
    const shown = printable(refused, notes);
    expect(shown).not.toContain(alicePassword);
    expect(shown).toContain(tokens.realm.replace(/\/token$/, ''));
  });
});

describe('TLS with a private CA', () => {
  let reg: RunningRegistry;
  let caPem: string;
  let dir: string;
  beforeAll(async () => {
    const ca = await createCa();
    caPem = ca.certPem;
    const server = await ca.issue({ commonName: '127.0.0.1', ipSans: ['127.0.0.1'] });
    reg = await startRegistry({ tls: server });
    dir = await mkdtemp(join(tmpdir(), 'modelship-tls-test-'));
  });
  afterAll(async () => {
    await reg?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('fails with OCI_TLS and points to --ca-file without the CA, and works with it', async () => {
    const untrusting = new RemoteTarget(reg.host, uniqueRepo('tls'), { retry: { attempts: 1 } });
    const err = await untrusting.resolve('v1').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'OCI_TLS' });
    expect((err as Error).message).toContain('--ca-file');
    expect((err as Error).message).toContain(`https://${reg.host}/v2/`);

    const caFile = join(dir, 'ca.pem');
    await writeFile(caFile, caPem);
    const trusting = new RemoteTarget(reg.host, uniqueRepo('tls'), remoteOptionsFrom({ HOME: dir }, { caFile }));
    const desc = await pushImage(trusting, 'v1');
    expect(await trusting.resolve('v1')).toEqual(desc);
  });

  it('refuses a CA file that is missing or holds no certificate, naming it', () => {
    expect(() => remoteOptionsFrom({ HOME: dir }, { caFile: join(dir, 'absent.pem') })).toThrow(/absent\.pem/);
  });
});

describe('credentials from config files', () => {
  it('prefers $REGISTRY_AUTH_FILE, then podman auth.json, then docker config.json, and decodes identity tokens', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'modelship-creds-'));
    try {
      const xdg = join(dir, 'run');
      await run('mkdir', ['-p', join(xdg, 'containers'), join(dir, '.docker')]);
      await writeFile(join(xdg, 'containers', 'auth.json'), JSON.stringify({ auths: { 'podman.example:5000': { auth: Buffer.from('pod:man').toString('base64') } } }));
      await writeFile(
        join(dir, '.docker', 'config.json'),
        JSON.stringify({ auths: { 'https://index.docker.io/v1/': { auth: Buffer.from('hub:pw').toString('base64') }, 'podman.example:5000': { auth: Buffer.from('dock:er').toString('base64') }, 'idt.example': { identitytoken: 'refresh-123' } } }),
      );
      const creds = dockerCredentials({ HOME: dir, XDG_RUNTIME_DIR: xdg });
      expect(await creds.get('podman.example:5000')).toEqual({ username: 'pod', password: 'man' });
      expect(await creds.get('docker.io')).toEqual({ username: 'hub', password: 'pw' });
      expect(await creds.get('idt.example')).toEqual({ identityToken: 'refresh-123' });
      expect(await creds.get('other.example')).toBeUndefined();
      await writeFile(join(dir, 'bad.json'), '{"auths": {"x.example": {"auth": "bm9jb2xvbg=="}}}');
      await expect(dockerCredentials({ HOME: dir, REGISTRY_AUTH_FILE: join(dir, 'bad.json') }).get('x.example')).rejects.toThrow(/bad\.json/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
