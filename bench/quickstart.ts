/**
 * `modelship quickstart` as a user runs it (a fresh process of the built CLI, nothing cached in its
 * folder): the median of BENCH_RUNS runs (default 5) of idea-to-inference and of the whole loop with
 * hand-off, against the initiative's 10 minutes and this project's goal of 60 s on 2 cores.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { machineLoad, median, timed } from './lib/measure.js';

const RUNS = Number(process.env['BENCH_RUNS'] ?? 5);
const repoRoot = path.resolve(import.meta.dirname, '..');
const INITIATIVE_GOAL_S = 600;
const GOAL_S = 60;

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
