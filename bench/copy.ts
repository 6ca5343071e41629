/**
 * Copy benchmark: a layout of random layers (2 GiB by default, BENCH_SIZE_MB to change) copied into
 * a loopback docker-registry by our copy and by `skopeo copy` in the same run, then re-copied.
 * Each round is a pair (who goes first alternates, each into a fresh registry); the ratio reported
 * is the median of the rounds' ratios, with the load average, since the machine may be shared.
 * Run: npx tsx bench/copy.ts (BENCH_SIZE_MB, BENCH_LAYERS=1 for one large blob, BENCH_ROUNDS, BENCH_UPLOAD_MODE)
 */
import { createHash, randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { LayoutTarget, copy, encodeManifest, jsonContent, openReference, type CopyResult, type UploadMode } from '../modules/oci/index.js';
import { MEDIA_TYPE, type Descriptor, type Target } from '../modules/oci/types.js';
import { startRegistry, type RunningRegistry } from '../test/helpers/registry.js';
import { machineLoad, median, timed } from './lib/measure.js';

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


const [layout, prepareSeconds] = await timed(prepareLayout);
const totalBytes = Math.floor((sizeMb * CHUNK) / layerCount) * layerCount;
// Each round copies into a fresh registry (so skopeo cannot mount blobs it saw pushed before),
// alternating who goes first; the best time of each counts.
const rounds = Math.max(1, Number(process.env['BENCH_ROUNDS'] ?? 3));
/** 'monolithic', 'chunked' or 'auto'; unset means the registry target's default. */
const uploadMode = process.env['BENCH_UPLOAD_MODE'] as UploadMode | undefined;
const registries: RunningRegistry[] = [];
try {
  const oursRuns: number[] = [];
  const skopeoRuns: number[] = [];
  const loads: number[] = [];
  let oursCpuSeconds = 0;
  let dst: Target | undefined;
  let first: CopyResult | undefined;
  for (let round = 0; round < rounds; round++) {
    const registry = await startRegistry();
    registries.push(registry);
    const target = (await openReference(`${registry.host}/bench/ours:v1`, {
      cwd: process.cwd(),
      env: process.env,
      plainHttp: true,
      ...(uploadMode ? { remoteOptions: { uploadMode } } : {}),
    })).target;
    const ours = async () => {
      const cpu = process.cpuUsage();
      const [result, seconds] = await timed(() => copy(layout, TAG, target, 'v1'));
      const used = process.cpuUsage(cpu);
      oursCpuSeconds = (used.user + used.system) / 1e6;
      first = result;
      oursRuns.push(seconds);
    };
    const skopeo = async () => {
      const [, seconds] = await timed(() =>
        run('skopeo', ['copy', '--quiet', '--preserve-digests', '--dest-tls-verify=false', `oci:${layout.root}:${TAG}`, `docker://${registry.host}/bench/skopeo:v1`]),
      );
      skopeoRuns.push(seconds);
    };
    if (round % 2 === 0) {
      await ours();
      await skopeo();
    } else {
      await skopeo();
      await ours();
    }
    loads.push(machineLoad().load1);
    dst = target;
  }
  const [again, recopySeconds] = await timed(() => copy(layout, TAG, dst!, 'v1'));
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  const oursSeconds = median(oursRuns);
  const skopeoSeconds = median(skopeoRuns);
  const ratios = oursRuns.map((s, i) => s / skopeoRuns[i]!);
  const figures = {
    sizeMb,
    layers: layerCount,
    rounds,
    uploadMode: uploadMode ?? 'default',
    prepareSeconds: Number(prepareSeconds.toFixed(2)),
    oursSeconds: Number(oursSeconds.toFixed(2)),
    skopeoSeconds: Number(skopeoSeconds.toFixed(2)),
    oursCpuSeconds: Number(oursCpuSeconds.toFixed(2)),
    ratio: Number(median(ratios).toFixed(3)),
    ratios: ratios.map((r) => Number(r.toFixed(3))),
    load1: loads,
    cores: machineLoad().cores,
    oursMBps: Number((totalBytes / CHUNK / oursSeconds).toFixed(1)),
    recopySeconds: Number(recopySeconds.toFixed(3)),
    peakRssMb: Number(peakRssMb.toFixed(1)),
    copied: (first as CopyResult | undefined)?.copied,
    recopySkipped: again.skipped,
  };
  console.log(`copy ${sizeMb} MiB in ${layerCount} layers: ours ${figures.oursSeconds}s, skopeo ${figures.skopeoSeconds}s`);
  console.log(`ours/skopeo time ratio, median of ${rounds} pairs: ${figures.ratio} (goal <= 1.0); load average ${loads.join(', ')} on ${figures.cores} cores`);
  console.log(`no-op re-copy: ${figures.recopySeconds}s (goal < 1)`);
  console.log(`peak RSS: ${figures.peakRssMb} MB (goal < 200)`);
  console.log(JSON.stringify(figures));
} finally {
  for (const registry of registries) await registry.stop();
}
