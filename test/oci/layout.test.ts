import { execFile } from 'node:child_process';
import { readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { hasCode } from '../../modules/errors/index.js';
import { LayoutTarget, MemoryTarget, attach, buildArtifactManifest, descriptorOf, digestOf, referrers, readAllVerified, REF_NAME_ANNOTATION } from '../../modules/oci/index.js';
import type { Descriptor, Target } from '../../modules/oci/types.js';
import { pushImage, sampleImage, tempDir } from './fixtures.js';

const run = promisify(execFile);

async function files(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

async function bytesOf(target: Target, desc: Descriptor): Promise<Buffer> {
  return Buffer.from(await readAllVerified(await target.fetch(desc), desc, Number.MAX_SAFE_INTEGER));
}

describe.each([
  ['layout', async () => new LayoutTarget(await tempDir())],
  ['memory', async () => new MemoryTarget()],
])('%s target', (_name, make) => {
  it('round-trips blobs, manifests and tags', async () => {
    const target = await make();
    const image = sampleImage([100, 200]);
    await pushImage(target, image, 'v1');
    expect(await target.resolve('v1')).toEqual(image.descriptor);
    expect((await target.resolve(image.descriptor.digest)).digest).toBe(image.descriptor.digest);
    for (const blob of image.blobs) expect(await bytesOf(target, blob.descriptor)).toEqual(Buffer.from(blob.bytes));
    await pushImage(target, sampleImage([5]), 'v2');
    const tags: string[] = [];
    for await (const t of (target as LayoutTarget).tags()) tags.push(t);
    expect(tags).toEqual(['v1', 'v2']);
    // a tag moves
    await target.tag(image.descriptor, 'v2');
    expect((await target.resolve('v2')).digest).toBe(image.descriptor.digest);
  });

  it('answers referrers of a subject, filtered by artifactType', async () => {
    const target = await make();
    const image = sampleImage([10]);
    await pushImage(target, image, 'v1');
    const sbom = new TextEncoder().encode('{"bomFormat":"CycloneDX"}');
    const manifest = await buildArtifactManifest(target, {
      artifactType: 'application/vnd.cyclonedx+json',
      layers: [{ descriptor: descriptorOf(sbom, 'application/vnd.cyclonedx+json'), content: sbom }],
      annotations: { 'org.opencontainers.image.created': '2026-01-01T00:00:00Z' },
    });
    const listed = await attach(target, image.descriptor, manifest);
    const sig = await attach(target, image.descriptor, await buildArtifactManifest(target, { artifactType: 'application/vnd.dev.cosign.simplesigning.v1+json', layers: [] }));
    expect(listed.artifactType).toBe('application/vnd.cyclonedx+json');
    const all = await referrers(target, image.descriptor);
    expect(all.map((d) => d.digest).sort()).toEqual([listed.digest, sig.digest].sort());
    expect(await referrers(target, image.descriptor, 'application/vnd.cyclonedx+json')).toEqual([listed]);
    expect(all.find((d) => d.digest === listed.digest)?.annotations).toEqual({ 'org.opencontainers.image.created': '2026-01-01T00:00:00Z' });
    // The API path: no fallback tag was written.
    await expect(target.resolve(`sha256-${image.descriptor.digest.slice(7)}`)).rejects.toMatchObject({ code: 'OCI_NOT_FOUND' });
  });

  it('refuses content that does not match its descriptor', async () => {
    const target = await make();
    const bytes = new TextEncoder().encode('payload');
    const desc = descriptorOf(bytes, 'application/octet-stream');
    await expect(target.push({ ...desc, digest: digestOf(new TextEncoder().encode('other')) }, bytes)).rejects.toMatchObject({ code: 'OCI_DIGEST_MISMATCH' });
    await expect(target.push(desc, Readable.from([Buffer.from('payload plus more')]))).rejects.toMatchObject({ code: 'OCI_SIZE_MISMATCH' });
    expect(await target.exists(desc)).toBe(false);
  });
});

describe('LayoutTarget on disk', () => {
  it('writes the files the image-layout spec names', async () => {
    const dir = await tempDir();
    const layout = new LayoutTarget(dir);
    const image = sampleImage([10]);
    await pushImage(layout, image, 'v1');
    expect(JSON.parse(await readFile(join(dir, 'oci-layout'), 'utf8'))).toEqual({ imageLayoutVersion: '1.0.0' });
    const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8'));
    expect(index.schemaVersion).toBe(2);
    expect(index.manifests).toEqual([{ ...image.descriptor, annotations: { [REF_NAME_ANNOTATION]: 'v1' } }]);
    const blob = await readFile(join(dir, 'blobs', 'sha256', image.descriptor.digest.slice(7)));
    expect(digestOf(blob)).toBe(image.descriptor.digest);
  });

  it.each([
    ['too long', (b: Buffer) => Buffer.concat([b, Buffer.from('x')]), 'OCI_SIZE_MISMATCH'],
    ['too short', (b: Buffer) => b.subarray(1), 'OCI_SIZE_MISMATCH'],
    ['wrong bytes', (b: Buffer) => Buffer.from(b.map((x) => x ^ 0xff)), 'OCI_DIGEST_MISMATCH'],
  ])('leaves nothing in blobs/ or ingest/ when a streamed write is %s', async (_why, corrupt, code) => {
    const dir = await tempDir();
    const layout = new LayoutTarget(dir);
    const good = Buffer.from(sampleImage([300_000]).blobs[1]!.bytes);
    const desc = descriptorOf(good, 'application/octet-stream');
    const bad = corrupt(good);
    const chunks = [bad.subarray(0, 100_000), bad.subarray(100_000)];
    const err = await layout.push(desc, Readable.from(chunks)).catch((e: unknown) => e);
    expect(hasCode(err, code)).toBe(true);
    expect(String(err)).toContain(desc.digest);
    expect(await files(join(dir, 'blobs'))).toEqual([]);
    expect(await files(join(dir, 'ingest'))).toEqual([]);
  });

  it('names the layout and digest when a blob is missing', async () => {
    const dir = await tempDir();
    const layout = new LayoutTarget(dir);
    const image = sampleImage([10]);
    await pushImage(layout, image, 'v1');
    const layer = image.blobs[1]!.descriptor;
    await rm(join(dir, 'blobs', 'sha256', layer.digest.slice(7)), { force: true });
    const err = await layout.fetch(layer).catch((e: unknown) => e);
    expect(hasCode(err, 'OCI_NOT_FOUND')).toBe(true);
    expect(String(err)).toContain(dir);
    expect(String(err)).toContain(layer.digest);
  });

  it('says what is wrong with a directory that is not a layout, or an unknown tag', async () => {
    const dir = await tempDir();
    await expect(new LayoutTarget(dir).resolve('v1')).rejects.toThrow(/not an OCI image layout \(no oci-layout file\)/);
    const layout = new LayoutTarget(dir);
    await pushImage(layout, sampleImage([1]), 'v1');
    await expect(layout.resolve('v9')).rejects.toThrow(`tag "v9" not found in OCI layout ${dir}`);
    await writeFile(join(dir, 'index.json'), '{"schemaVersion":2,"manifests":[{"digest":"x"}]}');
    await expect(layout.resolve('v1')).rejects.toThrow(/manifests\[0\]\.digest/);
  });

  it('keeps referrers listed in index.json untagged, so they survive a tag move', async () => {
    const dir = await tempDir();
    const layout = new LayoutTarget(dir);
    const image = sampleImage([10]);
    await pushImage(layout, image, 'v1');
    const listed = await attach(layout, image.descriptor, await buildArtifactManifest(layout, { artifactType: 'application/vnd.example.sig', layers: [] }));
    const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8'));
    expect(index.manifests.map((m: Descriptor) => m.digest)).toContain(listed.digest);
    const reopened = new LayoutTarget(dir);
    expect(await referrers(reopened, image.descriptor)).toEqual([listed]);
  });

  it('loses no tag when two processes write 50 tags each into one layout', async () => {
    const dir = await tempDir();
    const fixture = join(import.meta.dirname, 'tag-writer.fixture.ts');
    const tsx = join(import.meta.dirname, '..', '..', 'node_modules', '.bin', 'tsx');
    await Promise.all([run(tsx, [fixture, dir, 'a', '50']), run(tsx, [fixture, dir, 'b', '50'])]);
    const layout = new LayoutTarget(dir);
    const tags: string[] = [];
    for await (const t of layout.tags()) tags.push(t);
    expect(tags).toHaveLength(100);
    for (const prefix of ['a', 'b']) for (let i = 0; i < 50; i++) expect(tags).toContain(`${prefix}-${i}`);
    expect((await readdir(dir)).filter((f) => f.includes('.lock') || f.endsWith('.tmp'))).toEqual([]);
  }, 120_000);

  it('recovers a lock left by a writer that died', async () => {
    const dir = await tempDir();
    const layout = new LayoutTarget(dir);
    await layout.init();
    await mkdir(dir, { recursive: true });
    // A pid that cannot be alive: above the kernel's pid_max.
    await writeFile(join(dir, 'index.json.lock'), `99999999 ${Date.now()} dead`);
    await pushImage(layout, sampleImage([1]), 'after-crash');
    expect((await layout.resolve('after-crash')).mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
  });
});
