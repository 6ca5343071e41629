import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../helpers/cli.js';
import { RemoteTarget, remoteOptionsFrom } from '../../../modules/oci/remote/index.js';
import { startRegistry, type RunningRegistry } from '../../helpers/registry.js';
import { startTokenServer, type RunningTokenServer } from '../../helpers/token-server.js';
import { imageWith, randomBlob, uniqueRepo } from './helpers.js';

const run = promisify(execFile);

function cli(args: string[], env: NodeJS.ProcessEnv, stdin = '') {
  return runCli(args, { env, stdin, cwd: env['HOME']! });
}

async function canPush(registry: string, env: NodeJS.ProcessEnv): Promise<void> {
  const repo = new RemoteTarget(registry, uniqueRepo('login'), remoteOptionsFrom(env, { plainHttp: true }));
  const layer = randomBlob(100);
  const { config, manifest } = imageWith([layer.descriptor]);
  for (const c of [layer, config, manifest]) await repo.push(c.descriptor, c.bytes);
}

describe('modelship login / logout', () => {
  const password = 'Pw-login-5d8e0c';
  let reg: RunningRegistry;
  let tokens: RunningTokenServer;
  let tokenReg: RunningRegistry;
  let home: string;
  beforeAll(async () => {
    const { stdout } = await run('htpasswd', ['-Bbn', 'dev', password]);
    reg = await startRegistry({ htpasswd: stdout });
    tokens = await startTokenServer({ users: { dev: password } });
    tokenReg = await startRegistry({ token: { realm: tokens.realm, service: tokens.service, issuer: tokens.issuer, rootCertPem: tokens.rootCertPem } });
  });
  afterAll(async () => {
    await reg?.stop();
    await tokenReg?.stop();
    await tokens?.stop();
  });
  const freshHome = async () => {
    home = await mkdtemp(join(tmpdir(), 'modelship-login-'));
    return { HOME: home, PATH: process.env['PATH'] };
  };

  it('checks the password, stores it in ~/.docker/config.json (0600, other entries kept) and logout removes it', async () => {
    const env = await freshHome();
    try {
      const config = join(home, '.docker', 'config.json');
      await mkdir(join(home, '.docker'));
      await writeFile(config, JSON.stringify({ auths: { 'other.example': { auth: 'b3RoZXI6cHc=' } }, experimental: 'enabled' }));
      const login = await cli(['login', reg.host, '-u', 'dev', '--password-stdin', '--plain-http', '--json'], env, `${password}\n`);
      expect(login.code).toBe(0);
      expect(JSON.parse(login.stdout)).toEqual({ registry: reg.host, username: 'dev', file: config });
      expect((await stat(config)).mode & 0o777).toBe(0o600);
      const stored = JSON.parse(await readFile(config, 'utf8'));
      expect(stored.experimental).toBe('enabled');
      expect(stored.auths['other.example']).toEqual({ auth: 'b3RoZXI6cHc=' });
      expect(stored.auths[reg.host]).toEqual({ auth: Buffer.from(`dev:${password}`).toString('base64') });
      expect(login.stdout + login.stderr).not.toContain(password);
      await canPush(reg.host, env);

      const logout = await cli(['logout', reg.host, '--json'], env);
      expect(logout.code).toBe(0);
      expect(JSON.parse(logout.stdout)).toMatchObject({ registry: reg.host, removed: true });
      const after = JSON.parse(await readFile(config, 'utf8'));
      expect(after.auths[reg.host]).toBeUndefined();
      expect(after.auths['other.example']).toBeDefined();
      await expect(canPush(reg.host, env)).rejects.toMatchObject({ code: 'OCI_UNAUTHORIZED' });
      expect((await cli(['logout', reg.host], env)).stdout).toContain('Not logged in');
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });

  it('refuses a wrong password with exit status 5 and stores nothing, never printing it', async () => {
    const env = { ...(await freshHome()), REGISTRY_AUTH_FILE: '' };
    try {
      const wrong = `${password}-nope`;
      const result = await cli(['login', reg.host, '-u', 'dev', '--password-stdin', '--plain-http', '--json'], env, wrong);
      expect(result.code).toBe(5);
      expect(JSON.parse(result.stdout).error.code).toBe('OCI_UNAUTHORIZED');
      expect(result.stdout + result.stderr).not.toContain(wrong);
      await expect(stat(join(home, '.docker', 'config.json'))).rejects.toMatchObject({ code: 'ENOENT' });
      const usage = await cli(['login', reg.host, '--password-stdin'], env, password);
      expect(usage.code).toBe(2);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });

  it('logs in through the token flow and writes $REGISTRY_AUTH_FILE when it is set', async () => {
    const env = await freshHome();
    try {
      const file = join(home, 'containers', 'auth.json');
      const result = await cli(['login', `http://${tokenReg.host}`, '-u', 'dev', '--password-stdin', '--plain-http'], { ...env, REGISTRY_AUTH_FILE: file }, password);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(file);
      expect(tokens.requests.some((r) => r.user === 'dev')).toBe(true);
      await canPush(tokenReg.host, { ...env, REGISTRY_AUTH_FILE: file });
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });

  it('stores the secret in the configured credential helper (credsStore), and reads and erases it there', async () => {
    const env = await freshHome();
    try {
      const bin = join(home, 'bin');
      await mkdir(bin);
      const store = join(home, 'helper-store.json');
      // A docker-credential helper speaking the real protocol: JSON or a server URL on stdin.
      await writeFile(
        join(bin, 'docker-credential-fake'),
        `#!/bin/sh\ncase "$1" in\n  store) cat > "${store}" ;;\n  get) read url; if [ -f "${store}" ]; then cat "${store}"; else echo "credentials not found in native keychain"; exit 1; fi ;;\n  erase) read url; if [ -f "${store}" ]; then rm "${store}"; else echo "credentials not found in native keychain"; exit 1; fi ;;\nesac\n`,
      );
      await chmod(join(bin, 'docker-credential-fake'), 0o755);
      await mkdir(join(home, '.docker'));
      const config = join(home, '.docker', 'config.json');
      await writeFile(config, JSON.stringify({ credsStore: 'fake' }));
      const helperEnv = { ...env, PATH: `${bin}:${env.PATH}` };
      const login = await cli(['login', reg.host, '-u', 'dev', '--password-stdin', '--plain-http', '--json'], helperEnv, password);
      expect(login.code).toBe(0);
      expect(JSON.parse(login.stdout)).toMatchObject({ helper: 'fake' });
      expect(JSON.parse(await readFile(store, 'utf8'))).toEqual({ ServerURL: reg.host, Username: 'dev', Secret: password });
      const written = await readFile(config, 'utf8');
      expect(written).not.toContain(password);
      expect(JSON.parse(written)).toEqual({ credsStore: 'fake', auths: { [reg.host]: {} } });
      await canPush(reg.host, helperEnv);
      expect((await cli(['logout', reg.host], helperEnv)).code).toBe(0);
      await expect(stat(store)).rejects.toMatchObject({ code: 'ENOENT' });

      // credHelpers names a helper for one registry only.
      await writeFile(config, JSON.stringify({ credHelpers: { [reg.host]: 'fake' } }));
      expect((await cli(['login', reg.host, '-u', 'dev', '--password-stdin', '--plain-http'], helperEnv, password)).code).toBe(0);
      expect(JSON.parse(await readFile(store, 'utf8'))).toMatchObject({ Secret: password });
      expect(JSON.parse(await readFile(config, 'utf8')).credHelpers).toEqual({ [reg.host]: 'fake' });
      await canPush(reg.host, helperEnv);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});
