/**
 * `modelship quickstart` as a user runs it (a fresh process of the built CLI, nothing cached in its
 * folder): the median of BENCH_RUNS runs (default 5) of idea-to-inference and of the whole loop with
 * hand-off, against the initiative's 10 minutes and this project's goal of 60 s on 2 cores. Then one
 * run with BENCH_LARGE_MB (default 1024) of extra safetensors weights in the project (goal 3 minutes).
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { runQuickstart } from '../modules/pipeline/index.js';
import { machineLoad, median, randomFile, timed } from './lib/measure.js';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 5);
const repoRoot = path.resolve(import.meta.dirname, '..');
const INITIATIVE_GOAL_S = 600;
const GOAL_S = 60;
const LARGE_MB = Number(process.env['BENCH_LARGE_MB'] ?? 1024);
const LARGE_GOAL_S = 180;

interface Record {
  ok: boolean;
  ideaToInferenceSeconds: number;
  seconds: number;
  steps: Array<{ step: string; seconds: number }>;
}

async function once(): Promise<{ wall: number; record: Record }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-quickstart-'));
  try {
    const [out, wall] = await timed(() => execa(process.execPath, [path.join(repoRoot, 'bin', 'modelship.js'), 'quickstart', path.join(dir, 'qs'), '--json'], { env: { CI: 'true' } }));
    const record = JSON.parse(out.stdout) as Record;
    if (!record.ok) throw new Error(`quickstart failed: ${out.stdout}`);
    return { wall, record };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await execa('npm', ['run', 'build'], { cwd: repoRoot });
const runs: Array<{ wall: number; record: Record }> = [];
for (let i = 0; i < RUNS; i++) {
  const run = await once();
  runs.push(run);
  console.log(`run ${i + 1}: process ${run.wall.toFixed(1)} s, idea to inference ${run.record.ideaToInferenceSeconds.toFixed(1)} s, with hand-off ${run.record.seconds.toFixed(1)} s (load ${machineLoad().load1})`);
}
const wall = median(runs.map((r) => r.wall));
const inference = median(runs.map((r) => r.record.ideaToInferenceSeconds));
const steps = new Map<string, number[]>();
for (const r of runs) for (const s of r.record.steps) steps.set(s.step, [...(steps.get(s.step) ?? []), s.seconds]);
console.log(`\nper step (median s): ${[...steps].map(([name, xs]) => `${name} ${median(xs).toFixed(2)}`).join(', ')}`);
console.log(`median of ${RUNS}: idea to inference ${inference.toFixed(1)} s; whole process with hand-off ${wall.toFixed(1)} s`);
console.log(`ratio to this project's goal (${GOAL_S} s): ${(wall / GOAL_S).toFixed(3)} (goal <= 1); to the initiative's 10 minutes: ${(wall / INITIATIVE_GOAL_S).toFixed(3)}`);

/** A project with LARGE_MB of real safetensors weights beside the tiny GGUF: one F32 tensor of random values. */
async function addLargeWeights(project: string): Promise<void> {
  const file = path.join(project, 'model', 'large.safetensors');
  const bytes = LARGE_MB * 1024 * 1024;
  let header = JSON.stringify({ large: { dtype: 'F32', shape: [bytes / 4], data_offsets: [0, bytes] } });
  header += ' '.repeat((8 - ((8 + header.length) % 8)) % 8);
  const prefix = Buffer.alloc(8 + header.length);
  prefix.writeBigUInt64LE(BigInt(header.length), 0);
  prefix.write(header, 8);
  await randomFile(`${file}.data`, bytes);
  await writeFile(file, prefix);
  await pipeline(createReadStream(`${file}.data`), createWriteStream(file, { flags: 'a' }));
  await rm(`${file}.data`);
  const spec = path.join(project, 'modelship.yaml');
  await writeFile(spec, (await readFile(spec, 'utf8')).replace('weights:\n  - model/tiny-chat.gguf\n', 'weights:\n  - model/large.safetensors\n  - model/tiny-chat.gguf\n'));
}

const large = await mkdtemp(path.join(os.tmpdir(), 'bench-quickstart-large-'));
try {
  const [result, wallLarge] = await timed(() => runQuickstart({ dir: path.join(large, 'qs'), env: {}, cwd: large, prepare: addLargeWeights }));
  if (!result.ok) throw new Error(`quickstart with ${LARGE_MB} MiB failed: ${JSON.stringify(result.steps)}`);
  const pack = result.steps.find((s) => s.step === 'pack');
  console.log(`\nwith ${LARGE_MB} MiB of weights: idea to inference ${result.ideaToInferenceSeconds!.toFixed(1)} s, with hand-off ${wallLarge.toFixed(1)} s (pack ${pack?.seconds.toFixed(1)} s); ratio to ${LARGE_GOAL_S} s: ${(wallLarge / LARGE_GOAL_S).toFixed(3)} (goal <= 1) (load ${machineLoad().load1})`);
} finally {
  await rm(large, { recursive: true, force: true });
}
