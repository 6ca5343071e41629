/**
 * Copy benchmark: a layout of random layers (2 GiB by default, BENCH_SIZE_MB to change) copied into
 * a loopback docker-registry by our copy and by `skopeo copy` in the same run, then re-copied.
 * Run: npx tsx bench/copy.ts
 */
import { createHash, randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { LayoutTarget, copy, encodeManifest, jsonContent, openReference } from '../modules/oci/index.js';
import { MEDIA_TYPE, type Descriptor } from '../modules/oci/types.js';
import { startRegistry } from '../test/helpers/registry.js';

const run = promisify(execFile);
const sizeMb = Number(process.env['BENCH_SIZE_MB'] ?? 2048);
const layerCount = Number(process.env['BENCH_LAYERS'] ?? 8);
const work = join(import.meta.dirname, '.work');
const layoutDir = join(work, `layout-${sizeMb}m-${layerCount}`);
const TAG = 'bench';
const CHUNK = 1024 * 1024;

/** Write one random layer straight into blobs/, hashing as it is generated (never held in memory). */
async function randomLayer(layout: LayoutTarget, bytes: number): Promise<Descriptor> {
  const tmp = join(layoutDir, 'ingest', `gen-${randomBytes(6).toString('hex')}`);
  await mkdir(join(layoutDir, 'ingest'), { recursive: true });
  const hash = createHash('sha256');
  const out = createWriteStream(tmp);
  for (let written = 0; written < bytes; written += CHUNK) {
    const chunk = randomBytes(Math.min(CHUNK, bytes - written));
    hash.update(chunk);
    if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  await new Promise<void>((resolve, reject) => out.end(() => resolve()).once('error', reject));
  const digest = `sha256:${hash.digest('hex')}`;
  const path = layout.blobPath(digest);
  await mkdir(join(path, '..'), { recursive: true });
  await rename(tmp, path);
  return { mediaType: MEDIA_TYPE.ociLayer, digest, size: bytes };
}

async function prepareLayout(): Promise<LayoutTarget> {
  const layout = new LayoutTarget(layoutDir);
  const ready = await layout.resolve(TAG).then(() => true, () => false);
  if (ready) return layout;
  await rm(layoutDir, { recursive: true, force: true });
  await layout.init();
  const layerBytes = Math.floor((sizeMb * CHUNK) / layerCount);
  const layers: Descriptor[] = [];
  for (let i = 0; i < layerCount; i++) layers.push(await randomLayer(layout, layerBytes));
  const config = jsonContent({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) } }, MEDIA_TYPE.ociConfig);
  await layout.push(config.descriptor, config.bytes);
  const manifest = encodeManifest({ schemaVersion: 2, mediaType: MEDIA_TYPE.ociManifest, config: config.descriptor, layers });
  await layout.push(manifest.descriptor, manifest.bytes);
  await layout.tag(manifest.descriptor, TAG);
  return layout;
}

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const start = process.hrtime.bigint();
  const value = await work();
  return [value, Number(process.hrtime.bigint() - start) / 1e9];
}

const [layout, prepareSeconds] = await timed(prepareLayout);
const totalBytes = Math.floor((sizeMb * CHUNK) / layerCount) * layerCount;
const registry = await startRegistry();
try {
  const dst = await openReference(`${registry.host}/bench/ours:v1`, { cwd: process.cwd(), env: process.env, plainHttp: true });
  const [first, oursSeconds] = await timed(() => copy(layout, TAG, dst.target, 'v1'));
  const [, skopeoSeconds] = await timed(() =>
    run('skopeo', ['copy', '--quiet', '--preserve-digests', '--dest-tls-verify=false', `oci:${layout.root}:${TAG}`, `docker://${registry.host}/bench/skopeo:v1`]),
  );
  const [again, recopySeconds] = await timed(() => copy(layout, TAG, dst.target, 'v1'));
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  const figures = {
    sizeMb,
    layers: layerCount,
    prepareSeconds: Number(prepareSeconds.toFixed(2)),
    oursSeconds: Number(oursSeconds.toFixed(2)),
    skopeoSeconds: Number(skopeoSeconds.toFixed(2)),
    ratio: Number((oursSeconds / skopeoSeconds).toFixed(3)),
    oursMBps: Number((totalBytes / CHUNK / oursSeconds).toFixed(1)),
    recopySeconds: Number(recopySeconds.toFixed(3)),
    peakRssMb: Number(peakRssMb.toFixed(1)),
    copied: first.copied,
    recopySkipped: again.skipped,
  };
  console.log(`copy ${sizeMb} MiB in ${layerCount} layers: ours ${figures.oursSeconds}s, skopeo ${figures.skopeoSeconds}s`);
  console.log(`ours/skopeo time ratio: ${figures.ratio} (goal <= 1.0)`);
  console.log(`no-op re-copy: ${figures.recopySeconds}s (goal < 1)`);
  console.log(`peak RSS: ${figures.peakRssMb} MB (goal < 200)`);
  console.log(JSON.stringify(figures));
} finally {
  await registry.stop();
}
