/**
 * The GitHub Actions door in a simulated runner: the pipeline action's entry runs as the runner runs
 * it (INPUT_* and GITHUB_* variables, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files, the OIDC token
 * endpoint), signing keylessly against the loopback Sigstore mock and pushing to the loopback registry.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { errorCommand } from '../../actions/pipeline/main.js';
import { runQuickstart } from '../../modules/pipeline/index.js';
import { generateSigningKeyPair } from '../../modules/sign/index.js';
import { writeExampleProject } from '../../modules/example/index.js';
import { runCli } from '../helpers/cli.js';
import { startRegistry, type RunningRegistry } from '../helpers/registry.js';
import { busyboxBase } from '../modelpack/busybox.js';
import { idToken, startMockSigstore, type MockSigstore } from '../sign/artifact-sigstore.js';

const exec = promisify(execFile);
const repoRoot = path.resolve(import.meta.dirname, '..', '..');
const actionDir = path.join(repoRoot, 'actions', 'pipeline');
const TSX = path.join(repoRoot, 'node_modules', '.bin', 'tsx');
const MODELSHIP_BIN = `${TSX} ${path.join(repoRoot, 'test', 'infer', 'run-cli.ts')}`;
const ISSUER = 'https://token.actions.githubusercontent.com';
const IDENTITY = 'ci@acme.example';

let sigstore: MockSigstore;
let oidc: Server;
let oidcURL: string;
let root: string;
const tokenRequests: string[] = [];

beforeAll(async () => {
  sigstore = await startMockSigstore();
  // GitHub's token endpoint: answers {"value": <JWT>} to the runner's bearer token, for the asked audience.
  oidc = createServer((req, res) => {
    tokenRequests.push(`${req.headers.authorization} ${req.url}`);
    if (req.headers.authorization !== 'Bearer runner-token') return void res.writeHead(401).end();
    const audience = new URL(req.url!, 'http://x').searchParams.get('audience');
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ value: idToken({ iss: ISSUER, sub: IDENTITY, email: IDENTITY, email_verified: true, aud: audience }) }));
  });
  await new Promise<void>((resolve) => oidc.listen(0, '127.0.0.1', resolve));
  oidcURL = `http://127.0.0.1:${(oidc.address() as AddressInfo).port}/token?api-version=2.0`;
  root = await mkdtemp(path.join(tmpdir(), 'modelship-action-'));
});

afterAll(() => {
  sigstore?.close();
  oidc?.close();
});

/** Runs the action's entry with node, as `runs.using: node24` does, in the runner's environment. */
async function runAction(inputs: Record<string, string>, extra: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string; output: string; summary: string }> {
  const outputFile = path.join(root, `output-${tokenRequests.length}-${Date.now()}`);
  const summaryFile = `${outputFile}.md`;
  await writeFile(outputFile, '');
  await writeFile(summaryFile, '');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'],
    HOME: root,
    GITHUB_ACTIONS: 'true',
    CI: 'true',
    GITHUB_REPOSITORY: 'acme/tiny-chat',
    GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
    GITHUB_WORKSPACE: root,
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    ACTIONS_ID_TOKEN_REQUEST_URL: oidcURL,
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'runner-token',
    MODELSHIP_BIN,
    ...Object.fromEntries(Object.entries(inputs).map(([k, v]) => [`INPUT_${k.toUpperCase()}`, v])),
    ...extra,
  };
  const done = await exec(TSX, [path.join(repoRoot, 'test', 'actions', 'run-action.ts')], { cwd: root, env }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
  return { ...done, output: await readFile(outputFile, 'utf8'), summary: await readFile(summaryFile, 'utf8') };
}

/** GITHUB_OUTPUT as the runner reads it: NAME=VALUE lines and NAME<<DELIMITER blocks. */
function outputs(file: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = file.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const block = /^([^=<]+)<<(.+)$/.exec(lines[i]!);
    if (block) {
      const end = lines.indexOf(block[2]!, i + 1);
      out[block[1]!] = lines.slice(i + 1, end).join('\n');
      i = end;
    } else if (lines[i]!.includes('=')) out[lines[i]!.slice(0, lines[i]!.indexOf('='))] = lines[i]!.slice(lines[i]!.indexOf('=') + 1);
  }
  return out;
}

describe('actions/pipeline', () => {
  it('declares every input its entry reads, and runs on node24', async () => {
    const action = parseYaml(await readFile(path.join(actionDir, 'action.yml'), 'utf8'));
    expect(action.runs).toEqual({ using: 'node24', main: 'main.mjs' });
    const source = await readFile(path.join(actionDir, 'main.ts'), 'utf8');
    const read = [...source.matchAll(/input\('([a-z-]+)'/g)].map((m) => m[1]);
    expect(new Set(read)).toEqual(new Set(Object.keys(action.inputs)));
    const setup = parseYaml(await readFile(path.join(repoRoot, 'actions', 'setup', 'action.yml'), 'utf8'));
    expect(setup.runs.using).toBe('composite');
  });

  it('signs keylessly with the job identity, pushes, and writes the outputs and job summary', async () => {
    const project = path.join(root, 'tiny-chat');
    await writeExampleProject(project);
    expect((await runCli(['init', project])).code).toBe(0);
    const reference = `${inject('registry')}/actions/tiny-chat:v1`;
    const env = {
      MODELSHIP_HOME: path.join(root, 'home'),
      MODELSHIP_FULCIO_URL: sigstore.fulcioURL,
      MODELSHIP_REKOR_URL: sigstore.rekorURL,
      MODELSHIP_REKOR_ENTRY_TYPE: 'intoto',
    };
    const run = await runAction({ project, reference, require: '3', 'plain-http': 'true' }, env);
    expect(run.code, run.stdout).toBe(0);
    expect(tokenRequests.some((r) => r.startsWith('Bearer runner-token') && r.includes('audience=sigstore'))).toBe(true);
    const digest = outputs(run.output)['digest'];
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(digest).toBeDefined();
    expect(outputs(run.output)).toMatchObject({ reference, 'mof-class': '3' });
    expect(run.summary).toContain(`## modelship: ${reference} shipped`);
    expect(run.summary).toContain('![MOF Class III](https://img.shields.io/badge/MOF-Class_III-brightgreen)');
    expect(run.summary).toContain(`**Digest:** \`${digest}\``);
    expect(run.summary).toMatch(/\*\*Signature:\*\* passed: signed the local copy with keyless \(Sigstore\)/);
    expect(run.summary).toMatch(/\*\*SBOM:\*\* CycloneDX 1\.6 and SPDX 3\.0\.1, 7 files, 0 dependencies/);
    expect(run.summary).toMatch(/\| push \| ✅ passed \|/);

    // The registry's copy carries a keyless signature of the job's identity, as a cluster will check it.
    const rootFile = path.join(root, 'trusted_root.json');
    await writeFile(rootFile, JSON.stringify(sigstore.trustedRoot));
    const verified = await runCli(['verify', reference, '--plain-http', '--cert-identity', IDENTITY, '--cert-oidc-issuer', ISSUER, '--trusted-root', rootFile], { env: { MODELSHIP_HOME: path.join(root, 'fresh') } });
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
  }, 240_000);

  it('fails the step with the gate, says what to fix in the summary, and annotates the error', async () => {
    const project = path.join(root, 'no-card');
    await writeExampleProject(project);
    expect((await runCli(['init', project])).code).toBe(0);
    const spec = path.join(project, 'modelship.yaml');
    await writeFile(spec, (await readFile(spec, 'utf8')).replace(/^ {2}- DATACARD\.md\n/m, ''));
    const run = await runAction({ project, reference: `${inject('registry')}/actions/no-card:v1`, require: '3', signing: 'none', 'plain-http': 'true' }, { MODELSHIP_HOME: path.join(root, 'home2') });
    expect(run.code).toBe(9);
    expect(run.stdout).toMatch(/::error title=modelship mof::.*GATE_FAILED/);
    expect(run.summary).toMatch(/failed at mof/);
    expect(run.summary).toMatch(/\*\*To fix:\*\*\n- add Data card \(missing\)/);
    expect(outputs(run.output)['mof-class']).toBe('0');
  }, 240_000);
});

describe('actions/pipeline signing and the runner\'s protocol', () => {
  it('signing: none pushes unsigned even with an OIDC token and a key at hand', async () => {
    const project = path.join(root, 'unsigned');
    await writeExampleProject(project);
    expect((await runCli(['init', project])).code).toBe(0);
    const before = tokenRequests.length;
    const run = await runAction({ project, reference: `${inject('registry')}/actions/unsigned:v1`, signing: 'none', 'plain-http': 'true' }, { MODELSHIP_HOME: path.join(root, 'home-unsigned'), MODELSHIP_SIGNING_KEY: path.join(root, 'no-such.key') });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/skipped sign .*not signed: --no-sign/);
    expect(run.stdout).toMatch(/passed {2}push/);
    expect(tokenRequests.length).toBe(before);
  }, 240_000);

  it('signing: key without a key, or keyless without a token, refuses before anything is pushed', async () => {
    const reference = `${inject('registry')}/actions/refused:v1`;
    const noKey = await runAction({ project: root, reference, signing: 'key', 'plain-http': 'true' }, { MODELSHIP_HOME: path.join(root, 'home-refused') });
    expect(noKey.code).toBe(2);
    expect(noKey.stdout).toMatch(/^::error title=modelship::signing: key needs the key: set the input "key"/m);
    const noToken = await runAction({ project: root, reference, 'plain-http': 'true' }, { MODELSHIP_HOME: path.join(root, 'home-refused'), ACTIONS_ID_TOKEN_REQUEST_URL: '', ACTIONS_ID_TOKEN_REQUEST_TOKEN: '' });
    expect(noToken.code).toBe(2);
    expect(noToken.stdout).toMatch(/signing: keyless needs the job's OIDC token: add "permissions: id-token: write"/);
    const inspected = await runCli(['inspect', reference, '--plain-http']);
    expect(inspected.code).not.toBe(0);
  });

  it('takes a key given as PEM text (a secret in the environment) as the key, and never prints it', async () => {
    const keys = await runCli(['keys', 'generate', '-o', path.join(root, 'text-key')], { env: { MODELSHIP_KEY_PASSWORD: '' } });
    expect(keys.code).toBe(0);
    const pem = await readFile(path.join(root, 'text-key.key'), 'utf8');
    const project = path.join(root, 'text-key-project');
    await writeExampleProject(project);
    expect((await runCli(['init', project])).code).toBe(0);
    const reference = `${inject('registry')}/actions/text-key:v1`;
    const run = await runAction({ project, reference, signing: 'key', 'plain-http': 'true' }, { MODELSHIP_HOME: path.join(root, 'home-text-key'), MODELSHIP_SIGNING_KEY: pem, MODELSHIP_KEY_PASSWORD: '' });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/passed {2}sign .*signed the local copy with key /);
    const body = pem.split('\n').filter((l) => l && !l.startsWith('-----'));
    const printed = (run.stdout + run.stderr + run.summary).split('\n').filter((l) => !l.startsWith('::add-mask::')).join('\n');
    for (const line of body) expect(printed).not.toContain(line);
    const verified = await runCli(['verify', reference, '--plain-http', '--key', path.join(root, 'text-key.pub')], { env: { MODELSHIP_HOME: path.join(root, 'fresh-text-key') } });
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);

    // A broken key given as text: the error names where it came from, never its content.
    const secret = 'MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgSECRETSECRET';
    const broken = await runAction({ project, reference: `${inject('registry')}/actions/broken-key:v1`, signing: 'key', 'plain-http': 'true' }, { MODELSHIP_HOME: path.join(root, 'home-text-key'), MODELSHIP_SIGNING_KEY: `-----BEGIN PRIVATE KEY-----\n${secret}\n-----END PRIVATE KEY-----\n` });
    expect(broken.code).toBe(3);
    expect(broken.stdout).toMatch(/::error title=modelship::SIGN_KEY_INVALID: .* is not a readable PEM private key/);
    const shown = (broken.stdout + broken.stderr).split('\n').filter((l) => !l.startsWith('::add-mask::')).join('\n');
    expect(shown).not.toContain(secret);
  }, 240_000);

  it('escapes workflow-command data, so a multi-line message stays one annotation', () => {
    expect(errorCommand('50% done\r\nsecond line', 'modelship mof: gate')).toBe('::error title=modelship mof%3A gate::50%25 done%0D%0Asecond line');
  });

  it('runs from a checkout whose path has a space, and fails the step when the action is not built', async () => {
    const checkout = path.join(root, 'a checkout with spaces');
    await mkdir(path.join(checkout, 'actions', 'pipeline'), { recursive: true });
    await copyFile(path.join(actionDir, 'main.mjs'), path.join(checkout, 'actions', 'pipeline', 'main.mjs'));
    const entry = path.join(checkout, 'actions', 'pipeline', 'main.mjs');
    const unbuilt = await exec(process.execPath, [entry]).then(() => ({ code: 0, stdout: '' }), (e: { code: number; stdout: string }) => e);
    expect(unbuilt.code).toBe(1);
    expect(unbuilt.stdout).toMatch(/::error title=modelship::the pipeline action is not built/);
    await mkdir(path.join(checkout, 'dist', 'actions', 'pipeline'), { recursive: true });
    await writeFile(path.join(checkout, 'dist', 'actions', 'pipeline', 'main.js'), 'export function run() { console.log("ran"); return 7; }\n');
    const built = await exec(process.execPath, [entry]).then(() => ({ code: 0, stdout: '' }), (e: { code: number; stdout: string }) => e);
    expect(built).toMatchObject({ code: 7, stdout: 'ran\n' });
  });
});

describe('actions/pipeline under the cluster\'s policy, and trace', () => {
  // A registry of its own: the quickstart's ModelCar digest is reproducible, and other files' runs would sign it too.
  let own: RunningRegistry;
  let qs: { dir: string; registry: string; digest: string; pin: string; checkout: string; project: string; foreign: string; home: string };
  afterAll(async () => own?.stop());

  beforeAll(async () => {
    own = await startRegistry();
    const dir = path.join(root, 'qs');
    const result = await runQuickstart({ dir, env: {}, cwd: dir, registry: own.host, plainHttp: true, modelcar: { target: await busyboxBase(), reference: 'latest' } });
    expect(result.ok, JSON.stringify(result.steps, null, 1)).toBe(true);
    const checkout = path.join(dir, 'gitops');
    await exec('git', ['clone', '-q', path.join(dir, 'gitops.git'), checkout]);
    // The dev policy the hand-off committed, naming another key: what a cluster trusting someone else enforces.
    const original = await readFile(path.join(checkout, 'models/tiny-chat/policy/dev/clusterpolicy.yaml'), 'utf8');
    const pem = /-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----/.exec(original)![0];
    const indent = /\n( *)-----END PUBLIC KEY-----/.exec(original)?.[1] ?? '';
    const foreign = path.join(dir, 'foreign-policy.yaml');
    await writeFile(foreign, original.replace(pem, generateSigningKeyPair('p256').publicKeyPem.trim().split('\n').join(`\n${indent}`)));
    qs = {
      dir, registry: own.host, digest: result.digest!, checkout, foreign,
      pin: path.join(checkout, 'models/tiny-chat/overlays/dev/inferenceservice-pin.yaml'),
      project: path.join(dir, 'tiny-chat'),
      home: path.join(dir, 'home'),
    };
  }, 300_000);

  it('trace: follows the hand-off\'s InferenceService under the policy input through every link, with the digest as output', async () => {
    const run = await runAction({ trace: qs.pin, policy: qs.checkout, 'policy-env': 'dev', 'plain-http': 'true' }, { MODELSHIP_HOME: qs.home });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(outputs(run.output)).toMatchObject({ digest: qs.digest, 'broken-link': '' });
    for (const name of ['artifact', 'registry-record', 'signatures', 'sbom', 'mof', 'source']) expect(run.stdout).toMatch(new RegExp(`^ok +${name} `, 'm'));
    expect(run.stdout).toMatch(new RegExp(`^ok +signatures +admitted by the cluster's policy \\(kyverno tiny-chat-dev-signed-model in ${qs.checkout.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\)$`, 'm'));
    expect(run.summary).toMatch(/^## modelship trace: oci:\/\/.*@sha256:[0-9a-f]{64} complete$/m);
    expect(run.summary).toMatch(/^\| mof \| ✅ ok \| Class III/m);
    expect(run.stdout).not.toMatch(/::error/);
  }, 120_000);

  it('trace fails the step closed: refused by the policy (8), nothing to check against (8), not registered (4)', async () => {
    const refused = await runAction({ trace: qs.pin, policy: qs.foreign, 'plain-http': 'true' }, { MODELSHIP_HOME: qs.home });
    expect(refused.code, refused.stdout + refused.stderr).toBe(8);
    expect(refused.stdout).toMatch(/^::error title=modelship trace signatures::POLICY_DENIED: the cluster's admission policy refuses it: tiny-chat-dev-signed-model: verify-model-signature: failed to verify image /m);
    expect(refused.stderr).toMatch(/^error: trace broken at signatures \(failed, exit 8\)/m);
    expect(outputs(refused.output)).toMatchObject({ digest: qs.digest, 'broken-link': 'signatures' });
    expect(refused.summary).toMatch(/broken at signatures/);
    expect(refused.summary).toMatch(/^- \*\*Broken:\*\* signatures \(POLICY_DENIED, exit 8\)$/m);

    // The storageUri alone: no policy beside it and none given, so the signatures stay unchecked.
    const storageUri = `oci://${qs.registry}/quickstart/tiny-chat@${qs.digest}`;
    const unchecked = await runAction({ trace: storageUri, 'plain-http': 'true' }, { MODELSHIP_HOME: qs.home });
    expect(unchecked.code).toBe(8);
    expect(unchecked.stdout).toMatch(/^::error title=modelship trace signatures::TRACE_UNVERIFIED: /m);

    // Trusting the signer's key, with a model registry that has no record of the digest.
    const unregistered = await runAction({ trace: storageUri, 'public-key': path.join(qs.dir, 'signing.pub'), 'plain-http': 'true' }, { MODELSHIP_HOME: path.join(qs.dir, 'empty-home') });
    expect(unregistered.code).toBe(4);
    expect(unregistered.stdout).toMatch(/^::error title=modelship trace registry-record::TRACE_NOT_REGISTERED: no model version in .* records sha256:/m);
    expect(unregistered.stdout).toMatch(/^ok +signatures +\d+ signatures? verify against --key /m);

    // One step ships or traces; both at once is refused before anything runs.
    const both = await runAction({ trace: qs.pin, reference: `${qs.registry}/quickstart/tiny-chat:v9` }, { MODELSHIP_HOME: qs.home });
    expect(both.code).toBe(2);
    expect(both.stdout).toMatch(/^::error title=modelship::input "trace" traces a deployed model, and "reference" ship one/m);
  }, 180_000);

  it('ship judges the signed copy by the policy input before pushing: admitted it pushes, refused it stops at verify', async () => {
    const env = { MODELSHIP_HOME: path.join(qs.dir, 'ship-home'), MODELSHIP_SIGNING_KEY: path.join(qs.dir, 'signing.key'), MODELSHIP_KEY_PASSWORD: '' };
    const admitted = `${qs.registry}/quickstart/tiny-chat:v2`;
    const run = await runAction({ project: qs.project, reference: admitted, signing: 'key', policy: qs.checkout, 'policy-env': 'dev', 'plain-http': 'true' }, env);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^passed +verify .*the cluster's policy tiny-chat-dev-signed-model admits /m);
    expect(run.stdout).toMatch(/^passed +push /m);

    const refusedRef = `${qs.registry}/quickstart/tiny-chat:v3`;
    const refused = await runAction({ project: qs.project, reference: refusedRef, signing: 'key', policy: qs.foreign, 'plain-http': 'true' }, env);
    expect(refused.code, refused.stdout + refused.stderr).toBe(8);
    expect(refused.stdout).toMatch(/^::error title=modelship verify::.*tiny-chat-dev-signed-model: verify-model-signature: failed to verify image/m);
    expect(refused.summary).toMatch(/failed at verify/);
    expect((await runCli(['inspect', refusedRef, '--plain-http'])).code).not.toBe(0);
  }, 240_000);
});

describe('reusable workflow', () => {
  it('runs the actions, or the Dagger module\'s ci function with arguments it takes', async () => {
    const workflow = parseYaml(await readFile(path.join(repoRoot, '.github', 'workflows', 'modelship.yml'), 'utf8'));
    expect(Object.keys(workflow.on)).toEqual(['workflow_call']);
    const cliSteps = workflow.jobs.cli.steps.map((s: { uses?: string }) => s.uses).filter(Boolean);
    expect(cliSteps).toEqual(['actions/checkout@v4', 'actions/checkout@v4', './.modelship/actions/setup', './.modelship/actions/pipeline']);
    expect(workflow.jobs.cli.permissions['id-token']).toBe('write');
    const dagger = workflow.jobs.dagger.steps.find((s: { uses?: string }) => s.uses?.startsWith('dagger/dagger-for-github@'));
    expect(dagger.with.verb).toBe('call');
    // Expressions (${{ ... }}) hold spaces: one token each.
    const [fn, ...rest] = String(dagger.with.args).replace(/\$\{\{[^}]*\}\}/g, 'EXPR').trim().split(/\s+/);
    expect(fn).toBe('ci');
    const flags = rest.slice(0, rest.findIndex((t) => !t.startsWith('--')));
    // Each flag names a parameter of Modelship.ci (kebab-case, as dagger call spells them).
    const source = await readFile(path.join(repoRoot, 'dagger', 'src', 'index.ts'), 'utf8');
    const params = /\n {2}ci\(([^)]*)\)/.exec(source)![1]!.split(',').map((p) => p.trim().split(/[?:= ]/)[0]!.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)).filter(Boolean);
    for (const flag of flags) expect(params).toContain(flag.slice(2).split('=')[0]);
    // What the cli job has, the dagger job has: pull request, MOF requirement, registry login, keyless
    // signing through the runner's OIDC endpoint, and the digest output (read from the exported record).
    const names = flags.map((f) => f.slice(2).split('=')[0]);
    expect(names).toEqual(expect.arrayContaining(['pull-request', 'require', 'docker-config', 'keyless', 'actions-id-token-request-url', 'actions-id-token-request-token', 'github-token']));
    expect(rest.slice(flags.length, flags.length + 2)).toEqual(['record', 'export']);
    expect(workflow.jobs.dagger.permissions['id-token']).toBe('write');
    expect(workflow.jobs.dagger.outputs.digest).toMatch(/steps\.record\.outputs\.digest/);
    expect(workflow.on.workflow_call.outputs.digest.value).toMatch(/jobs\.dagger\.outputs\.digest/);
  });
});
