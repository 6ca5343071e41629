/**
 * Start-up: the fixed cost of one run of the built CLI (`npm run build` first), which is most of a
 * small command's time: `--version`, `pack` of a 3-byte model into a fresh store, and `inspect` of it.
 * Its peer is modctl v0.2.2 (`modctl version`), run in alternation with it. Medians of 10 runs.
 */
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { judgePath } from '../test/helpers/judges.js';
import { command, machineLoad, median } from './lib/measure.js';

const RUNS = 10;
const repoRoot = resolve(import.meta.dirname, '..');
const cli = join(repoRoot, 'bin', 'modelship.js');
const work = join(import.meta.dirname, '.work', 'startup');

if (!existsSync(join(repoRoot, 'dist', 'modules', 'cli', 'main.js'))) {
  console.error('bench/startup.ts measures the built CLI: run "npm run build" first');
  process.exit(1);
}
let modctl: string | undefined;
try {
  modctl = judgePath('modctl');
} catch {
  console.log('modctl is not built (scripts/build-judges.sh): its row is left out');
}

await rm(work, { recursive: true, force: true });
await mkdir(join(work, 'model'), { recursive: true });
await writeFile(join(work, 'model', 'model.bin'), 'abc');
const home = join(work, 'home');
const env = { ...process.env, MODELSHIP_HOME: home };

const figures: Record<string, { wall: number[]; cpu: number[] }> = {};
const record = (name: string, r: { wall: number; cpu?: number }) => {
  const f = (figures[name] ??= { wall: [], cpu: [] });
  f.wall.push(r.wall);
  if (r.cpu !== undefined) f.cpu.push(r.cpu);
};
const load = [machineLoad().load1];
for (let i = 0; i < RUNS; i++) {
  record('modelship --version', await command(process.execPath, [cli, '--version'], { env }));
  if (modctl) record('modctl version', await command(modctl, ['version']));
  await rm(home, { recursive: true, force: true });
  record('modelship pack (3 bytes, fresh store)', await command(process.execPath, [cli, 'pack', join(work, 'model'), '-t', 'tiny:1'], { env }));
  record('modelship inspect', await command(process.execPath, [cli, 'inspect', 'tiny:1'], { env }));
}
load.push(machineLoad().load1);
for (const [name, f] of Object.entries(figures)) {
  console.log(`${name.padEnd(40)} wall ${median(f.wall).toFixed(3)} s${f.cpu.length ? `  cpu ${median(f.cpu).toFixed(3)} s` : ''}`);
}
console.log(`load average (1 min) ${load.join(' -> ')} on ${machineLoad().cores} cores`);
await rm(work, { recursive: true, force: true });
