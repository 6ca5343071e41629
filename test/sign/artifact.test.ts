import { describe, expect, inject, it } from 'vitest';
import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { packModel } from '../../modules/modelpack/index.js';
import { LayoutTarget, attach, buildArtifactManifest, copy, encodeManifest, fetchManifest, jsonContent, openReference, referrers, referrersTagOf } from '../../modules/oci/index.js';
import type { Descriptor, ImageManifest, Target } from '../../modules/oci/types.js';
import { BUNDLE_V03_MEDIA_TYPE, OMS_PREDICATE_TYPE, generateSigningKeyPair, parseBundle, type VerificationPolicy } from '../../modules/sign/index.js';
import {
  COSIGN_SIGN_PREDICATE_TYPE,
  CYCLONEDX_PREDICATE_TYPE,
  attachBundle,
  findBundles,
  signArtifact,
  verifyArtifact,
} from '../../modules/sign/artifact/index.js';
import { SLSA_PROVENANCE_V1 } from '../../modules/sign/slsa.js';
import { main } from '../../modules/cli/main.js';
import { openStore } from '../../modules/store/index.js';
import { sampleModel, tempDir } from '../modelpack/helpers.js';

const registry = inject('registry');

interface Keys {
  privateKey: KeyObject;
  publicKey: KeyObject;
  privatePem: string;
  publicPem: string;
}

function keys(): Keys {
  const pair = generateSigningKeyPair();
  return { privateKey: createPrivateKey(pair.privateKeyPem), publicKey: createPublicKey(pair.publicKeyPem), privatePem: pair.privateKeyPem, publicPem: pair.publicKeyPem };
}

const signer = keys();
const keyPolicy = (k: Keys = signer): VerificationPolicy => ({ kind: 'key', publicKey: k.publicKey });

/** A real packed ModelPack artifact (two weights, config, doc, code, dataset) in a fresh layout. */
async function packedLayout(layerFormat: 'raw' | 'tar' = 'raw'): Promise<{ layout: LayoutTarget; dir: string; model: string; manifest: ImageManifest; descriptor: Descriptor }> {
  const base = await tempDir('sign-artifact-');
  const model = join(base, 'model');
  const spec = await sampleModel(model);
  const dir = join(base, 'layout');
  const layout = new LayoutTarget(dir);
  await layout.init();
  const packed = await packModel(spec, layout, { tag: 'v1', layerFormat });
  return { layout, dir, model, manifest: packed.manifest, descriptor: packed.descriptor };
}

function statementOf(bundleBytes: Uint8Array): { subject: { name: string; digest: Record<string, string> }[]; predicateType: string; predicate: Record<string, unknown> } {
  return JSON.parse(Buffer.from(parseBundle(bundleBytes, 'test').dsseEnvelope.payload, 'base64').toString('utf8'));
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function cli(argv: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (c: Buffer) => out.push(c));
  stderr.on('data', (c: Buffer) => err.push(c));
  const code = await main(argv, { stdout, stderr, env, cwd });
  return { code, out: Buffer.concat(out).toString(), err: Buffer.concat(err).toString() };
}

/** Re-tag `tag` to a copy of the manifest with `layerIndex` pointing at other bytes; returns the new descriptor. */
async function swapLayer(target: Target, manifest: ImageManifest, layerIndex: number, tag: string): Promise<Descriptor> {
  const replacement = jsonContent({ swapped: true }, manifest.layers[layerIndex]!.mediaType);
  await target.push(replacement.descriptor, replacement.bytes);
  const layers = manifest.layers.map((l, i) => (i === layerIndex ? { ...l, digest: replacement.descriptor.digest, size: replacement.descriptor.size } : l));
  const { bytes, descriptor } = encodeManifest({ ...manifest, layers });
  await target.push(descriptor, bytes);
  await target.tag(descriptor, tag);
  return descriptor;
}

/** What an attacker does after swapping a layer: point the old signature referrers at the new manifest. */
async function copyBundles(target: Target, from: Descriptor, to: Descriptor): Promise<void> {
  for (const found of await findBundles(target, from)) {
    await attachBundle(target, to, found.bytes!, found.declaredPredicateType!);
  }
}

describe('signing packed artifacts from their manifest', () => {
  it('signs an oci layout artifact with a key: an OMS bundle and a cosign image signature, both cosign v3 referrers', async () => {
    const { layout, manifest, descriptor } = await packedLayout();
    const signed = await signArtifact(layout, 'v1', { kind: 'key', privateKey: signer.privateKey }, { repository: 'models/tiny' });
    expect(signed.descriptor.digest).toBe(descriptor.digest);
    expect(signed.attached.filter((a) => !a.tag).map((a) => a.predicateType).sort()).toEqual([COSIGN_SIGN_PREDICATE_TYPE, OMS_PREDICATE_TYPE].sort());
    expect(signed.attached.filter((a) => a.tag).map((a) => a.tag)).toEqual([`sha256-${descriptor.digest.slice(7)}.sig`]);
    // Raw layers: each resource is the layer's file path and digest.
    expect(signed.statement.subject[0]!.name).toBe('tiny');
    const byName = new Map(signed.statement.predicate.resources.map((r) => [r.name, r.digest]));
    for (const layer of manifest.layers) expect(byName.get(layer.annotations!['org.cncf.model.filepath']!)).toBe(layer.digest.slice(7));
    // The referrers: artifactType bundle, empty config, one bundle layer, the two annotations.
    const listed = await referrers(layout, descriptor, BUNDLE_V03_MEDIA_TYPE);
    expect(listed).toHaveLength(2);
    for (const entry of listed) {
      const m = (await fetchManifest(layout, entry, 'test')) as ImageManifest;
      expect(m.artifactType).toBe(BUNDLE_V03_MEDIA_TYPE);
      expect(m.config.mediaType).toBe('application/vnd.oci.empty.v1+json');
      expect(m.layers).toHaveLength(1);
      expect(m.layers[0]!.mediaType).toBe(BUNDLE_V03_MEDIA_TYPE);
      expect(m.subject?.digest).toBe(descriptor.digest);
      expect(m.annotations?.['dev.sigstore.bundle.content']).toBe('dsse-envelope');
      expect([OMS_PREDICATE_TYPE, COSIGN_SIGN_PREDICATE_TYPE]).toContain(m.annotations?.['dev.sigstore.bundle.predicateType']);
    }
    // The cosign statement names the repository and the manifest digest, predicate {}.
    const cosign = (await findBundles(layout, descriptor)).find((b) => b.declaredPredicateType === COSIGN_SIGN_PREDICATE_TYPE)!;
    const statement = statementOf(cosign.bytes!);
    expect(statement.subject).toEqual([{ name: 'models/tiny', digest: { sha256: descriptor.digest.slice(7) } }]);
    expect(statement.predicate).toEqual({});

    const verified = await verifyArtifact(layout, 'v1', keyPolicy());
    expect(verified.reason).toBeUndefined();
    expect(verified.ok).toBe(true);
    expect(verified.bundles.map((b) => [b.role, b.ok])).toEqual([
      ['model-signature', true],
      ['image-signature', true],
      ['image-signature', true],
    ]);
    expect(verified.bundles[0]!.checks.find((c) => c.name === 'layers')?.detail).toMatch(/all 7 model files/);
    expect(verified.bundles[1]!.checks.find((c) => c.name === 'subject')?.ok).toBe(true);
  });

  it('takes tar layers\' file digests from the pack record, and asks for a re-pack when it is missing', async () => {
    const { layout, model, manifest } = await packedLayout('tar');
    const signed = await signArtifact(layout, 'v1', { kind: 'key', privateKey: signer.privateKey });
    const weight = signed.statement.predicate.resources.find((r) => r.name === 'model-00001.safetensors')!;
    expect(weight.digest).toBe(sha256(await readFile(join(model, 'model-00001.safetensors'))));
    expect(weight.digest).not.toBe(manifest.layers.find((l) => l.annotations?.['org.cncf.model.filepath'] === 'model-00001.safetensors')!.digest.slice(7));
    expect((await verifyArtifact(layout, 'v1', keyPolicy())).ok).toBe(true);

    const stripped = manifest.layers.map(({ annotations, ...l }) => ({ ...l, annotations: { ...annotations, 'dev.modelship.file.digest': '' } }));
    const { bytes, descriptor } = encodeManifest({ ...manifest, layers: stripped });
    await layout.push(descriptor, bytes);
    await layout.tag(descriptor, 'unrecorded');
    await expect(signArtifact(layout, 'unrecorded', { kind: 'key', privateKey: signer.privateKey })).rejects.toMatchObject({
      code: 'SIGN_FILE_DIGESTS_MISSING',
      message: expect.stringMatching(/layer 0 .*no per-file digests were recorded.*repack/),
    });
  });

  it('reads no weight blob: signing and verifying work with every layer blob deleted from the layout', async () => {
    const { layout, dir, manifest } = await packedLayout();
    for (const layer of manifest.layers) await rm(join(dir, 'blobs', 'sha256', layer.digest.slice(7)));
    await expect(readFile(join(dir, 'blobs', 'sha256', manifest.layers[0]!.digest.slice(7)))).rejects.toThrow(/ENOENT/);
    const signed = await signArtifact(layout, 'v1', { kind: 'key', privateKey: signer.privateKey });
    expect(signed.statement.predicate.resources).toHaveLength(7);
    expect((await verifyArtifact(layout, 'v1', keyPolicy())).ok).toBe(true);
  });

  it('fails a manifest with a swapped layer as "layer PATH digest differs", even with the signatures copied over', async () => {
    const { layout, manifest, descriptor } = await packedLayout();
    await signArtifact(layout, 'v1', { kind: 'key', privateKey: signer.privateKey });
    const index = manifest.layers.findIndex((l) => l.annotations?.['org.cncf.model.filepath'] === 'model-00001.safetensors');
    const swapped = await swapLayer(layout, manifest, index, 'v1');

    const unsigned = await verifyArtifact(layout, 'v1', keyPolicy());
    expect(unsigned.ok).toBe(false);
    expect(unsigned.reason).toMatch(/no Sigstore bundle refers to .* sha256:/);

    await copyBundles(layout, descriptor, swapped);
    const result = await verifyArtifact(layout, 'v1', keyPolicy());
    expect(result.ok).toBe(false);
    expect(result.reason).toMatch(/^layer model-00001\.safetensors digest differs: the manifest has sha256:[0-9a-f]{64}, the signature says sha256:/);
    const image = result.bundles.find((b) => b.role === 'image-signature')!;
    expect(image.trusted).toBe(true);
    expect(image.reason).toMatch(/not the manifest sha256:.*a signature of another artifact/);
  });

  it('fails a signature by another key, naming the key', async () => {
    const { layout } = await packedLayout();
    await signArtifact(layout, 'v1', { kind: 'key', privateKey: keys().privateKey });
    const result = await verifyArtifact(layout, 'v1', keyPolicy());
    expect(result.ok).toBe(false);
    expect(result.reason).toMatch(/signed by another key/);
    expect(result.bundles.every((b) => !b.trusted)).toBe(true);
  });

  it('fails a bundle edited after signing: the DSSE signature no longer verifies', async () => {
    const { layout, descriptor } = await packedLayout();
    await signArtifact(layout, 'v1', { kind: 'key', privateKey: signer.privateKey });
    const original = (await findBundles(layout, descriptor)).find((b) => b.declaredPredicateType === OMS_PREDICATE_TYPE)!;
    const bundle = JSON.parse(Buffer.from(original.bytes!).toString('utf8'));
    const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8'));
    statement.predicate.resources[0].digest = '0'.repeat(64);
    bundle.dsseEnvelope.payload = Buffer.from(JSON.stringify(statement)).toString('base64');
    // Replace the referrer: delete the signed one, push the edited one in its place.
    await layout.delete(original.referrer);
    await attachBundle(layout, descriptor, new TextEncoder().encode(JSON.stringify(bundle)), OMS_PREDICATE_TYPE);
    const result = await verifyArtifact(layout, 'v1', keyPolicy());
    expect(result.ok).toBe(false);
    expect(result.reason).toMatch(/the DSSE signature does not verify: the payload or the signature was changed after signing/);
    expect(result.bundles.find((b) => b.role === 'image-signature')?.ok).toBe(true);
  });

  it('attests SBOM referrers and adds SLSA provenance with the builder and the spec file digest', async () => {
    const { layout, model, descriptor } = await packedLayout();
    const sbom = { bomFormat: 'CycloneDX', specVersion: '1.6', version: 1, components: [] };
    const sbomBlob = jsonContent(sbom, 'application/vnd.cyclonedx+json');
    const sbomManifest = await buildArtifactManifest(layout, { artifactType: 'application/vnd.cyclonedx+json', layers: [{ descriptor: sbomBlob.descriptor, content: sbomBlob.bytes }] });
    await attach(layout, descriptor, sbomManifest);
    await writeFile(join(model, 'modelship.yaml'), 'name: tiny\n');
    const signed = await signArtifact(layout, 'v1', { kind: 'key', privateKey: signer.privateKey }, {
      provenance: { projectDir: model, env: { MODELSHIP_BUILDER: 'hook' } },
    });
    expect(signed.attached.filter((a) => !a.tag).map((a) => a.predicateType).sort()).toEqual([CYCLONEDX_PREDICATE_TYPE, SLSA_PROVENANCE_V1, COSIGN_SIGN_PREDICATE_TYPE, OMS_PREDICATE_TYPE].sort());
    const found = await findBundles(layout, descriptor);
    const bom = statementOf(found.find((b) => b.declaredPredicateType === CYCLONEDX_PREDICATE_TYPE)!.bytes!);
    expect(bom.predicate).toEqual(sbom);
    expect(bom.subject[0]!.digest['sha256']).toBe(descriptor.digest.slice(7));
    const slsa = statementOf(found.find((b) => b.declaredPredicateType === SLSA_PROVENANCE_V1)!.bytes!);
    const predicate = slsa.predicate as { runDetails: { builder: { id: string } }; buildDefinition: { resolvedDependencies: { name?: string; digest: Record<string, string> }[] } };
    expect(predicate.runDetails.builder.id).toMatch(/git-hook/);
    expect(predicate.buildDefinition.resolvedDependencies).toContainEqual({ name: 'modelship.yaml', digest: { sha256: sha256(Buffer.from('name: tiny\n')) } });
    const verified = await verifyArtifact(layout, 'v1', keyPolicy());
    expect(verified.ok).toBe(true);
    expect(verified.bundles.filter((b) => b.role === 'attestation').map((b) => b.ok)).toEqual([true, true]);
  });

  it('signs and verifies on the loopback registry through the referrers tag fallback', async () => {
    const { layout, descriptor } = await packedLayout();
    const repo = `sign-artifact/tiny-${Date.now().toString(36)}`;
    const opened = await openReference(`${registry}/${repo}:v1`, { cwd: process.cwd(), env: {}, plainHttp: true });
    await copy(layout, 'v1', opened.target, 'v1');
    await signArtifact(opened.target, 'v1', { kind: 'key', privateKey: signer.privateKey }, { repository: `${registry}/${repo}` });
    // docker-registry 2.8 has no referrers API: the tag index lists both bundles.
    const tagIndex = await fetchManifest(opened.target, await opened.target.resolve(referrersTagOf(descriptor.digest)), 'test');
    expect('manifests' in tagIndex && tagIndex.manifests.map((m) => m.artifactType)).toEqual([BUNDLE_V03_MEDIA_TYPE, BUNDLE_V03_MEDIA_TYPE]);
    const verified = await verifyArtifact(opened.target, 'v1', keyPolicy());
    expect(verified.reason).toBeUndefined();
    // Two bundle referrers and cosign's tag signature.
    expect(verified.bundles.map((b) => b.form)).toEqual(['sigstore-bundle', 'sigstore-bundle', 'simple-signing']);
    expect((await verifyArtifact(opened.target, 'v1', keyPolicy(keys()))).ok).toBe(false);
  });
});

describe('modelship sign REF / verify REF', () => {
  it('signs a store reference and an oci: layout, verifies them, and exits 8 for the wrong key', async () => {
    const base = await tempDir('sign-artifact-cli-');
    const model = join(base, 'model');
    await sampleModel(model);
    await writeFile(join(model, 'modelship.yaml'), 'name: tiny\nfiles:\n  - {kind: weight, path: "*.safetensors"}\n  - {kind: doc, path: README.md}\n');
    const env = { MODELSHIP_HOME: join(base, 'home') };
    await writeFile(join(base, 'signing.key'), signer.privatePem);
    await writeFile(join(base, 'signing.pub'), signer.publicPem);
    await writeFile(join(base, 'other.pub'), keys().publicPem);
    const packed = await cli(['pack', model, '-t', 'tiny:v1'], env, base);
    expect(packed.err).toBe('');
    expect(packed.code).toBe(0);

    const signed = await cli(['sign', 'tiny:v1', '--key', 'signing.key', '--provenance', '--project', model, '--json'], env, base);
    expect(signed.err).toBe('');
    expect(signed.code).toBe(0);
    const out = JSON.parse(signed.out);
    expect(out.attached.filter((a: { tag?: string }) => !a.tag).map((a: { predicateType: string }) => a.predicateType)).toEqual([OMS_PREDICATE_TYPE, COSIGN_SIGN_PREDICATE_TYPE, SLSA_PROVENANCE_V1]);
    expect(out.attached.filter((a: { tag?: string }) => a.tag)).toHaveLength(1);
    expect(signed.out).not.toContain('PRIVATE KEY');
    // A store reference's statements over the manifest name the store's repository.
    const cosign = (await findBundles(openStore(env).layout, { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: out.digest, size: 0 })).find((b) => b.declaredPredicateType === COSIGN_SIGN_PREDICATE_TYPE)!;
    expect(statementOf(cosign.bytes!).subject).toEqual([{ name: 'tiny', digest: { sha256: out.digest.slice(7) } }]);

    const ok = await cli(['verify', 'tiny:v1', '--key', 'signing.pub'], env, base);
    expect(ok.out).toMatch(/ok +layers +all 3 model files/);
    expect(ok.out).toMatch(/verified: the local store's copy of tiny:v1 \(sha256:[0-9a-f]{64}\)/);
    expect(ok.code).toBe(0);
    const wrong = await cli(['verify', 'tiny:v1', '--key', 'other.pub', '--json'], env, base);
    expect(wrong.code).toBe(8);
    expect(JSON.parse(wrong.out)).toMatchObject({ ok: false, code: 'VERIFY_FAILED', reason: expect.stringMatching(/another key/) });

    const layout = new LayoutTarget(join(base, 'layout'));
    await layout.init();
    await copy(openStore(env).layout, 'tiny:v1', layout, 'v1');
    expect((await cli(['sign', 'oci:layout:v1', '--key', 'signing.key'], env, base)).code).toBe(0);
    expect((await cli(['verify', 'oci:layout:v1', '--key', 'signing.pub'], env, base)).code).toBe(0);
    const folderFlag = await cli(['sign', 'tiny:v1', '--key', 'signing.key', '--method', 'shards'], env, base);
    expect(folderFlag.code).toBe(2);
    expect(folderFlag.err).toMatch(/--method applies to a model folder/);
  });
});
