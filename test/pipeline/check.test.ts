/**
 * The pipeline through `modelship check` and `runPipeline`: a real example project, real keys, the
 * local store, and the loopback docker-registry for the push step.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { writeExampleProject } from '../../modules/example/index.js';
import { createPipelineContext, runPipeline, STEP_NAMES } from '../../modules/pipeline/index.js';
import { runCli } from '../helpers/cli.js';
import { busyboxBase } from '../modelpack/busybox.js';

let root: string;
let keyFile: string;
let pubFile: string;

async function project(name: string): Promise<string> {
  const dir = path.join(root, name);
  await writeExampleProject(dir);
  expect((await runCli(['init', dir])).code).toBe(0);
  return dir;
}

const envFor = (home: string, extra: NodeJS.ProcessEnv = {}) => ({ MODELSHIP_HOME: home, MODELSHIP_KEY_PASSWORD: '', ...extra });

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'modelship-pipeline-'));
  const keys = await runCli(['keys', 'generate', '-o', path.join(root, 'signing')], { env: { MODELSHIP_KEY_PASSWORD: '' } });
  expect(keys.code).toBe(0);
  keyFile = path.join(root, 'signing.key');
  pubFile = path.join(root, 'signing.pub');
});

describe('modelship check', () => {
  it('runs pack, SBOM, cards, MOF gate, sign and verify, and the result verifies on its own', async () => {
    const dir = await project('good');
    const home = path.join(root, 'home-good');
    const run = await runCli(['check', dir, '--key', keyFile, '--require', '3', '-t', 'good:v1', '--json'], { env: envFor(home) });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const result = run.json();
    expect(result.steps.map((s: { step: string; status: string }) => `${s.step}:${s.status}`)).toEqual(['pack:passed', 'sbom:passed', 'card:passed', 'mof:passed', 'sign:passed', 'verify:passed']);
    expect(result.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(result.steps.every((s: { seconds: number }) => typeof s.seconds === 'number' && s.seconds >= 0)).toBe(true);

    // What the pipeline attached is what the single commands see.
    const discover = await runCli(['discover', 'good:v1', '--json'], { env: envFor(home) });
    const types = JSON.stringify(discover.json());
    for (const t of ['application/vnd.cyclonedx+json', 'application/spdx+json', 'application/vnd.modelship.mof.report.v1+json', 'application/vnd.modelship.card.model.v1+markdown', 'application/vnd.dev.sigstore.bundle.v0.3+json']) {
      expect(types).toContain(t);
    }
    const verified = await runCli(['verify', 'good:v1', '--key', pubFile], { env: envFor(home) });
    expect(verified.code, verified.stdout).toBe(0);

    // The human output: one line per step with its time, then the verdict.
    const text = await runCli(['check', dir, '--key', keyFile, '-t', 'good:v1'], { env: envFor(home) });
    expect(text.stdout.split('\n').slice(0, 6).map((l) => l.slice(0, 13))).toEqual(['ok   pack    ', 'ok   sbom    ', 'ok   card    ', 'ok   mof     ', 'ok   sign    ', 'ok   verify  ']);
    expect(text.stdout).toMatch(/passed in \d+\.\d\ds: good:v1 sha256:/);
  });

  it('refuses a project that breaks the MOF gate, says what to add, and signs nothing', async () => {
    const dir = await project('no-data-card');
    await rm(path.join(dir, 'DATACARD.md'));
    const spec = path.join(dir, 'modelship.yaml');
    await writeFile(spec, (await readFile(spec, 'utf8')).replace(/^ {2}- DATACARD\.md\n/m, ''));
    const home = path.join(root, 'home-gate');
    const run = await runCli(['check', dir, '--key', keyFile, '--require', '3', '-t', 'gate:v1'], { env: envFor(home) });
    expect(run.code).toBe(9);
    expect(run.stdout).toMatch(/^FAIL mof .*does not reach Class III \(GATE_FAILED\)$/m);
    expect(run.stdout).toMatch(/To fix:\n {2}- add Data card \(missing\): .*DATACARD\.md/);
    expect(run.stdout).not.toMatch(/sign/);
    const discover = await runCli(['discover', 'gate:v1', '--json'], { env: envFor(home) });
    expect(JSON.stringify(discover.json())).not.toContain('application/vnd.dev.sigstore.bundle.v0.3+json');
  });

  it('reads the gate and the key from modelship.yaml, and says so when it has no key', async () => {
    const dir = await project('settings');
    const spec = path.join(dir, 'modelship.yaml');
    await writeFile(spec, `${await readFile(spec, 'utf8')}pipeline:\n  mof:\n    require: 1\n`);
    const home = path.join(root, 'home-settings');
    const gated = await runCli(['check', dir, '-t', 'settings:v1'], { env: envFor(home) });
    expect(gated.code).toBe(9);
    expect(gated.stdout).toMatch(/does not reach Class I \(GATE_FAILED\)/);

    await writeFile(spec, (await readFile(spec, 'utf8')).replace('require: 1', 'require: 3'));
    const unsigned = await runCli(['check', dir, '-t', 'settings:v1', '--json'], { env: envFor(home) });
    expect(unsigned.code).toBe(0);
    const sign = unsigned.json().steps.find((s: { step: string }) => s.step === 'sign');
    expect(sign.status).toBe('skipped');
    expect(sign.summary).toMatch(/signing skipped: no signing key or identity: give --key KEY\.pem \(or MODELSHIP_SIGNING_KEY.* or pipeline\.signing\.key/);

    await writeFile(spec, (await readFile(spec, 'utf8')).replace('pipeline:\n', `pipeline:\n  signing:\n    key: ${path.relative(dir, keyFile)}\n`));
    const signed = await runCli(['check', dir, '-t', 'settings:v1', '--json'], { env: envFor(home) });
    expect(signed.json().steps.map((s: { status: string }) => s.status)).toEqual(['passed', 'passed', 'passed', 'passed', 'passed', 'passed']);
  });
});

describe('modelship ship', () => {
  it('refuses a bad flag before any step runs', async () => {
    const dir = await project('bad-flag');
    const home = path.join(root, 'home-bad-flag');
    const run = await runCli(['ship', dir, '--flavor', 'helm'], { env: envFor(home) });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--flavor takes flux or argocd, not "helm"/);
    expect(existsSync(home)).toBe(false);
  });
});

describe('runPipeline', () => {
  it('pushes the artifact with every referrer to the registry, and a second run uploads nothing new', async () => {
    const registry = inject('registry');
    const dir = await project('pushed');
    const home = path.join(root, 'home-push');
    const reference = `${registry}/pipeline/pushed:v1`;
    const ctx = () => createPipelineContext({ projectDir: dir, reference, signingKey: keyFile, plainHttp: true, env: envFor(home), cwd: root });
    const first = await runPipeline(await ctx(), { steps: STEP_NAMES.filter((s) => s !== 'handoff') });
    expect(first.ok, JSON.stringify(first.steps, null, 1)).toBe(true);
    expect(first.steps.find((s) => s.step === 'push')?.data?.['digest']).toBe(first.digest);

    // What a cluster pulls verifies: the registry's copy, with its referrers, in a fresh store.
    const fresh = envFor(path.join(root, 'home-fresh'));
    const verified = await runCli(['verify', reference, '--plain-http', '--key', pubFile], { env: fresh });
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
    const discovered = await runCli(['discover', reference, '--plain-http', '--json'], { env: fresh });
    expect(JSON.stringify(discovered.json())).toContain('application/spdx+json');

    const second = await runPipeline(await ctx(), { steps: ['pack', 'push'] });
    expect(second.digest).toBe(first.digest);
    expect(second.steps[1]?.data?.['copied']).toBe(0);
  });

  it('ship runs every step through the hand-off: pushed, committed to the GitOps repository, registered', async () => {
    const registry = inject('registry');
    const dir = await project('shipped');
    const home = path.join(root, 'home-ship');
    const bare = path.join(root, 'gitops-ship.git');
    await promisify(execFile)('git', ['init', '-q', '--bare', '-b', 'main', bare]);
    const reference = `${registry}/pipeline/shipped:v1`;
    const base = `oci:${(await busyboxBase()).location}:latest`;
    const run = await runCli(['ship', dir, '-t', reference, '--key', keyFile, '--plain-http', '--modelcar', '--modelcar-base', base, '--gitops', bare, '--cluster-url', 'https://git.example.com/acme/gitops.git', '--json'], { env: envFor(home), cwd: root });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const result = run.json();
    expect(result.steps.map((s: { step: string; status: string }) => `${s.step}:${s.status}`)).toEqual(STEP_NAMES.map((s) => `${s}:passed`));
    const handoff = result.steps.find((s: { step: string }) => s.step === 'handoff');
    // What the cluster pulls is the registry's copy, pinned by the digest that was pushed.
    expect(handoff.data.storageUri).toBe(`oci://${registry}/pipeline/shipped@${result.digest}`);
    expect(handoff.data.registered.modelVersionId).toMatch(/^\d+$/);
    const log = (await promisify(execFile)('git', ['-C', bare, 'log', '--format=%s', 'main'])).stdout.trim().split('\n');
    expect(log).toEqual([expect.stringContaining(result.digest)]);
  }, 180_000);
});

