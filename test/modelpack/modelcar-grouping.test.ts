/**
 * A ModelCar of a project with thousands of small files: each top-level folder's small files share
 * one tar layer (as KitOps packs a dataset or code folder), each weight keeps its own, so the image
 * stays far under overlayfs's 500 lower layers (Linux fs/overlayfs/params.h OVL_MAX_STACK).
 */
import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { execa } from 'execa';
import { extract as tarExtract } from 'tar-stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { sbomInputOfArtifact, withArtifactProject } from '../../modules/attach/index.js';
import { LayoutTarget } from '../../modules/oci/layout.js';
import {
  ANNOTATION_FILE_ENTRIES,
  folderEntriesOf,
  PackCache,
  packedFilesOf,
  packModel,
  parseUnpackFilter,
  unpack,
  type PackResult,
} from '../../modules/modelpack/index.js';
import { MODELCAR_MAX_LAYERS } from '../../modules/modelpack/modelcar.js';
import { hashModelFolder } from '../../modules/sign/oms/hash-folder.js';
import { resourcesFromManifest } from '../../modules/sign/oms/manifest-resources.js';
import { copy } from '../../modules/oci/copy.js';
import { generateSigningKeyPair } from '../../modules/sign/index.js';
import { signArtifact, verifyArtifact } from '../../modules/sign/artifact/index.js';
import { runCli } from '../helpers/cli.js';
import { busyboxBase } from './busybox.js';
import { bytesOf, specFor, tempDir, writeTree } from './helpers.js';

const FILES = 3_000;

/** A weight, a config, a tokenizer folder, and 3,000 small dataset files in two sub-folders of data/. */
async function manyFiles(): Promise<string> {
  const src = await tempDir('modelcar-group-');
  const files: Record<string, string | Uint8Array> = {
    'model.gguf': bytesOf(300_000, 4),
    'config.json': '{"architectures":["LlamaForCausalLM"]}\n',
    'README.md': '# many\n',
    'tokenizer/tokenizer.json': '{"model":{"type":"BPE"}}\n',
    'tokenizer/vocab.txt': 'a\nb\n',
  };
  for (let i = 0; i < FILES; i++) files[`data/${i % 2 ? 'test' : 'train'}/part-${String(i).padStart(4, '0')}.jsonl`] = `{"i":${i}}\n`;
  await writeTree(src, files);
  return src;
}

const spec = (src: string) =>
  specFor(src, [
    { kind: 'weight', path: 'model.gguf' },
    { kind: 'weightConfig', path: 'config.json' },
    { kind: 'weightConfig', path: 'tokenizer' },
    { kind: 'doc', path: 'README.md' },
    { kind: 'dataset', path: 'data' },
  ]);

async function filesUnder(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name))).sort();
}

/** Every entry of a tar blob: name, size, mode, mtime, owner, in archive order. */
async function tarEntries(bytes: Uint8Array): Promise<{ name: string; size: number; mode: number; mtime: number; uid: number; type: string }[]> {
  const out: { name: string; size: number; mode: number; mtime: number; uid: number; type: string }[] = [];
  const ex = tarExtract();
  const done = (async () => {
    for await (const entry of ex as unknown as AsyncIterable<NodeJS.ReadableStream & { header: { name: string; size?: number; mode?: number; mtime?: Date; uid?: number; type?: string | null } }>) {
      const h = entry.header;
      out.push({ name: h.name, size: h.size ?? 0, mode: h.mode ?? 0, mtime: h.mtime?.getTime() ?? -1, uid: h.uid ?? -1, type: h.type ?? '' });
      entry.resume();
    }
  })();
  ex.end(Buffer.from(bytes));
  await done;
  return out;
}

let src: string;
let base: LayoutTarget;
let store: LayoutTarget;
let packed: PackResult;

beforeAll(async () => {
  src = await manyFiles();
  base = await busyboxBase();
  store = new LayoutTarget(join(await tempDir(), 'store'));
  packed = await packModel(spec(src), store, { tag: 'car', modelcar: { target: base, reference: 'latest' } });
}, 120_000);

describe('a ModelCar of 3,000 small files', { timeout: 120_000 }, () => {
  it('has a handful of layers: each weight alone, each folder of small files in one tar whose path is the folder', () => {
    // Before grouping: 3,005 model layers on busybox's 1, refused (or unmountable).
    const image = packed.modelcar!.imageManifest;
    expect(image.layers.length).toBeLessThan(20);
    expect(image.layers.length).toBeLessThan(MODELCAR_MAX_LAYERS);
    expect(packed.files.map((f) => [f.path, f.layer.mediaType, f.entries?.length ?? 1])).toEqual([
      ['README.md', 'application/vnd.cncf.model.doc.v1.tar', 1],
      ['config.json', 'application/vnd.cncf.model.weight.config.v1.tar', 1],
      ['data', 'application/vnd.cncf.model.dataset.v1.tar', FILES],
      ['model.gguf', 'application/vnd.cncf.model.weight.v1.tar', 1],
      ['tokenizer', 'application/vnd.cncf.model.weight.config.v1.tar', 2],
    ]);
    // The image stacks the ModelPack manifest's very blobs, in order, on the base.
    expect(image.layers.slice(1).map((l) => l.digest)).toEqual(packed.manifest.layers.map((l) => l.digest));
    const data = packed.files.find((f) => f.path === 'data')!;
    const a = data.layer.annotations!;
    expect(a['org.cncf.model.filepath']).toBe('models/data');
    expect(a['org.opencontainers.image.title']).toBe('models/data');
    expect(JSON.parse(a['org.cncf.model.file.metadata+json']!)).toEqual({ name: 'data', mode: 0o755, uid: 0, gid: 0, size: data.size, mtime: '1970-01-01T00:00:00Z', typeflag: 5 });
    expect(a['dev.modelship.file.digest']).toBeUndefined();
    expect(Object.keys(a)).toEqual([...Object.keys(a)].sort());
  });

  it('lists every grouped file with the sha256 of its bytes, and writes a deterministic tar of them in path order', async () => {
    const data = packed.files.find((f) => f.path === 'data')!;
    const listed = folderEntriesOf(data.layer)!;
    expect(listed).toHaveLength(FILES);
    expect(listed.map((e) => e.path)).toEqual([...listed.map((e) => e.path)].sort());
    for (const e of listed) {
      const bytes = await readFile(join(src, e.path.slice('models/'.length)));
      expect(e.sha256, e.path).toBe(`sha256:${createHash('sha256').update(bytes).digest('hex')}`);
      expect(e.size).toBe(bytes.length);
    }
    const entries = await tarEntries(await readFile(store.blobPath(data.layer.digest)));
    expect(entries.map((e) => e.name)).toEqual(listed.map((e) => e.path));
    expect(new Set(entries.map((e) => `${e.type} ${e.mode.toString(8)} ${e.mtime} ${e.uid}`))).toEqual(new Set(['file 644 0 0']));
    // A plain tar: its digest is the diffId the image config and the ModelPack config list.
    expect(data.diffId).toBe(data.layer.digest);
  });

  it('packs to the same digest again, and a change to one small file rebuilds only its folder layer', async () => {
    const again = await packModel(spec(src), new LayoutTarget(join(await tempDir(), 'again')), { tag: 'car', modelcar: { target: base, reference: 'latest' } });
    expect(again.tagged.digest).toBe(packed.tagged.digest);
    expect(again.manifest.layers).toEqual(packed.manifest.layers);

    const copy = await tempDir('modelcar-group-edit-');
    await execa('cp', ['-a', `${src}/.`, copy]);
    const cache = new PackCache(join(await tempDir(), 'cache.json'));
    const where = new LayoutTarget(join(await tempDir(), 'edit'));
    const first = await packModel(spec(copy), where, { tag: 'car', modelcar: { target: base, reference: 'latest' }, cache });
    expect(first.manifest.layers.map((l) => l.digest)).toEqual(packed.manifest.layers.map((l) => l.digest));
    await writeFile(join(copy, 'data/train/part-0042.jsonl'), '{"i":"changed"}\n');
    const cache2 = new PackCache(cache.file);
    const second = await packModel(spec(copy), where, { tag: 'car', modelcar: { target: base, reference: 'latest' }, cache: cache2 });
    const changed = second.manifest.layers.filter((l, i) => l.digest !== first.manifest.layers[i]!.digest);
    expect(changed.map((l) => l.annotations?.['org.cncf.model.filepath'])).toEqual(['models/data']);
    // Only the data folder was read again; the weight, config, README and tokenizer came from the cache.
    expect(cache2.stats).toMatchObject({ hits: 4, misses: 1 });
    expect(cache2.stats.filesRead.every((p) => p.startsWith('data/'))).toBe(true);
    const entry = folderEntriesOf(changed[0]!)!.find((e) => e.path === 'models/data/train/part-0042.jsonl')!;
    expect(entry.sha256).toBe(`sha256:${createHash('sha256').update('{"i":"changed"}\n').digest('hex')}`);
  });

  it('unpacks every file byte for byte, and serving takes the grouped config folder with the weights', async () => {
    const out = join(await tempDir(), 'out');
    const result = await unpack(store, 'car', out);
    const expected = (await filesUnder(src)).map((p) => `models/${p}`);
    expect(await filesUnder(out)).toEqual(expected);
    expect(result.files).toHaveLength(FILES + 5);
    for (const p of expected) expect(Buffer.compare(await readFile(join(out, p)), await readFile(join(src, p.slice('models/'.length)))), p).toBe(0);

    // What `serve` unpacks: weights and config, the tokenizer folder's files included.
    const served = join(await tempDir(), 'served');
    await unpack(store, 'car', served, { filters: ['weights', 'config'].map(parseUnpackFilter) });
    expect(await filesUnder(served)).toEqual(['models/config.json', 'models/model.gguf', 'models/tokenizer/tokenizer.json', 'models/tokenizer/vocab.txt']);
  });

  it('mounts as a container root filesystem: umoci applies the image layers and finds every file under /models', async () => {
    const imageLayout = join(await tempDir(), 'image');
    await execa('skopeo', ['copy', '--quiet', `oci:${store.root}:car`, `oci:${imageLayout}:car`]);
    const bundle = join(await tempDir(), 'bundle');
    await execa('umoci', ['unpack', '--rootless', '--image', `${imageLayout}:car`, bundle]);
    const models = join(bundle, 'rootfs', 'models');
    expect(await filesUnder(models)).toEqual(await filesUnder(src));
    expect(await readFile(join(models, 'data/test/part-2999.jsonl'), 'utf8')).toBe('{"i":2999}\n');
  });

  it('signs each grouped file: the statement built from the manifest is the one model_signing hashes from the unpacked folder', async () => {
    const fromManifest = resourcesFromManifest(packed.manifest, { packedFiles: packedFilesOf(packed.manifest.layers) });
    expect(fromManifest).toHaveLength(FILES + 5);
    const out = join(await tempDir(), 'signed');
    await unpack(store, packed.descriptor.digest, out);
    const fromFolder = await hashModelFolder(out);
    expect(fromManifest).toEqual(fromFolder.resources);
    // A tampered listing is not trusted: signing then refuses the archive for want of per-file digests.
    const layers = packed.manifest.layers.map((l) => (l.annotations?.['org.cncf.model.filepath'] === 'models/data' ? { ...l, annotations: { ...l.annotations, [ANNOTATION_FILE_ENTRIES]: '[["../escape",1,"00"]]' } } : l));
    expect(() => resourcesFromManifest({ ...packed.manifest, layers }, { packedFiles: packedFilesOf(layers) })).toThrow(/no per-file digests were recorded/);

    // sign and verify take the same statement from the manifest, through the ModelCar's index.
    const pair = generateSigningKeyPair();
    const signedStore = new LayoutTarget(join(await tempDir(), 'signed-store'));
    await copy(store, 'car', signedStore, 'car');
    await signArtifact(signedStore, 'car', { kind: 'key', privateKey: createPrivateKey(pair.privateKeyPem) });
    const verified = await verifyArtifact(signedStore, 'car', { kind: 'key', publicKey: createPublicKey(pair.publicKeyPem) });
    expect(verified.ok, JSON.stringify(verified)).toBe(true);
  });

  it('inspect lists a folder layer with its files', async () => {
    const res = await runCli(['inspect', `oci:${store.root}:car`, '--json']);
    expect(res.code, res.stderr).toBe(0);
    const files = res.json().model.files as { path: string; entries?: { path: string; sha256: string }[] }[];
    const data = files.find((f) => f.path === 'models/data')!;
    expect(data.entries).toHaveLength(FILES);
    expect(data.entries![0]!.path).toBe('models/data/test/part-0001.jsonl');
    const text = await runCli(['inspect', `oci:${store.root}:car`]);
    expect(text.stdout).toContain(`models/data  (tar, folder of ${FILES} files)`);
  });

  it('gives an SBOM with one entry per file, each with its own sha256', async () => {
    const input = await withArtifactProject(store, 'car', 'car', (project) => sbomInputOfArtifact(project));
    expect(input.files).toHaveLength(FILES + 5);
    const part = input.files.find((f) => f.path === 'data/train/part-0000.jsonl')!;
    expect(part).toMatchObject({ kind: 'dataset', size: 8, sha256: createHash('sha256').update('{"i":0}\n').digest('hex') });
    expect(part.archive).toBeUndefined();
    expect(input.files.filter((f) => f.archive)).toEqual([]);
  });
});

describe('a ModelCar of many files at the top level', { timeout: 120_000 }, () => {
  it('groups them in one layer named by the model folder, while README and LICENSE keep their own; documents and unpack still work', async () => {
    const top = await tempDir('modelcar-top-');
    const files: Record<string, string | Uint8Array> = { 'model.gguf': bytesOf(20_000, 6), 'README.md': '---\nlicense: apache-2.0\n---\n# top\n', LICENSE: 'Apache License 2.0\n' };
    for (let i = 0; i < 600; i++) files[`part-${String(i).padStart(3, '0')}.jsonl`] = `{"i":${i}}\n`;
    await writeTree(top, files);
    const where = new LayoutTarget(join(await tempDir(), 'store'));
    const car = await packModel(
      specFor(top, [{ kind: 'weight', path: 'model.gguf' }, { kind: 'doc', path: 'README.md' }, { kind: 'doc', path: 'LICENSE' }, { kind: 'dataset', path: 'part-*.jsonl' }]),
      where,
      { tag: 'car', modelcar: { target: base, reference: 'latest' } },
    );
    expect(car.manifest.layers.map((l) => l.annotations?.['org.cncf.model.filepath'])).toEqual(['models/LICENSE', 'models/README.md', 'models/model.gguf', 'models']);
    expect(folderEntriesOf(car.manifest.layers[3]!)!.map((e) => e.path).slice(0, 2)).toEqual(['models/part-000.jsonl', 'models/part-001.jsonl']);
    const out = join(await tempDir(), 'out');
    await unpack(where, 'car', out);
    expect(await filesUnder(join(out, 'models'))).toEqual(await filesUnder(top));
    // The model folder is still found, so the SBOM names the files as the plain pack does.
    const input = await withArtifactProject(where, 'car', 'car', (project) => sbomInputOfArtifact(project));
    expect(input.files.map((f) => f.path).filter((p) => !p.startsWith('part-'))).toEqual(['LICENSE', 'README.md', 'model.gguf']);
    expect(input.files.filter((f) => f.path.startsWith('part-'))).toHaveLength(600);
  });
});
