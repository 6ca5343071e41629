/** `modelship run`: chat with a model in the terminal (streaming tokens, history, /bye). */
import { UsageError } from '../../errors/index.js';
import { chatInTerminal, openNativeModel, type GpuChoice } from '../../infer/index.js';
import { flagString, type Command } from '../command.js';
import { intFlag } from '../plumbing/arguments.js';
import { REGISTRY_OPTIONS } from '../plumbing/registry-flags.js';
import { referenceFetcher } from '../plumbing/serving.js';

export const command: Command = {
  name: 'run',
  summary: 'Chat with a model in the terminal',
  usage: 'run REF|DIR|FILE.gguf [PROMPT] [--threads N] [--ctx-size N] [--gpu auto|none|all]',
  help: `
Loads the model in-process (node-llama-cpp) and chats: type a message, the answer streams back,
the conversation is kept. /bye ends it. With PROMPT, answers that one message and exits.
Lines piped on stdin are read one message each. The model is found as "modelship serve" finds it:
a folder's one .gguf file, a .gguf file, or a packed model (store, oci:PATH:TAG or registry reference).

  --system TEXT     a system prompt
  --max-tokens N    longest answer (default: what fits the context)
  --threads N       CPU threads (default: all cores)
  --ctx-size N      context size in tokens (default: the model's, at most 4096)
  --gpu MODE        auto (default), none, or all (fail without a GPU)
  --plain-http, --ca-file PEM   reach a registry over HTTP, or trust another CA, to pull REF

--json prints {model, messages} (the whole conversation) once the chat ends.

Examples:
  modelship run ./model "What is a ModelPack?"
  echo "Say hello" | modelship run llama:v1 --json
`,
  options: {
    threads: { type: 'string' },
    'ctx-size': { type: 'string' },
    gpu: { type: 'string' },
    system: { type: 'string' },
    'max-tokens': { type: 'string' },
    ...REGISTRY_OPTIONS,
  },
  async run(ctx) {
    const input = ctx.args[0];
    if (!input) throw new UsageError('run needs a model: modelship run REF|DIR|FILE.gguf');
    const gpu = flagString(ctx, 'gpu') ?? 'auto';
    if (!['auto', 'none', 'all'].includes(gpu)) throw new UsageError(`--gpu must be auto, none or all, not "${gpu}".`);
    const threads = intFlag(ctx, 'threads', 1, 1024);
    const contextSize = intFlag(ctx, 'ctx-size', 16, 1 << 20);
    const maxTokens = intFlag(ctx, 'max-tokens', 1, 1 << 20);
    const system = flagString(ctx, 'system');
    const { engine } = await openNativeModel(input, {
      cwd: ctx.cwd,
      fetchReference: referenceFetcher(ctx),
      gpu: gpu as GpuChoice,
      ...(threads === undefined ? {} : { threads }),
      ...(contextSize === undefined ? {} : { contextSize }),
    });
    try {
      if (!ctx.json) ctx.stderr.write(`${engine.backend}\n${ctx.args[1] ? '' : 'Type a message, /bye to leave.\n'}`);
      const { Readable } = await import('node:stream');
      const stdin = ctx.args[1] ? Readable.from([`${ctx.args.slice(1).join(' ')}\n`]) : ctx.stdin;
      const history = await chatInTerminal(engine, {
        input: stdin,
        // With --json the answers go into the result, not the stream.
        output: ctx.json ? nullStream() : ctx.stdout,
        prompt: ctx.isTTY && !ctx.args[1],
        ...(system === undefined ? {} : { system }),
        ...(maxTokens === undefined ? {} : { maxTokens }),
      });
      return { json: { model: engine.modelId, messages: history } };
    } finally {
      await engine.dispose();
    }
  },
};

function nullStream(): NodeJS.WritableStream {
  return { write: () => true } as unknown as NodeJS.WritableStream;
}
