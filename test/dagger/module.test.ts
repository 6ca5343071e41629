/**
 * The Dagger module, run: no engine can start here, but its pipelines are lazy, so each function's
 * recorded query (exec argv, env, workdir, mounts, secrets at their container paths) is read from the
 * object it returns and replayed on this machine against the CLI from source (./replay.ts), with the
 * loopback registry and a bare GitOps repository. The outcomes are what `dagger call` would give.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { dag, type Directory } from '@dagger.io/dagger';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { BASE_IMAGE, CLI_DIR, MODEL_REGISTRY_TOKEN_ENV, MODELCAR_BASE_LAYOUT, Modelship, MODELSHIP_HOME, PROJECT_DIR, RECORD_PATH, SIGNING_KEY_PATH, STORE_LAYOUT } from '../../dagger/src/index.js';
import { parse as parseYaml } from 'yaml';
import { REGISTRY_TOKEN_ENV } from '../../modules/cli/plumbing/model-registry.js';
import { writeExampleProject } from '../../modules/example/index.js';
import { embeddedDatabasePath, openRegistryDatabase, startRegistryServer } from '../../modules/registry/index.js';
import { generateSigningKeyPair } from '../../modules/sign/index.js';
import { runCli } from '../helpers/cli.js';
import { busyboxBase } from '../modelpack/busybox.js';
import { containerPathOf, modelshipExecs, newSandbox, queryOf, recordedExecs, replay } from './replay.js';

const exec = promisify(execFile);
const module = () => new Modelship(dag.directory());
const PASSWORD = 'correct horse battery staple';

let root: string;
let project: string;
let encryptedKey: string;
let publicKey: string;
/** A local ModelCar base (Debian's busybox as an OCI layout, tag latest): Docker Hub's is out of reach here. */
let baseLayout: string;
const modelcarBase = () => dag.host().directory(baseLayout);

function ops(obj: unknown, name: string) {
  return queryOf(obj).filter((s) => s.operation === name);
}

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'modelship-dagger-'));
  project = path.join(root, 'tiny-chat');
  await writeExampleProject(project);
  expect((await runCli(['init', project])).code).toBe(0);
  // A committed project: the sign step's SLSA provenance names the commit, which trace follows to the source.
  await exec('git', ['init', '-q', '-b', 'main', project]);
  await exec('git', ['-C', project, 'add', '-A']);
  await exec('git', ['-C', project, '-c', 'user.name=modelship', '-c', 'user.email=ci@modelship.dev', 'commit', '-q', '-m', 'tiny-chat']);
  const keys = await runCli(['keys', 'generate', '--encrypt', '-o', path.join(root, 'signing')], { env: { MODELSHIP_KEY_PASSWORD: PASSWORD } });
  expect(keys.code, keys.stderr).toBe(0);
  encryptedKey = await readFile(path.join(root, 'signing.key'), 'utf8');
  publicKey = path.join(root, 'signing.pub');
  baseLayout = (await busyboxBase()).location;
});

describe('Dagger module: the pipelines it records', () => {
  it('builds the CLI on Node 20 with only npm\'s cache shared; the store is the call\'s own', () => {
    const cli = module().cli();
    expect(ops(cli, 'from')[0]?.args).toEqual({ address: BASE_IMAGE });
    const caches = ops(cli, 'withMountedCache').map((s) => s.args!['path']);
    expect(caches).toEqual(['/root/.npm']);
    expect(ops(cli, 'withDirectory')[0]?.args?.['path']).toBe(CLI_DIR);
    expect(recordedExecs(cli).slice(1).map((e) => e.args)).toEqual([['npm', 'ci', '--no-audit', '--no-fund'], ['npm', 'run', 'build']]);
    expect(recordedExecs(module().publish(dag.host().directory(project), 'r:1', dag.setSecret('k', 'x')).container).at(-1)!.env).toMatchObject({ MODELSHIP_HOME, MODELSHIP_BUILDER: 'dagger' });
  });

  it('passes the key\'s password only when given, and secrets only as secrets', () => {
    const src = dag.host().directory(project);
    const without = modelshipExecs(module().publish(src, 'r:1', dag.setSecret('key', 'KEY-TEXT')).container).at(-1)!;
    expect(without.env['MODELSHIP_KEY_PASSWORD']).toBeUndefined();
    expect(without.secretEnv['MODELSHIP_KEY_PASSWORD']).toBeUndefined();
    const withPassword = modelshipExecs(module().publish(src, 'r:1', dag.setSecret('key', 'KEY-TEXT'), dag.setSecret('pw', 'PW-TEXT')).container).at(-1)!;
    expect(withPassword.secretEnv['MODELSHIP_KEY_PASSWORD']).toEqual({ name: 'pw', plaintext: 'PW-TEXT' });
    expect(withPassword.mounts[SIGNING_KEY_PATH]).toEqual({ kind: 'secret', name: 'key', plaintext: 'KEY-TEXT' });
    expect(JSON.stringify([withPassword.args, withPassword.env])).not.toMatch(/KEY-TEXT|PW-TEXT/);
  });

  it('hands keyless signing an OIDC token or GitHub\'s token endpoint, as secrets', () => {
    const src = dag.host().directory(project);
    const token = modelshipExecs(module().ci(src, 'r:1', undefined, undefined, undefined, undefined, '', false, '', '', '', false, false, dag.setSecret('oidc', 'JWT')).container).at(-1)!;
    expect(token.secretEnv['SIGSTORE_ID_TOKEN']).toEqual({ name: 'oidc', plaintext: 'JWT' });
    expect(token.args).toContain('--keyless');
    const run = modelshipExecs(module().publish(src, 'r:1', undefined, undefined, undefined, false, false, undefined, 'https://token.example/x', dag.setSecret('req', 'REQ')).container).at(-1)!;
    expect(run.env['ACTIONS_ID_TOKEN_REQUEST_URL']).toBe('https://token.example/x');
    expect(run.secretEnv['ACTIONS_ID_TOKEN_REQUEST_TOKEN']).toEqual({ name: 'req', plaintext: 'REQ' });
    expect(run.args).toContain('--keyless');
  });

  it('packs the ModelCar the hand-off needs, on the base given as a reference or as a mounted layout', () => {
    const src = dag.host().directory(project);
    const key = dag.setSecret('key', 'k');
    const byDefault = modelshipExecs(module().publish(src, 'r:1', key).container).at(-1)!;
    expect(byDefault.args).toContain('--modelcar');
    expect(byDefault.args.some((a) => a.startsWith('--modelcar-base'))).toBe(false);
    const mirror = modelshipExecs(module().ci(src, 'r:1', key, undefined, undefined, undefined, '', false, '', '', '', false, false, undefined, '', undefined, false, 'mirror.example.com/library/busybox:1.37').container).at(-1)!;
    expect(mirror.args).toEqual(expect.arrayContaining(['--modelcar', '--modelcar-base=mirror.example.com/library/busybox:1.37']));
    const layout = modelshipExecs(module().publish(src, 'r:1', key, undefined, undefined, false, false, undefined, '', undefined, '', false, '', modelcarBase()).container).at(-1)!;
    expect(layout.args).toEqual(expect.arrayContaining(['--modelcar', `--modelcar-base=oci:${MODELCAR_BASE_LAYOUT}:latest`]));
    expect(layout.mounts[MODELCAR_BASE_LAYOUT]).toEqual({ kind: 'directory', hostPath: baseLayout });
  });

  it('takes one admission policy and one model to trace, refusing two rather than dropping one', () => {
    const src = dag.host().directory(project);
    const folder = dag.host().directory(root);
    const file = dag.host().file(publicKey);
    expect(() => module().publish(src, 'r:1', dag.setSecret('k', 'k'), undefined, undefined, false, false, undefined, '', undefined, '', false, '', undefined, folder, file)).toThrow(/give the admission policy once: policy .* or policyFile/);
    expect(() => module().serve(src, 'r:1', false, folder, file)).toThrow(/give the admission policy once/);
    expect(() => module().trace()).toThrow(/trace one model: give storageUri .* or inferenceService/);
    expect(() => module().trace('oci://r/x@sha256:0', file)).toThrow(/trace one model/);
    // Under a policy, serve judges and serves the registry's copy: nothing is packed first.
    const gated = module().serve(src, 'r:1', false, folder);
    expect(recordedExecs(gated).filter((e) => e.args[2] === 'pack')).toEqual([]);
    expect(recordedExecs(module().serve(src, 'r:1')).filter((e) => e.args[2] === 'pack')).toHaveLength(1);
    // The model registry's token is a secret variable, under the name the CLI reads.
    const traced = modelshipExecs(module().trace('oci://r/x@sha256:0', undefined, '', undefined, undefined, '', undefined, '', '', undefined, '', dag.setSecret('mr', 'MR-TOKEN'))).at(-1)!;
    expect(traced.secretEnv[REGISTRY_TOKEN_ENV]).toEqual({ name: 'mr', plaintext: 'MR-TOKEN' });
    expect(MODEL_REGISTRY_TOKEN_ENV).toBe(REGISTRY_TOKEN_ENV);
    expect(JSON.stringify(traced.args)).not.toContain('MR-TOKEN');
  });

  it('returns what it made: the record as a File and the store\'s OCI layout as a Directory', () => {
    const run = module().ci(dag.host().directory(project), 'r:1', dag.setSecret('key', 'k'));
    expect(containerPathOf(run.record)).toBe(RECORD_PATH);
    expect(containerPathOf(run.layout)).toBe(STORE_LAYOUT);
    expect(modelshipExecs(run.container).at(-1)!.redirectStdout).toBe(RECORD_PATH);
  });
});

describe('Dagger module: replayed on this machine', () => {
  it('publish pushes a signed artifact that verifies, and returns the record and the signed layout', async () => {
    const reference = `${inject('registry')}/dagger/tiny-chat:v1`;
    const run = module().publish(dag.host().directory(project), reference, dag.setSecret('key', encryptedKey), dag.setSecret('password', PASSWORD), undefined, true, false, undefined, '', undefined, '', false, '', modelcarBase());
    const sandbox = await newSandbox();
    const execs = await replay(run.container, sandbox);
    expect(execs.at(-1)!.code, execs.at(-1)!.stderr).toBe(0);
    const record = JSON.parse(await readFile(sandbox.hostPath(containerPathOf(run.record)), 'utf8'));
    expect(record.ok).toBe(true);
    expect(record.steps.map((s: { step: string; status: string }) => `${s.step}:${s.status}`)).toEqual(['pack:passed', 'sbom:passed', 'card:passed', 'mof:passed', 'sign:passed', 'verify:passed', 'push:passed']);
    const layout = sandbox.hostPath(containerPathOf(run.layout));
    expect(existsSync(path.join(layout, 'index.json')) && existsSync(path.join(layout, 'oci-layout'))).toBe(true);

    // The registry's copy verifies against the public key, from a fresh store.
    const verified = await runCli(['verify', reference, '--plain-http', '--key', publicKey], { env: { MODELSHIP_HOME: path.join(root, 'fresh') } });
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);

    // handoff, replayed: the manifests committed to a bare GitOps repository.
    const bare = path.join(root, 'gitops.git');
    await exec('git', ['init', '-q', '--bare', '-b', 'main', bare]);
    // publish packed a ModelCar, which KServe mounts here as an image volume (--mount); Flux clones
    // the GitOps repository by a URL of its own (--cluster-url), as handoff requires for a local path.
    // The container reaches the GitOps repository by URL, never by a path of this machine.
    const handed = module().handoff(reference, `file://${bare}`, dag.host().file(publicKey), '', '', undefined, undefined, false, false, 'https://git.example/acme/gitops.git', 'image-volume', '', true);
    const handoffBox = await newSandbox();
    const handoffRun = await replay(handed.container, handoffBox);
    expect(handoffRun.at(-1)!.code, handoffRun.at(-1)!.stderr).toBe(0);
    const log = (await exec('git', ['--git-dir', bare, 'log', '--format=%s', 'main'])).stdout.trim().split('\n');
    expect(log).toHaveLength(1);
    const deployed = (await exec('git', ['--git-dir', bare, 'grep', '-l', record.digest, 'main'])).stdout;
    expect(deployed).toMatch(/overlays\/dev\//);

    // trace, replayed: the InferenceService the hand-off committed, followed back under the admission
    // policy it committed beside it, with the model registry the hand-off recorded the version in.
    const checkout = path.join(root, 'gitops-checkout');
    await exec('git', ['clone', '-q', bare, checkout]);
    const pin = path.join(checkout, (await exec('git', ['-C', checkout, 'ls-files', '*/overlays/dev/inferenceservice-pin.yaml'])).stdout.trim());
    const storageUri = String(parseYaml(await readFile(pin, 'utf8')).spec.predictor.model.storageUri);
    const database = await openRegistryDatabase(embeddedDatabasePath(handoffBox.hostPath(MODELSHIP_HOME)));
    const server = await startRegistryServer({ database });
    try {
      const traced = module().trace('', dag.host().file(pin), '', dag.host().directory(checkout), undefined, 'dev', undefined, '', '', undefined, server.url, dag.setSecret('token', 'registry-token'), '', true);
      const traceBox = await newSandbox();
      const traceRun = await replay(traced, traceBox);
      expect(traceRun.at(-1)!.code, traceRun.at(-1)!.stdout + traceRun.at(-1)!.stderr).toBe(0);
      const json = JSON.parse(await readFile(traceBox.hostPath(containerPathOf(traced)), 'utf8'));
      expect(json).toMatchObject({ ok: true, exitCode: 0, storageUri });
      // The policy came from --policy (the mounted folder, mapped here to the checkout), not found beside the file.
      expect(traceRun.at(-1)!.args).toEqual(expect.arrayContaining([`--policy=${checkout}`, '--env=dev']));
      expect(json.links.map((l: { name: string; status: string }) => `${l.name}:${l.status}`)).toEqual(['artifact:ok', 'registry-record:ok', 'signatures:ok', 'sbom:ok', 'mof:ok', 'source:ok']);
      expect(json.links.find((l: { name: string }) => l.name === 'signatures').summary).toBe(`admitted by the cluster's policy (kyverno tiny-chat-dev-signed-model in ${checkout})`);
    } finally {
      await server.close();
      database.close();
    }

    // A broken link fails the call with the CLI's exit status and names the link on stderr: here the
    // storageUri, with the signer's key, and no model registry that records the digest.
    const unregistered = module().trace(storageUri, undefined, '', undefined, undefined, '', dag.host().file(publicKey), '', '', undefined, '', undefined, '', true);
    const broken = await replay(unregistered, await newSandbox());
    expect(broken.at(-1)!.code, broken.at(-1)!.stderr).toBe(4);
    expect(broken.at(-1)!.stderr).toMatch(/^error: trace broken at registry-record \(missing, exit 4\): no model version in .* records sha256:[0-9a-f]{64}: not registered/m);
    expect(JSON.parse(broken.at(-1)!.stdout)).toMatchObject({ ok: false, brokenLink: 'registry-record', exitCode: 4 });

    // publish under the committed policy: the signed copy is judged at verify before the push; a
    // policy file naming another key stops it there, with nothing pushed.
    const policyFile = (await exec('git', ['-C', checkout, 'ls-files', '*/policy/dev/clusterpolicy.yaml'])).stdout.trim();
    const original = await readFile(path.join(checkout, policyFile), 'utf8');
    const pem = /-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----/.exec(original)![0];
    const indent = /\n( *)-----END PUBLIC KEY-----/.exec(original)?.[1] ?? '';
    const foreign = path.join(root, 'foreign-policy.yaml');
    await writeFile(foreign, original.replace(pem, generateSigningKeyPair('p256').publicKeyPem.trim().split('\n').join(`\n${indent}`)));
    const publishAs = (ref: string, policy?: Directory, file?: string) =>
      module().publish(dag.host().directory(project), ref, dag.setSecret('key', encryptedKey), dag.setSecret('password', PASSWORD), undefined, true, false, undefined, '', undefined, '', false, '', modelcarBase(), policy, file ? dag.host().file(file) : undefined, policy ? 'dev' : '');
    const admitted = await replay(publishAs(`${inject('registry')}/dagger/tiny-chat:v2`, dag.host().directory(checkout)).container, await newSandbox());
    expect(admitted.at(-1)!.code, admitted.at(-1)!.stderr).toBe(0);
    expect(JSON.parse(admitted.at(-1)!.stdout).steps.find((x: { step: string }) => x.step === 'verify').summary).toMatch(/the cluster's policy tiny-chat-dev-signed-model admits /);
    const refusedRef = `${inject('registry')}/dagger/tiny-chat:v3`;
    const refused = await replay(publishAs(refusedRef, undefined, foreign).container, await newSandbox());
    expect(refused.at(-1)!.code).toBe(8);
    expect(refused.at(-1)!.args).toContain(`--policy=${foreign}`);
    expect(JSON.parse(refused.at(-1)!.stdout)).toMatchObject({ ok: false, failed: 'verify' });
    expect((await runCli(['inspect', refusedRef, '--plain-http'])).code).not.toBe(0);
  }, 400_000);

  it('never pushes unsigned: without a key or token, publish and ci refuse before any step', async () => {
    const reference = `${inject('registry')}/dagger/unsigned:v1`;
    const src = dag.host().directory(project);
    const publish = module().publish(src, reference, undefined, undefined, undefined, true, false, undefined, '', undefined, '', false, '', modelcarBase());
    const ci = module().ci(src, reference, undefined, undefined, undefined, undefined, '', false, '', '', '', true, false, undefined, '', undefined, false, '', modelcarBase());
    for (const run of [publish, ci]) {
      const execs = await replay(run.container, await newSandbox());
      expect(execs.at(-1)!.code).toBe(3);
      expect(execs.at(-1)!.stderr).toMatch(/SIGN_KEY_MISSING|refusing to push .* unsigned: no signing key or identity/);
    }
    expect((await runCli(['inspect', reference, '--plain-http'])).code).not.toBe(0);
  }, 120_000);

  it('an encrypted key without its password fails with the password hint', async () => {
    const run = module().publish(dag.host().directory(project), `${inject('registry')}/dagger/no-password:v1`, dag.setSecret('key', encryptedKey), undefined, undefined, true, false, undefined, '', undefined, '', false, '', modelcarBase());
    const execs = await replay(run.container, await newSandbox());
    expect(execs.at(-1)!.code).toBe(3);
    expect(execs.at(-1)!.stderr).toMatch(/is encrypted: set MODELSHIP_KEY_PASSWORD/);
  }, 120_000);

  it('declares the module as the Dagger engine loads it, with the argv builder in its context', () => {
    const repo = path.resolve(import.meta.dirname, '..', '..');
    const manifest = JSON.parse(readFileSync(path.join(repo, 'dagger.json'), 'utf8'));
    expect(manifest).toMatchObject({ name: 'modelship', sdk: { source: 'typescript' }, source: 'dagger' });
    // The module imports modules/cli/argv.ts at run time: the engine loads only what include names.
    expect(manifest.include).toContain('modules/cli/argv.ts');
    const pkg = JSON.parse(readFileSync(path.join(repo, 'dagger', 'package.json'), 'utf8'));
    const rootPkg = JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8'));
    expect(pkg.dependencies['@dagger.io/dagger']).toBe(rootPkg.devDependencies['@dagger.io/dagger']);
    expect(manifest.engineVersion).toBe(`v${pkg.dependencies['@dagger.io/dagger']}`);
    expect(PROJECT_DIR).toBe('/project');
  });
});
