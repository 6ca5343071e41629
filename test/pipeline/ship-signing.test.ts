/**
 * `modelship ship` never pushes unsigned by accident: with nothing to sign with it refuses before the
 * first step, naming the key or identity; --no-sign is the one way to push unsigned. A key given as
 * PEM text in MODELSHIP_SIGNING_KEY (a CI secret) is read as the key.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { writeExampleProject } from '../../modules/example/index.js';
import { runCli } from '../helpers/cli.js';

let root: string;
let project: string;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'modelship-ship-signing-'));
  project = path.join(root, 'tiny');
  await writeExampleProject(project);
  expect((await runCli(['init', project])).code).toBe(0);
  expect((await runCli(['keys', 'generate', '-o', path.join(root, 'signing')], { env: { MODELSHIP_KEY_PASSWORD: '' } })).code).toBe(0);
});

describe('modelship ship and signing', () => {
  it('refuses to push unsigned before any step, naming what is missing', async () => {
    const reference = `${inject('registry')}/ship-signing/refused:v1`;
    const home = path.join(root, 'home-refused');
    const run = await runCli(['ship', project, '-t', reference, '--plain-http', '--no-handoff', '--json'], { env: { MODELSHIP_HOME: home } });
    expect(run.code).toBe(3);
    expect(run.json().error.code).toBe('SIGN_KEY_MISSING');
    expect(run.stderr).toMatch(/refusing to push .*refused:v1 unsigned: no signing key or identity: give --key KEY\.pem .* or --keyless/);
    expect((await runCli(['inspect', reference, '--plain-http'])).code).not.toBe(0);
  });

  it('pushes unsigned with --no-sign, even with a key at hand', async () => {
    const reference = `${inject('registry')}/ship-signing/unsigned:v1`;
    const run = await runCli(['ship', project, '-t', reference, '--plain-http', '--no-handoff', '--no-sign', '--json'], { env: { MODELSHIP_HOME: path.join(root, 'home-unsigned'), MODELSHIP_SIGNING_KEY: path.join(root, 'signing.key'), MODELSHIP_KEY_PASSWORD: '' } });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.json().steps.find((s: { step: string }) => s.step === 'sign')).toMatchObject({ status: 'skipped', summary: 'signing skipped: not signed: --no-sign' });
  }, 120_000);

  it('signs with a key given as its PEM text in MODELSHIP_SIGNING_KEY', async () => {
    const reference = `${inject('registry')}/ship-signing/text-key:v1`;
    const pem = await readFile(path.join(root, 'signing.key'), 'utf8');
    const run = await runCli(['ship', project, '-t', reference, '--plain-http', '--no-handoff', '--json'], { env: { MODELSHIP_HOME: path.join(root, 'home-text'), MODELSHIP_SIGNING_KEY: pem, MODELSHIP_KEY_PASSWORD: '' } });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).not.toContain(pem.split('\n')[1]);
    const verified = await runCli(['verify', reference, '--plain-http', '--key', path.join(root, 'signing.pub')], { env: { MODELSHIP_HOME: path.join(root, 'fresh') } });
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
  }, 120_000);
});
