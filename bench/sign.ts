/**
 * Sign benchmark: a packed 4 GiB model (BENCH_SIZE_MB to change, in 4 weight files) and a packed
 * 4 MiB model, each signed with a key (model signature, cosign image signature, attached as
 * referrers), and `sha256sum` over the big model's weights in the same run. Signing builds the
 * statement from the manifest, so its time should not grow with the model.
 * Run: npx tsx bench/sign.ts (BENCH_SIZE_MB=1024 on a small machine; BENCH_ROUNDS rounds, median)
 */
import { execFile } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { LayoutTarget } from '../modules/oci/layout.js';
import { packModel } from '../modules/modelpack/index.js';
import { generateSigningKeyPair, loadPrivateKey } from '../modules/sign/index.js';
import { signArtifact } from '../modules/sign/artifact/index.js';
import type { ModelSpec } from '../modules/project/model-spec.js';
import { randomFile } from './lib/measure.js';

const run = promisify(execFile);
const bigMb = Number(process.env['BENCH_SIZE_MB'] ?? 4096);
const smallMb = 4;
const rounds = Number(process.env['BENCH_ROUNDS'] ?? 7);
const work = join(import.meta.dirname, '.work');
const WEIGHT_FILES = 4;
const CHUNK = 1024 * 1024;


/** A model folder of random weights (kept between runs) and its spec; returns the weight paths too. */
async function model(sizeMb: number): Promise<{ spec: ModelSpec; weights: string[] }> {
  const dir = join(work, `model-${sizeMb}m-${WEIGHT_FILES}`);
  await mkdir(dir, { recursive: true });
  const perFile = Math.floor((sizeMb * CHUNK) / WEIGHT_FILES);
  const weights = Array.from({ length: WEIGHT_FILES }, (_, i) => join(dir, `model-${String(i + 1).padStart(5, '0')}-of-${String(WEIGHT_FILES).padStart(5, '0')}.safetensors`));
  for (const w of weights) await randomFile(w, perFile);
  await writeFile(join(dir, 'config.json'), '{"architectures":["LlamaForCausalLM"],"hidden_size":4096}\n');
  const spec: ModelSpec = {
    source: { format: 'modelship' },
    contextDir: dir,
    descriptor: { name: `bench-${sizeMb}m`, version: '1' },
    config: { format: 'safetensors', paramSize: '2B' },
    files: [
      { kind: 'weight', path: '*.safetensors' },
      { kind: 'weightConfig', path: 'config.json' },
    ],
    ignore: [],
    pipeline: {},
  };
  return { spec, weights };
}

async function packed(sizeMb: number): Promise<{ layout: LayoutTarget; weights: string[] }> {
  const { spec, weights } = await model(sizeMb);
  const dir = join(work, `sign-layout-${sizeMb}m`);
  await rm(dir, { recursive: true, force: true });
  const layout = new LayoutTarget(dir);
  await layout.init();
  await packModel(spec, layout, { tag: 'v1' });
  return { layout, weights };
}

async function seconds(work: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function main(): Promise<void> {
  const big = await packed(bigMb);
  const small = await packed(smallMb);
  const privateKey = loadPrivateKey(generateSigningKeyPair().privateKeyPem, 'bench key');
  const method = { kind: 'key' as const, privateKey };
  // One warm-up each, so module loading and JIT are not charged to either side.
  await signArtifact(big.layout, 'v1', method);
  await signArtifact(small.layout, 'v1', method);
  const bigTimes: number[] = [];
  const smallTimes: number[] = [];
  for (let i = 0; i < rounds; i++) {
    bigTimes.push(await seconds(() => signArtifact(big.layout, 'v1', method)));
    smallTimes.push(await seconds(() => signArtifact(small.layout, 'v1', method)));
  }
  // The peer reads the weights warm (page cache), as a re-hashing signer would on a second run.
  await run('sha256sum', big.weights, { maxBuffer: 1 << 20 });
  const shaSeconds = await seconds(() => run('sha256sum', big.weights, { maxBuffer: 1 << 20 }));
  const signBig = median(bigTimes);
  const signSmall = median(smallTimes);
  console.log(`model sizes: ${bigMb} MiB and ${smallMb} MiB (${WEIGHT_FILES} weight files each), ${rounds} rounds, median`);
  console.log(`sign(${bigMb} MiB)   ${(signBig * 1000).toFixed(1)} ms`);
  console.log(`sign(${smallMb} MiB)      ${(signSmall * 1000).toFixed(1)} ms`);
  console.log(`sha256sum(${bigMb} MiB) ${(shaSeconds * 1000).toFixed(0)} ms`);
  console.log(`sign(big) / sign(small)      = ${(signBig / signSmall).toFixed(2)} (goal <= 1.5)`);
  console.log(`sha256sum(big) / sign(big)   = ${(shaSeconds / signBig).toFixed(1)} (goal >= 20)`);
  // The packed layouts are rebuilt on every run: do not leave gigabytes behind.
  for (const l of [big.layout, small.layout]) await rm(l.root, { recursive: true, force: true });
}

await main();
