/**
 * `modelship rag index DOCS_DIR` builds a persistent, incremental vector index;
 * `modelship rag serve MODEL` serves the model with retrieval added to chat completions.
 */
import path from 'node:path';
import { UsageError } from '../../errors/index.js';
import {
  endpointEmbedder,
  engineEmbedder,
  indexRetriever,
  loadIndex,
  openNativeModel,
  resolveModelSource,
  updateIndex,
  type Embedder,
  type Engine,
  type GpuChoice,
} from '../../infer/index.js';
import { flagString, type Command, type CommandContext } from '../command.js';
import { intFlag } from '../plumbing/arguments.js';
import { readServeSettings, referenceFetcher, SERVE_OPTIONS, serveNative } from '../plumbing/serving.js';

const DEFAULT_INDEX = '.modelship/rag';

export const command: Command = {
  name: 'rag',
  summary: 'Index documents and serve a model with retrieval (rag index | rag serve)',
  usage: 'rag index DOCS_DIR --model MODEL|--url URL [--index DIR] | rag serve MODEL [--index DIR] [--top-k N] [serve options]',
  help: `
rag index DOCS_DIR  chunks every .md/.txt file under DOCS_DIR, embeds each passage and writes the index
                    (JSON lines) to --index (default ${DEFAULT_INDEX}). Run it again after editing: only files
                    whose size, mtime and SHA-256 changed are embedded again; deleted files drop out.
                    Embeddings come from --model (a GGUF file or folder, loaded in-process) or from a running
                    OpenAI-compatible endpoint: --url http://127.0.0.1:8080/v1 --embedding-model NAME.
rag serve MODEL     serves MODEL like "modelship serve" and, on every chat completion, prepends the --top-k
                    (default 3) passages nearest the last user message, as many as fit the context (--ctx-size)
                    with room left for the answer (max_tokens, else 256 tokens or a quarter of the context);
                    one that does not fit whole is cut. The response lists those used in "sources".
                    The index must come from the same embedding model. The serve options (--port, --host,
                    --threads, --gpu, --queue...) work as in "modelship serve"; retrieval runs in-process only.

Examples:
  modelship rag index docs --model ./model
  modelship rag serve ./model --port 8080
  modelship rag serve ./model --ctx-size 8192 --top-k 6     # a larger context holds more passages
`,
  options: {
    ...SERVE_OPTIONS,
    index: { type: 'string' },
    model: { type: 'string' },
    url: { type: 'string' },
    'embedding-model': { type: 'string' },
    'top-k': { type: 'string' },
  },
  async run(ctx) {
    const [sub, target] = ctx.args;
    const indexDir = path.resolve(ctx.cwd, flagString(ctx, 'index') ?? DEFAULT_INDEX);
    if (sub === 'index') {
      if (!target) throw new UsageError('rag index needs a documents folder: modelship rag index DOCS_DIR --model MODEL');
      return withEmbedder(ctx, async (embedder) => {
        const stats = await updateIndex(path.resolve(ctx.cwd, target), indexDir, embedder);
        return {
          json: { index: indexDir, embedder: embedder.id, ...stats },
          text: `indexed ${stats.files} files into ${stats.passages} passages at ${indexDir} (${stats.embedded} embedded, ${stats.unchanged} unchanged, ${stats.removed} removed)`,
        };
      });
    }
    if (sub === 'serve') {
      if (!target) throw new UsageError('rag serve needs a model: modelship rag serve MODEL [--index DIR]');
      const engineKind = flagString(ctx, 'engine') ?? 'native';
      if (engineKind !== 'native') throw new UsageError(`rag serve runs the model in-process: --engine ${engineKind} is not supported (use "modelship serve" for containers).`);
      const topK = intFlag(ctx, 'top-k', 1, 50) ?? 3;
      const { passages, embedder } = await loadIndex(indexDir);
      if (passages.length === 0) throw new UsageError(`the index ${indexDir} is empty or missing: run "modelship rag index DOCS_DIR --model ${target}" first.`);
      return serveNative(ctx, target, readServeSettings(ctx), async (engine) => {
        const own = engineEmbedder(engine);
        if (embedder && embedder !== own.id) ctx.stderr.write(`warning: ${indexDir} was built with ${embedder}, not ${own.id}; retrieval may be poor.\n`);
        ctx.stderr.write(`retrieval: ${passages.length} passages from ${indexDir}, top ${topK} per question\n`);
        return indexRetriever(passages, own, topK);
      });
    }
    throw new UsageError('rag takes a sub-command: "rag index DOCS_DIR" or "rag serve MODEL".');
  },
};

async function withEmbedder<T>(ctx: CommandContext, use: (embedder: Embedder) => Promise<T>): Promise<T> {
  const url = flagString(ctx, 'url');
  if (url) return use(endpointEmbedder(url, flagString(ctx, 'embedding-model') ?? 'default'));
  const model = flagString(ctx, 'model');
  if (!model) throw new UsageError('rag index needs --model MODEL (a GGUF file or folder) or --url of an OpenAI-compatible endpoint.');
  const gpu = flagString(ctx, 'gpu') ?? 'auto';
  const threads = intFlag(ctx, 'threads', 1, 1024);
  const fetchReference = referenceFetcher(ctx);
  const source = await resolveModelSource(model, { cwd: ctx.cwd, fetchReference });
  // The model loads only when some file needs embedding: an unchanged folder re-indexes at once.
  let engine: Engine | undefined;
  const lazy: Embedder = {
    id: `native:${source.name}`,
    async embed(texts) {
      engine ??= (await openNativeModel(model, { cwd: ctx.cwd, fetchReference, gpu: gpu as GpuChoice, ...(threads === undefined ? {} : { threads }) })).engine;
      return engineEmbedder(engine).embed(texts);
    },
  };
  try {
    return await use(lazy);
  } finally {
    await engine?.dispose();
  }
}
