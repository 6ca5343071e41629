/**
 * cosign's tag signature (`sha256-<hex>.sig`, simple signing), the form policy-controller, Kyverno
 * `type: Cosign` and Flux before 2.8 verify: a real cosign v3.1.3 signature (test/vectors/cosign) is
 * read and verified here, and what `modelship sign` attaches is verified by the real cosign binary,
 * both ways with a wrong key refused. cosign reads the tag as pkg/cosign/verify.go
 * VerifyImageSignatures does (v3.1.3): ociremote.SignatureTag(digest), then SimpleClaimVerifier.
 */
import { createPublicKey } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { descriptorOf, MemoryTarget, openReference, readSignatureImage, signatureTagOf, type Descriptor, type ImageManifest } from '../../modules/oci/index.js';
import { appendSignatureLayers } from '../../modules/oci/signature-tag.js';
import { generateSigningKeyPair, identityFromEnvironment } from '../../modules/sign/index.js';
import { signArtifact, verifyArtifact } from '../../modules/sign/artifact/index.js';
import { findSimpleSignatures } from '../../modules/sign/artifact/simple-signatures.js';
import {
  ANNOTATION_COSIGN_BUNDLE,
  ANNOTATION_COSIGN_CERTIFICATE,
  ANNOTATION_COSIGN_SIGNATURE,
  SIMPLE_SIGNING_MEDIA_TYPE,
  simpleSigningPayload,
  verifySimpleSignature,
} from '../../modules/sign/simple-signing.js';
import { judgePath } from '../helpers/judges.js';
import { runCli } from '../helpers/cli.js';
import { busyboxBase } from '../modelpack/busybox.js';
import { tempDir } from '../modelpack/helpers.js';
import { openStore } from '../../modules/store/index.js';
import { makeProject } from '../card/projects.js';
import { idToken, startMockSigstore, type MockSigstore } from './artifact-sigstore.js';

const registry = inject('registry');
const VECTOR = resolve(import.meta.dirname, '..', 'vectors', 'cosign', 'sign-key-v3.1.3');
const SIGNED_DIGEST = 'sha256:908ccb2c4ae896b6ba1758792dfe22e7330396c1a1b4cbd3551b5c19a56c9a98';

async function vector(name: string): Promise<Buffer> {
  return readFile(join(VECTOR, name));
}

/** The vector's image and its signature image, as cosign left them in the registry, on a memory target. */
async function vectorTarget(): Promise<{ target: MemoryTarget; image: Descriptor }> {
  const target = new MemoryTarget('cosign-vector');
  const manifestBytes = await vector('image-manifest.json');
  const manifest = JSON.parse(manifestBytes.toString()) as ImageManifest;
  await target.push(manifest.config, await vector('image-config.json'));
  await target.push(manifest.layers[0]!, await vector('image-layer.tar.gz'));
  const image = descriptorOf(manifestBytes, manifest.mediaType!);
  await target.push(image, manifestBytes);
  await target.tag(image, 'v1');
  const sigBytes = await vector('sig-manifest.json');
  const sig = JSON.parse(sigBytes.toString()) as ImageManifest;
  await target.push(sig.config, await vector('sig-config.json'));
  await target.push(sig.layers[0]!, await vector('payload.json'));
  const sigDesc = descriptorOf(sigBytes, sig.mediaType!);
  await target.push(sigDesc, sigBytes);
  await target.tag(sigDesc, signatureTagOf(image.digest));
  return { target, image };
}

describe('a signature cosign v3.1.3 made (test/vectors/cosign/sign-key-v3.1.3)', () => {
  it('is found under sha256-<hex>.sig and verifies with cosign.pub; another key is refused', async () => {
    const { target, image } = await vectorTarget();
    expect(image.digest).toBe(SIGNED_DIGEST);
    const found = await findSimpleSignatures(target, image);
    expect(found).toHaveLength(1);
    expect(found[0]!.source).toBe('tag');
    const publicKey = createPublicKey(await vector('cosign.pub'));
    const ok = verifySimpleSignature(found[0]!.payload!, found[0]!.layer.annotations!, { kind: 'key', publicKey }, image.digest);
    expect(ok.reason).toBeUndefined();
    expect(ok).toMatchObject({ ok: true, trusted: true });
    const other = createPublicKey(generateSigningKeyPair().publicKeyPem);
    const refused = verifySimpleSignature(found[0]!.payload!, found[0]!.layer.annotations!, { kind: 'key', publicKey: other }, image.digest);
    expect(refused).toMatchObject({ ok: false, trusted: false });
    // The claim names the digest: the same signature offered for another manifest fails as cosign's SimpleClaimVerifier does.
    const moved = verifySimpleSignature(found[0]!.payload!, found[0]!.layer.annotations!, { kind: 'key', publicKey }, `sha256:${'0'.repeat(64)}`);
    expect(moved).toMatchObject({ ok: false, trusted: true });
    expect(moved.reason).toContain('not the manifest');
  });

  it('is the shape we write: the same payload bytes, config bytes and layer media type', async () => {
    expect(Buffer.from(simpleSigningPayload('127.0.0.1:45123/vec/image', SIGNED_DIGEST))).toEqual(await vector('payload.json'));
    const theirs = JSON.parse((await vector('sig-manifest.json')).toString()) as ImageManifest;
    const target = new MemoryTarget('ours');
    const subject: Descriptor = { mediaType: 'application/vnd.docker.distribution.manifest.v2+json', digest: SIGNED_DIGEST, size: 423 };
    const ours = await appendSignatureLayers(target, subject, theirs.layers);
    expect(ours.manifest.config).toEqual({ mediaType: theirs.config.mediaType, digest: theirs.config.digest, size: theirs.config.size });
    expect(ours.manifest.layers).toEqual(theirs.layers);
    expect(ours.manifest.mediaType).toBe(theirs.mediaType);
    expect((await target.resolve(`sha256-${SIGNED_DIGEST.slice(7)}.sig`)).digest).toBe(ours.descriptor.digest);
  });
});

describe('cosign tag signatures that modelship sign attaches', () => {
  let sigstore: MockSigstore;
  beforeAll(async () => {
    sigstore = await startMockSigstore();
  });
  afterAll(() => sigstore?.close());

  it('cosign verify accepts ours on the ModelCar tag (index), the model manifest and after a push; a wrong key is refused; ours accepts cosign\'s', async () => {
    const cosign = judgePath('cosign');
    const base = await tempDir('simple-signing-cosign-');
    const env = { MODELSHIP_HOME: join(base, 'home') };
    const cli = (args: string[]) => runCli(args, { env, cwd: base });
    const keys = generateSigningKeyPair();
    await writeFile(join(base, 'signing.key'), keys.privateKeyPem);
    await writeFile(join(base, 'signing.pub'), keys.publicKeyPem);
    await writeFile(join(base, 'other.pub'), generateSigningKeyPair().publicKeyPem);
    const project = await makeProject('class3');
    const car = await cli(['pack', project, '-t', 'car:v1', '--modelcar', '--modelcar-base', `oci:${(await busyboxBase()).location}:latest`, '--json']);
    expect(car.code).toBe(0);
    const { digest: indexDigest, modelpack: modelDigest, modelcar: imageDigest } = car.json();

    // Signed in the store, then pushed: the .sig images travel with the referrers.
    const signed = await cli(['sign', 'car:v1', '--key', 'signing.key', '--json']);
    expect(signed.code).toBe(0);
    const tags = signed.json().attached.filter((a: { tag?: string }) => a.tag).map((a: { tag: string; subject: string }) => [a.subject, a.tag]);
    expect(tags).toEqual(expect.arrayContaining([[indexDigest, `sha256-${indexDigest.slice(7)}.sig`], [modelDigest, `sha256-${modelDigest.slice(7)}.sig`], [imageDigest, `sha256-${imageDigest.slice(7)}.sig`]]));
    // Signing again with the same key adds nothing (cosign's dupe detector keeps one signature per key).
    expect((await cli(['sign', 'car:v1', '--key', 'signing.key'])).code).toBe(0);
    const repo = `${registry}/simple-signing/car-${Date.now().toString(36)}`;
    expect((await cli(['push', 'car:v1', `${repo}:v1`, '--plain-http'])).code).toBe(0);
    const opened = await openReference(`${repo}:v1`, { cwd: base, env, plainHttp: true });
    const onIndex = await readSignatureImage(opened.target, await opened.target.resolve('v1'));
    expect(onIndex!.manifest.layers).toHaveLength(1);
    expect(onIndex!.manifest.layers[0]!.mediaType).toBe(SIMPLE_SIGNING_MEDIA_TYPE);

    // --new-bundle-format=false reads the .sig tag (what policy-controller and Kyverno type Cosign do); the default reads the bundles.
    const cosignVerify = (key: string, ref: string, legacy: boolean) =>
      execa(cosign, ['verify', '--key', key, '--insecure-ignore-tlog=true', '--allow-http-registry', ...(legacy ? ['--new-bundle-format=false'] : []), '--output', 'json', ref], {
        reject: false,
        env: { HOME: base, TUF_ROOT: join(base, 'tuf') },
      });
    for (const ref of [`${repo}:v1`, `${repo}@${indexDigest}`, `${repo}@${modelDigest}`]) {
      for (const legacy of [true, false]) {
        const ok = await cosignVerify(join(base, 'signing.pub'), ref, legacy);
        expect(ok.exitCode, `${ref} legacy=${legacy}: ${ok.stderr}`).toBe(0);
        if (legacy) expect(JSON.parse(ok.stdout)[0].critical.image['docker-manifest-digest']).toBe(ref.endsWith(':v1') ? indexDigest : ref.split('@')[1]);
        const wrong = await cosignVerify(join(base, 'other.pub'), ref, legacy);
        expect(wrong.exitCode).not.toBe(0);
        expect(wrong.stderr).toMatch(legacy ? /no matching signatures/ : /no matching attestations/);
      }
    }

    // The other way: cosign signs the index in the registry; verify reads it beside ours.
    await execa(cosign, ['generate-key-pair'], { cwd: base, env: { COSIGN_PASSWORD: 'test-password', HOME: base } });
    const cosignSign = await execa(
      cosign,
      ['sign', '--key', 'cosign.key', '--tlog-upload=false', '--new-bundle-format=false', '--use-signing-config=false', '--allow-http-registry', '-y', `${repo}@${indexDigest}`],
      { cwd: base, reject: false, env: { COSIGN_PASSWORD: 'test-password', HOME: base, TUF_ROOT: join(base, 'tuf') } },
    );
    expect(cosignSign.exitCode, cosignSign.stderr).toBe(0);
    const verified = await verifyArtifact(opened.target, 'v1', { kind: 'key', publicKey: createPublicKey(await readFile(join(base, 'cosign.pub'))) }, { allowUnsignedManifest: true });
    const theirs = verified.bundles.filter((b) => b.form === 'simple-signing' && b.subject === indexDigest);
    expect(theirs).toHaveLength(2);
    expect(theirs.filter((b) => b.trusted && b.ok)).toHaveLength(1);
    const ours = await cli(['verify', `${repo}:v1`, '--plain-http', '--key', 'signing.pub', '--json']);
    expect(ours.json().ok).toBe(true);
    const simple = ours.json().bundles.filter((b: { form: string }) => b.form === 'simple-signing');
    expect(new Set(simple.filter((b: { ok: boolean }) => b.ok).map((b: { subject: string }) => b.subject))).toEqual(new Set([indexDigest, modelDigest, imageDigest]));
    expect(simple.filter((b: { trusted: boolean }) => !b.trusted)).toHaveLength(1);

    // discover shows the tag signature beside the referrers.
    const discovered = await cli(['discover', `${repo}:v1`, '--plain-http']);
    expect(discovered.stdout).toContain(`cosign signatures (2), tag sha256-${indexDigest.slice(7)}.sig`);
    expect(discovered.stdout).toContain(`cosign signature, tag sha256-${modelDigest.slice(7)}.sig`);
    const listed = await cli(['list', '--json']);
    expect(JSON.stringify(listed.json())).not.toContain('.sig');
  });

  it('a trusted tag signature naming another manifest fails verify', async () => {
    const base = await tempDir('simple-signing-moved-');
    const env = { MODELSHIP_HOME: join(base, 'home') };
    const cli = (args: string[]) => runCli(args, { env, cwd: base });
    const keys = generateSigningKeyPair();
    await writeFile(join(base, 'signing.key'), keys.privateKeyPem);
    await writeFile(join(base, 'signing.pub'), keys.publicKeyPem);
    const project = await makeProject('class3');
    const a = (await cli(['pack', project, '-t', 'a:v1', '--json'])).json().digest as string;
    await writeFile(join(project, 'extra.md'), 'more\n');
    const b = (await cli(['pack', project, '-t', 'b:v1', '--json'])).json().digest as string;
    expect((await cli(['sign', 'a:v1', '--key', 'signing.key'])).code).toBe(0);
    expect((await cli(['sign', 'b:v1', '--key', 'signing.key'])).code).toBe(0);
    // Put a's signature image under b's .sig tag, as a registry write by someone else could.
    const target = openStore(env).layout;
    const aSig = await target.resolve(`sha256-${a.slice(7)}.sig`);
    await target.tag(aSig, `sha256-${b.slice(7)}.sig`);
    const verified = await cli(['verify', 'b:v1', '--key', 'signing.pub', '--json']);
    expect(verified.code).toBe(8);
    expect(verified.json().reason).toContain(`not the manifest ${b}`);
    // --no-simple-signing leaves the tag signature out.
    await writeFile(join(project, 'extra2.md'), 'more\n');
    const c = (await cli(['pack', project, '-t', 'c:v1', '--json'])).json().digest as string;
    const bare = await cli(['sign', 'c:v1', '--key', 'signing.key', '--no-simple-signing', '--json']);
    expect(bare.json().attached.filter((x: { tag?: string }) => x.tag)).toEqual([]);
    await expect(target.resolve(`sha256-${c.slice(7)}.sig`)).rejects.toThrow();
  });

  it('keyless: the layer carries the Fulcio certificate and Rekor bundle, and verifies offline against the trusted root', async () => {
    const base = await tempDir('simple-signing-keyless-');
    const project = await makeProject('class3');
    const env = { MODELSHIP_HOME: join(base, 'home') };
    const packed = await runCli(['pack', project, '-t', 'k:v1', '--json'], { env, cwd: base });
    expect(packed.code).toBe(0);
    const digest = packed.json().digest as string;
    const target = openStore(env).layout;
    const ISSUER = 'https://issuer.example.test';
    const token = idToken({ iss: ISSUER, sub: 'engineer@example.test', email: 'engineer@example.test', email_verified: true, aud: 'sigstore' });
    await signArtifact(target, digest, {
      kind: 'keyless',
      identity: identityFromEnvironment({ SIGSTORE_ID_TOKEN: token }),
      fulcioURL: sigstore.fulcioURL,
      rekorURL: sigstore.rekorURL,
      rekorEntryType: 'intoto',
    });
    const manifest = await target.resolve(digest);
    const image = await readSignatureImage(target, manifest);
    const annotations = image!.manifest.layers[0]!.annotations!;
    expect(Object.keys(annotations).sort()).toEqual([ANNOTATION_COSIGN_BUNDLE, 'dev.sigstore.cosign/chain', ANNOTATION_COSIGN_CERTIFICATE, ANNOTATION_COSIGN_SIGNATURE].sort());
    const rekor = JSON.parse(annotations[ANNOTATION_COSIGN_BUNDLE]!);
    expect(Object.keys(rekor).sort()).toEqual(['Payload', 'SignedEntryTimestamp']);
    expect(JSON.parse(Buffer.from(rekor.Payload.body, 'base64').toString()).kind).toBe('hashedrekord');
    const policy = (identity: RegExp) => ({ kind: 'keyless' as const, identity, issuer: ISSUER, trustedRoot: sigstore.trustedRoot });
    const ok = await verifyArtifact(target, digest, policy(/engineer@example\.test/));
    expect(ok.reason).toBeUndefined();
    const simple = ok.bundles.filter((b) => b.form === 'simple-signing');
    expect(simple).toHaveLength(1);
    expect(simple[0]).toMatchObject({ ok: true, trusted: true });
    expect(simple[0]!.checks.find((c) => c.name === 'identity')?.detail).toContain('engineer@example.test');
    const wrong = await verifyArtifact(target, digest, policy(/attacker@example\.test/));
    expect(wrong.ok).toBe(false);
    expect(wrong.bundles.filter((b) => b.form === 'simple-signing')[0]).toMatchObject({ trusted: false });
    // A payload changed under the signature fails the signature check.
    const layer = image!.manifest.layers[0]!;
    const payload = simpleSigningPayload('someone/else', manifest.digest);
    const tampered = verifySimpleSignature(payload, layer.annotations!, policy(/engineer@example\.test/), manifest.digest);
    expect(tampered).toMatchObject({ ok: false, trusted: false });
  });

  it('keyless: cosign verify accepts our tag signature against the trusted root, and refuses another identity', async () => {
    const cosign = judgePath('cosign');
    const base = await tempDir('simple-signing-keyless-cosign-');
    const project = await makeProject('class3');
    const env = { MODELSHIP_HOME: join(base, 'home') };
    expect((await runCli(['pack', project, '-t', 'kc:v1'], { env, cwd: base })).code).toBe(0);
    const repo = `${registry}/simple-signing/keyless-${Date.now().toString(36)}`;
    expect((await runCli(['push', 'kc:v1', `${repo}:v1`, '--plain-http'], { env, cwd: base })).code).toBe(0);
    const opened = await openReference(`${repo}:v1`, { cwd: base, env, plainHttp: true });
    const ISSUER = 'https://issuer.example.test';
    const token = idToken({ iss: ISSUER, sub: 'engineer@example.test', email: 'engineer@example.test', email_verified: true, aud: 'sigstore' });
    const signed = await signArtifact(opened.target, 'v1', {
      kind: 'keyless',
      identity: identityFromEnvironment({ SIGSTORE_ID_TOKEN: token }),
      fulcioURL: sigstore.fulcioURL,
      rekorURL: sigstore.rekorURL,
      rekorEntryType: 'intoto',
    });
    const rootFile = join(base, 'trusted_root.json');
    await writeFile(rootFile, JSON.stringify(sigstore.trustedRoot));
    const verify = (identity: string) =>
      execa(
        cosign,
        ['verify', '--trusted-root', rootFile, '--certificate-identity', identity, '--certificate-oidc-issuer', ISSUER, '--new-bundle-format=false', '--allow-http-registry', '--output', 'json', `${repo}@${signed.descriptor.digest}`],
        { reject: false, env: { HOME: base, TUF_ROOT: join(base, 'tuf') } },
      );
    const ok = await verify('engineer@example.test');
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)[0].critical.image['docker-manifest-digest']).toBe(signed.descriptor.digest);
    const other = await verify('attacker@example.test');
    expect(other.exitCode).not.toBe(0);
  });
});
