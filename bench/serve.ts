/**
 * Served vs direct: 128 tokens with node-llama-cpp in this process, then the same model and
 * settings through `modelship serve` (a separate process, OpenAI /v1/completions), runs interleaved.
 * Two models: the tiny one (463 KiB, thousands of tokens/s, so a fixed few ms per request weigh a
 * lot) and a generated one of real per-token cost (768 wide, 6 layers, 164 MiB F32: at most about
 * 200 tokens/s on one CPU thread). Prints served/direct tokens per second on each (goal >= 0.95 on
 * the real-sized one), the server's fixed cost per request on its own (a one-token completion
 * served minus direct, paired, through a kept-alive node:http client; goal <= 2 ms) with the bare
 * HTTP round trip (GET /health) and the same request through fetch beside it, and the time from starting `serve` to the first
 * answered request (goal < 2 s for the tiny model).
 * Run: npx tsx bench/serve.ts (BENCH_RUNS, BENCH_BIG_RUNS, BENCH_OVERHEAD_RUNS, BENCH_STARTS, BENCH_THREADS)
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { getLlama, LlamaCompletion } from 'node-llama-cpp';
import { writeTinyModel } from '../modules/gguf/index.js';

const TOKENS = 128;
const RUNS = Number(process.env['BENCH_RUNS'] ?? 15);
/** Paired runs on the real-sized model (each is a couple of seconds). */
const BIG_RUNS = Number(process.env['BENCH_BIG_RUNS'] ?? 5);
/** Paired one-token requests for the fixed per-request cost. */
const OVERHEAD_RUNS = Number(process.env['BENCH_OVERHEAD_RUNS'] ?? 31);
/** The real-sized model: per token it reads 164 MiB of F32 weights, as a small real model does. */
const REAL_SHAPE = { embedding: 768, layers: 6, feedForward: 2048, heads: 12 };
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
    /** Milliseconds for a completion of exactly `tokens` tokens. */
    async time(tokens: number): Promise<number> {
      await sequence.clearHistory();
      const completion = new LlamaCompletion({ contextSequence: sequence });
      const t = performance.now();
      const res = await completion.generateCompletionWithMeta(PROMPT, { maxTokens: tokens, temperature: 0 });
      const ms = performance.now() - t;
      completion.dispose({ disposeSequence: false });
      if (res.metadata.stopReason !== 'maxTokens') throw new Error(`direct run stopped early: ${res.metadata.stopReason}`);
      return ms;
    },
    async rate(): Promise<number> {
      return TOKENS / ((await this.time(TOKENS)) / 1000);
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
  const origin = new URL(ready.url).origin;
  // One kept-alive connection, as a client that sends many requests holds; node:http, so the
  // figure is the server's cost and not a client library's (fetch adds its own, printed apart).
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const send = (method: string, route: string, body?: string) =>
    new Promise<string>((resolve, reject) => {
      const req = http.request(`${origin}${route}`, { method, agent, headers: body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {} }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  const check = (text: string, tokens: number) => {
    const body = JSON.parse(text) as { usage: { completion_tokens: number }; choices: { finish_reason: string }[] };
    if (body.choices[0]!.finish_reason !== 'length' || body.usage.completion_tokens !== tokens) throw new Error('served run stopped early');
  };
  const request = (tokens: number) => JSON.stringify({ prompt: PROMPT, max_tokens: tokens, temperature: 0 });
  /** Milliseconds for a completion of exactly `tokens` tokens, request sent to answer read. */
  const time = async (tokens: number) => {
    const t = performance.now();
    const text = await send('POST', '/v1/completions', request(tokens));
    const ms = performance.now() - t;
    check(text, tokens);
    return ms;
  };
  /** The same through fetch (undici), as the OpenAI SDK for Node sends it. */
  const timeFetch = async (tokens: number) => {
    const t = performance.now();
    const res = await fetch(`${origin}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: request(tokens) });
    const text = await res.text();
    const ms = performance.now() - t;
    check(text, tokens);
    return ms;
  };
  /** A GET /health round trip: the HTTP transport alone, no model work. */
  const timeHealth = async () => {
    const t = performance.now();
    await send('GET', '/health');
    return performance.now() - t;
  };
  const rate = async () => TOKENS / ((await time(TOKENS)) / 1000);
  await rate();
  const firstAnswerMs = performance.now() - started;
  return {
    rate,
    time,
    timeFetch,
    timeHealth,
    readyMs,
    firstAnswerMs,
    /** What the server itself reports: model load to listening, without the process start-up. */
    loadMs: ready.readyMs,
    async close() {
      agent.destroy();
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

/** Served and direct tokens/s over `runs` interleaved pairs; the median of the pairs' ratios. */
async function servedVsDirect(modelPath: string, runs: number, overhead: boolean) {
  const directRun = await openDirect(modelPath);
  const servedRun = await openServed(modelPath);
  try {
    await directRun.rate(); // warm-up, as the served side had its first request
    // Interleaved, so both sides see the same machine load.
    const directRates: number[] = [];
    const servedRates: number[] = [];
    for (let i = 0; i < runs; i++) {
      directRates.push(await directRun.rate());
      servedRates.push(await servedRun.rate());
    }
    // The fixed cost: a one-token completion through the server minus the same one direct, paired.
    const extraMs: number[] = [];
    const fetchExtraMs: number[] = [];
    const healthMs: number[] = [];
    if (overhead) {
      for (let i = 0; i < OVERHEAD_RUNS; i++) {
        const direct = await directRun.time(1);
        extraMs.push((await servedRun.time(1)) - direct);
        fetchExtraMs.push((await servedRun.timeFetch(1)) - direct);
        healthMs.push(await servedRun.timeHealth());
      }
    }
    return {
      servedRun,
      direct: median(directRates),
      served: median(servedRates),
      // Each served run is paired with the direct run just before it: the median of the pair ratios
      // shrugs off load spikes from other processes better than a ratio of medians.
      paired: median(servedRates.map((v, i) => v / directRates[i]!)),
      extraMs: overhead ? median(extraMs) : NaN,
      fetchExtraMs: overhead ? median(fetchExtraMs) : NaN,
      healthMs: overhead ? median(healthMs) : NaN,
    };
  } finally {
    await servedRun.close();
    await directRun.close();
  }
}

await execa('npm', ['run', 'build'], { cwd: repoRoot });
await mkdir(path.join(repoRoot, 'bench', '.work'), { recursive: true });
const dir = await mkdtemp(path.join(repoRoot, 'bench', '.work', 'serve-'));
try {
  // Canned models that loop their sentence, so every run makes exactly as many tokens as asked.
  const sentence = 'tokens keep flowing through the tiny model';
  const model = await writeTinyModel(path.join(dir, 'bench.gguf'), { mode: 'canned', sentence, loop: true });
  const tiny = await servedVsDirect(model.path, RUNS, true);
  const loads = [os.loadavg()[0]!];
  const real = await writeTinyModel(path.join(dir, 'real.gguf'), { mode: 'canned', sentence, loop: true, shape: REAL_SHAPE });
  const big = await servedVsDirect(real.path, BIG_RUNS, false);
  loads.push(os.loadavg()[0]!);
  const inProcessMs = await inProcessStart(model.path);
  const starts: { ready: number; first: number; load: number }[] = [];
  for (let i = 0; i < STARTS; i++) {
    const run = await openServed(model.path);
    starts.push({ ready: run.readyMs, first: run.firstAnswerMs, load: run.loadMs });
    await run.close();
  }
  const servedRun = tiny.servedRun;
  console.log(`${TOKENS} tokens, ${THREADS} thread(s), CPU, served and direct runs interleaved`);
  console.log(`tiny model (${(model.bytes / 1024).toFixed(0)} KiB), median of ${RUNS}: direct ${tiny.direct.toFixed(0)} tokens/s, served ${tiny.served.toFixed(0)} tokens/s, served/direct ${tiny.paired.toFixed(3)} (ratio of medians ${(tiny.served / tiny.direct).toFixed(3)})`);
  console.log(
    `real-sized model (${REAL_SHAPE.embedding} wide, ${REAL_SHAPE.layers} layers, ${(real.bytes / 2 ** 20).toFixed(0)} MiB), median of ${BIG_RUNS}: direct ${big.direct.toFixed(1)} tokens/s, served ${big.served.toFixed(1)} tokens/s`,
  );
  console.log(`served/direct on the real-sized model: ${big.paired.toFixed(3)} (median of ${BIG_RUNS} paired runs; ratio of medians ${(big.served / big.direct).toFixed(3)}) (goal >= 0.95)`);
  console.log(`fixed cost per request (one-token completion served minus direct, node:http keep-alive client, median of ${OVERHEAD_RUNS} pairs, tiny model): ${tiny.extraMs.toFixed(2)} ms (goal <= 2 ms)`);
  console.log(`  of which the HTTP round trip alone (GET /health): ${tiny.healthMs.toFixed(2)} ms; through fetch (undici) instead of node:http: ${tiny.fetchExtraMs.toFixed(2)} ms`);
  const med = (key: 'ready' | 'first' | 'load') => median([servedRun, ...starts].map((r) => ('readyMs' in r ? { ready: r.readyMs, first: r.firstAnswerMs, load: r.loadMs } : r)[key])).toFixed(0);
  console.log(`serve start -> ready (built CLI process): median ${med('ready')} ms of ${STARTS + 1} starts, of which model found, loaded and listening: ${med('load')} ms`);
  console.log(`serve start -> first answered request (built CLI process): median ${med('first')} ms of ${STARTS + 1} starts (goal < 2000 ms)`);
  console.log(`load + listen + first answered request (in-process): ${inProcessMs.toFixed(0)} ms`);
  console.log(`load average after the tiny and the real-sized runs: ${loads.map((x) => x.toFixed(1)).join(', ')}`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
console.log(`load average while measuring: ${os.loadavg().map((x) => x.toFixed(1)).join(' ')} on ${os.availableParallelism()} cores`);
