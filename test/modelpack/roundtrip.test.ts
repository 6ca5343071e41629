import { readFile, readdir, writeFile, chmod, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { LayoutTarget } from '../../modules/oci/layout.js';
import { fetchManifestBytes } from '../../modules/oci/manifest.js';
import { PackCache, packModel, packedFilesOf, unpack, validateModelConfig, parseModelConfig, readArtifact, type LayerFormat } from '../../modules/modelpack/index.js';
import { sampleModel, tempDir, writeTree, specFor, bytesOf } from './helpers.js';

async function listFiles(root: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(join(root, rel), { withFileTypes: true })) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await listFiles(root, p)));
    else out.push(p);
  }
  return out.sort();
}

describe('pack and unpack round trips', () => {
  for (const format of ['raw', 'tar', 'tar+gzip', 'tar+zstd'] as LayerFormat[]) {
    it(`restores every file byte for byte with ${format} layers`, async () => {
      const src = await tempDir();
      const spec = await sampleModel(src);
      await chmod(join(src, 'src/serve.py'), 0o755);
      const store = new LayoutTarget(join(await tempDir(), 'layout'));
      const packed = await packModel(spec, store, { tag: 'v1', layerFormat: format });
      expect(packed.manifest.artifactType).toBe('application/vnd.cncf.model.manifest.v1+json');
      expect(packed.manifest.config.mediaType).toBe('application/vnd.cncf.model.config.v1+json');
      expect(packed.files.map((f) => f.path)).toEqual([
        'README.md', 'config.json', 'data/train.jsonl', 'model-00001.safetensors', 'model-00002.safetensors', 'src/serve.py', 'src/util/__init__.py',
      ]);
      for (const f of packed.files) {
        const expected = format === 'raw' ? 'raw' : f.kind === 'weight' ? 'tar' : format;
        expect(f.layer.mediaType.endsWith(`.v1.${expected}`), f.layer.mediaType).toBe(true);
        expect(f.layer.annotations?.['org.cncf.model.filepath']).toBe(f.path);
        expect(f.layer.annotations?.['org.opencontainers.image.title']).toBe(f.path);
        const meta = JSON.parse(f.layer.annotations!['org.cncf.model.file.metadata+json']!);
        expect(meta).toMatchObject({ uid: 0, gid: 0, size: f.size, typeflag: 0, mtime: '1970-01-01T00:00:00Z' });
        if (format === 'raw') expect(f.layer.digest).toBe(f.fileDigest);
        if (format === 'raw' || format === 'tar') expect(f.diffId).toBe(f.layer.digest);
        else if (f.kind !== 'weight') expect(f.diffId).not.toBe(f.layer.digest);
      }
      // Tar layers carry each file's own sha256, so signing never re-reads weights.
      const recorded = packedFilesOf(packed.manifest.layers);
      expect(recorded.length).toBe(format === 'raw' ? 0 : packed.files.length);
      for (const r of recorded) expect(r.files[0]!.sha256).toBe(packed.files.find((f) => f.layer.digest === r.layerDigest)!.fileDigest);
      // The stored config validates against the upstream schema and names the diffIds in layer order.
      const configBytes = await fetchManifestBytes(store, packed.manifest.config, 'test');
      const config = parseModelConfig(configBytes);
      validateModelConfig(JSON.parse(Buffer.from(configBytes).toString()), { layers: packed.manifest.layers });
      expect(config.modelfs.diffIds).toEqual(packed.files.map((f) => f.diffId));
      expect(config.descriptor.createdAt).toBeUndefined();

      const out = join(await tempDir(), 'out');
      const result = await unpack(store, 'v1', out);
      expect(result.format).toBe('modelpack');
      expect(await listFiles(out)).toEqual(packed.files.map((f) => f.path));
      for (const f of packed.files) expect(Buffer.compare(await readFile(join(out, f.path)), await readFile(join(src, f.path)))).toBe(0);
      expect((await stat(join(out, 'src/serve.py'))).mode & 0o777).toBe(0o755);
      expect((await stat(join(out, 'README.md'))).mode & 0o777).toBe(0o644);
    });
  }

  it('re-packs after a one-file change reading only that file, for every layer format', async () => {
    for (const format of ['raw', 'tar+zstd'] as LayerFormat[]) {
      const src = await tempDir();
      const spec = await sampleModel(src);
      const store = new LayoutTarget(join(await tempDir(), 'layout'));
      const cacheFile = join(await tempDir(), 'cache.json');
      const first = await packModel(spec, store, { layerFormat: format, cache: new PackCache(cacheFile) });
      expect(first.stats.filesRead).toHaveLength(7);
      await writeFile(join(src, 'README.md'), '# tiny, v2\n');
      const second = await packModel(spec, store, { layerFormat: format, cache: new PackCache(cacheFile) });
      expect(second.stats.filesRead).toEqual(['README.md']);
      expect(second.stats.bytesRead).toBe('# tiny, v2\n'.length);
      expect(second.stats.hits).toBe(6);
      expect(second.descriptor.digest).not.toBe(first.descriptor.digest);
      // A cold cache gives the same result: the cache never changes what is packed.
      const cold = await packModel(spec, store, { layerFormat: format });
      expect(cold.descriptor.digest).toBe(second.descriptor.digest);
    }
  });

  it('unpacks only what a filter selects', async () => {
    const src = await tempDir();
    const spec = await sampleModel(src);
    const store = new LayoutTarget(join(await tempDir(), 'layout'));
    await packModel(spec, store, { tag: 'v1', layerFormat: 'tar+gzip' });
    const out = join(await tempDir(), 'out');
    await unpack(store, 'v1', out, { filters: [{ kind: 'weights' }, { kind: 'code', path: 'src/util' }] });
    expect(await listFiles(out)).toEqual(['model-00001.safetensors', 'model-00002.safetensors', 'src/util/__init__.py']);
  });

  it('gives the same manifest digest for the same folder in two places, and a new one with --created', async () => {
    const digests: string[] = [];
    for (let i = 0; i < 2; i++) {
      const src = await tempDir(`modelship-repro-${i}-`);
      const spec = await sampleModel(src);
      // Different mtimes and owners' umask must not matter.
      await writeFile(join(src, 'README.md'), '# tiny\n');
      const store = new LayoutTarget(join(await tempDir(), 'layout'));
      for (const format of ['raw', 'tar+gzip', 'tar+zstd'] as LayerFormat[]) {
        digests.push(`${format} ${(await packModel(spec, store, { layerFormat: format })).descriptor.digest}`);
      }
    }
    expect(digests.slice(0, 3)).toEqual(digests.slice(3));
    const src = await tempDir();
    const store = new LayoutTarget(join(await tempDir(), 'layout'));
    const created = await packModel(await sampleModel(src), store, { created: '2025-01-31T12:00:00Z' });
    expect(`raw ${created.descriptor.digest}`).not.toBe(digests[0]);
    expect(created.config.descriptor.createdAt).toBe('2025-01-31T12:00:00Z');
  });

  it("writes annotation keys in Go's map order, so modctl's re-encoding of the manifest keeps its digest", async () => {
    // modctl v0.2.2 pkg/backend/inspect.go: Digest = godigest.FromBytes(json.Marshal(manifest)); Go sorts map keys.
    const src = await tempDir();
    const store = new LayoutTarget(join(await tempDir(), 'layout'));
    const packed = await packModel(await sampleModel(src), store, { layerFormat: 'tar+gzip', created: '2025-01-31T12:00:00Z' });
    const sorted = (keys: string[]) => [...keys].sort();
    for (const layer of packed.manifest.layers) expect(Object.keys(layer.annotations!)).toEqual(sorted(Object.keys(layer.annotations!)));
    expect(Object.keys(packed.manifest.layers[0]!.annotations!)).toHaveLength(4);
    expect(Object.keys(packed.manifest.annotations!)).toEqual(sorted(Object.keys(packed.manifest.annotations!)));
  });

  it('writes a layout skopeo reads and copies', async () => {
    const src = await tempDir();
    const spec = await sampleModel(src);
    const root = join(await tempDir(), 'layout');
    const store = new LayoutTarget(root);
    const packed = await packModel(spec, store, { tag: 'v1' });
    const raw = await execa('skopeo', ['inspect', '--raw', `oci:${root}:v1`]);
    expect(raw.stdout).toBe(Buffer.from(await fetchManifestBytes(store, packed.descriptor, 'test')).toString());
    const copyRoot = join(await tempDir(), 'copy');
    await execa('skopeo', ['copy', '--quiet', `oci:${root}:v1`, `oci:${copyRoot}:copied`]);
    const view = await readArtifact(new LayoutTarget(copyRoot), 'copied');
    expect(view.descriptor.digest).toBe(packed.descriptor.digest);
  });

  it('refuses a config that fails the schema before reading any file', async () => {
    const src = await tempDir();
    await writeTree(src, { 'w.bin': bytesOf(10) });
    const spec = specFor(src, [{ kind: 'weight', path: 'w.bin' }], { config: { paramSize: 'seven billion' } });
    const store = new LayoutTarget(join(await tempDir(), 'layout'));
    await expect(packModel(spec, store, {})).rejects.toMatchObject({ code: 'MODELPACK_CONFIG_INVALID', message: expect.stringContaining('/config/paramSize') });
  });

  it('names a missing spec path', async () => {
    const src = await tempDir();
    await writeTree(src, { 'w.bin': bytesOf(10) });
    const spec = specFor(src, [{ kind: 'weight', path: 'w.bin' }, { kind: 'doc', path: 'MISSING.md' }]);
    await expect(packModel(spec, new LayoutTarget(join(await tempDir(), 'l')), {})).rejects.toMatchObject({
      code: 'SPEC_INVALID',
      message: expect.stringContaining('MISSING.md'),
    });
  });
});
