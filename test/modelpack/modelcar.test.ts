import { readFile, readdir, readlink, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { LayoutTarget } from '../../modules/oci/layout.js';
import { fetchManifest } from '../../modules/oci/manifest.js';
import type { ImageIndex } from '../../modules/oci/types.js';
import { packModel, readArtifact } from '../../modules/modelpack/index.js';
import { runCli } from '../helpers/cli.js';
import { busyboxBase, multiArchBase } from './busybox.js';
import { bytesOf, specFor, tempDir, writeTree } from './helpers.js';

describe('ModelCar view', () => {
  it('is a runnable image sharing the weight blob with the ModelPack manifest, both under one tag', async () => {
    const src = await tempDir();
    await writeTree(src, { 'model.gguf': bytesOf(200_000, 9), 'README.md': '# car\n' });
    const root = join(await tempDir(), 'store');
    const store = new LayoutTarget(root);
    const packed = await packModel(specFor(src, [{ kind: 'weight', path: 'model.gguf' }, { kind: 'doc', path: 'README.md' }]), store, {
      tag: 'car',
      modelcar: { target: await busyboxBase(), reference: 'latest' },
    });
    const car = packed.modelcar!;
    const weight = packed.files.find((f) => f.path === 'model.gguf')!;
    expect(weight.layer.mediaType).toBe('application/vnd.cncf.model.weight.v1.tar');
    expect(weight.layer.annotations?.['org.cncf.model.filepath']).toBe('models/model.gguf');
    // The same blob is the image's layer: stored once.
    expect(car.imageManifest.layers.map((l) => l.digest)).toContain(weight.layer.digest);
    const blobs = await readdir(join(root, 'blobs', 'sha256'));
    expect(blobs.filter((b) => `sha256:${b}` === weight.layer.digest)).toHaveLength(1);
    const weightBytes = (await stat(store.blobPath(weight.layer.digest))).size;
    const total = (await Promise.all(blobs.map((b) => stat(join(root, 'blobs', 'sha256', b))))).reduce((n, s) => n + s.size, 0);
    const baseLayer = car.imageManifest.layers[0]!.size;
    expect(total - baseLayer).toBeLessThan(weightBytes * 2);

    const index = (await fetchManifest(store, packed.tagged, 'test')) as ImageIndex;
    expect(index.manifests.map((m) => m.digest)).toEqual([car.image.digest, packed.descriptor.digest]);
    expect(index.manifests[0]!.platform).toEqual({ architecture: 'amd64', os: 'linux' });
    // modelship reads the tag as the model.
    expect((await readArtifact(store, 'car')).format).toBe('modelpack');

    // skopeo picks the image by platform; umoci unpacks it as a container root filesystem.
    const imageLayout = join(await tempDir(), 'image');
    await execa('skopeo', ['copy', '--quiet', `oci:${root}:car`, `oci:${imageLayout}:car`]);
    const bundle = join(await tempDir(), 'bundle');
    await execa('umoci', ['unpack', '--rootless', '--image', `${imageLayout}:car`, bundle]);
    const rootfs = join(bundle, 'rootfs');
    expect(Buffer.compare(await readFile(join(rootfs, 'models/model.gguf')), Buffer.from(bytesOf(200_000, 9)))).toBe(0);
    expect(await readFile(join(rootfs, 'models/README.md'), 'utf8')).toBe('# car\n');
    expect(await readlink(join(rootfs, 'bin/sh'))).toBe('busybox');
    const { stdout } = await execa(join(rootfs, 'bin/busybox'), ['sh', '-c', 'echo ok']);
    expect(stdout).toBe('ok');
  });
});

describe('ModelCar layouts and the container tools that read them', () => {
  it('copy --platform writes a layout umoci unpacks by tag; the whole index is refused by umoci and rewritten by skopeo --all', async () => {
    const src = await tempDir();
    await writeTree(src, { 'model.gguf': bytesOf(50_000, 3), 'README.md': '# car\n' });
    const root = join(await tempDir(), 'store');
    const store = new LayoutTarget(root);
    const packed = await packModel(specFor(src, [{ kind: 'weight', path: 'model.gguf' }, { kind: 'doc', path: 'README.md' }]), store, {
      tag: 'car',
      modelcar: { target: await busyboxBase(), reference: 'latest' },
    });
    const work = await tempDir();

    // The whole index: two image manifests under one tag, which umoci 0.4 cannot choose between.
    const whole = join(work, 'whole');
    expect((await runCli(['copy', `oci:${root}:car`, `oci:${whole}:v1`])).code).toBe(0);
    const refused = await execa('umoci', ['unpack', '--rootless', '--image', `${whole}:v1`, join(work, 'refused')], { reject: false });
    expect(refused.exitCode).not.toBe(0);
    expect(refused.stderr).toContain('tag is ambiguous');

    // Narrowed to the platform image: one manifest under the tag, unpacked by umoci as a root filesystem.
    const narrowed = join(work, 'narrowed');
    const copied = await runCli(['copy', `oci:${root}:car`, `oci:${narrowed}:v1`, '--platform', 'linux/amd64', '--json']);
    expect(copied.stderr).toBe('');
    expect(copied.json().digest).toBe(packed.modelcar!.image.digest);
    const layoutIndex = JSON.parse(await readFile(join(narrowed, 'index.json'), 'utf8')) as ImageIndex;
    expect(layoutIndex.manifests.filter((m) => m.annotations?.['org.opencontainers.image.ref.name'] === 'v1').map((m) => m.digest)).toEqual([packed.modelcar!.image.digest]);
    const bundle = join(work, 'bundle');
    await execa('umoci', ['unpack', '--rootless', '--image', `${narrowed}:v1`, bundle]);
    expect(Buffer.compare(await readFile(join(bundle, 'rootfs', 'models/model.gguf')), Buffer.from(bytesOf(50_000, 3)))).toBe(0);
    const wrong = await runCli(['copy', `oci:${root}:car`, `oci:${join(work, 'arm')}:v1`, '--platform', 'linux/arm64']);
    expect(wrong.code).toBe(4);
    expect(wrong.stderr).toContain('has no linux/arm64 image (it lists linux/amd64)');
    expect((await runCli(['copy', `oci:${root}:car`, `oci:${join(work, 'bad')}:v1`, '--platform', 'amd64'])).code).toBe(2);

    // skopeo 1.9: --all keeps both manifests but rewrites the index without artifactType and gzips the layers.
    const all = join(work, 'all');
    await execa('skopeo', ['copy', '--quiet', '--all', `oci:${root}:car`, `oci:${all}:car`]);
    const allIndex = (await fetchManifest(new LayoutTarget(all), await new LayoutTarget(all).resolve('car'), 'test')) as ImageIndex;
    expect(allIndex.manifests).toHaveLength(2);
    expect(allIndex.manifests.some((m) => m.artifactType)).toBe(false);
    expect(allIndex.manifests.map((m) => m.digest)).not.toContain(packed.modelcar!.image.digest);
    // --preserve-digests refuses to rewrite, and so refuses the copy.
    const preserve = await execa('skopeo', ['copy', '--quiet', '--all', '--preserve-digests', `oci:${root}:car`, `oci:${join(work, 'preserve')}:car`], { reject: false });
    expect(preserve.exitCode).not.toBe(0);
  });
});

describe('a multi-platform ModelCar (issue 16, point 9)', () => {
  it('has a linux/amd64 and a linux/arm64 image when the base offers both, sharing the model blobs; copy --platform takes either', async () => {
    const src = await tempDir();
    await writeTree(src, { 'model.gguf': bytesOf(60_000, 5), 'README.md': '# car\n' });
    const root = join(await tempDir(), 'store');
    const store = new LayoutTarget(root);
    const base = await multiArchBase();
    const packed = await packModel(specFor(src, [{ kind: 'weight', path: 'model.gguf' }, { kind: 'doc', path: 'README.md' }]), store, {
      tag: 'car',
      modelcar: { target: base, reference: 'multi' },
    });
    const car = packed.modelcar!;
    // Only the platforms a ModelCar is for: s390x in the base is left out.
    expect(car.images.map((i) => i.platform)).toEqual([
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'arm64', variant: 'v8' },
    ]);
    const index = (await fetchManifest(store, packed.tagged, 'test')) as ImageIndex;
    expect(index.manifests.map((m) => m.digest)).toEqual([...car.images.map((i) => i.descriptor.digest), packed.descriptor.digest]);
    expect(index.manifests.map((m) => m.platform?.architecture)).toEqual(['amd64', 'arm64', undefined]);
    // Each image ends with exactly the ModelPack manifest's layers: one blob set, stored once.
    const modelLayers = packed.manifest.layers.map((l) => l.digest);
    for (const image of car.images) expect(image.manifest.layers.slice(-modelLayers.length).map((l) => l.digest)).toEqual(modelLayers);
    expect(car.images[0]!.manifest.layers[0]!.digest).not.toBe(car.images[1]!.manifest.layers[0]!.digest);
    for (const image of car.images) {
      const config = JSON.parse(await readFile(store.blobPath(image.manifest.config.digest), 'utf8'));
      expect(config.architecture).toBe(image.platform.architecture);
      expect(config.rootfs.diff_ids).toHaveLength(image.manifest.layers.length);
    }
    // A runtime on either kind of node gets its image; modelship still reads the tag as the model.
    for (const platform of ['linux/amd64', 'linux/arm64']) {
      const copied = await runCli(['copy', `oci:${root}:car`, `oci:${join(await tempDir(), 'p')}:v1`, '--platform', platform, '--json']);
      expect(copied.code, copied.stderr).toBe(0);
      expect(copied.json().digest).toBe(car.images[platform.endsWith('amd64') ? 0 : 1]!.descriptor.digest);
    }
    const view = await readArtifact(store, 'car');
    expect(view.descriptor.digest).toBe(packed.descriptor.digest);
    expect(view.images.map((i) => i.digest)).toEqual(car.images.map((i) => i.descriptor.digest));

    // An explicit platform still gives one image; a single-platform base gives one image.
    const one = await packModel(specFor(src, [{ kind: 'weight', path: 'model.gguf' }]), store, {
      modelcar: { target: base, reference: 'multi', platform: { os: 'linux', architecture: 'arm64' } },
    });
    expect(one.modelcar!.images.map((i) => i.platform.architecture)).toEqual(['arm64']);
    const single = await packModel(specFor(src, [{ kind: 'weight', path: 'model.gguf' }]), store, { modelcar: { target: base, reference: 'latest' } });
    expect(single.modelcar!.images.map((i) => i.platform)).toEqual([{ os: 'linux', architecture: 'amd64' }]);
  });
});
