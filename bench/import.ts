/**
 * Import benchmark: a model of random safetensors shards (512 MiB by default, BENCH_SIZE_MB to change,
 * in BENCH_FILES files) plus small config files on the loopback Hub (test/helpers/hub-server.ts: API,
 * resolve, redirect to a CDN origin), imported into a fresh store side by side with a plain download
 * of the same files from the same server by curl (--parallel, as many at once as the import), in
 * BENCH_ROUNDS alternating pairs. The Hub runs in its own process, as curl does, so neither shares an event loop with it. The import hashes and verifies every byte as it arrives and writes
 * the artifact; the ratio (median of the pairs') says what that costs over downloading alone.
 * Run: npx tsx bench/import.ts
 */
import { execFile, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { importFromHub } from '../modules/hub/index.js';
import { LayoutTarget } from '../modules/oci/layout.js';
import { commitSha, startFakeHub, type HubFileSpec } from '../test/helpers/hub-server.js';
import { machineLoad, median, timed } from './lib/measure.js';

const run = promisify(execFile);
const sizeMb = Number(process.env['BENCH_SIZE_MB'] ?? 512);
const fileCount = Number(process.env['BENCH_FILES'] ?? 4);
const jobs = Number(process.env['BENCH_JOBS'] ?? 4);
const rounds = Math.max(1, Number(process.env['BENCH_ROUNDS'] ?? 3));
const work = join(import.meta.dirname, '.work', 'import');

interface Served {
  endpoint: string;
  sha: string;
  files: { path: string; size: number }[];
}

/** The child: builds the model, serves it on the loopback Hub, prints where, and stays until stdin closes. */
async function serve(): Promise<void> {
  const perFile = Math.floor((sizeMb * 1024 * 1024) / fileCount);
  const files: HubFileSpec[] = [
    { path: 'README.md', content: Buffer.from('---\nlicense: apache-2.0\npipeline_tag: text-generation\n---\n# bench model\n') },
    { path: 'config.json', content: Buffer.from('{"model_type":"llama","architectures":["LlamaForCausalLM"],"torch_dtype":"bfloat16"}\n') },
    { path: 'tokenizer.json', content: Buffer.from(JSON.stringify({ model: { vocab: Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`t${i}`, i])) } })) },
    ...Array.from({ length: fileCount }, (_, i) => ({
      path: `model-${String(i + 1).padStart(5, '0')}-of-${String(fileCount).padStart(5, '0')}.safetensors`,
      content: randomBytes(perFile),
      lfs: true,
    })),
  ];
  const sha = commitSha();
  const hub = await startFakeHub([{ repo: 'bench/model', commits: { [sha]: files }, refs: { main: sha } }]);
  const served: Served = { endpoint: hub.endpoint, sha, files: files.map((f) => ({ path: f.path, size: f.content.length })) };
  process.stdout.write(`${JSON.stringify(served)}\n`);
  process.stdin.resume();
  await new Promise((resolve) => process.stdin.once('end', resolve));
  await hub.close();
}

async function startHubProcess(): Promise<{ served: Served; stop: () => void }> {
  const child = spawn(process.execPath, [...process.execArgv, import.meta.filename, 'serve'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the Hub process exited (${code})`)));
  });
  return { served: JSON.parse(line) as Served, stop: () => child.stdin.end() };
}

async function main(): Promise<void> {
  const { served, stop } = await startHubProcess();
  const { sha, files } = served;
  const hub = { endpoint: served.endpoint, close: async () => stop() };
  const conn = { endpoint: hub.endpoint };
  const total = files.reduce((n, f) => n + f.size, 0);
  try {
    const cpu = { import: [] as number[], curl: [] as number[] };
    const importOnce = async () => {
      const before = process.cpuUsage();
      const dir = join(work, 'store');
      await rm(dir, { recursive: true, force: true });
      await importFromHub({ repo: 'bench/model', revision: 'main' }, new LayoutTarget(dir), { conn, concurrency: jobs, tag: 'bench:main' });
      const used = process.cpuUsage(before);
      cpu.import.push((used.user + used.system) / 1e6);
    };
    const curlOnce = async () => {
      const dir = join(work, 'curl');
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { recursive: true });
      const args = ['-sSfL', '--parallel', '--parallel-max', String(jobs)];
      files.forEach((f, i) => args.push('-o', join(dir, `f${i}`), `${hub.endpoint}/bench/model/resolve/${sha}/${f.path}`));
      // bash's `times` prints the CPU its children used: curl's own, measured as process.cpuUsage measures the import.
      const { stdout } = await run('bash', ['-c', 'curl "$@" && times', 'curl', ...args]);
      const child = /\n(\d+)m([\d.]+)s (\d+)m([\d.]+)s\s*$/.exec(stdout.trim().split('\n').slice(-1)[0] ? `\n${stdout.trim().split('\n').slice(-1)[0]}` : '');
      if (child) cpu.curl.push(Number(child[1]) * 60 + Number(child[2]) + Number(child[3]) * 60 + Number(child[4]));
    };
    await curlOnce(); // warm both paths once
    await importOnce();
    const ratios: number[] = [];
    const importTimes: number[] = [];
    const curlTimes: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? [importOnce, curlOnce] : [curlOnce, importOnce];
      const times = new Map<typeof importOnce, number>();
      for (const step of order) times.set(step, (await timed(step))[1]);
      importTimes.push(times.get(importOnce)!);
      curlTimes.push(times.get(curlOnce)!);
      ratios.push(times.get(importOnce)! / times.get(curlOnce)!);
    }
    const mb = total / 1024 / 1024;
    const rate = (s: number) => `${(mb / s).toFixed(0)} MiB/s`;
    console.log(`import of ${mb.toFixed(0)} MiB in ${files.length} files (${fileCount} LFS shards), ${jobs} at once, ${rounds} rounds, load ${JSON.stringify(machineLoad())}`);
    console.log(`  modelship import (download + verify SHA-256 + store + manifest): median ${median(importTimes).toFixed(2)} s (${rate(median(importTimes))})`);
    console.log(`  curl --parallel to files (download only):                    median ${median(curlTimes).toFixed(2)} s (${rate(median(curlTimes))})`);
    console.log(`  ratio import / plain download: ${median(ratios).toFixed(2)} (per round: ${ratios.map((x) => x.toFixed(2)).join(', ')})`);
    // On a shared machine wall time follows the load; CPU seconds say what each does per byte.
    console.log(`  CPU seconds: import ${median(cpu.import.slice(1)).toFixed(2)}, curl ${cpu.curl.length > 1 ? median(cpu.curl.slice(1)).toFixed(2) : 'n/a'} (hashing SHA-256 of every byte is part of the import's)`);
  } finally {
    await hub.close();
    await rm(work, { recursive: true, force: true });
  }
}

if (process.argv[2] === 'serve') await serve();
else await main();
