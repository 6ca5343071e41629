/**
 * Served vs direct: 128 tokens with node-llama-cpp in this process, then the same model and
 * settings through `modelship serve` (a separate process, OpenAI /v1/completions). Prints the
 * served/direct tokens-per-second ratio (goal >= 0.95) and the time from starting `serve` to the
 * first answered request (goal < 2 s for the tiny model).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { getLlama, LlamaCompletion } from 'node-llama-cpp';
import { writeTinyModel } from '../modules/gguf/index.js';

const TOKENS = 128;
const RUNS = Number(process.env['BENCH_RUNS'] ?? 15);
/** Separate `serve` processes started for the start-up median. */
const STARTS = Number(process.env['BENCH_STARTS'] ?? 5);
const THREADS = Number(process.env['BENCH_THREADS'] ?? 1);
const CONTEXT = 512;
const PROMPT = 'Count for me';
const repoRoot = path.resolve(import.meta.dirname, '..');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** node-llama-cpp in this process: one context, one sequence, greedy, exactly TOKENS tokens. */
async function openDirect(modelPath: string) {
  const llama = await getLlama({ gpu: false, build: 'never', maxThreads: THREADS, progressLogs: false });
  const model = await llama.loadModel({ modelPath });
  const context = await model.createContext({ contextSize: CONTEXT, threads: THREADS, sequences: 1 });
  const sequence = context.getSequence();
  return {
    async rate(): Promise<number> {
      await sequence.clearHistory();
      const completion = new LlamaCompletion({ contextSequence: sequence });
      const t = performance.now();
      const res = await completion.generateCompletionWithMeta(PROMPT, { maxTokens: TOKENS, temperature: 0 });
      const seconds = (performance.now() - t) / 1000;
      completion.dispose({ disposeSequence: false });
      if (res.metadata.stopReason !== 'maxTokens') throw new Error(`direct run stopped early: ${res.metadata.stopReason}`);
      return TOKENS / seconds;
    },
    async close() {
      await context.dispose();
      await model.dispose();
      await llama.dispose();
    },
  };
}

/** `modelship serve` in its own process; returns when its first request is answered. */
async function openServed(modelPath: string) {
  const started = performance.now();
  // The built CLI, as users run it (`npm run build` first): no TypeScript transpiling at start.
  const child = execa(process.execPath, [path.join(repoRoot, 'bin', 'modelship.js'), 'serve', modelPath, '--port', '0', '--threads', String(THREADS), '--ctx-size', String(CONTEXT), '--gpu', 'none', '--json'], { reject: false, env: { CI: '1' } });
  const ready = await new Promise<{ url: string; readyMs: number }>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]!));
    });
    void child.then((r) => reject(new Error(`serve exited: ${r.stderr}`)));
  });
  const readyMs = performance.now() - started;
  const rate = async () => {
    const t = performance.now();
    const res = await fetch(`${ready.url}/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: PROMPT, max_tokens: TOKENS, temperature: 0 }),
    });
    const body = (await res.json()) as { usage: { completion_tokens: number }; choices: { finish_reason: string }[] };
    const seconds = (performance.now() - t) / 1000;
    if (body.choices[0]!.finish_reason !== 'length') throw new Error('served run stopped early');
    return body.usage.completion_tokens / seconds;
  };
  await rate();
  const firstAnswerMs = performance.now() - started;
  return {
    rate,
    readyMs,
    firstAnswerMs,
    /** What the server itself reports: model load to listening, without the process start-up. */
    loadMs: ready.readyMs,
    async close() {
      child.kill('SIGTERM');
      await child;
    },
  };
}

/** Load, listen and answer one chat inside one process: the server's own share of start-up. */
async function inProcessStart(modelPath: string): Promise<number> {
  const { loadNativeEngine, startInferenceServer } = await import('../modules/infer/index.js');
  const t = performance.now();
  const engine = await loadNativeEngine({ modelPath, threads: THREADS, contextSize: CONTEXT, gpu: 'none' });
  const server = await startInferenceServer({ engine });
  await fetch(`${server.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }) });
  const ms = performance.now() - t;
  await server.close();
  await engine.dispose();
  return ms;
}

await execa('npm', ['run', 'build'], { cwd: repoRoot });
const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-serve-'));
try {
  // A canned model that loops its sentence, so every run makes exactly 128 tokens.
  const model = await writeTinyModel(path.join(dir, 'bench.gguf'), { mode: 'canned', sentence: 'tokens keep flowing through the tiny model', loop: true });
  const directRun = await openDirect(model.path);
  const servedRun = await openServed(model.path);
  await directRun.rate(); // warm-up, as the served side had its first request
  // Interleaved, so both sides see the same machine load.
  const directRates: number[] = [];
  const servedRates: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    directRates.push(await directRun.rate());
    servedRates.push(await servedRun.rate());
  }
  await servedRun.close();
  await directRun.close();
  const inProcessMs = await inProcessStart(model.path);
  const starts: { ready: number; first: number; load: number }[] = [];
  for (let i = 0; i < STARTS; i++) {
    const run = await openServed(model.path);
    starts.push({ ready: run.readyMs, first: run.firstAnswerMs, load: run.loadMs });
    await run.close();
  }
  const d = median(directRates);
  const s = median(servedRates);
  console.log(`model: tiny llama (${(model.bytes / 1024).toFixed(0)} KiB), ${TOKENS} tokens, ${THREADS} thread(s), median of ${RUNS}, CPU`);
  console.log(`direct (node-llama-cpp):  ${d.toFixed(0)} tokens/s`);
  console.log(`served (modelship serve): ${s.toFixed(0)} tokens/s`);
  // Each served run is paired with the direct run just before it: the median of the pair ratios
  // shrugs off load spikes from other processes better than a ratio of medians.
  const paired = median(servedRates.map((v, i) => v / directRates[i]!));
  console.log(`served/direct ratio: ${paired.toFixed(3)} (median of ${RUNS} paired runs; ratio of medians ${(s / d).toFixed(3)}) (goal >= 0.95)`);
  const med = (key: 'ready' | 'first' | 'load') => median([servedRun, ...starts].map((r) => ('readyMs' in r ? { ready: r.readyMs, first: r.firstAnswerMs, load: r.loadMs } : r)[key])).toFixed(0);
  console.log(`serve start -> ready (built CLI process): median ${med('ready')} ms of ${STARTS + 1} starts, of which model found, loaded and listening: ${med('load')} ms`);
  console.log(`serve start -> first answered request (built CLI process): median ${med('first')} ms of ${STARTS + 1} starts (goal < 2000 ms)`);
  console.log(`load + listen + first answered request (in-process): ${inProcessMs.toFixed(0)} ms`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
console.log(`load average while measuring: ${os.loadavg().map((x) => x.toFixed(1)).join(' ')} on ${os.availableParallelism()} cores`);
