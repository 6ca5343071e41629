import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pack as tarPack } from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { LayoutTarget } from '../../modules/oci/layout.js';
import type { ImageManifest } from '../../modules/oci/types.js';
import { artifactFiles, detectFormat, packModel, readArtifact, unpack } from '../../modules/modelpack/index.js';
import { bytesOf, json, pushArtifact, specFor, tempDir, writeTree } from './helpers.js';
import { vectorPath } from '../helpers/vectors.js';

async function tarOf(entries: { name: string; body: string }[]): Promise<Buffer> {
  const p = tarPack();
  for (const e of entries) p.entry({ name: e.name, mtime: new Date(0), mode: 0o644 }, e.body);
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const kitopsDir = vectorPath('kitops');

describe('reading every model artifact format into one view', () => {
  it("reads KitOps' own recorded ModelKit manifests (no artifactType)", async () => {
    const names = (await readdir(kitopsDir)).filter((n) => /^compare-manifest__manifest[A-Z]\.json$/.test(n));
    expect(names.length).toBe(5);
    for (const name of names) {
      const manifest = JSON.parse(await readFile(join(kitopsDir, name), 'utf8')) as ImageManifest;
      expect(manifest.artifactType).toBeUndefined();
      expect(detectFormat(manifest), name).toBe('modelkit');
      const files = artifactFiles(manifest);
      expect(files.map((f) => f.layerFormat)).toEqual(manifest.layers.map(() => 'tar'));
      expect(files.map((f) => f.kind)).toEqual(manifest.layers.map((l) => (l.mediaType.includes('.model.') ? 'weight' : 'code')));
    }
  });

  it('writes a ModelKit with --format modelkit that reads and unpacks as one', async () => {
    const src = await tempDir();
    await writeTree(src, { 'model/w.gguf': bytesOf(5000), 'src/a.py': 'print(1)\n', 'README.md': '# r\n' });
    const spec = specFor(src, [{ kind: 'weight', path: 'model' }, { kind: 'code', path: 'src' }, { kind: 'doc', path: 'README.md' }]);
    const store = new LayoutTarget(join(await tempDir(), 'layout'));
    const packed = await packModel(spec, store, { tag: 'v1', format: 'modelkit' });
    expect(packed.modelkit!.manifest.artifactType).toBe('application/vnd.kitops.modelkit.manifest.v1+json');
    expect(packed.modelkit!.manifest.config.mediaType).toBe('application/vnd.kitops.modelkit.config.v1+json');
    expect(packed.modelkit!.manifest.layers.map((l) => l.mediaType)).toEqual([
      'application/vnd.kitops.modelkit.model.v1.tar',
      'application/vnd.kitops.modelkit.code.v1.tar',
      'application/vnd.kitops.modelkit.docs.v1.tar',
    ]);
    expect(packed.modelkit!.kitfile).toMatchObject({ manifestVersion: '1.0.0', model: { path: 'model' }, code: [{ path: 'src' }], docs: [{ path: 'README.md' }] });
    const view = await readArtifact(store, 'v1-modelkit');
    expect(view.format).toBe('modelkit');
    const out = join(await tempDir(), 'out');
    await unpack(store, 'v1-modelkit', out);
    expect(await readFile(join(out, 'src/a.py'), 'utf8')).toBe('print(1)\n');
    expect(Buffer.compare(await readFile(join(out, 'model/w.gguf')), Buffer.from(bytesOf(5000)))).toBe(0);
    // The ModelPack artifact is still what the tag names.
    expect((await readArtifact(store, 'v1')).format).toBe('modelpack');
  });

  it('reads a legacy cnai artifact with a snake_case config', async () => {
    const store = new LayoutTarget(join(await tempDir(), 'layout'));
    const weight = Buffer.from('weights');
    const { createHash } = await import('node:crypto');
    const digest = `sha256:${createHash('sha256').update(weight).digest('hex')}`;
    await pushArtifact(store, 'old', {
      artifactType: 'application/vnd.cnai.model.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.cnai.model.config.v1+json',
        bytes: json({ descriptor: { name: 'old', doc_url: 'https://x' }, config: { param_size: '1B' }, model_fs: { type: 'layers', diff_ids: [digest] } }),
      },
      layers: [{ mediaType: 'application/vnd.cnai.model.weight.v1.raw', bytes: weight, annotations: { 'org.cnai.model.filepath': 'w/model.bin' } }],
    });
    const view = await readArtifact(store, 'old');
    expect(view.format).toBe('modelpack-legacy');
    expect(view.config).toMatchObject({ descriptor: { name: 'old', docURL: 'https://x' }, config: { paramSize: '1B' }, modelfs: { diffIds: [digest] } });
    expect(view.files).toMatchObject([{ path: 'w/model.bin', kind: 'weight', layerFormat: 'raw', digest }]);
    const out = join(await tempDir(), 'out');
    await unpack(store, 'old', out);
    expect(await readFile(join(out, 'w/model.bin'), 'utf8')).toBe('weights');
  });

  it('reads a Docker model artifact', async () => {
    const store = new LayoutTarget(join(await tempDir(), 'layout'));
    await pushArtifact(store, 'docker', {
      config: { mediaType: 'application/vnd.docker.ai.model.config.v0.1+json', bytes: json({ config: { format: 'gguf', quantization: 'Q4_K_M' } }) },
      layers: [
        { mediaType: 'application/vnd.docker.ai.gguf.v3', bytes: Buffer.from('GGUF....') },
        { mediaType: 'application/vnd.docker.ai.license', bytes: Buffer.from('Apache-2.0'), annotations: { 'org.opencontainers.image.title': 'LICENSE' } },
      ],
    });
    const view = await readArtifact(store, 'docker');
    expect(view.format).toBe('docker-model');
    expect(view.files.map((f) => [f.path, f.kind])).toEqual([['model.gguf', 'weight'], ['LICENSE', 'doc']]);
    const out = join(await tempDir(), 'out');
    await unpack(store, 'docker', out, { filters: [{ kind: 'weights' }] });
    expect(await readdir(out)).toEqual(['model.gguf']);
  });

  it('reads an Ollama manifest', async () => {
    const store = new LayoutTarget(join(await tempDir(), 'layout'));
    await pushArtifact(store, 'ollama', {
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      config: { mediaType: 'application/vnd.docker.container.image.v1+json', bytes: json({ model_format: 'gguf', model_family: 'llama' }) },
      layers: [
        { mediaType: 'application/vnd.ollama.image.model', bytes: Buffer.from('GGUF') },
        { mediaType: 'application/vnd.ollama.image.template', bytes: Buffer.from('{{ .Prompt }}') },
        { mediaType: 'application/vnd.ollama.image.license', bytes: Buffer.from('MIT') },
        { mediaType: 'application/vnd.ollama.image.params', bytes: json({ stop: ['</s>'] }) },
      ],
    });
    const view = await readArtifact(store, 'ollama');
    expect(view.format).toBe('ollama');
    expect(view.files.map((f) => [f.path, f.kind])).toEqual([
      ['model.gguf', 'weight'],
      ['template', 'weightConfig'],
      ['license', 'doc'],
      ['params', 'weightConfig'],
    ]);
    const out = join(await tempDir(), 'out');
    await unpack(store, 'ollama', out);
    expect((await readdir(out)).sort()).toEqual(['license', 'model.gguf', 'params', 'template']);
  });

  it('unpacks a recorded-shape ModelKit tar layer at the root', async () => {
    const store = new LayoutTarget(join(await tempDir(), 'layout'));
    await pushArtifact(store, 'kit', {
      config: { mediaType: 'application/vnd.kitops.modelkit.config.v1+json', bytes: json({ manifestVersion: '1.0.0', model: { path: 'model' } }) },
      layers: [{ mediaType: 'application/vnd.kitops.modelkit.model.v1.tar', bytes: await tarOf([{ name: 'model/my-model.bin', body: 'w' }]) }],
    });
    const out = join(await tempDir(), 'out');
    const result = await unpack(store, 'kit', out);
    expect(result.format).toBe('modelkit');
    expect(await readFile(join(out, 'model/my-model.bin'), 'utf8')).toBe('w');
  });
});
