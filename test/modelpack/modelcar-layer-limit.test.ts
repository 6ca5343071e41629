import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isModelshipError } from '../../modules/errors/index.js';
import { LayoutTarget } from '../../modules/oci/layout.js';
import { packModel } from '../../modules/modelpack/index.js';
import { MODELCAR_MAX_LAYERS } from '../../modules/modelpack/modelcar.js';
import { runCli } from '../helpers/cli.js';
import { busyboxBase } from './busybox.js';
import { bytesOf, specFor, tempDir, writeTree } from './helpers.js';

/**
 * A project of one weight and `n` more weight shards: each weight keeps a layer of its own (small
 * files share their folder's, see modelcar-grouping.test.ts), so weights alone can be too many.
 */
async function manyWeights(n: number): Promise<string> {
  const src = await tempDir('modelcar-limit-');
  const files: Record<string, string | Uint8Array> = { 'model.gguf': bytesOf(4_096, 5) };
  for (let i = 0; i < n; i++) files[`shards/shard-${String(i).padStart(4, '0')}.gguf`] = `shard ${i}\n`;
  await writeTree(src, files);
  return src;
}

const spec = (src: string) => specFor(src, [{ kind: 'weight', path: 'model.gguf' }, { kind: 'weight', path: 'shards' }]);

async function refusal(promise: Promise<unknown>): Promise<Error & { code: string; details?: Record<string, unknown> }> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  if (!isModelshipError(err)) throw new Error(`expected a ModelshipError, got ${String(err)}`);
  return err as Error & { code: string; details?: Record<string, unknown> };
}

// Linux fs/overlayfs/params.h: OVL_MAX_STACK 500 lower layers; an image with more cannot be mounted by containerd or CRI-O's overlay driver.
describe('a ModelCar image stays mountable by overlayfs', () => {
  it('refuses 601 weights before reading any, naming the count, the 500 limit and the fix; nothing is tagged', async () => {
    const src = await manyWeights(600);
    const root = join(await tempDir(), 'store');
    const store = new LayoutTarget(root);
    const err = await refusal(packModel(spec(src), store, { tag: 'car', modelcar: { target: await busyboxBase(), reference: 'latest' } }));
    expect(err.code).toBe('MODEL_INVALID');
    expect(err.message).toContain('at least 601 layers');
    expect(err.message).toContain('at most 500 (OVL_MAX_STACK)');
    expect(err.message).toContain('without --modelcar');
    expect(err.message).toContain('601 model layers for 601 packed files');
    expect(err.message).toContain('merge weight shards into fewer files');
    await expect(store.resolve('car')).rejects.toThrow();
    // No file was read into a layer.
    expect(await readdir(join(root, 'blobs', 'sha256')).catch(() => [])).toEqual([]);
    // Without --modelcar the same project packs: the ModelPack manifest is not mounted by overlayfs.
    const plain = await packModel(spec(src), store, { tag: 'plain' });
    expect(plain.manifest.layers).toHaveLength(601);
  });

  it('counts the base layers: one layer over the limit is refused, exactly at the limit packs and mounts as listed', async () => {
    const base = await busyboxBase();
    const over = await manyWeights(MODELCAR_MAX_LAYERS - 1); // + the weight + busybox's 1 layer = 451
    const store = new LayoutTarget(join(await tempDir(), 'store'));
    const err = await refusal(packModel(spec(over), store, { tag: 'over', modelcar: { target: base, reference: 'latest' } }));
    expect(err.message).toContain(`the ModelCar image would have ${MODELCAR_MAX_LAYERS + 1} layers (${MODELCAR_MAX_LAYERS} model layers for ${MODELCAR_MAX_LAYERS} packed files`);
    expect(err.message).toContain('on 1 from the base');
    expect(err.details).toMatchObject({ layers: 451, modelLayers: 450, baseLayers: 1, limit: 450 });
    await expect(store.resolve('over')).rejects.toThrow();

    const fits = await manyWeights(MODELCAR_MAX_LAYERS - 2);
    const packed = await packModel(spec(fits), store, { tag: 'fits', modelcar: { target: base, reference: 'latest' } });
    expect(packed.modelcar!.imageManifest.layers).toHaveLength(MODELCAR_MAX_LAYERS);
    expect((await store.resolve('fits')).digest).toBe(packed.tagged.digest);
  });

  it('pack --modelcar on the command line exits with the input-error status and the message', async () => {
    const src = await manyWeights(600);
    await writeTree(src, { 'Modelfile': 'MODEL model.gguf\nMODEL shards/*.gguf\n' });
    const work = await tempDir();
    const busybox = await busyboxBase();
    const res = await runCli(['pack', src, '-t', 'car:v1', '--modelcar', '--modelcar-base', `oci:${busybox.location}:latest`], { env: { MODELSHIP_HOME: join(work, 'home') }, cwd: work });
    expect(res.code).toBe(3);
    expect(res.stderr).toContain('at least 601 layers');
    expect(res.stderr).toContain('OVL_MAX_STACK');
  });
});
