import { describe, expect, inject, it } from 'vitest';
import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { MemoryTarget, encodeManifest, fetchManifest, jsonContent, openReference } from '../../modules/oci/index.js';
import type { Descriptor, ImageManifest, Target } from '../../modules/oci/types.js';
import { OMS_PREDICATE_TYPE, generateSigningKeyPair } from '../../modules/sign/index.js';
import { attachBundle, findBundles, signArtifact, verifyArtifact } from '../../modules/sign/artifact/index.js';
import { openStore, storeReference } from '../../modules/store/index.js';
import { sampleModel, tempDir } from '../modelpack/helpers.js';

const registry = inject('registry');
const FILEPATH = 'org.cncf.model.filepath';

/** A model folder with its spec, a key pair on disk, and an empty MODELSHIP_HOME. */
async function workspace(): Promise<{ base: string; model: string; env: NodeJS.ProcessEnv }> {
  const base = await tempDir('sign-trust-');
  const model = join(base, 'model');
  await sampleModel(model);
  await writeFile(join(model, 'modelship.yaml'), 'name: tiny\nfiles:\n  - {kind: weight, path: "*.safetensors"}\n  - {kind: doc, path: README.md}\n');
  const pair = generateSigningKeyPair();
  await writeFile(join(base, 'signing.key'), pair.privateKeyPem);
  await writeFile(join(base, 'signing.pub'), pair.publicKeyPem);
  return { base, model, env: { MODELSHIP_HOME: join(base, 'home') } };
}

async function registryTarget(reference: string): Promise<Target> {
  return (await openReference(reference, { cwd: process.cwd(), env: {}, plainHttp: true })).target;
}

/** Push an edited copy of the manifest tagged `tag`, as someone with push rights but no signing key would. */
async function retag(target: Target, manifest: ImageManifest, tag: string): Promise<Descriptor> {
  const { bytes, descriptor } = encodeManifest(manifest);
  await target.push(descriptor, bytes);
  await target.tag(descriptor, tag);
  return descriptor;
}

async function manifestOf(target: Target, tag: string): Promise<{ descriptor: Descriptor; manifest: ImageManifest }> {
  const descriptor = await target.resolve(tag);
  return { descriptor, manifest: (await fetchManifest(target, descriptor, tag)) as ImageManifest };
}

describe('which copy verify, inspect and sign act on', () => {
  it('checks what the registry serves after its tag moves, warns that the local copy differs, and checks the local copy only with --local', async () => {
    const { base, model, env } = await workspace();
    const ref = `${registry}/sig/tiny-${Date.now().toString(36)}:v1`;
    const cli = (args: string[], e: NodeJS.ProcessEnv = env) => runCli([...args, '--plain-http'], { env: e, cwd: base });

    expect((await cli(['pack', model, '-t', ref])).code).toBe(0);
    const sbom = await cli(['sbom', ref, '--attach']);
    expect(sbom.stdout).toMatch(/^attached sha256:[0-9a-f]{64} \(application\/vnd\.cyclonedx\+json\) to the local store's copy of .* \(sha256:[0-9a-f]{64}\)\nattached to the local copy; push to publish\n?$/);
    const signed = await cli(['sign', ref, '--key', 'signing.key']);
    expect(signed.stderr).toBe('');
    expect(signed.code).toBe(0);
    expect(signed.stdout).toMatch(/^signed the local store's copy of .*tiny-\w+:v1 \(sha256:[0-9a-f]{64}\)/);
    expect(signed.stdout).toContain('signed the local copy; push to publish');
    const unpublished = await cli(['verify', ref, '--key', 'signing.pub']);
    expect(unpublished.code).toBe(4);
    expect(unpublished.stderr).toMatch(/the local store holds .*, which is not published: push it .*or pass --local/);
    expect((await cli(['push', ref])).code).toBe(0);

    const published = await cli(['verify', ref, '--key', 'signing.pub', '--json']);
    expect(published.stderr).toBe('');
    expect(published.code).toBe(0);
    const signedDigest = published.json().digest as string;
    expect(published.json()).toMatchObject({ ok: true, copy: 'registry', otherCopy: { where: 'local', digest: signedDigest } });

    // Someone moves the registry's tag to a manifest with a swapped weight layer.
    const remote = await registryTarget(ref);
    const { manifest } = await manifestOf(remote, 'v1');
    const swap = jsonContent({ swapped: true }, 'application/vnd.cncf.model.weight.v1.raw');
    await remote.push(swap.descriptor, swap.bytes);
    const weight = manifest.layers.findIndex((l) => l.annotations?.[FILEPATH] === 'model-00001.safetensors');
    const moved = await retag(remote, { ...manifest, layers: manifest.layers.map((l, i) => (i === weight ? { ...l, digest: swap.descriptor.digest, size: swap.descriptor.size } : l)) }, 'v1');

    const registryCopy = await cli(['verify', ref, '--key', 'signing.pub']);
    expect(registryCopy.code).toBe(8);
    expect(registryCopy.stdout).toContain(`checked the registry's copy of ${ref.replace(/:v1$/, '')}`);
    expect(registryCopy.stdout).toContain(moved.digest);
    expect(registryCopy.stderr).toContain(`warning: the local store's copy of`);
    expect(registryCopy.stderr).toContain(`is ${signedDigest} but the registry serves ${moved.digest}`);
    const asJson = (await cli(['verify', ref, '--key', 'signing.pub', '--json'])).json();
    expect(asJson).toMatchObject({ ok: false, code: 'VERIFY_FAILED', copy: 'registry', digest: moved.digest, otherCopy: { where: 'local', digest: signedDigest } });
    expect(asJson.warnings).toEqual([expect.stringContaining('pass --local to check the local copy')]);

    const localCopy = await cli(['verify', ref, '--key', 'signing.pub', '--local', '--json']);
    expect(localCopy.code).toBe(0);
    expect(localCopy.json()).toMatchObject({ ok: true, copy: 'local', digest: signedDigest, otherCopy: { where: 'registry', digest: moved.digest } });
    expect(localCopy.stderr).toContain('drop --local to check what the registry serves');

    const inspected = await cli(['inspect', ref, '--json']);
    expect(inspected.json()).toMatchObject({ copy: 'registry', digest: moved.digest });
    expect((await cli(['inspect', ref, '--local', '--json'])).json()).toMatchObject({ copy: 'local', digest: signedDigest });
    expect((await cli(['inspect', ref])).stdout).toContain(`copy:         the registry's copy of`);

    // With nothing in the store the registry's copy is the only one: the same failure, no comparison.
    const empty = { MODELSHIP_HOME: join(base, 'empty-home') };
    const fresh = await cli(['verify', ref, '--key', 'signing.pub', '--json'], empty);
    expect(fresh.code).toBe(8);
    expect(fresh.json()).toMatchObject({ copy: 'registry', digest: moved.digest });
    expect(fresh.json().otherCopy).toBeUndefined();
    const noLocal = await cli(['verify', ref, '--key', 'signing.pub', '--local'], empty);
    expect(noLocal.code).toBe(4);
    expect(noLocal.stderr).toMatch(/not in the local store .*drop --local/);
  });

  it('signs the registry\'s copy in place when the store does not hold the reference', async () => {
    const { base, model, env } = await workspace();
    const ref = `${registry}/sig/remote-${Date.now().toString(36)}:v1`;
    expect((await runCli(['pack', model, '-t', ref], { env, cwd: base })).code).toBe(0);
    expect((await runCli(['push', ref, '--plain-http'], { env, cwd: base })).code).toBe(0);
    const elsewhere = { MODELSHIP_HOME: join(base, 'other-home') };
    const signed = await runCli(['sign', ref, '--plain-http', '--key', 'signing.key', '--json'], { env: elsewhere, cwd: base });
    expect(signed.code).toBe(0);
    expect(signed.json()).toMatchObject({ copy: 'registry' });
    expect((await runCli(['verify', ref, '--plain-http', '--key', 'signing.pub'], { env: elsewhere, cwd: base })).code).toBe(0);
  });
});

describe('a model signature alone does not authenticate the manifest', () => {
  const edits: [string, (m: ImageManifest, target: Target) => Promise<ImageManifest>][] = [
    [
      'a new config blob (name, format)',
      async (m, target) => {
        const config = jsonContent({ descriptor: { name: 'not-tiny' }, config: { format: 'onnx' }, modelfs: { type: 'layers', diffIds: [] } }, m.config.mediaType);
        await target.push(config.descriptor, config.bytes);
        return { ...m, config: config.descriptor };
      },
    ],
    ['README.md served as a weight', async (m) => ({ ...m, layers: m.layers.map((l) => (l.annotations?.[FILEPATH] === 'README.md' ? { ...l, mediaType: 'application/vnd.cncf.model.weight.v1.raw' } : l)) })],
    ['new manifest annotations', async (m) => ({ ...m, annotations: { ...m.annotations, 'org.opencontainers.image.source': 'https://attacker.example/model' } })],
  ];

  it.each(edits)('fails %s with only the model signature re-attached, and passes it with a warning behind --allow-unsigned-manifest', async (_name, edit) => {
    const { base, model, env } = await workspace();
    const ref = `${registry}/sig/unsigned-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}:v1`;
    const cli = (args: string[]) => runCli([...args, '--plain-http'], { env: {}, cwd: base });
    expect((await runCli(['pack', model, '-t', ref], { env, cwd: base })).code).toBe(0);
    expect((await runCli(['push', ref, '--plain-http'], { env, cwd: base })).code).toBe(0);
    expect((await cli(['sign', ref, '--key', 'signing.key'])).code).toBe(0);
    expect((await cli(['verify', ref, '--key', 'signing.pub'])).code).toBe(0);

    const remote = await registryTarget(ref);
    const { descriptor, manifest } = await manifestOf(remote, 'v1');
    const edited = await retag(remote, await edit(manifest, remote), 'v1');
    const modelSignature = (await findBundles(remote, descriptor)).find((b) => b.declaredPredicateType === OMS_PREDICATE_TYPE)!;
    await attachBundle(remote, edited, modelSignature.bytes!, OMS_PREDICATE_TYPE);

    const refused = await cli(['verify', ref, '--key', 'signing.pub', '--json']);
    expect(refused.code).toBe(8);
    expect(refused.json()).toMatchObject({ ok: false, digest: edited.digest, reason: expect.stringMatching(/^no trusted signature covers the manifest sha256:[0-9a-f]{64}: the model signature covers the files' digests only, so the config sha256:[0-9a-f]{64} \(model name, format\), the layers' media types and annotations, and the manifest's annotations are unauthenticated; sign the artifact/) });
    expect(refused.json().bundles.map((b: { role: string; ok: boolean }) => [b.role, b.ok])).toEqual([['model-signature', true]]);

    const allowed = await cli(['verify', ref, '--key', 'signing.pub', '--allow-unsigned-manifest', '--json']);
    expect(allowed.code).toBe(0);
    expect(allowed.json().warnings).toEqual([expect.stringMatching(/^no trusted signature covers the manifest .* unauthenticated$/)]);
    expect(allowed.stderr).toMatch(/^warning: no trusted signature covers the manifest/);
  });
});

describe('sign refuses what its own verify would fail', () => {
  it('refuses a manifest listing one file path twice, naming both layers and the reason', async () => {
    const { base, model, env } = await workspace();
    expect((await runCli(['pack', model, '-t', 'tiny:v1'], { env, cwd: base })).code).toBe(0);
    const inspected = (await runCli(['inspect', 'tiny:v1', '--json'], { env, cwd: base })).json();
    const manifest = inspected.manifest as ImageManifest;
    const readme = manifest.layers.find((l) => l.annotations?.[FILEPATH] === 'README.md')!;
    const duplicate = { ...readme, annotations: { ...readme.annotations, [FILEPATH]: 'model-00001.safetensors' } };
    const twice = await retag(openStore(env).layout, { ...manifest, layers: [...manifest.layers, duplicate] }, storeReference('tiny:dup'));
    const signed = await runCli(['sign', 'tiny:dup', '--key', 'signing.key', '--json'], { env, cwd: base });
    expect(signed.code).toBe(3);
    expect(JSON.parse(signed.stdout).error).toMatchObject({
      code: 'SIGN_DUPLICATE_PATH',
      message: expect.stringMatching(/^layer \d+ \(sha256:[0-9a-f]{64}\) and layer \d+ \(sha256:[0-9a-f]{64}\) both hold the file path "model-00001\.safetensors": .*verification would fail as "digest differs"/),
    });
    expect(twice.digest).not.toBe(inspected.digest);
  });
});

describe('signing and verifying very many layers', () => {
  it('signs and verifies a 10,000-layer manifest, and names the layer when one of them is swapped', { timeout: 180_000 }, async () => {
    const target = new MemoryTarget('big');
    const config = jsonContent({ descriptor: { name: 'big' }, config: {}, modelfs: { type: 'layers', diffIds: [] } }, 'application/vnd.cncf.model.config.v1+json');
    await target.push(config.descriptor, config.bytes);
    const layers = Array.from({ length: 10_000 }, (_, i) => ({
      mediaType: 'application/vnd.cncf.model.weight.v1.raw',
      digest: `sha256:${createHash('sha256').update(String(i)).digest('hex')}`,
      size: String(i).length,
      annotations: { [FILEPATH]: `shard-${i % 50}/part-${i}.bin` },
    }));
    const manifest: ImageManifest = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', artifactType: 'application/vnd.cncf.model.manifest.v1+json', config: config.descriptor, layers };
    const signedDescriptor = await retag(target, manifest, 'v1');
    const pair = generateSigningKeyPair();
    const signed = await signArtifact(target, 'v1', { kind: 'key', privateKey: createPrivateKey(pair.privateKeyPem) });
    expect(signed.statement.predicate.resources).toHaveLength(10_000);
    const policy = { kind: 'key' as const, publicKey: createPublicKey(pair.publicKeyPem) };
    const verified = await verifyArtifact(target, 'v1', policy);
    expect(verified.reason).toBeUndefined();
    expect(verified.bundles[0]!.checks.find((c) => c.name === 'layers')?.detail).toBe('all 10000 model files in the manifest\'s layers match the signature');

    const swapped = await retag(target, { ...manifest, layers: layers.map((l, i) => (i === 9_999 ? { ...l, digest: `sha256:${'f'.repeat(64)}` } : l)) }, 'v1');
    for (const b of await findBundles(target, signedDescriptor)) await attachBundle(target, swapped, b.bytes!, b.declaredPredicateType!);
    expect((await verifyArtifact(target, 'v1', policy)).reason).toMatch(/^layer shard-49\/part-9999\.bin digest differs/);
  });
});
