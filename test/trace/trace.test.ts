/**
 * `modelship trace` on what the quickstart hands off: the InferenceService it commits to the GitOps
 * repository, a kubectl dump of it and its storageUri, traced through a real loopback registry, the
 * embedded model registry, real keys and a real git commit in the SLSA provenance; and each broken
 * link named with its exit status (unsigned, signed by another key, not registered, registry down).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify, parse as parseYaml } from 'yaml';
import { mergeObjects } from '../../modules/gitops/index.js';
import { copy, openReference } from '../../modules/oci/index.js';
import { embeddedDatabasePath, openRegistryDatabase, registerModelVersion, startRegistryServer } from '../../modules/registry/index.js';
import { runQuickstart } from '../../modules/pipeline/index.js';
import { generateSigningKeyPair } from '../../modules/sign/index.js';
import { runCli } from '../helpers/cli.js';
import { freePort, startRegistry, type RunningRegistry } from '../helpers/registry.js';
import { busyboxBase } from '../modelpack/busybox.js';

const exec = promisify(execFile);

interface Fixture {
  dir: string;
  registry: string;
  digest: string;
  /** The InferenceService file the hand-off committed, in a clone of the GitOps repository. */
  pin: string;
  base: string;
  publicKey: string;
  /** The project's git commit, which the SLSA provenance names. */
  commit: string;
  env: NodeJS.ProcessEnv;
}

let f: Fixture;

type Link = { name: string; status: string; code?: string; exitCode: number; summary: string; details: string[]; data?: Record<string, any> };

function linkOf(json: { links: Link[] }, name: string): Link {
  return json.links.find((l) => l.name === name)!;
}

// A registry of its own: the quickstart's ModelCar digest is reproducible, and other files' runs would sign it too.
let own: RunningRegistry;
afterAll(async () => own?.stop());

beforeAll(async () => {
  own = await startRegistry();
  const registry = own.host;
  const dir = path.join(await mkdtemp(path.join(tmpdir(), 'modelship-trace-')), 'qs');
  const git = (cwd: string, ...args: string[]) => exec('git', args, { cwd });
  // The quickstart commits its project and signs the pack's provenance with the model: the commit is the source.
  const result = await runQuickstart({ dir, env: {}, cwd: dir, registry, plainHttp: true, modelcar: { target: await busyboxBase(), reference: 'latest' } });
  expect(result.ok, JSON.stringify(result.steps, null, 1)).toBe(true);
  const project = path.join(dir, 'tiny-chat');
  const commit = (await git(project, 'rev-parse', 'HEAD')).stdout.trim();
  const checkout = path.join(dir, 'gitops');
  await exec('git', ['clone', '-q', path.join(dir, 'gitops.git'), checkout]);
  f = {
    dir, registry, digest: result.digest!, commit,
    pin: path.join(checkout, 'models/tiny-chat/overlays/dev/inferenceservice-pin.yaml'),
    base: path.join(checkout, 'models/tiny-chat/base/inferenceservice.yaml'),
    publicKey: path.join(dir, 'signing.pub'),
    env: { MODELSHIP_HOME: path.join(dir, 'home') },
  };
}, 300_000);

describe('modelship trace', () => {
  it('follows the InferenceService the quickstart commits through every link', async () => {
    const run = await runCli(['trace', f.pin, '--key', f.publicKey, '--plain-http', '--json'], { env: f.env });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const json = run.json();
    expect(json.ok).toBe(true);
    expect(json.links.map((l: Link) => `${l.name}:${l.status}`)).toEqual(['artifact:ok', 'registry-record:ok', 'signatures:ok', 'sbom:ok', 'mof:ok', 'source:ok']);
    expect(json.digest).toBe(f.digest);
    expect(json.storageUri).toBe(`oci://${f.registry}/quickstart/tiny-chat@${f.digest}`);
    expect(linkOf(json, 'artifact').data).toMatchObject({ digest: f.digest, kind: 'modelcar-index', format: 'gguf' });
    const record = linkOf(json, 'registry-record').data!['records'][0];
    expect(record).toMatchObject({ registeredModel: { name: 'tiny-chat' }, modelVersion: { name: 'v1' }, digest: f.digest, modelArtifact: { uri: `oci://${f.registry}/quickstart/tiny-chat@${f.digest}` } });
    // Every signature names the quickstart's key, and verifies on the index, the model manifest and the image.
    const hint = (await import('node:crypto')).createHash('sha256').update(await readFile(f.publicKey, 'utf8')).digest('hex');
    const signatures = linkOf(json, 'signatures').data!['signatures'] as Array<{ ok: boolean; trusted: boolean; subject: string; signer?: string; form: string }>;
    expect(signatures.every((s) => s.ok && s.trusted)).toBe(true);
    expect(signatures.filter((s) => s.form === 'sigstore-bundle').every((s) => s.signer === `key ${hint}`)).toBe(true);
    expect(new Set(signatures.map((s) => s.subject)).size).toBe(3);
    expect(linkOf(json, 'sbom').data).toMatchObject({ attested: true });
    expect(linkOf(json, 'sbom').details.join('\n')).toMatch(/cyclonedx sha256:[0-9a-f]{64}, \d+ components/);
    expect(linkOf(json, 'mof').data).toMatchObject({ class: 3 });
    expect(linkOf(json, 'source').data).toMatchObject({ kind: 'git', commit: f.commit, verified: true });

    // The tree a person reads: one branch per link, the verdict last.
    const text = await runCli(['trace', f.pin, '--key', f.publicKey, '--plain-http'], { env: f.env });
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^InferenceService tiny-chat in .*inferenceservice-pin\.yaml$/m);
    for (const name of ['artifact', 'registry-record', 'signatures', 'sbom', 'mof']) expect(text.stdout).toMatch(new RegExp(`^├── ok   ${name} `, 'm'));
    expect(text.stdout).toMatch(new RegExp(`^└── ok   source +git commit ${f.commit.slice(0, 12)}`, 'm'));
    expect(text.stdout).toMatch(/is a ModelCar index$/m);
    expect(text.stdout.trim().split('\n').pop()).toBe('trace complete: every link holds');
  });

  it('traces a kubectl dump (a List with status) and the storageUri itself', async () => {
    // What kustomize builds and the API server returns: base and pin merged, a namespace, status.
    const built = mergeObjects(parseYaml(await readFile(f.base, 'utf8')), parseYaml(await readFile(f.pin, 'utf8')));
    const live = { ...built, metadata: { ...(built['metadata'] as object), namespace: 'models', uid: 'x', resourceVersion: '7' }, status: { url: 'http://tiny-chat.models.example.com', conditions: [{ type: 'Ready', status: 'True' }] } };
    const other = { apiVersion: 'serving.kserve.io/v1beta1', kind: 'InferenceService', metadata: { name: 'other' }, spec: { predictor: { model: { modelFormat: { name: 'onnx' }, storageUri: 's3://bucket/model' } } } };
    const dump = path.join(f.dir, 'dump.yaml');
    await writeFile(dump, stringify({ apiVersion: 'v1', kind: 'List', items: [live, other], metadata: { resourceVersion: '' } }));
    const many = await runCli(['trace', dump, '--key', f.publicKey, '--plain-http'], { env: f.env });
    expect(many.code).toBe(2);
    expect(many.stderr).toContain('holds 2 InferenceServices (tiny-chat, other): pick one with --name NAME');
    const run = await runCli(['trace', dump, '--name', 'tiny-chat', '--key', f.publicKey, '--plain-http'], { env: f.env });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^InferenceService models\/tiny-chat in .*dump\.yaml \(Ready: True, http:\/\/tiny-chat\.models\.example\.com\)$/m);

    const uri = await runCli(['trace', `oci://${f.registry}/quickstart/tiny-chat@${f.digest}`, '--key', f.publicKey, '--plain-http', '--json'], { env: f.env });
    expect(uri.code, uri.stdout).toBe(0);
    expect(uri.json()).toMatchObject({ ok: true, mount: 'modelcar', input: { kind: 'uri' } });
  });

  it('names the signatures link when the artifact is unsigned, or signed by another key than the policy trusts', async () => {
    // The same ModelCar in another repository, without its referrers: nothing signs it there.
    const ctx = { cwd: f.dir, env: {}, plainHttp: true };
    const src = await openReference(`${f.registry}/quickstart/tiny-chat@${f.digest}`, ctx);
    const dst = await openReference(`${f.registry}/unsigned/tiny-chat:v1`, ctx);
    await copy(src.target, f.digest, dst.target as never, 'v1');
    const pin = path.join(f.dir, 'unsigned-pin.yaml');
    await writeFile(pin, (await readFile(f.pin, 'utf8')).replace('/quickstart/tiny-chat@', '/unsigned/tiny-chat@'));
    const unsigned = await runCli(['trace', pin, '--key', f.publicKey, '--plain-http', '--json'], { env: f.env });
    expect(unsigned.code, unsigned.stdout).toBe(8);
    expect(unsigned.json()).toMatchObject({ ok: false, brokenLink: 'signatures', exitCode: 8 });
    expect(linkOf(unsigned.json(), 'signatures')).toMatchObject({ status: 'missing', code: 'TRACE_UNSIGNED' });
    const text = await runCli(['trace', pin, '--key', f.publicKey, '--plain-http'], { env: f.env });
    expect(text.stdout).toContain(`the registry records it at oci://${f.registry}/quickstart/tiny-chat@${f.digest}: the same digest, pulled from another repository`);
    expect(text.stdout).toMatch(/^├── MISS signatures +unsigned: no signature refers to/m);
    expect(text.stdout).toMatch(/^trace broken at signatures \(missing, exit 8\): unsigned/m);

    const other = generateSigningKeyPair('p256');
    const otherKey = path.join(f.dir, 'other.pub');
    await writeFile(otherKey, other.publicKeyPem);
    const tampered = await runCli(['trace', f.pin, '--key', otherKey, '--plain-http', '--json'], { env: f.env });
    expect(tampered.code).toBe(8);
    const link = linkOf(tampered.json(), 'signatures');
    expect(link).toMatchObject({ status: 'failed', code: 'VERIFY_FAILED' });
    expect(link.details.join('\n')).toContain('signed by another key');
    // cosign's tag signature names no key: its check says the signature does not verify with the given one.
    expect(link.details).toContain('FAIL cosign simple signing (tag .sig) on the ModelCar index: not trusted: the signature over the payload does not verify with the given key: another key signed it, or the payload was changed after signing');
    // The provenance is signed by the same key: the source cannot be trusted either.
    expect(linkOf(tampered.json(), 'source')).toMatchObject({ status: 'failed', code: 'VERIFY_FAILED' });
  });

  it('names the registry-record link when the digest is not registered, or the registry cannot be reached', async () => {
    const fresh = { MODELSHIP_HOME: path.join(f.dir, 'empty-home') };
    const unregistered = await runCli(['trace', f.pin, '--key', f.publicKey, '--plain-http', '--json'], { env: fresh });
    expect(unregistered.code).toBe(4);
    expect(unregistered.json()).toMatchObject({ brokenLink: 'registry-record', exitCode: 4 });
    expect(linkOf(unregistered.json(), 'registry-record')).toMatchObject({ status: 'missing', code: 'TRACE_NOT_REGISTERED' });
    expect(linkOf(unregistered.json(), 'registry-record').summary).toContain(`records ${f.digest}: not registered`);
    // With --json the verdict still reaches a person, on stderr: doors that keep stdout (Dagger, the Action) show it.
    expect(unregistered.stderr).toMatch(/^error: trace broken at registry-record \(missing, exit 4\): no model version in .* not registered/m);
    // The other links are still followed.
    expect(linkOf(unregistered.json(), 'signatures').status).toBe('ok');

    // A Kubeflow Model Registry over HTTP (the embedded one served): found by the digest's filterQuery,
    // or by the version the InferenceService's modelregistry.kubeflow.org labels name.
    const database = await openRegistryDatabase(embeddedDatabasePath(f.env['MODELSHIP_HOME']!));
    const server = await startRegistryServer({ database });
    try {
      const remote = await runCli(['trace', f.pin, '--key', f.publicKey, '--plain-http', '--registry-url', server.url, '--json'], { env: fresh });
      expect(remote.code, remote.stdout).toBe(0);
      const record = linkOf(remote.json(), 'registry-record');
      expect(record.data).toMatchObject({ registry: server.url, records: [{ registeredModel: { name: 'tiny-chat' }, modelVersion: { name: 'v1' } }] });
      const versionId = record.data!['records'][0].modelVersion.id as string;
      const labelled = async (id: string) => {
        const pin = parseYaml(await readFile(f.pin, 'utf8'));
        pin.metadata.labels = { 'modelregistry.kubeflow.org/registered-model-id': '1', 'modelregistry.kubeflow.org/model-version-id': id };
        pin.metadata.annotations['modelregistry.kubeflow.org/url'] = server.url;
        const file = path.join(f.dir, `labelled-${id}.yaml`);
        await writeFile(file, stringify(pin));
        return (await runCli(['trace', file, '--key', f.publicKey, '--plain-http', '--json'], { env: fresh })).json();
      };
      expect(linkOf(await labelled(versionId), 'registry-record')).toMatchObject({ status: 'ok', data: { records: [{ modelVersion: { id: versionId } }] } });
      // A label naming a version that records another digest, or none at all.
      const registeredModelId = record.data!['records'][0].registeredModel.id as string;
      expect(linkOf(await labelled(registeredModelId), 'registry-record')).toMatchObject({ status: 'missing', code: 'TRACE_NOT_REGISTERED' });
      const other = `sha256:${'1'.repeat(64)}`;
      const elsewhere = await registerModelVersion(database, { name: 'tiny-chat', version: 'v0', uri: `oci://${f.registry}/quickstart/tiny-chat@${other}`, digest: other });
      const disagrees = linkOf(await labelled(elsewhere.modelVersionId), 'registry-record');
      expect(disagrees).toMatchObject({ status: 'failed', code: 'TRACE_REGISTRY_DISAGREES', exitCode: 7 });
      expect(disagrees.summary).toContain(`records ${other}, not ${f.digest}`);
    } finally {
      await server.close();
      database.close();
    }

    const down = `http://127.0.0.1:${await freePort()}`;
    const unreachable = await runCli(['trace', f.pin, '--key', f.publicKey, '--plain-http', '--registry-url', down], { env: f.env });
    expect(unreachable.code).toBe(6);
    expect(unreachable.stdout).toMatch(/^├── DOWN registry-record +the model registry could not be read: GET http:\/\/127\.0\.0\.1:\d+\/api\/model_registry\/v1alpha3\/model_versions\?/m);
    expect(unreachable.stdout).toMatch(/^trace broken at registry-record \(unreachable, exit 6\)/m);
  });

  it('judges the signatures by the admission policy the GitOps repository holds, as Kyverno would', async () => {
    // In the hand-off's layout the policy beside the overlay (policy/dev/) is found without being named.
    const run = await runCli(['trace', f.pin, '--plain-http', '--json'], { env: f.env });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const signatures = linkOf(run.json(), 'signatures');
    expect(signatures.summary).toMatch(/^admitted by the cluster's policy \(kyverno tiny-chat-dev-signed-model in \/.*policy\/dev\)$/);
    expect(signatures.details[0]).toMatch(/^ok {3}kyverno tiny-chat-dev-signed-model rule verify-model-signature \(clusterpolicy\.yaml\): admits it, signature sha256:/);
    // The hand-off recorded the project's MOF minimum on the policy: the mof link applies it.
    expect(linkOf(run.json(), 'mof')).toMatchObject({ status: 'ok', data: { require: 3, passed: true } });

    // A policy naming another key: refused with Kyverno's own words.
    const other = generateSigningKeyPair('p256');
    const policyDir = path.join(f.dir, 'gitops', 'models', 'tiny-chat', 'policy', 'dev');
    const foreign = path.join(f.dir, 'foreign-policy.yaml');
    const original = await readFile(path.join(policyDir, 'clusterpolicy.yaml'), 'utf8');
    const pem = /-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----/.exec(original)![0];
    const otherPem = other.publicKeyPem.trim().split('\n').join('\n' + (/\n( *)-----END PUBLIC KEY-----/.exec(original)?.[1] ?? ''));
    await writeFile(foreign, original.replace(pem, otherPem));
    const refused = await runCli(['trace', f.pin, '--plain-http', '--policy', foreign, '--json'], { env: f.env });
    expect(refused.code, refused.stdout).toBe(8);
    const link = linkOf(refused.json(), 'signatures');
    expect(link).toMatchObject({ status: 'failed', code: 'POLICY_DENIED' });
    expect(link.summary).toContain("the cluster's admission policy refuses it: tiny-chat-dev-signed-model: verify-model-signature: failed to verify image");
    const both = await runCli(['trace', f.pin, '--policy', foreign, '--key', f.publicKey], { env: f.env });
    expect(both.code).toBe(2);
  });

  it('lists signatures unchecked without a signer, and refuses input it cannot read, naming the file', async () => {
    // Outside the hand-off's layout there is no policy beside it.
    const loose = path.join(f.dir, 'loose-pin.yaml');
    await writeFile(loose, await readFile(f.pin, 'utf8'));
    const unchecked = await runCli(['trace', loose, '--plain-http', '--json'], { env: f.env });
    expect(unchecked.code).toBe(8);
    const link = linkOf(unchecked.json(), 'signatures');
    expect(link).toMatchObject({ status: 'unverified', code: 'TRACE_UNVERIFIED' });
    expect(link.details.join('\n')).toMatch(/on the ModelCar index: says key [0-9a-f]{16}…/);

    // A storageUri edited by hand after the hand-off no longer matches the digest it recorded.
    const edited = path.join(f.dir, 'edited-pin.yaml');
    await writeFile(edited, (await readFile(f.pin, 'utf8')).replace(`modelship.dev/digest: ${f.digest}`, `modelship.dev/digest: sha256:${'0'.repeat(64)}`));
    const disagrees = await runCli(['trace', edited, '--key', f.publicKey, '--plain-http', '--json'], { env: f.env });
    expect(disagrees.code).toBe(3);
    expect(linkOf(disagrees.json(), 'artifact')).toMatchObject({ status: 'failed', code: 'TRACE_DIGEST_DISAGREES' });

    const missing = await runCli(['trace', path.join(f.dir, 'nope.yaml')], { env: f.env });
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain(`nope.yaml is neither an oci://HOST/REPO@sha256:… URI nor a file here (${path.join(f.dir, 'nope.yaml')})`);
    const broken = path.join(f.dir, 'broken.yaml');
    await writeFile(broken, 'apiVersion: v1\nkind: [InferenceService\n');
    const bad = await runCli(['trace', broken], { env: f.env });
    expect(bad.code).toBe(3);
    expect(bad.stderr).toMatch(new RegExp(`${broken.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} line \\d+ is not valid YAML`));
    const base = await runCli(['trace', f.base], { env: f.env });
    expect(base.code).toBe(3);
    expect(base.stderr).toContain('has no spec.predictor.model.storageUri');
    expect(base.stderr).toContain('overlays/ENV/inferenceservice-pin.yaml');
  });

  // Runs last in this file: it adds another signer's referrers to the fixture's artifact.
  it('takes the source from the provenance the trusted signer made when another build attested the same digest', async () => {
    const other = generateSigningKeyPair('p256');
    const otherKey = path.join(f.dir, 'ci.key');
    await writeFile(otherKey, other.privateKeyPem, { mode: 0o600 });
    // Another checkout at another commit packs the same bytes: a reproducible digest, a second provenance.
    const elsewhere = path.join(f.dir, 'elsewhere');
    await exec('git', ['clone', '-q', path.join(f.dir, 'tiny-chat'), elsewhere]);
    await exec('git', ['-c', 'user.name=ci', '-c', 'user.email=ci@example.com', 'commit', '-q', '--allow-empty', '-m', 'rebuild'], { cwd: elsewhere });
    const signed = await runCli(['sign', `${f.registry}/quickstart/tiny-chat@${f.digest}`, '--plain-http', '--key', otherKey, '--provenance', '--project', elsewhere], { env: { MODELSHIP_HOME: path.join(f.dir, 'ci-home'), MODELSHIP_KEY_PASSWORD: '' } });
    expect(signed.code, signed.stdout + signed.stderr).toBe(0);

    const run = await runCli(['trace', f.pin, '--key', f.publicKey, '--plain-http', '--json'], { env: f.env });
    expect(run.code, run.stdout).toBe(0);
    const source = linkOf(run.json(), 'source');
    expect(source).toMatchObject({ status: 'ok', data: { kind: 'git', commit: f.commit, verified: true } });
    expect(source.details).toContain('1 more SLSA provenance on this digest');
    // Under the other build's key, its own commit is the source.
    const otherPub = path.join(f.dir, 'ci.pub');
    await writeFile(otherPub, other.publicKeyPem);
    const ci = await runCli(['trace', `oci://${f.registry}/quickstart/tiny-chat@${f.digest}`, '--key', otherPub, '--plain-http', '--json'], { env: f.env });
    const ciCommit = (await exec('git', ['rev-parse', 'HEAD'], { cwd: elsewhere })).stdout.trim();
    expect(linkOf(ci.json(), 'source')).toMatchObject({ status: 'ok', data: { commit: ciCommit, verified: true } });
  });
});

describe('modelship trace on the quickstart as it runs offline', () => {
  it('reads the local store with --local (the manifests pin localhost:5000), through every link to the project\'s commit', async () => {
    const dir = path.join(await mkdtemp(path.join(tmpdir(), 'modelship-trace-')), 'qs');
    const result = await runQuickstart({ dir, env: {}, cwd: dir, modelcar: { target: await busyboxBase(), reference: 'latest' } });
    expect(result.ok, JSON.stringify(result.steps, null, 1)).toBe(true);
    const checkout = path.join(dir, 'gitops');
    await exec('git', ['clone', '-q', path.join(dir, 'gitops.git'), checkout]);
    const pin = path.join(checkout, 'models/tiny-chat/overlays/dev/inferenceservice-pin.yaml');
    const env = { MODELSHIP_HOME: path.join(dir, 'home') };

    const local = await runCli(['trace', pin, '--local', '--json'], { env });
    const json = local.json();
    expect(json.links.map((l: Link) => `${l.name}:${l.status}`)).toEqual(['artifact:ok', 'registry-record:ok', 'signatures:ok', 'sbom:ok', 'mof:ok', 'source:ok']);
    expect(linkOf(json, 'artifact').data).toMatchObject({ digest: result.digest, copy: 'local' });
    // The quickstart commits its project and its sign step signs the pack's provenance: the source is that commit.
    const commit = (await exec('git', ['rev-parse', 'HEAD'], { cwd: path.join(dir, 'tiny-chat') })).stdout.trim();
    expect(linkOf(json, 'source').data).toMatchObject({ kind: 'git', commit, verified: true });
    expect(local.code).toBe(0);

    // Without --local, the registry the manifests name (localhost:5000) does not hold it: the trace says so,
    // still finds the registry's record by the pinned digest, and skips what needs the artifact.
    const remote = await runCli(['trace', pin, '--json'], { env });
    const links = remote.json().links as Link[];
    expect(['artifact:unreachable', 'artifact:missing']).toContain(`${links[0]!.name}:${links[0]!.status}`);
    expect(remote.code).toBe(links[0]!.exitCode);
    expect(links.slice(1).map((l) => `${l.name}:${l.status}`)).toEqual(['registry-record:ok', 'signatures:skipped', 'sbom:skipped', 'mof:skipped', 'source:skipped']);
  }, 300_000);
});
