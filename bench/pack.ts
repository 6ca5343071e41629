/**
 * Pack benchmark: a model of random weight files (4 GiB by default, BENCH_SIZE_MB to change, in
 * BENCH_FILES files) plus small config files, packed into a fresh layout, side by side with
 * `openssl dgst -sha256` (the hashing floor: it uses the CPU's SHA instructions) over the same files,
 * in BENCH_ROUNDS alternating pairs; the ratio is the median of the pairs', with the load average.
 * Then a re-pack with one doc changed and the push of that change to a loopback docker-registry.
 * Run: npx tsx bench/pack.ts (BENCH_SIZE_MB=1024 on a small machine)
 */
import { execFile } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { LayoutTarget } from '../modules/oci/layout.js';
import { copy } from '../modules/oci/copy.js';
import { openReference } from '../modules/oci/open.js';
import { PackCache, packModel } from '../modules/modelpack/index.js';
import type { ModelSpec } from '../modules/project/model-spec.js';
import { startRegistry } from '../test/helpers/registry.js';
import { machineLoad, median, randomFile, timed } from './lib/measure.js';

const run = promisify(execFile);
const sizeMb = Number(process.env['BENCH_SIZE_MB'] ?? 4096);
const fileCount = Number(process.env['BENCH_FILES'] ?? 4);
const work = join(import.meta.dirname, '.work');
const modelDir = join(work, `model-${sizeMb}m-${fileCount}`);



async function main(): Promise<void> {
  await mkdir(modelDir, { recursive: true });
  const perFile = Math.floor((sizeMb * 1024 * 1024) / fileCount);
  const weights = Array.from({ length: fileCount }, (_, i) => `model-${String(i + 1).padStart(5, '0')}-of-${String(fileCount).padStart(5, '0')}.safetensors`);
  for (const w of weights) await randomFile(join(modelDir, w), perFile);
  await writeFile(join(modelDir, 'config.json'), '{"architectures":["LlamaForCausalLM"],"hidden_size":4096}\n');
  await writeFile(join(modelDir, 'tokenizer.json'), JSON.stringify({ model: { vocab: Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`t${i}`, i])) } }));
  await writeFile(join(modelDir, 'README.md'), '# bench model\n');
  const spec: ModelSpec = {
    source: { format: 'modelship' },
    contextDir: modelDir,
    descriptor: { name: 'bench', version: '1' },
    config: { format: 'safetensors', paramSize: '2B' },
    files: [
      { kind: 'weight', path: '*.safetensors' },
      { kind: 'weightConfig', path: 'config.json' },
      { kind: 'weightConfig', path: 'tokenizer.json' },
      { kind: 'doc', path: 'README.md' },
    ],
    ignore: [],
    pipeline: {},
  };
  const files = [...weights, 'config.json', 'tokenizer.json', 'README.md'].map((f) => join(modelDir, f));

  // Warm the page cache the same way for both, then alternate who goes first.
  const openssl = () => run('openssl', ['dgst', '-sha256', ...files], { maxBuffer: 1 << 20 });
  await openssl();
  const rounds = Math.max(1, Number(process.env['BENCH_ROUNDS'] ?? 3));
  const storeDir = join(work, 'pack-store');
  let store = new LayoutTarget(storeDir);
  const cache = new PackCache(join(work, 'pack-cache.json'));
  const shaRuns: number[] = [];
  const packRuns: number[] = [];
  const loads: number[] = [];
  let packed: Awaited<ReturnType<typeof packModel>> | undefined;
  let peakRssMb = 0;
  const packOnce = async () => {
    await rm(storeDir, { recursive: true, force: true });
    await rm(cache.file!, { force: true });
    store = new LayoutTarget(storeDir);
    const [result, seconds] = await timed(() => packModel(spec, store, { tag: 'v1', cache: new PackCache(cache.file) }));
    packed = result;
    packRuns.push(seconds);
    peakRssMb = process.resourceUsage().maxRSS / 1024;
  };
  const shaOnce = async () => {
    shaRuns.push((await timed(openssl))[1]);
  };
  for (let round = 0; round < rounds; round++) {
    if (round % 2 === 0) {
      await shaOnce();
      await packOnce();
    } else {
      await packOnce();
      await shaOnce();
    }
    loads.push(machineLoad().load1);
  }
  const ratios = packRuns.map((p, i) => p / shaRuns[i]!);
  const shaSeconds = median(shaRuns);
  const packSeconds = median(packRuns);

  await writeFile(join(modelDir, 'README.md'), `# bench model\nrevised ${Date.now()}\n`);
  const cache2 = new PackCache(cache.file);
  const [repacked, repackSeconds] = await timed(() => packModel(spec, store, { tag: 'v1', cache: cache2 }));
  const first = packed!;

  const registry = await startRegistry();
  let pushSeconds = NaN;
  let pushedBytes = 0;
  try {
    const dst = await openReference(`${registry.host}/bench/model:v1`, { cwd: process.cwd(), env: process.env, plainHttp: true });
    // The first push carries the whole model (not timed); then the re-packed artifact is pushed.
    await copy(store, first.descriptor.digest, dst.target, 'v1');
    const [result, seconds] = await timed(() => copy(store, 'v1', dst.target, 'v1'));
    pushSeconds = seconds;
    pushedBytes = result.bytes;
  } finally {
    await registry.stop();
  }
  await rm(storeDir, { recursive: true, force: true });

  const totalMb = (perFile * fileCount) / (1024 * 1024);
  const ratio = median(ratios);
  console.log(`model: ${fileCount} weight files, ${totalMb.toFixed(0)} MiB, + 3 small files; ${first.files.length} layers, manifest ${first.descriptor.digest}`);
  console.log(`openssl dgst -sha256: ${shaSeconds.toFixed(2)} s median (${(totalMb / shaSeconds).toFixed(0)} MiB/s)`);
  console.log(`pack (raw, one pass): ${packSeconds.toFixed(2)} s median (${(totalMb / packSeconds).toFixed(0)} MiB/s)`);
  console.log(`ratio pack/openssl, median of ${rounds} pairs: ${ratio.toFixed(2)} [${ratios.map((r) => r.toFixed(2)).join(', ')}] (goal <= 1.0); load average ${loads.join(', ')} on ${machineLoad().cores} cores`);
  console.log(`peak RSS:             ${peakRssMb.toFixed(0)} MB (goal < 200 MB)`);
  console.log(`re-pack, 1 doc changed: ${repackSeconds.toFixed(3)} s, files read: ${repacked.stats.filesRead.join(', ')} (goal < 1 s)`);
  console.log(`push of that change:  ${pushSeconds.toFixed(3)} s, ${pushedBytes} bytes uploaded (goal < 1 s)`);
}

await main();
