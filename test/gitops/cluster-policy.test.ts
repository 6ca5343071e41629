/**
 * `serve --policy`: the admission policy a real hand-off committed to a real git repository, read
 * back and applied to artifacts in the real test registry signed with real keys, refusing with the
 * reason Kyverno or policy-controller would give.
 */
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { kyvernoImageMatches, loadClusterPolicy, MOF_MINIMUM_ANNOTATION, policyControllerImageMatches } from '../../modules/gitops/index.js';
import { writeExampleProject } from '../../modules/example/index.js';
import { runCli } from '../helpers/cli.js';
import { busyboxBase } from '../modelpack/busybox.js';
import { tempDir, writeTree } from '../modelpack/helpers.js';
import { bareRepository, pushModel, signModel, type PushedModel, type SigningKeys } from './helpers.js';

const registry = inject('registry');
const REPO = 'policy/tiny-chat';

interface KeyFiles { key: string; pub: string; publicPem: string }
let right: KeyFiles;
let other: KeyFiles;
let project: string;
let base: string;
/** The example project (MOF Class III), shipped signed by the right key: what the hand-off deployed. */
let signed: { reference: string; digest: string };
let foreign: PushedModel;
let unsigned: PushedModel;
let unclassified: PushedModel;
let gitops: string;
let bareGitops: string;
let cwd: string;
const KYVERNO_FILE = 'models/tiny-chat/policy/dev/clusterpolicy.yaml';
const PC_FILE = 'models/tiny-chat/policy/staging/clusterimagepolicy.yaml';

const env = () => ({ MODELSHIP_HOME: join(cwd, 'home'), MODELSHIP_KEY_PASSWORD: '' });
const cli = (args: string[], home = join(cwd, 'home')) => runCli([...args, '--plain-http', '--json'], { cwd, env: { ...env(), MODELSHIP_HOME: home } });

async function keyFiles(name: string): Promise<KeyFiles> {
  const prefix = join(cwd, name);
  expect((await runCli(['keys', 'generate', '-o', prefix], { env: { MODELSHIP_KEY_PASSWORD: '' } })).code).toBe(0);
  return { key: `${prefix}.key`, pub: `${prefix}.pub`, publicPem: await readFile(`${prefix}.pub`, 'utf8') };
}

const signer = (k: KeyFiles): SigningKeys => ({ privateKey: createPrivateKey(readFileSync(k.key, 'utf8')), publicPem: k.publicPem, publicFile: k.pub });

beforeAll(async () => {
  cwd = await tempDir('policy-cli-');
  [right, other] = [await keyFiles('right'), await keyFiles('other')];
  project = join(cwd, 'tiny-chat');
  await writeExampleProject(project);
  expect((await runCli(['init', project])).code).toBe(0);
  base = `oci:${(await busyboxBase()).location}:latest`;
  const shipped = await cli(['ship', project, '-t', `${registry}/${REPO}:v1`, '--key', right.key, '--modelcar', '--modelcar-base', base, '--require', '3', '--no-handoff']);
  expect(shipped.code, shipped.stdout + shipped.stderr).toBe(0);
  signed = { reference: `${registry}/${REPO}:v1`, digest: shipped.json().digest };
  foreign = await pushModel(registry, { format: 'gguf', modelcar: true, repository: REPO, tag: 'v2', seed: 2 });
  unsigned = await pushModel(registry, { format: 'gguf', modelcar: true, repository: REPO, tag: 'v3', seed: 3 });
  unclassified = await pushModel(registry, { format: 'gguf', modelcar: true, repository: REPO, tag: 'v4', seed: 4 });
  await signModel(foreign, signer(other));
  await signModel(unclassified, signer(right));
  const bare = await bareRepository();
  // The hand-off the cluster follows: Kyverno for dev, policy-controller for staging, both gated on MOF Class III.
  for (const [environment, kind] of [['dev', 'kyverno'], ['staging', 'policy-controller']] as const) {
    const run = await cli(['handoff', signed.reference, '--gitops', bare, '--cluster-url', 'https://git.example.com/acme/gitops.git', '--key', right.pub, '--name', 'tiny-chat', '--policy', kind, '--env', environment, '--require', '3']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
  }
  bareGitops = bare;
  gitops = join(await tempDir('policy-clone-'), 'gitops');
  await execa('git', ['clone', '-q', bare, gitops]);
}, 240_000);

describe('the policy in the GitOps repository', () => {
  it('records the MOF minimum the hand-off required on the policy it writes, and reads both controllers back', async () => {
    const kyverno = parse(await readFile(join(gitops, KYVERNO_FILE), 'utf8'));
    expect(kyverno.metadata.annotations[MOF_MINIMUM_ANNOTATION]).toBe('3');
    const dev = await loadClusterPolicy(gitops, { env: 'dev' });
    expect(dev.rules).toEqual([
      expect.objectContaining({
        controller: 'kyverno', policy: 'tiny-chat-dev-signed-model', rule: 'verify-model-signature',
        source: { file: KYVERNO_FILE, kind: 'ClusterPolicy', field: 'spec.rules[0].verifyImages[0]', env: 'dev' },
        images: [`${registry}/${REPO}:*`, `${registry}/${REPO}@*`],
        form: 'sigstore-bundle', mofMinimum: 3,
        signerSets: [{ required: 1, signers: [{ kind: 'key', publicKeyPem: right.publicPem, path: '.attestors[0].entries[0].keys' }] }],
      }),
    ]);
    const staging = await loadClusterPolicy(gitops, { env: 'staging' });
    expect(staging.rules).toEqual([
      expect.objectContaining({
        controller: 'policy-controller', policy: 'tiny-chat-staging-signed-model', form: 'simple-signing', mofMinimum: 3,
        signerSets: [{ required: 1, signers: [{ kind: 'key', publicKeyPem: right.publicPem, path: 'modelship-signer' }] }],
      }),
    ]);
  });

  it('asks for --env when the repository holds several environments, naming them', async () => {
    const run = await cli(['serve', signed.reference, '--policy', gitops, '--dryrun']);
    expect(run.code).toBe(2);
    expect(run.json().error).toMatchObject({ code: 'POLICY_ENV_REQUIRED', message: expect.stringContaining('(dev, staging): choose one with --env dev') });
  });
});

describe('serve --policy', () => {
  for (const env of ['dev', 'staging']) {
    it(`${env}: serves the artifact signed by the policy's key, pinned to the digest it admitted`, async () => {
      const run = await cli(['serve', signed.reference, '--policy', gitops, '--env', env, '--dryrun']);
      expect(run.code, run.stdout + run.stderr).toBe(0);
      const image = `${registry}/${REPO}@${signed.digest}`;
      expect(run.json()).toMatchObject({ engine: 'native', reference: image, policy: { ok: true, image, covered: true, mof: { require: 3, passed: true } } });
      expect(run.stderr).toContain(`policy: admitted by ${env === 'dev' ? 'kyverno' : 'policy-controller'} tiny-chat-${env}-signed-model`);
    });
  }

  it("refuses an artifact signed by another key with Kyverno's reason", async () => {
    const run = await cli(['serve', foreign.reference, '--policy', gitops, '--env', 'dev', '--dryrun']);
    expect(run.code).toBe(8);
    const image = `${registry}/${REPO}@${foreign.pulled.digest}`;
    // Kyverno v1.19.0 pkg/engine/internal/imageverifier.go + pkg/image/verifiers/cpol/cosign/verifier.go (type: SigstoreBundle).
    expect(run.json().error).toMatchObject({
      code: 'POLICY_DENIED',
      message: `the cluster's policy refuses ${image}: tiny-chat-dev-signed-model: verify-model-signature: failed to verify image ${image}: .attestors[0].entries[0].keys: sigstore bundle verification failed: no matching signatures found`,
    });
  });

  it("refuses an artifact signed by another key with policy-controller's reason", async () => {
    const run = await cli(['serve', foreign.reference, '--policy', gitops, '--env', 'staging', '--dryrun']);
    expect(run.code).toBe(8);
    const image = `${registry}/${REPO}@${foreign.pulled.digest}`;
    // policy-controller v0.15.1 pkg/webhook/validator.go; cosign v3 pkg/cosign/verify.go "no matching signatures".
    expect(run.json().error.code).toBe('POLICY_DENIED');
    expect(run.json().error.message).toContain(`failed policy: tiny-chat-staging-signed-model: ${image} signature key validation failed for authority modelship-signer for ${image}: no matching signatures: `);
    // The per-signature error is modelship's verifier's (cosign words it for its own key types).
    expect(run.json().error.message).toContain('no matching signatures: the signature over the payload does not verify with the given key');
  });

  it('refuses an unsigned artifact: Kyverno finds no matching bundle, policy-controller no signatures', async () => {
    const image = `${registry}/${REPO}@${unsigned.pulled.digest}`;
    const dev = await cli(['serve', unsigned.reference, '--policy', gitops, '--env', 'dev', '--dryrun']);
    expect(dev.code).toBe(8);
    expect(dev.json().error.message).toContain(`failed to verify image ${image}: .attestors[0].entries[0].keys: sigstore bundle verification failed: no matching signatures found`);
    const staging = await cli(['serve', unsigned.reference, '--policy', gitops, '--env', 'staging', '--dryrun']);
    expect(staging.code).toBe(8);
    expect(staging.json().error.message).toContain(`signature key validation failed for authority modelship-signer for ${image}: no signatures found`);
  });

  it('refuses what the policy does not check, a plain folder, and a layout, saying why', async () => {
    const elsewhere = await pushModel(registry, { format: 'gguf', modelcar: true, repository: 'policy/other-model', seed: 4 });
    await signModel(elsewhere, signer(right));
    const uncovered = await cli(['serve', elsewhere.reference, '--policy', gitops, '--env', 'dev', '--dryrun']);
    expect(uncovered.code).toBe(2);
    expect(uncovered.json().error).toMatchObject({ code: 'POLICY_NOT_COVERED', message: expect.stringContaining(`${registry}/${REPO}:*`) });
    const folder = join(cwd, 'plain');
    await writeTree(folder, { 'tiny.gguf': 'GGUF' });
    const plain = await cli(['serve', folder, '--policy', gitops, '--env', 'dev', '--dryrun']);
    expect(plain.code).toBe(2);
    expect(plain.json().error.code).toBe('POLICY_NOTHING_SIGNED');
    const layout = join(cwd, 'layout');
    expect((await cli(['copy', signed.reference, `oci:${layout}:v1`])).code).toBe(0);
    const onDisk = await cli(['serve', `oci:${layout}:v1`, '--policy', gitops, '--env', 'dev', '--dryrun']);
    expect(onDisk.code).toBe(2);
    expect(onDisk.json().error).toMatchObject({ code: 'POLICY_NOT_COVERED', message: expect.stringContaining('an OCI layout on disk') });
    const noPolicy = await cli(['serve', signed.reference, '--env', 'dev', '--dryrun']);
    expect(noPolicy.code).toBe(2);
    const bare = await cli(['serve', signed.reference, '--policy', bareGitops, '--env', 'dev', '--dryrun']);
    expect(bare.code).toBe(4);
    expect(bare.json().error).toMatchObject({ code: 'POLICY_NOT_FOUND', message: expect.stringContaining('is a bare git repository') });
  });
});

describe('the MOF minimum the hand-off recorded', () => {
  for (const environment of ['dev', 'staging']) {
    it(`${environment}: refuses an artifact signed by the right key below MOF Class III, with the gate's reason`, async () => {
      const run = await cli(['serve', unclassified.reference, '--policy', gitops, '--env', environment, '--dryrun']);
      expect(run.code).toBe(9);
      expect(run.json().error).toMatchObject({
        code: 'POLICY_MOF_DENIED',
        message: expect.stringContaining(`${registry}/${REPO}@${unclassified.pulled.digest} is Unclassified, not Class 3 or better as the hand-off's MOF gate requires (models/tiny-chat/policy/${environment}/`),
      });
    });
  }
});

describe('check and ship --policy', () => {
  it('check judges the signed local copy under -t as the cluster will: the right key passes, another key fails at verify', async () => {
    const ok = await cli(['check', project, '-t', `${registry}/${REPO}:v5`, '--key', right.key, '--policy', gitops, '--env', 'staging']);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    const verify = ok.json().steps.find((s: { step: string }) => s.step === 'verify');
    expect(verify).toMatchObject({ status: 'passed', summary: expect.stringContaining("the cluster's policy tiny-chat-staging-signed-model admits"), data: { policy: { ok: true, mof: { require: 3, passed: true } } } });

    // A store of its own: the same project packs to the same digest, which the first check signed with the right key.
    const refused = await cli(['check', project, '-t', `${registry}/${REPO}:v6`, '--key', other.key, '--policy', gitops, '--env', 'dev'], join(cwd, 'home-other'));
    expect(refused.code).toBe(8);
    expect(refused.json().failed).toBe('verify');
    expect(refused.json().steps.at(-1).summary).toContain('verify-model-signature: failed to verify image');
  }, 120_000);

  it('ship stops before the push when the cluster would refuse what it pushes', async () => {
    const run = await cli(['ship', project, '-t', `${registry}/${REPO}:v7`, '--key', other.key, '--policy', gitops, '--env', 'dev', '--no-handoff'], join(cwd, 'home-ship'));
    expect(run.code).toBe(8);
    expect(run.json().steps.map((s: { step: string; status: string }) => `${s.step}:${s.status}`).slice(-2)).toEqual(['sign:passed', 'verify:failed']);
    const pulled = await cli(['inspect', `${registry}/${REPO}:v7`]);
    expect(pulled.json().error.code).toBe('OCI_NOT_FOUND');
  }, 120_000);
});

describe('a policy file', () => {
  async function policyFile(name: string, edit: (obj: any) => void, from = KYVERNO_FILE): Promise<string> {
    const objects = parseAllDocuments(await readFile(join(gitops, from), 'utf8')).map((d) => d.toJS());
    objects.forEach(edit);
    const dir = await tempDir('policy-file-');
    await mkdir(dir, { recursive: true });
    const file = join(dir, name);
    await writeFile(file, objects.map((o) => stringify(o)).join('---\n'));
    return file;
  }

  it('refuses an artifact below the MOF minimum the policy records, with the gate\'s reason', async () => {
    const file = await policyFile('strict.yaml', (o) => { o.metadata.annotations[MOF_MINIMUM_ANNOTATION] = '1'; });
    const run = await cli(['serve', signed.reference, '--policy', file, '--dryrun']);
    expect(run.code).toBe(9);
    expect(run.json().error).toMatchObject({ code: 'POLICY_MOF_DENIED', message: expect.stringMatching(/is Class .*, not Class 1 or better as the hand-off's MOF gate requires \(.*strict\.yaml, tiny-chat-dev-signed-model\)/) });
  });

  it('refuses a policy it does not understand, naming the file and the field', async () => {
    const attestations = await policyFile('attest.yaml', (o) => { o.spec.rules[0].verifyImages[0].attestations = [{ type: 'https://slsa.dev/provenance/v1' }]; });
    const run = await cli(['serve', signed.reference, '--policy', attestations, '--dryrun']);
    expect(run.code).toBe(3);
    expect(run.json().error.code).toBe('POLICY_INVALID');
    expect(run.json().error.message).toContain('attest.yaml (ClusterPolicy tiny-chat-dev-signed-model): verifyImages entry field spec.rules[0].verifyImages[0]');
    expect(run.json().error.message).toContain('attestations');

    const audit = await policyFile('audit.yaml', (o) => { o.spec.rules[0].verifyImages[0].failureAction = 'Audit'; });
    const audited = await cli(['serve', signed.reference, '--policy', audit, '--dryrun']);
    expect(audited.json().error).toMatchObject({ code: 'POLICY_INVALID', message: expect.stringContaining('spec.rules[0].verifyImages[0].failureAction is Audit') });

    const kms = await policyFile('kms.yaml', (o) => { o.spec.authorities[0].key = { kms: 'awskms:///alias/x' }; }, PC_FILE);
    const pc = await cli(['serve', signed.reference, '--policy', kms, '--dryrun']);
    expect(pc.json().error).toMatchObject({ code: 'POLICY_INVALID', message: expect.stringContaining('kms.yaml (ClusterImagePolicy tiny-chat-staging-signed-model): ClusterImagePolicy field spec.authorities[0].key') });

    // Kyverno demands a Rekor entry for a key signature unless told not to; modelship cannot check one.
    const tlog = await policyFile('tlog.yaml', (o) => { delete o.spec.rules[0].verifyImages[0].attestors[0].entries[0].keys.rekor; });
    const tlogged = await cli(['serve', signed.reference, '--policy', tlog, '--dryrun']);
    expect(tlogged.json().error).toMatchObject({ code: 'POLICY_INVALID', message: expect.stringContaining('.attestors[0].entries[0].keys: without rekor.ignoreTlog: true') });
    const pcTlog = await policyFile('pc-tlog.yaml', (o) => { o.spec.authorities[0].ctlog = { url: 'https://rekor.sigstore.dev' }; }, PC_FILE);
    expect((await cli(['serve', signed.reference, '--policy', pcTlog, '--dryrun'])).json().error).toMatchObject({ code: 'POLICY_INVALID', message: expect.stringContaining('spec.authorities[0].ctlog') });

    const none = join(cwd, 'empty.yaml');
    await writeFile(none, 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n');
    const empty = await cli(['serve', signed.reference, '--policy', none, '--dryrun']);
    expect(empty.json().error.code).toBe('POLICY_INVALID');
  });

  it('reads a multi-document file with both controllers; each covering policy must admit', async () => {
    const both = join(await tempDir('policy-both-'), 'both.yaml');
    await writeFile(both, `${await readFile(join(gitops, KYVERNO_FILE), 'utf8')}\n---\n${await readFile(join(gitops, PC_FILE), 'utf8')}`);
    const ok = await cli(['serve', signed.reference, '--policy', both, '--dryrun']);
    expect(ok.code, ok.stdout).toBe(0);
    expect(ok.json().policy.rules.map((r: { controller: string }) => r.controller)).toEqual(['kyverno', 'policy-controller']);
    const refused = await cli(['serve', foreign.reference, '--policy', both, '--dryrun']);
    expect(refused.json().error.message).toContain('tiny-chat-dev-signed-model: verify-model-signature: failed to verify image');
    expect(refused.json().error.message).toContain('failed policy: tiny-chat-staging-signed-model');
  });
});

describe('image patterns, as each controller matches them', () => {
  it('Kyverno wildcards cross "/", policy-controller globs do not', () => {
    const image = '127.0.0.1:5000/models/tiny@sha256:abc';
    // Kyverno ext/wildcard (go-wildcard v1.0.3); policy-controller pkg/apis/glob/glob.go v0.15.1.
    expect(kyvernoImageMatches('127.0.0.1:5000/*', image)).toBe(true);
    expect(policyControllerImageMatches('127.0.0.1:5000/*', image)).toBe(false);
    expect(policyControllerImageMatches('127.0.0.1:5000/**', image)).toBe(true);
    expect(policyControllerImageMatches('127.0.0.1:5000/models/tiny@*', image)).toBe(true);
    expect(kyvernoImageMatches('127.0.0.1:5000/models/tiny:*', image)).toBe(false);
    expect(kyvernoImageMatches('127.0.0.1:5000/models/tin?@*', image)).toBe(true);
    // A repository that merely starts with the name is not covered.
    expect(policyControllerImageMatches('127.0.0.1:5000/models/tiny@*', '127.0.0.1:5000/models/tiny-evil@sha256:abc')).toBe(false);
    expect(kyvernoImageMatches('127.0.0.1:5000/models/tiny@*', '127.0.0.1:5000/models/tiny-evil@sha256:abc')).toBe(false);
  });
});
