/**
 * Peers benchmark: the same model folder (one safetensors weight of BENCH_SIZE_MB, default 256, plus
 * config, tokenizer and docs, described by one Modelfile that both tools read) packed, pushed and
 * pulled by the built `modelship` CLI and by modctl v0.2.2 (the ModelPack reference CLI, the judge
 * scripts/build-judges.sh builds), each a fresh process, as a user runs them; beside them `skopeo
 * copy` pushes and pulls the same artifact, and `openssl dgst -sha256` of the weight is the hashing
 * floor of a pack. Each of BENCH_ROUNDS rounds (default 3) runs every tool once per phase, the order
 * rotating each round; every push goes into a fresh loopback docker-registry of its own, and every
 * pull reads the artifact modelship pushed, into an empty store. A ratio is modelship's time over the
 * peer's (below 1: modelship is faster), the median of the rounds' ratios, printed with the CPU
 * seconds each used and the load average (the machine may be shared). KitOps cannot be built here:
 * docs/judges.md says why. Run: npx tsx bench/peers.ts (BENCH_SIZE_MB, BENCH_ROUNDS)
 */
import { execFile } from 'node:child_process';
import { readFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { judgePath } from '../test/helpers/judges.js';
import { startRegistry, type RunningRegistry } from '../test/helpers/registry.js';
import { blockRandomFile, command, machineLoad, median } from './lib/measure.js';

const run = promisify(execFile);
const MIB = 1024 * 1024;
const sizeMb = Number(process.env['BENCH_SIZE_MB'] ?? 256);
const rounds = Math.max(1, Number(process.env['BENCH_ROUNDS'] ?? 3));
const repoRoot = resolve(import.meta.dirname, '..');
const work = join(import.meta.dirname, '.work', 'peers');
const modelDir = join(work, 'model');
const WEIGHT = 'model.safetensors';
const LOCAL_REF = 'bench/model:v1';

type Phase = 'start' | 'pack' | 'push' | 'pull';
type Tool = 'modelship' | 'modctl' | 'skopeo' | 'openssl';
interface Timing {
  wall: number;
  cpu?: number;
}
/** One tool's work in one phase of one round. */
type Step = () => Promise<Timing>;

/** The tools' binaries: modctl from the judges' cache (missing: the command that builds it), skopeo and openssl when installed. */
async function locate(): Promise<{ modctl: string; skopeo?: string; openssl?: string }> {
  let modctl: string;
  try {
    modctl = judgePath('modctl');
  } catch (err) {
    console.error(`bench/peers.ts needs modctl: ${(err as Error).message}`);
    process.exit(1);
  }
  const which = (name: string) => run('which', [name]).then((r) => r.stdout.trim(), () => undefined);
  const [skopeo, openssl] = await Promise.all([which('skopeo'), which('openssl')]);
  if (!skopeo) console.log('skopeo is not installed (apt-get install skopeo): its column is left out');
  if (!openssl) console.log('openssl is not installed: the hashing floor is left out');
  return { modctl, ...(skopeo ? { skopeo } : {}), ...(openssl ? { openssl } : {}) };
}

/** The model: the weight (random, flushed to disk so its write-back is not measured), config, tokenizer, docs and the Modelfile. */
async function prepareModel(): Promise<void> {
  await rm(modelDir, { recursive: true, force: true });
  await mkdir(modelDir, { recursive: true });
  await blockRandomFile(join(modelDir, WEIGHT), sizeMb * MIB);
  const vocab = Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`tok${i}`, i]));
  const files: Record<string, string> = {
    'config.json': '{"model_type":"llama","architectures":["LlamaForCausalLM"],"hidden_size":2048,"torch_dtype":"bfloat16"}\n',
    'generation_config.json': '{"do_sample":true,"temperature":0.6,"top_p":0.9}\n',
    'tokenizer.json': JSON.stringify({ version: '1.0', model: { type: 'BPE', vocab } }),
    'tokenizer_config.json': '{"bos_token":"<s>","eos_token":"</s>","model_max_length":4096}\n',
    'README.md': '# bench model\n\nRandom weights, for the peers benchmark.\n',
    LICENSE: 'Apache License, Version 2.0\n',
    Modelfile: [
      'NAME bench',
      'FAMILY llama',
      ...['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json'].map((f) => `CONFIG ${f}`),
      `MODEL ${WEIGHT}`,
      'DOC README.md',
      'DOC LICENSE',
      '',
    ].join('\n'),
  };
  for (const [name, text] of Object.entries(files)) await writeFile(join(modelDir, name), text);
}

/** The ref.name the local store gave the packed artifact, for skopeo's oci: transport. */
async function storeRefName(store: string): Promise<string> {
  const index = JSON.parse(await readFile(join(store, 'index.json'), 'utf8')) as { manifests: { annotations?: Record<string, string> }[] };
  const name = index.manifests.map((m) => m.annotations?.['org.opencontainers.image.ref.name']).find((n) => n?.endsWith(LOCAL_REF));
  if (!name) throw new Error(`${store}/index.json has no manifest tagged ${LOCAL_REF}`);
  return name;
}

const fmt = (x: number) => x.toFixed(2);

async function main(): Promise<void> {
  const bins = await locate();
  console.log('building the CLI (npm run build)');
  await run('npm', ['run', 'build'], { cwd: repoRoot });
  await prepareModel();
  const cli = join(repoRoot, 'bin', 'modelship.js');
  const modelship = (args: string[], home: string) =>
    command(process.execPath, [cli, ...args], { env: { ...process.env, MODELSHIP_HOME: home, CI: 'true' } });
  const modctl = (args: string[], storage: string, cwd = work) =>
    command(bins.modctl, ['--storage-dir', storage, '--log-dir', join(work, 'modctl-logs'), '--no-progress', ...args], { cwd });
  const skopeo = (args: string[]) => command(bins.skopeo!, ['copy', '--quiet', ...args]);

  const times = new Map<string, Timing[]>();
  const record = (phase: Phase, tool: Tool, t: Timing) => times.set(`${phase}/${tool}`, [...(times.get(`${phase}/${tool}`) ?? []), t]);
  /** Runs each tool's step once, starting with a different one each round. */
  const rotate = async (phase: Phase, round: number, steps: Partial<Record<Tool, Step>>) => {
    const entries = Object.entries(steps) as [Tool, Step][];
    for (let i = 0; i < entries.length; i++) {
      const [tool, step] = entries[(i + round) % entries.length]!;
      record(phase, tool, await step());
    }
  };

  const loads: number[] = [];
  // The model was just written, so it is in the page cache for every tool alike.
  for (let round = 0; round < rounds; round++) {
    const dir = join(work, `round-${round}`);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    const registries: Partial<Record<Tool, RunningRegistry>> = {};
    try {
      for (const tool of ['modelship', 'modctl', ...(bins.skopeo ? ['skopeo' as const] : [])] as Tool[]) registries[tool] = await startRegistry();
      const shipHome = join(dir, 'modelship-home');
      const modctlStore = join(dir, 'modctl-store');
      const modctlRef = `${registries.modctl!.host}/bench/modctl:v1`;
      const shipRemote = `${registries.modelship!.host}/bench/modelship:v1`;

      await rotate('start', round, {
        modelship: () => modelship(['--version'], join(dir, 'start-home')),
        modctl: () => modctl(['version'], join(dir, 'start-store')),
        ...(bins.skopeo ? { skopeo: () => command(bins.skopeo!, ['--version']) } : {}),
        ...(bins.openssl ? { openssl: () => command(bins.openssl!, ['version']) } : {}),
      });
      await rotate('pack', round, {
        modelship: () => modelship(['pack', modelDir, '-t', LOCAL_REF], shipHome),
        // modctl reads -f relative to its working directory.
        modctl: () => modctl(['build', '-t', modctlRef, '-f', 'Modelfile', '.'], modctlStore, modelDir),
        ...(bins.openssl ? { openssl: () => command(bins.openssl!, ['dgst', '-sha256', join(modelDir, WEIGHT)]) } : {}),
      });
      const shipStore = join(shipHome, 'store');
      const storeRef = await storeRefName(shipStore);
      await rotate('push', round, {
        modelship: () => modelship(['push', LOCAL_REF, shipRemote, '--plain-http'], shipHome),
        modctl: () => modctl(['push', '--plain-http', modctlRef], modctlStore),
        ...(bins.skopeo
          ? { skopeo: () => skopeo(['--preserve-digests', '--dest-tls-verify=false', `oci:${shipStore}:${storeRef}`, `docker://${registries.skopeo!.host}/bench/skopeo:v1`]) }
          : {}),
      });
      // Every pull reads the one artifact modelship pushed, into an empty store.
      await rotate('pull', round, {
        modelship: () => modelship(['pull', shipRemote, '--plain-http'], join(dir, 'pull-home')),
        modctl: () => modctl(['pull', '--plain-http', shipRemote], join(dir, 'pull-modctl-store')),
        ...(bins.skopeo ? { skopeo: () => skopeo(['--preserve-digests', '--src-tls-verify=false', `docker://${shipRemote}`, `oci:${join(dir, 'pull-skopeo')}:v1`]) } : {}),
      });
      loads.push(machineLoad().load1);
    } finally {
      for (const registry of Object.values(registries)) await registry.stop();
      await rm(dir, { recursive: true, force: true });
    }
  }

  const phases: Phase[] = ['start', 'pack', 'push', 'pull'];
  const tools: Tool[] = ['modelship', 'modctl', ...(bins.skopeo ? ['skopeo' as const] : []), ...(bins.openssl ? ['openssl' as const] : [])];
  const peers = tools.filter((t) => t !== 'modelship');
  const cell = (ts: Timing[] | undefined) => {
    if (!ts) return '-';
    const cpus = ts.map((t) => t.cpu).filter((c): c is number => c !== undefined);
    return `${fmt(median(ts.map((t) => t.wall)))} s` + (cpus.length === ts.length ? ` (cpu ${fmt(median(cpus))})` : '');
  };
  /** modelship's time over the peer's in each round. */
  const ratios = (phase: Phase, peer: Tool) => {
    const ours = times.get(`${phase}/modelship`);
    const theirs = times.get(`${phase}/${peer}`);
    return ours && theirs ? ours.map((t, i) => t.wall / theirs[i]!.wall) : undefined;
  };
  const ratio = (phase: Phase, peer: Tool) => {
    const each = ratios(phase, peer);
    return each ? median(each) : undefined;
  };
  const ratioCell = (phase: Phase, peer: Tool) => {
    const each = ratios(phase, peer);
    return each ? `${fmt(median(each))} [${each.map(fmt).join(' ')}]` : '-';
  };
  const header = ['phase', ...tools, ...peers.map((p) => `modelship/${p}`)];
  const rows = phases.map((phase) => [phase, ...tools.map((t) => cell(times.get(`${phase}/${t}`))), ...peers.map((p) => ratioCell(phase, p))]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  console.log(`\npeers: one ${sizeMb} MiB weight and 6 small files, wall seconds (CPU seconds), median of ${rounds} rounds (ratios: median [each round]); load average ${loads.join(', ')} on ${machineLoad().cores} cores`);
  console.log(line(header));
  for (const row of rows) console.log(line(row));
  console.log('start: the process alone (--version); pack: openssl is sha256 of the weight alone, the floor; pull: every tool reads the artifact modelship pushed');
  const figures = {
    sizeMb,
    rounds,
    load1: loads,
    cores: machineLoad().cores,
    seconds: Object.fromEntries([...times].map(([k, ts]) => [k, Number(median(ts.map((t) => t.wall)).toFixed(3))])),
    ratios: Object.fromEntries(phases.flatMap((phase) => peers.map((p) => [`${phase}/modelship:${p}`, ratio(phase, p)] as const).filter(([, r]) => r !== undefined).map(([k, r]) => [k, Number(r!.toFixed(3))]))),
  };
  console.log(JSON.stringify(figures));
  await rm(work, { recursive: true, force: true });
}

await main();
