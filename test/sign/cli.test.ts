import { describe, expect, it } from 'vitest';
import { mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { runCli } from '../helpers/cli.js';
import { makeModel, omsInterop, interop } from './helpers.js';

function run(argv: string[], env: NodeJS.ProcessEnv = {}, cwd = process.cwd()) {
  return runCli(argv, { env, cwd, stdin: Object.assign(new PassThrough(), { isTTY: false }) });
}

describe('modelship keys / sign / verify', () => {
  it('leaves no half key pair when the public key name is taken', async () => {
    const work = await mkdtemp(join(tmpdir(), 'sign-cli-'));
    await writeFile(join(work, 'taken.pub'), 'someone else\n');
    const gen = await run(['keys', 'generate', '-o', join(work, 'taken')]);
    expect(gen.code).toBe(3);
    expect(gen.stderr).toMatch(/taken\.pub already exists/);
    expect((await readdir(work)).sort()).toEqual(['taken.pub']);
    expect(await readFile(join(work, 'taken.pub'), 'utf8')).toBe('someone else\n');
  });

  it('generates a key pair, signs a folder and verifies it, printing each check', async () => {
    const work = await mkdtemp(join(tmpdir(), 'sign-cli-'));
    const gen = await run(['keys', 'generate', '-o', join(work, 'dev'), '--json']);
    expect(gen.code).toBe(0);
    expect(JSON.parse(gen.stdout)).toMatchObject({ curve: 'p256', encrypted: false });
    expect((await stat(join(work, 'dev.key'))).mode & 0o777).toBe(0o600);
    // never overwrite a key
    const again = await run(['keys', 'generate', '-o', join(work, 'dev')]);
    expect(again.code).toBe(3);
    expect(again.stderr).toMatch(/already exists/);

    const dir = await makeModel();
    const sign = await run(['sign', dir, '--key', join(work, 'dev.key')]);
    expect(sign.code).toBe(0);
    expect(sign.stdout).toMatch(/wrote .*model.sig/);
    const verify = await run(['verify', dir, '--key', join(work, 'dev.pub')]);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(/ok +signature/);
    expect(verify.stdout).toMatch(/verified:/);

    await writeFile(join(dir, 'config.json'), '{"layers":3}\n');
    const bad = await run(['verify', dir, '--key', join(work, 'dev.pub'), '--json']);
    expect(bad.code).toBe(8);
    const body = JSON.parse(bad.stdout);
    expect(body).toMatchObject({ ok: false, code: 'VERIFY_FAILED' });
    expect(body.reason).toMatch(/^config.json has changed/);
    expect(body.checks.at(-1)).toMatchObject({ name: 'files', ok: false });
  });

  it('verifies the reference keyless bundle offline from the command line', async () => {
    const dir = join(omsInterop, 'v1.1.0-sigstore');
    const argv = ['verify', dir, '--cert-identity', 'stefanb@us\\.ibm\\.com', '--cert-oidc-issuer', 'https://sigstore.verify.ibm.com/oauth2', '--trusted-root', join(interop, 'sigstore', 'public-good-trusted_root.json')];
    expect((await run(argv)).code).toBe(0);
    const wrong = await run([...argv.slice(0, 2), '--cert-identity', 'nobody@example\\.com', ...argv.slice(4)]);
    expect(wrong.code).toBe(8);
    expect(wrong.stdout).toMatch(/FAIL identity/);
  });

  it('verifies the reference certificate bundle with --ca', async () => {
    const dir = join(omsInterop, 'v1.1.0-certificate');
    expect((await run(['verify', dir, '--ca', join(omsInterop, 'keys', 'ca-cert.pem')])).code).toBe(0);
  });

  it('refuses an ambiguous policy and an unknown target as usage errors', async () => {
    const dir = await makeModel();
    expect((await run(['verify', dir])).code).toBe(2);
    expect((await run(['sign', dir])).code).toBe(2);
    expect((await run(['sign', 'registry.example/model:1'])).code).toBe(2);
  });

  it('keeps secrets out of every output and leaves no temp file behind', async () => {
    const work = await mkdtemp(join(tmpdir(), 'sign-secret-'));
    const password = 'pw-Zq8!unique-secret-4711';
    const env = { MODELSHIP_KEY_PASSWORD: password };
    const tmpBefore = new Set(await readdir(tmpdir()));
    const gen = await run(['keys', 'generate', '-o', join(work, 'enc'), '--encrypt', '--json'], env);
    expect(gen.code).toBe(0);
    const privatePem = await readFile(join(work, 'enc.key'), 'utf8');
    expect(privatePem).toContain('ENCRYPTED PRIVATE KEY');
    const dir = await makeModel();
    const outputs = [
      gen,
      await run(['sign', dir, '--key', join(work, 'enc.key'), '--json'], env),
      await run(['sign', dir, '--key', join(work, 'enc.key')], env),
      await run(['sign', dir, '--key', join(work, 'enc.key'), '--json'], { MODELSHIP_KEY_PASSWORD: 'wrong-' + password }),
      await run(['sign', dir, '--key', join(work, 'enc.key')], {}),
      await run(['verify', dir, '--key', join(work, 'enc.pub'), '--json'], env),
    ];
    expect(outputs.map((o) => o.code)).toEqual([0, 0, 0, 3, 3, 0]);
    expect(outputs[3]!.stderr).toMatch(/wrong password/);
    expect(outputs[4]!.stderr).toMatch(/MODELSHIP_KEY_PASSWORD/);
    const body = privatePem.split('\n').filter((l) => l && !l.startsWith('-----'));
    for (const o of outputs) {
      for (const text of [o.stdout, o.stderr]) {
        expect(text).not.toContain(password);
        for (const line of body) expect(text).not.toContain(line);
      }
    }
    const signature = await readFile(join(dir, 'model.sig'), 'utf8');
    expect(signature).not.toContain(password);
    expect((await readdir(dir)).filter((f) => f.includes('.tmp'))).toEqual([]);
    expect((await readdir(work)).sort()).toEqual(['enc.key', 'enc.pub']);
    // Only names our atomic writes would use: other suites share this temp dir.
    const leftovers = (await readdir(tmpdir())).filter((f) => !tmpBefore.has(f) && /^\.(model\.sig|enc\.key|enc\.pub)\.[0-9a-f]{12}\.tmp$/.test(f));
    expect(leftovers).toEqual([]);
  });
});
