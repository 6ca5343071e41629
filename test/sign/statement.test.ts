import { describe, expect, it } from 'vitest';
import { mkdtemp, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import {
  buildOmsStatement,
  hashModelFolder,
  parseShardName,
  resourcesFromManifest,
  sortResources,
  subjectDigest,
  type OmsStatement,
} from '../../modules/sign/index.js';
import { hasCode } from '../../modules/errors/index.js';
import type { ImageManifest } from '../../modules/oci/types.js';
import { vectorPath } from '../helpers/vectors.js';

const testdata = vectorPath('oms', 'payload-testdata');

/** The model_signing test fixtures, rebuilt from their documented contents. */
async function buildFixture(kind: string): Promise<string> {
  const base = await mkdtemp(join(tmpdir(), 'oms-fixture-'));
  const sample = 'This is a simple model';
  switch (kind) {
    case 'sample_model_file':
      await writeFile(join(base, 'file_model'), sample);
      return join(base, 'file_model');
    case 'empty_model_file':
      await writeFile(join(base, 'empty_file_model'), '');
      return join(base, 'empty_file_model');
    case 'empty_model_folder':
      await mkdir(join(base, 'empty_folder_model'));
      return join(base, 'empty_folder_model');
    case 'model_folder_with_empty_file':
      await mkdir(join(base, 'empty_file_inside_model'));
      await writeFile(join(base, 'empty_file_inside_model', 'empty_file'), '');
      return join(base, 'empty_file_inside_model');
    case 'symlink_model_folder': {
      await writeFile(join(base, 'target'), sample);
      await mkdir(join(base, 'symlink_model'));
      await symlink(join(base, 'target'), join(base, 'symlink_model', 'symlink_file'));
      return join(base, 'symlink_model');
    }
    case 'sample_model_folder': {
      const root = join(base, 'sample_model');
      for (const i of [0, 1]) {
        await mkdir(join(root, `d${i}`), { recursive: true });
        for (const j of [0, 1, 2]) await writeFile(join(root, `d${i}`, `f${i}${j}`), `This is file f${i}${j} in d${i}.`);
      }
      for (const i of [0, 1, 2, 3]) await writeFile(join(root, `f${i}`), `This is file f${i} in root.`);
      return root;
    }
    case 'deep_model_folder': {
      const root = join(base, 'deep_model');
      const deep = join(root, 'd0', 'd1', 'd2', 'd3', 'd4');
      await mkdir(deep, { recursive: true });
      for (const i of [0, 1, 2, 3]) await writeFile(join(deep, `f${i}`), `This is file f${i}.`);
      return root;
    }
    default:
      throw new Error(`no fixture ${kind}`);
  }
}

const CASES = [
  'sample_model_file',
  'empty_model_file',
  'empty_model_folder',
  'model_folder_with_empty_file',
  'symlink_model_folder',
  'sample_model_folder',
  'deep_model_folder',
];
const VARIANTS: [string, { method: 'files' | 'shards'; shardSize?: number }][] = [
  ['', { method: 'files' }],
  ['_shard', { method: 'shards', shardSize: 1_000_000_000 }],
  ['_small_shards', { method: 'shards', shardSize: 8 }],
];

describe('OMS statements match model_signing golden payloads', () => {
  for (const kind of CASES) {
    for (const [suffix, opts] of VARIANTS) {
      it(`${kind}${suffix}`, async () => {
        const golden = JSON.parse(await readFile(join(testdata, kind + suffix), 'utf8')) as OmsStatement;
        const input = await hashModelFolder(await buildFixture(kind), { ...opts, allowSymlinks: true });
        const ours = buildOmsStatement(input);
        expect(ours.subject).toEqual(golden.subject);
        expect(ours.predicate.resources).toEqual(golden.predicate.resources.map(({ name, algorithm, digest }) => ({ name, algorithm, digest })));
        const { ignore_paths: _ignored, ...serialization } = ours.predicate.serialization;
        expect(serialization).toEqual(golden.predicate.serialization);
        expect(ours.predicateType).toBe(golden.predicateType);
      });
    }
  }
});

describe('resource order and names', () => {
  it('sorts path component by component, as pathlib does (a/b before a-b)', () => {
    const names = ['a-b', 'a/b', 'a/a/z', 'a0', 'B', 'a'];
    expect(sortResources(names.map((name) => ({ name }))).map((r) => r.name)).toEqual(['B', 'a', 'a/a/z', 'a/b', 'a-b', 'a0']);
    // plain string order would put a-b first: the trap the spec and the reference disagree on
    expect([...names].sort()).not.toEqual(['B', 'a', 'a/a/z', 'a/b', 'a-b', 'a0']);
  });

  it('sorts shards by path, then offsets numerically', () => {
    const names = ['f:16:24', 'f:8:16', 'f:0:8', 'e:0:8'];
    expect(sortResources(names.map((name) => ({ name }))).map((r) => r.name)).toEqual(['e:0:8', 'f:0:8', 'f:8:16', 'f:16:24']);
  });

  it('splits shard names on the last two colons', () => {
    expect(parseShardName('dir/we:ird:0:8')).toEqual({ path: 'dir/we:ird', start: 0, end: 8 });
    expect(() => parseShardName('nocolons')).toThrow(/<path>:<start>:<end>/);
  });

  it('computes the subject digest over the raw digest bytes in listed order', () => {
    const a = createHash('sha256').update('a').digest('hex');
    const b = createHash('sha256').update('b').digest('hex');
    const expected = createHash('sha256').update(Buffer.from(a + b, 'hex')).digest('hex');
    expect(subjectDigest([{ digest: a }, { digest: b }])).toBe(expected);
    expect(subjectDigest([{ digest: b }, { digest: a }])).not.toBe(expected);
  });
});

describe('hashModelFolder', () => {
  it('refuses symlinks unless allowed', async () => {
    const dir = await buildFixture('symlink_model_folder');
    await expect(hashModelFolder(dir)).rejects.toSatisfy((e) => hasCode(e, 'SIGN_SYMLINK') && /symlink_file/.test((e as Error).message));
  });

  it('leaves out model.sig, .git* and ignored paths and records them', async () => {
    const dir = await buildFixture('sample_model_folder');
    await mkdir(join(dir, '.git'));
    await writeFile(join(dir, '.git', 'HEAD'), 'ref');
    await writeFile(join(dir, '.gitignore'), '*.tmp');
    await writeFile(join(dir, 'model.sig'), '{}');
    const input = await hashModelFolder(dir, { ignorePaths: ['d1'] });
    expect(input.resources.map((r) => r.name).sort()).toEqual(['d0/f00', 'd0/f01', 'd0/f02', 'f0', 'f1', 'f2', 'f3']);
    expect(input.serialization.ignore_paths).toEqual(expect.arrayContaining(['d1', 'model.sig', '.git', '.gitignore', '.github', '.gitattributes']));
  });

  it('hashes with BLAKE2b-512 as model_signing does, and refuses blake3 with a clear error', async () => {
    const dir = await buildFixture('sample_model_file');
    const input = await hashModelFolder(dir, { hashType: 'blake2b' });
    expect(input.resources).toEqual([{ name: '.', algorithm: 'blake2b', digest: createHash('blake2b512').update('This is a simple model').digest('hex') }]);
    await expect(hashModelFolder(dir, { hashType: 'blake3' })).rejects.toSatisfy((e) => hasCode(e, 'SIGN_HASH_UNSUPPORTED'));
  });
});

describe('resourcesFromManifest', () => {
  const hex = (s: string) => createHash('sha256').update(s).digest('hex');
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    artifactType: 'application/vnd.cncf.model.manifest.v1+json',
    config: { mediaType: 'application/vnd.cncf.model.config.v1+json', digest: `sha256:${hex('cfg')}`, size: 3 },
    layers: [
      { mediaType: 'application/vnd.cncf.model.weight.v1.raw', digest: `sha256:${hex('w')}`, size: 1, annotations: { 'org.cncf.model.filepath': 'weights/model.gguf' } },
      { mediaType: 'application/vnd.cncf.model.doc.v1.raw', digest: `sha256:${hex('r')}`, size: 1, annotations: { 'org.cncf.model.filepath': 'README.md' } },
      { mediaType: 'application/vnd.cncf.model.code.v1.tar', digest: `sha256:${hex('tar')}`, size: 3, annotations: { 'org.cncf.model.filepath': 'src' } },
    ],
  };

  it('takes raw layer digests as file digests and tar files from the pack record', () => {
    const resources = resourcesFromManifest(manifest, {
      packedFiles: [{ layerDigest: `sha256:${hex('tar')}`, files: [{ path: 'src/a.py', sha256: hex('a') }] }],
    });
    expect(resources).toEqual([
      { name: 'README.md', algorithm: 'sha256', digest: hex('r') },
      { name: 'src/a.py', algorithm: 'sha256', digest: hex('a') },
      { name: 'weights/model.gguf', algorithm: 'sha256', digest: hex('w') },
    ]);
  });

  it('refuses a tar layer without recorded file digests, naming the layer', () => {
    expect(() => resourcesFromManifest(manifest)).toThrow(/layer 2 .*per-file digests/);
  });
});

describe('omsStatementFromManifest', () => {
  it('gives the statement of the unpacked folder, so the folder verifies against a signature made from the manifest alone', async () => {
    const { generateSigningKeyPair, loadPrivateKey, loadPublicKey, omsStatementFromManifest, signStatement, serializeBundle, verifyModelFolder } = await import('../../modules/sign/index.js');
    const dir = await buildFixture('sample_model_folder');
    const files = ['d0/f00', 'd0/f01', 'd0/f02', 'd1/f10', 'd1/f11', 'd1/f12', 'f0', 'f1', 'f2', 'f3'];
    const layers = await Promise.all(
      files.reverse().map(async (path) => {
        const bytes = await readFile(join(dir, path));
        return {
          mediaType: 'application/vnd.cncf.model.weight.v1.raw',
          digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`,
          size: bytes.length,
          annotations: { 'org.cncf.model.filepath': path },
        };
      }),
    );
    const manifest: ImageManifest = {
      schemaVersion: 2,
      artifactType: 'application/vnd.cncf.model.manifest.v1+json',
      config: { mediaType: 'application/vnd.cncf.model.config.v1+json', digest: `sha256:${'0'.repeat(64)}`, size: 2 },
      layers,
    };
    const statement = omsStatementFromManifest(manifest, { modelName: 'sample_model' });
    const golden = JSON.parse(await readFile(join(testdata, 'sample_model_folder'), 'utf8')) as OmsStatement;
    expect(statement.subject).toEqual(golden.subject);
    const pair = generateSigningKeyPair();
    const bundle = await signStatement(statement, { kind: 'key', privateKey: loadPrivateKey(pair.privateKeyPem, 'k') });
    await writeFile(join(dir, 'model.sig'), serializeBundle(bundle));
    const result = await verifyModelFolder(dir, join(dir, 'model.sig'), { kind: 'key', publicKey: loadPublicKey(pair.publicKeyPem, 'p') });
    expect(result.reason).toBeUndefined();
  });
});
