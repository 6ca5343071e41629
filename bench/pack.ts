/**
 * Pack benchmark against the hashing floor, `openssl dgst -sha256` of the same files (it uses the
 * CPU's SHA instructions), and the copy floor, GNU `cp` of the same files into the store's
 * filesystem, measured in the same run in rounds (who goes first rotates; each side starts after a
 * `sync`, so none pays for the write-back of the one before). Each ratio is the median of its
 * rounds', printed with the load average and the CPU seconds each side used, the pack's cp
 * children included (on a machine whose cores are all busy, the wall ratio tends to the CPU ratio):
 *  - one 1 GiB weight (goal <= 1.1) and one 4 GiB weight (goal <= 1.2): a single stream, so the
 *    copy into the store has to overlap the hash;
 *  - four 1 GiB weights (goal <= 1.0 of serial openssl): several files hash on several cores.
 * Peak RSS (goal < 200 MB); and what bounds a copy, measured the same run: `cp` of the 1 GiB weight
 * (page cache to page cache) and the disk's own write speed (`dd oflag=direct`). Then a re-pack with
 * one doc changed and the push of that change to a loopback docker-registry.
 * Inputs are made under bench/.work and removed at the end (about 8 GiB on disk at most at once).
 * Run: npx tsx bench/pack.ts (BENCH_CASES=1g,4g,4x1g to pick; BENCH_ROUNDS=3)
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LayoutTarget } from '../modules/oci/layout.js';
import { copy } from '../modules/oci/copy.js';
import { openReference } from '../modules/oci/open.js';
import { PackCache, packModel } from '../modules/modelpack/index.js';
import type { ModelSpec } from '../modules/project/model-spec.js';
import { startRegistry } from '../test/helpers/registry.js';
import { blockRandomFile, command, machineLoad, median, processCpuSeconds, timed } from './lib/measure.js';

const MIB = 1024 * 1024;
const work = join(import.meta.dirname, '.work');
const rounds = Math.max(1, Number(process.env['BENCH_ROUNDS'] ?? 3));

interface Case {
  id: string;
  title: string;
  weightsMb: number[];
  goal: number;
}

const CASES: Case[] = [
  { id: '1g', title: 'one 1 GiB weight', weightsMb: [1024], goal: 1.1 },
  { id: '4g', title: 'one 4 GiB weight', weightsMb: [4096], goal: 1.2 },
  { id: '4x1g', title: 'four 1 GiB weights', weightsMb: [1024, 1024, 1024, 1024], goal: 1.0 },
];
const picked = (process.env['BENCH_CASES'] ?? CASES.map((c) => c.id).join(',')).split(',');

function specOf(dir: string, docs: boolean): ModelSpec {
  return {
    source: { format: 'modelship' },
    contextDir: dir,
    descriptor: { name: 'bench', version: '1' },
    config: { format: 'gguf', paramSize: '2B' },
    files: [{ kind: 'weight', path: '*.gguf' }, ...(docs ? [{ kind: 'weightConfig' as const, path: 'config.json' }, { kind: 'doc' as const, path: 'README.md' }] : [])],
    ignore: [],
    pipeline: {},
  };
}

interface Measured {
  title: string;
  goal: number;
  packSeconds: number;
  opensslSeconds: number;
  ratio: number;
  ratios: number[];
  cpuRatio?: number;
  loads: number[];
}

const fmt = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(', ');

/** Pack `c` into a fresh store `rounds` times, in rounds with openssl and cp over the same files. */
async function measure(c: Case, dir: string, docs: boolean): Promise<Measured> {
  const spec = specOf(dir, docs);
  const weights = c.weightsMb.map((_, i) => join(dir, `model-${String(i + 1).padStart(5, '0')}-of-${String(c.weightsMb.length).padStart(5, '0')}.gguf`));
  for (const [i, w] of weights.entries()) await blockRandomFile(w, c.weightsMb[i]! * MIB);
  if (docs) {
    await writeFile(join(dir, 'config.json'), '{"architectures":["LlamaForCausalLM"],"hidden_size":4096}\n');
    await writeFile(join(dir, 'README.md'), '# bench model\n');
  }
  const files = [...weights, ...(docs ? ['config.json', 'README.md'].map((f) => join(dir, f)) : [])];
  const storeDir = join(work, 'pack-store');
  const copyDir = join(work, 'cp-copy');
  // Each side starts with nothing of the one before still to be written back, as a pack on a quiet machine does.
  const settled = async <T>(work: () => Promise<T>): Promise<T> => {
    await command('sync', []);
    return work();
  };
  const openssl = () => settled(() => command('openssl', ['dgst', '-sha256', ...files]));
  // The copy floor: GNU cp of the same files into the store's filesystem (copy_file_range, no hash).
  const cp = async () => {
    await rm(copyDir, { recursive: true, force: true });
    await mkdir(copyDir, { recursive: true });
    return settled(() => command('cp', ['--reflink=auto', '--sparse=never', ...files, copyDir]));
  };
  // The first pass reads everything into the page cache for every side.
  await command('openssl', ['dgst', '-sha256', ...files]);
  const packs: { wall: number; cpu: number }[] = [];
  const shas: { wall: number; cpu?: number }[] = [];
  const copies: { wall: number; cpu?: number }[] = [];
  const loads: number[] = [];
  const packOnce = async () => {
    await rm(storeDir, { recursive: true, force: true });
    await settled(async () => {
      const cpu = processCpuSeconds();
      const [, wall] = await timed(() => packModel(spec, new LayoutTarget(storeDir), { tag: 'v1', cache: new PackCache() }));
      packs.push({ wall, cpu: processCpuSeconds() - cpu });
    });
  };
  const sides = [async () => void shas.push(await openssl()), packOnce, async () => void copies.push(await cp())];
  for (let round = 0; round < rounds; round++) {
    // Who goes first rotates each round.
    for (let i = 0; i < sides.length; i++) await sides[(round + i) % sides.length]!();
    loads.push(machineLoad().load1);
  }
  await rm(storeDir, { recursive: true, force: true });
  await rm(copyDir, { recursive: true, force: true });
  const ratios = packs.map((p, i) => p.wall / shas[i]!.wall);
  const copyRatios = copies.map((c, i) => c.wall / shas[i]!.wall);
  // Over the slower of the two things a pack must do, each measured alone in the same round.
  const floorRatios = packs.map((p, i) => p.wall / Math.max(shas[i]!.wall, copies[i]!.wall));
  const cpuRatios = shas.every((s) => s.cpu !== undefined) ? packs.map((p, i) => p.cpu / shas[i]!.cpu!) : undefined;
  const result: Measured = {
    title: c.title,
    goal: c.goal,
    packSeconds: median(packs.map((p) => p.wall)),
    opensslSeconds: median(shas.map((s) => s.wall)),
    ratio: median(ratios),
    ratios,
    ...(cpuRatios ? { cpuRatio: median(cpuRatios) } : {}),
    loads,
  };
  const mb = c.weightsMb.reduce((a, b) => a + b, 0);
  console.log(`${c.title}: pack ${result.packSeconds.toFixed(2)} s (${(mb / result.packSeconds).toFixed(0)} MiB/s), openssl ${result.opensslSeconds.toFixed(2)} s, cp ${median(copies.map((x) => x.wall)).toFixed(2)} s, median of ${rounds} rounds`);
  console.log(
    `  pack/openssl ${result.ratio.toFixed(2)} [${fmt(ratios)}] (goal <= ${c.goal})` +
      (cpuRatios ? `; CPU seconds pack/openssl ${result.cpuRatio!.toFixed(2)} [${fmt(cpuRatios)}]` : '') +
      `; load average ${loads.join(', ')} on ${machineLoad().cores} cores`,
  );
  console.log(`  cp/openssl ${median(copyRatios).toFixed(2)} [${fmt(copyRatios)}]; pack over the slower of openssl and cp ${median(floorRatios).toFixed(2)} [${fmt(floorRatios)}]`);
  return result;
}

/**
 * What bounds a copy on this machine, in the same run: cp through the page cache, the hash floor
 * (openssl) of that 1 GiB, and the disk's own write speed for 1 GiB (dd oflag=direct, 1 MiB writes).
 */
async function floors(dir: string): Promise<void> {
  const source = join(dir, 'floor.bin');
  // Just written, so it is in the page cache as the weights are when packed.
  await blockRandomFile(source, 1024 * MIB);
  const cp = await command('cp', [source, join(dir, 'floor.copy')]);
  await rm(join(dir, 'floor.copy'), { force: true });
  const sha = await command('openssl', ['dgst', '-sha256', source]);
  const direct = await command('dd', ['if=/dev/zero', `of=${join(dir, 'floor.dd')}`, 'bs=1M', 'count=1024', 'oflag=direct', 'status=none']);
  await rm(join(dir, 'floor.dd'), { force: true });
  await rm(source, { force: true });
  const disk = 1024 / direct.wall;
  const hash = 1024 / sha.wall;
  console.log(`floors: cp of 1 GiB ${cp.wall.toFixed(2)} s; openssl dgst -sha256 of it ${sha.wall.toFixed(2)} s (${hash.toFixed(0)} MiB/s); disk write (dd oflag=direct, 1 GiB in 1 MiB writes) ${direct.wall.toFixed(2)} s (${disk.toFixed(0)} MiB/s); load average ${machineLoad().load1}`);
  // A store copy that must reach the disk cannot beat the disk; through the page cache it can, until the cache fills.
  console.log(`  the disk ${disk < hash ? 'is slower than' : 'keeps up with'} the hash: ${disk < hash ? 'a pack that waits for its store copy to reach the disk cannot reach the openssl floor' : 'the disk does not stop the pack goals'}`);
}

async function repackAndPush(dir: string): Promise<void> {
  const spec = specOf(dir, true);
  const storeDir = join(work, 'pack-store');
  const cacheFile = join(work, 'pack-cache.json');
  await rm(storeDir, { recursive: true, force: true });
  await rm(cacheFile, { force: true });
  const store = new LayoutTarget(storeDir);
  const first = await packModel(spec, store, { tag: 'v1', cache: new PackCache(cacheFile) });
  await writeFile(join(dir, 'README.md'), `# bench model\nrevised ${Date.now()}\n`);
  const [repacked, repackSeconds] = await timed(() => packModel(spec, store, { tag: 'v1', cache: new PackCache(cacheFile) }));
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
    await rm(storeDir, { recursive: true, force: true });
    await rm(cacheFile, { force: true });
  }
  console.log(`re-pack, 1 doc changed: ${repackSeconds.toFixed(3)} s, files read: ${repacked.stats.filesRead.join(', ')} (goal < 1 s)`);
  console.log(`push of that change:    ${pushSeconds.toFixed(3)} s, ${pushedBytes} bytes uploaded (goal < 1 s)`);
}

async function main(): Promise<void> {
  await mkdir(work, { recursive: true });
  const dir = join(work, 'pack-model');
  try {
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    await floors(dir);
    const cases = CASES.filter((c) => picked.includes(c.id));
    for (const [i, c] of cases.entries()) {
      const last = i === cases.length - 1;
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { recursive: true });
      // The last model also carries docs, for the re-pack that follows.
      await measure(c, dir, last);
      if (last) await repackAndPush(dir);
    }
    console.log(`peak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB over every case (goal < 200 MB)`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
