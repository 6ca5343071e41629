/**
 * A ModelCar as a cluster sees it, through the CLI against the real registry: the index digest
 * (what KServe pins and cosign-style admission verifies) carries signatures; documents are read
 * from the model folder; push carries every referrer; the SBOM names what the tag resolves to.
 */
import { appendFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, inject, it } from 'vitest';
import { BUNDLE_V03_MEDIA_TYPE, generateSigningKeyPair, parseBundle } from '../../modules/sign/index.js';
import { COSIGN_SIGN_PREDICATE_TYPE } from '../../modules/sign/artifact/statements.js';
import { SIMPLE_SIGNING_MEDIA_TYPE } from '../../modules/sign/simple-signing.js';
import { openReference, fetchManifest, readSignatureImage, referrers, signatureTagOf, type Descriptor, type ImageIndex, type ImageManifest } from '../../modules/oci/index.js';
import { openStore } from '../../modules/store/index.js';
import { runCli } from '../helpers/cli.js';
import { makeProject } from '../card/projects.js';
import { busyboxBase } from './busybox.js';
import { tempDir } from './helpers.js';

const registry = inject('registry');

const LIMITS = `
## Intended uses

- Local assistants on laptops

## Limitations

- Hallucinates facts about recent events
`;

async function statementOf(target: Parameters<typeof referrers>[0], referrer: Descriptor): Promise<{ subject: { digest: Record<string, string> }[]; predicateType: string }> {
  const manifest = (await fetchManifest(target, referrer, 'test')) as ImageManifest;
  const layer = manifest.layers.find((l) => l.mediaType === BUNDLE_V03_MEDIA_TYPE)!;
  const chunks: Buffer[] = [];
  for await (const c of await target.fetch(layer)) chunks.push(c as Buffer);
  const bundle = parseBundle(Buffer.concat(chunks), 'test');
  const envelope = (bundle as unknown as { dsseEnvelope: { payload: string } }).dsseEnvelope;
  return JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8'));
}

describe('a ModelCar tag as clusters see it', () => {
  it('signs the index and the image, reads documents from models/, pushes every referrer and discovers them from the tag', async () => {
    const base = await tempDir('modelcar-cluster-');
    const project = await makeProject('class3');
    await appendFile(join(project, 'README.md'), LIMITS);
    const env = { MODELSHIP_HOME: join(base, 'home') };
    const keys = generateSigningKeyPair();
    await writeFile(join(base, 'signing.key'), keys.privateKeyPem);
    await writeFile(join(base, 'signing.pub'), keys.publicKeyPem);
    const busybox = await busyboxBase();
    const cli = (args: string[]) => runCli(args, { env, cwd: base });

    expect((await cli(['pack', project, '-t', 'plain:v1'])).code).toBe(0);
    const car = await cli(['pack', project, '-t', 'car:v1', '--modelcar', '--modelcar-base', `oci:${busybox.location}:latest`, '--json']);
    expect(car.stderr).toBe('');
    expect(car.code).toBe(0);
    const { digest: indexDigest, modelpack: modelDigest, modelcar: imageDigest } = car.json();

    // Documents: the ModelCar's model view gives what the folder and the plain pack give.
    const mofFolder = (await cli(['mof', project, '--json'])).json();
    const mofPlain = (await cli(['mof', 'plain:v1', '--json'])).json();
    const mofCar = await cli(['mof', 'car:v1', '--json', '--attach']);
    expect(mofCar.code).toBe(0);
    expect(mofFolder.class).toBe(3);
    expect(mofPlain.class).toBe(3);
    expect(mofCar.json().class).toBe(3);
    expect(mofCar.json().missing ?? []).toEqual(mofPlain.missing ?? []);

    const cdxPlain = (await cli(['sbom', 'plain:v1', '--json'])).json();
    const cdxCar = (await cli(['sbom', 'car:v1', '--json'])).json();
    const cardOf = (bom: any) => bom.metadata.component.modelCard;
    expect(cardOf(cdxCar).quantitativeAnalysis).toEqual(cardOf(cdxPlain).quantitativeAnalysis);
    expect(cardOf(cdxCar).quantitativeAnalysis.performanceMetrics.length).toBeGreaterThan(0);
    expect(cardOf(cdxCar).considerations).toEqual(cardOf(cdxPlain).considerations);
    expect(cardOf(cdxCar).considerations.technicalLimitations).toEqual(['Hallucinates facts about recent events']);
    // The purl names the digest the tag resolves to; the model manifest is a component. A store name is no Docker Hub URL.
    expect(cdxCar.metadata.component.purl).toBe(`pkg:oci/car@${encodeURIComponent(indexDigest)}?tag=v1`);
    expect(cdxCar.components).toContainEqual(expect.objectContaining({ purl: `pkg:oci/car@${encodeURIComponent(modelDigest)}?tag=v1`, hashes: [{ alg: 'SHA-256', content: modelDigest.slice(7) }] }));
    expect(JSON.stringify(cdxCar)).not.toContain('docker.io');
    const spdxCar = await cli(['sbom', 'car:v1', '--format', 'spdx', '--json', '--attach']);
    expect(spdxCar.stderr).toBe('');
    expect(spdxCar.code).toBe(0);
    const aiOf = (doc: any) => doc['@graph'].find((e: any) => e.type === 'ai_AIPackage');
    const spdxPlain = (await cli(['sbom', 'plain:v1', '--format', 'spdx', '--json'])).json();
    for (const key of ['ai_metric', 'ai_limitation', 'ai_informationAboutApplication']) {
      expect(aiOf(spdxPlain)[key]).toBeDefined();
      expect(aiOf(spdxCar.json())[key]).toEqual(aiOf(spdxPlain)[key]);
    }

    const inspected = (await cli(['inspect', 'car:v1', '--json'])).json();
    expect(JSON.stringify(inspected)).toContain('"path":"models/model.safetensors"');
    expect(JSON.stringify(inspected)).not.toContain('"path":"."');

    // Signing covers the model manifest, the index and the platform image.
    const signed = await cli(['sign', 'car:v1', '--key', 'signing.key', '--json']);
    expect(signed.stderr).toBe('');
    expect(signed.code).toBe(0);
    const attached = (signed.json().attached as { subject: string; predicateType: string; tag?: string }[]).filter((a) => !a.tag);
    expect(attached.filter((a) => a.subject === indexDigest).map((a) => a.predicateType)).toContain(COSIGN_SIGN_PREDICATE_TYPE);
    expect(attached.filter((a) => a.subject === imageDigest).map((a) => a.predicateType)).toEqual([COSIGN_SIGN_PREDICATE_TYPE]);

    // Push, then attach one more document in the store and push again: the new referrer travels.
    const remote = `${registry}/cluster/car:v1`;
    const pushed = await cli(['push', 'car:v1', remote, '--plain-http', '--json']);
    expect(pushed.stderr).toBe('');
    expect(pushed.code).toBe(0);
    expect((await cli(['sbom', 'car:v1', '--attach'])).code).toBe(0);
    const again = await cli(['push', 'car:v1', remote, '--plain-http', '--json']);
    expect(again.code).toBe(0);
    expect(again.json().copied).toBeGreaterThan(0);

    // What a cosign-style verifier does: referrers of the index digest, a bundle whose subject is the index.
    const opened = await openReference(remote, { cwd: base, env, plainHttp: true });
    const index: Descriptor = await opened.target.resolve('v1');
    expect(index.digest).toBe(indexDigest);
    const onIndex = await referrers(opened.target, index, BUNDLE_V03_MEDIA_TYPE);
    const signatures = onIndex.filter((d) => d.annotations?.['dev.sigstore.bundle.predicateType'] === COSIGN_SIGN_PREDICATE_TYPE);
    expect(signatures).toHaveLength(1);
    const referrerManifest = (await fetchManifest(opened.target, signatures[0]!, 'test')) as ImageManifest;
    expect(referrerManifest.subject).toEqual({ mediaType: index.mediaType, digest: index.digest, size: index.size });
    expect(referrerManifest.artifactType).toBe(BUNDLE_V03_MEDIA_TYPE);
    expect((await statementOf(opened.target, signatures[0]!)).subject[0]!.digest).toEqual({ sha256: indexDigest.slice(7) });
    expect(referrerManifest.annotations?.['dev.sigstore.bundle.content']).toBe('dsse-envelope');
    expect(referrerManifest.config).toMatchObject({ mediaType: 'application/vnd.oci.empty.v1+json', size: 2 });
    const listed = (await fetchManifest(opened.target, index, 'test')) as ImageIndex;
    const image = listed.manifests.find((m) => m.platform)!;
    expect(await referrers(opened.target, image, BUNDLE_V03_MEDIA_TYPE)).toHaveLength(1);

    // podman resolves the tag to the index and takes the platform image from it: the image it stores is ours.
    const podmanRoot = await tempDir('modelcar-podman-');
    const podman = (args: string[]) => execa('podman', ['--root', join(podmanRoot, 'root'), '--runroot', join(podmanRoot, 'run'), '--storage-driver', 'vfs', ...args]);
    await podman(['pull', '-q', '--tls-verify=false', remote]);
    const imageManifest = (await fetchManifest(opened.target, image, 'test')) as ImageManifest;
    expect((await podman(['image', 'inspect', '--format', '{{.ID}}', remote])).stdout.trim()).toBe(imageManifest.config.digest.slice(7));

    // discover on the tag shows the index's referrers and each manifest's; by digest the heading names it once.
    const discovered = await cli(['discover', remote, '--plain-http', '--json']);
    const tree = discovered.json();
    expect(tree.referrers.length).toBeGreaterThan(0);
    const model = tree.manifests.find((m: any) => m.digest === modelDigest);
    // OCI referrers as the store has them, then cosign's tag signature (`sha256-<hex>.sig`) as the store has it: push carries both.
    const store = openStore(env).layout;
    const tagged = (node: any) => node.tag !== undefined;
    const tagSignatureOf = async (digest: string) => {
      const sig = (await readSignatureImage(store, { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest, size: 0 }))!;
      expect(sig).toBeDefined();
      const { digest: d, mediaType, size } = sig.descriptor;
      return { digest: d, mediaType, size, artifactType: SIMPLE_SIGNING_MEDIA_TYPE, tag: signatureTagOf(digest), signatures: sig.manifest.layers.length, referrers: [] };
    };
    const storeRefs = await referrers(store, { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: modelDigest, size: 0 });
    expect(model.referrers.filter((r: any) => !tagged(r)).map((r: any) => r.digest).sort()).toEqual(storeRefs.map((r) => r.digest).sort());
    expect(model.referrers.filter(tagged)).toEqual([await tagSignatureOf(modelDigest)]);
    const imageNode = tree.manifests.find((m: any) => m.digest === imageDigest);
    expect(imageNode.referrers.filter((r: any) => !tagged(r)).map((r: any) => r.artifactType)).toEqual([BUNDLE_V03_MEDIA_TYPE]);
    expect(imageNode.referrers.filter(tagged)).toEqual([await tagSignatureOf(imageDigest)]);
    expect(tree.referrers.filter(tagged)).toEqual([await tagSignatureOf(indexDigest)]);
    const text = await cli(['discover', `${registry}/cluster/car@${indexDigest}`, '--plain-http']);
    expect(text.stdout.split('\n')[0]).toBe(`${registry}/cluster/car@${indexDigest}`);
    expect(text.stdout).toContain('in the index: linux/amd64 image');

    // verify on the tag checks all three subjects.
    const verified = await cli(['verify', remote, '--plain-http', '--key', 'signing.pub', '--json']);
    expect(verified.json()).toMatchObject({ ok: true });
    expect(new Set(verified.json().bundles.map((b: any) => b.subject))).toEqual(new Set([modelDigest, indexDigest, imageDigest]));

    // The registry SBOM points at an absolute oci:// location and the registry's repository.
    const remoteSpdx = (await cli(['sbom', remote, '--plain-http', '--format', 'spdx', '--json'])).json();
    expect(aiOf(remoteSpdx).software_downloadLocation).toBe(`oci://${registry}/cluster/car@${indexDigest}`);
    expect(aiOf(remoteSpdx).software_packageUrl).toBe(`pkg:oci/car@${encodeURIComponent(indexDigest)}?repository_url=${registry}/cluster/car&tag=v1`);
  });

  it('fails verification of a ModelCar whose index is not signed, naming the index', async () => {
    const base = await tempDir('modelcar-unsigned-index-');
    const project = await makeProject('class3');
    const env = { MODELSHIP_HOME: join(base, 'home') };
    const keys = generateSigningKeyPair();
    await writeFile(join(base, 'signing.key'), keys.privateKeyPem);
    await writeFile(join(base, 'signing.pub'), keys.publicKeyPem);
    const cli = (args: string[]) => runCli(args, { env, cwd: base });
    const car = await cli(['pack', project, '-t', 'car:v1', '--modelcar', '--modelcar-base', `oci:${(await busyboxBase()).location}:latest`, '--json']);
    const { digest: indexDigest, modelpack: modelDigest } = car.json();
    // Signing the model manifest alone (by its digest) is what older versions did.
    expect((await cli(['sign', `car@${modelDigest}`, '--key', 'signing.key'])).code).toBe(0);
    const verified = await cli(['verify', 'car:v1', '--key', 'signing.pub', '--json']);
    expect(verified.code).toBe(8);
    expect(verified.json().reason).toContain(indexDigest);
  });

  it('fails fast on an unreachable ModelCar base, naming --modelcar-base and the layout alternative', async () => {
    const base = await tempDir('modelcar-offline-');
    const project = await makeProject('class3');
    // Port 1 on loopback refuses connections: what an offline Docker Hub looks like, without the network.
    const r = await runCli(['pack', project, '-t', 'car:v1', '--modelcar', '--modelcar-base', '127.0.0.1:1/library/busybox:1.37', '--plain-http'], {
      env: { MODELSHIP_HOME: join(base, 'home') },
      cwd: base,
    });
    expect(r.code).toBe(6);
    expect(r.stderr).toContain('the ModelCar base 127.0.0.1:1/library/busybox:1.37 could not be read');
    expect(r.stderr).toContain('--modelcar-base oci:./busybox:latest');
  });
});
