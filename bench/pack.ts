/**
 * Pack benchmark: a model of random weight files (4 GiB by default, BENCH_SIZE_MB to change, in
 * BENCH_FILES files) plus small config files, packed into a fresh layout, side by side with
 * `sha256sum` over the same files in the same run; then a re-pack with one doc changed and the
 * push of that change to a loopback docker-registry.
 * Run: npx tsx bench/pack.ts (BENCH_SIZE_MB=512 on a small machine)
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
import { randomFile, timed } from './lib/measure.js';

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

  // Warm the page cache the same way for both: the peer reads first, then we do.
  await run('sha256sum', files, { maxBuffer: 1 << 20 });
  const [, shaSeconds] = await timed(() => run('sha256sum', files, { maxBuffer: 1 << 20 }));
  const storeDir = join(work, 'pack-store');
  await rm(storeDir, { recursive: true, force: true });
  const store = new LayoutTarget(storeDir);
  const cache = new PackCache(join(work, 'pack-cache.json'));
  await rm(cache.file!, { force: true });
  const rssBefore = process.resourceUsage().maxRSS;
  const [packed, packSeconds] = await timed(() => packModel(spec, store, { tag: 'v1', cache }));
  const peakRssMb = process.resourceUsage().maxRSS / 1024;

  await writeFile(join(modelDir, 'README.md'), `# bench model\nrevised ${Date.now()}\n`);
  const cache2 = new PackCache(cache.file);
  const [repacked, repackSeconds] = await timed(() => packModel(spec, store, { tag: 'v1', cache: cache2 }));

  const registry = await startRegistry();
  let pushSeconds = NaN;
  let pushedBytes = 0;
  try {
    const dst = await openReference(`${registry.host}/bench/model:v1`, { cwd: process.cwd(), env: process.env, plainHttp: true });
    // The first push carries the whole model (not timed); then the re-packed artifact is pushed.
    await copy(store, packed.descriptor.digest, dst.target, 'v1');
    const [result, seconds] = await timed(() => copy(store, 'v1', dst.target, 'v1'));
    pushSeconds = seconds;
    pushedBytes = result.bytes;
  } finally {
    await registry.stop();
  }
  await rm(storeDir, { recursive: true, force: true });

  const totalMb = (perFile * fileCount) / (1024 * 1024);
  const ratio = packSeconds / shaSeconds;
  console.log(`model: ${fileCount} weight files, ${totalMb.toFixed(0)} MiB, + 3 small files; ${packed.files.length} layers, manifest ${packed.descriptor.digest}`);
  console.log(`sha256sum:            ${shaSeconds.toFixed(2)} s (${(totalMb / shaSeconds).toFixed(0)} MiB/s)`);
  console.log(`pack (raw, one pass): ${packSeconds.toFixed(2)} s (${(totalMb / packSeconds).toFixed(0)} MiB/s)   ratio pack/sha256sum = ${ratio.toFixed(2)} (goal <= 1.15)`);
  console.log(`peak RSS:             ${peakRssMb.toFixed(0)} MB (before pack ${(rssBefore / 1024).toFixed(0)} MB; goal < 200 MB)`);
  console.log(`re-pack, 1 doc changed: ${repackSeconds.toFixed(3)} s, files read: ${repacked.stats.filesRead.join(', ')} (goal < 1 s)`);
  console.log(`push of that change:  ${pushSeconds.toFixed(3)} s, ${pushedBytes} bytes uploaded (goal < 1 s)`);
}

await main();
