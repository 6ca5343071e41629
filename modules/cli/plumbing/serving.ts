/**
 * Serving a model in-process, shared by `serve` and `rag serve`: their flags, the settings read
 * from them, the packed-reference fetcher, and the ready line printed once the port is open.
 */
import { readdir, rename, rm } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import path from 'node:path';
import { ModelshipError, UsageError } from '../../errors/index.js';
import { pathExists } from '../../fs/exists.js';
import { openNativeModel } from '../../infer/open.js';
import { resolveModelSource } from '../../infer/source.js';
import type { Engine } from '../../infer/engine.js';
import type { GpuChoice } from '../../infer/native.js';
import type { Retriever } from '../../infer/server.js';
import { flagBoolean, flagString, type CommandContext, type OptionSpec } from '../command.js';
import { stopSignal } from '../stop-signal.js';
import { intFlag } from './arguments.js';
import { REGISTRY_OPTIONS } from './registry-flags.js';

/** The flags of `serve`, which `rag serve` accepts too. */
export const SERVE_OPTIONS = {
  port: { type: 'string', short: 'p' },
  host: { type: 'string' },
  engine: { type: 'string' },
  dryrun: { type: 'boolean' },
  threads: { type: 'string' },
  'ctx-size': { type: 'string' },
  image: { type: 'string' },
  gpu: { type: 'string' },
  queue: { type: 'string' },
  'raw-embeddings': { type: 'boolean' },
  'engine-arg': { type: 'string', multiple: true },
  'run-arg': { type: 'string', multiple: true },
  ...REGISTRY_OPTIONS,
} satisfies OptionSpec;

/** The flags `serve` and `rag serve` share. */
export function readServeSettings(ctx: CommandContext): ServeSettings {
  const gpu = flagString(ctx, 'gpu') ?? 'auto';
  if (!['auto', 'none', 'all'].includes(gpu)) throw new UsageError(`--gpu must be auto, none or all, not "${gpu}".`);
  return {
    host: flagString(ctx, 'host') ?? '127.0.0.1',
    port: intFlag(ctx, 'port', 0, 65535),
    threads: intFlag(ctx, 'threads', 1, 1024),
    contextSize: intFlag(ctx, 'ctx-size', 16, 1 << 20),
    queue: intFlag(ctx, 'queue', 0, 100_000),
    gpu: gpu as GpuChoice,
    rawEmbeddings: flagBoolean(ctx, 'raw-embeddings'),
  };
}

export interface ServeSettings {
  host: string;
  port: number | undefined;
  threads: number | undefined;
  contextSize: number | undefined;
  queue: number | undefined;
  gpu: GpuChoice;
  rawEmbeddings: boolean;
}

/** Load in-process, serve until SIGINT/SIGTERM; `withRetriever` adds RAG to chat completions. */
export async function serveNative(ctx: CommandContext, input: string, s: ServeSettings, withRetriever?: (engine: Engine) => Promise<Retriever>) {
  if (flagBoolean(ctx, 'dryrun')) {
    const source = await resolveModelSource(input, { cwd: ctx.cwd, fetchReference: referenceFetcher(ctx) });
    const plan = { engine: 'native', model: source.name, ...(source.reference ? { reference: source.reference } : {}), file: source.file, format: source.format, host: s.host, port: s.port ?? 8080, threads: s.threads, contextSize: s.contextSize, gpu: s.gpu };
    return { json: plan, text: `would load ${source.file} in-process with node-llama-cpp and listen on ${s.host}:${plan.port}` };
  }
  const started = Date.now();
  // The HTTP layer (zod and all) loads while node-llama-cpp tests its binary and the model loads.
  const serverModule = import('../../infer/server.js');
  serverModule.catch(() => {});
  const { engine, source } = await openNativeModel(input, {
    cwd: ctx.cwd,
    fetchReference: referenceFetcher(ctx),
    gpu: s.gpu,
    ...(s.threads === undefined ? {} : { threads: s.threads }),
    ...(s.contextSize === undefined ? {} : { contextSize: s.contextSize }),
  });
  try {
    const { startInferenceServer } = await serverModule;
    const retriever = withRetriever ? await withRetriever(engine) : undefined;
    const server = await startInferenceServer({
      engine,
      host: s.host,
      port: s.port ?? 8080,
      ...(s.queue === undefined ? {} : { maxWaiting: s.queue }),
      ...(retriever ? { retriever } : {}),
      // Clients may name the model by the reference they served, or by its file.
      aliases: [source.reference, path.basename(source.file).replace(/\.gguf$/i, '')].filter((a): a is string => a !== undefined),
      rawEmbeddings: s.rawEmbeddings,
    });
    const ready = { url: `${server.url}/v1`, model: engine.modelId, engine: 'native', backend: engine.backend, readyMs: Date.now() - started };
    announce(ctx, ready, s.host);
    const signal = await stopSignal();
    await server.close();
    return { json: { ...ready, stopped: signal }, text: `stopped (${signal})` };
  } finally {
    await engine.dispose();
  }
}

/**
 * A packed artifact (store, oci: layout or registry reference) is pulled into the store and its
 * weights and config unpacked once per manifest digest under MODELSHIP_HOME/serve/.
 */
export function referenceFetcher(ctx: CommandContext): (reference: string) => Promise<string> {
  return async (reference) => {
    // Only references need the store and the unpacker; local files start faster without them.
    const [{ modelshipHome, openArtifact, openStore }, { parseUnpackFilter, unpack }, { openContextOf }] = await Promise.all([
      import('../../store/index.js'),
      import('../../modelpack/index.js'),
      import('./references.js'),
    ]);
    const store = openStore(ctx.env, ctx.cwd);
    const serveDir = path.join(modelshipHome(ctx.env, ctx.cwd), 'serve');
    try {
      const opened = await openArtifact(reference, { ...openContextOf(ctx, store), store });
      const manifest = await opened.target.resolve(opened.selector);
      const dir = path.join(serveDir, manifest.digest.replace(':', '-'));
      await removeStaleUnpacks(serveDir);
      if (await pathExists(dir)) return dir;
      const tmp = `${dir}.tmp-${process.pid}`;
      await rm(tmp, { recursive: true, force: true });
      await unpack(opened.target, manifest.digest, tmp, { filters: ['weights', 'config'].map(parseUnpackFilter), reporter: ctx.reporter });
      // Whole or absent: a cancelled unpack never leaves a folder that looks complete.
      await rename(tmp, dir);
      return dir;
    } catch (err) {
      // Hostile nesting in a manifest or config must not end in a crash report.
      if (err instanceof RangeError && /call stack/i.test(err.message)) {
        throw new ModelshipError('MODELPACK_CONFIG_INVALID', `${reference}: its manifest or config nests too deeply to read; it is not a valid model artifact.`, { cause: err });
      }
      throw err;
    }
  };
}

/** Unpack folders left by a serve that was killed (their owner process is gone) are removed. */
export async function removeStaleUnpacks(serveDir: string): Promise<string[]> {
  const entries = await readdir(serveDir).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of entries) {
    const pid = /\.tmp-(\d+)$/.exec(name)?.[1];
    if (pid === undefined || processAlive(Number(pid))) continue;
    await rm(path.join(serveDir, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: alive, but another user's.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The URLs other machines reach a server on: bound to every interface (0.0.0.0, ::), each external
 * address of this machine; bound to one address, none beyond the one printed.
 */
export function externalUrls(host: string, localUrl: string, interfaces: ReturnType<typeof networkInterfaces> = networkInterfaces()): string[] {
  if (host !== '0.0.0.0' && host !== '::' && host !== '[::]') return [];
  const url = new URL(localUrl);
  const ipv6 = host !== '0.0.0.0';
  return Object.values(interfaces)
    .flatMap((list) => list ?? [])
    .filter((a) => !a.internal && (a.family === 'IPv4' || (ipv6 && a.family === 'IPv6' && !a.address.startsWith('fe80'))))
    .map((a) => `${url.protocol}//${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${url.port}${url.pathname}`);
}

/** The base URL and a curl to paste, or one JSON line for scripts; a server on every interface also names the addresses others reach. */
export function announce(ctx: CommandContext, ready: { url: string; model: string; engine: string; backend: string }, host?: string): void {
  const external = host ? externalUrls(host, ready.url) : [];
  if (ctx.json) {
    ctx.stdout.write(JSON.stringify({ ...ready, ...(host ? { host } : {}), ...(external.length ? { externalUrls: external } : {}) }) + '\n');
    return;
  }
  if (host && external.length) ctx.stdout.write(`Listening on ${host}: reachable at ${external.join(', ')}\n`);
  else if (host === '0.0.0.0' || host === '::') ctx.stdout.write(`Listening on ${host}: every interface (this machine has no external address)\n`);
  const body = JSON.stringify({ model: ready.model, messages: [{ role: 'user', content: 'Hello' }] });
  ctx.stderr.write(`${ready.backend}\n`);
  ctx.stdout.write(
    [
      `Serving ${ready.model} at ${ready.url} (Ctrl-C to stop)`,
      `curl ${ready.url}/chat/completions -H 'Content-Type: application/json' -d '${body}'`,
      '',
    ].join('\n'),
  );
}
