/**
 * `modelship up`: runs a project (made by `init --template` or any folder with a model) as a pod,
 * model server plus app, through `podman kube play`; `--down` removes it, `--dryrun` prints the Pod.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { ModelshipError, UsageError } from '../../errors/index.js';
import { pathExists } from '../../fs/exists.js';
import { buildPodManifest, detectAccelerator, findFreePort, findModelIn, type ContainerAccelerator, type PodPlan } from '../../infer/index.js';
import { flagBoolean, flagList, flagString, type Command, type CommandContext } from '../command.js';
import { intFlag } from '../plumbing/arguments.js';
import { shellQuote } from '../plumbing/shell-quote.js';

export const command: Command = {
  name: 'up',
  summary: 'Run a project as a pod (model server plus app) with podman kube play; --down removes it',
  usage: 'up [DIR] [--dryrun] [--port N] [--gpu auto|none|nvidia] [--engine podman] [--down]',
  help: `
Writes a Kubernetes Pod for the project in DIR (default: the current folder) and runs it with
"podman kube play --replace -", the way Podman AI Lab recipes run:
  model-server  llama.cpp's server image for a GGUF model (server-cuda with a GPU, -ngl 99), or
                vllm/vllm-openai for safetensors; the model folder (DIR/model, else DIR) mounted
                read-only at /models; the OpenAI API on 127.0.0.1:PORT of the host.
  app           when DIR/package.json has a "start" script: node:20-bookworm-slim runs
                "npm install --omit=dev && npm start" in DIR (mounted at /app), with
                OPENAI_BASE_URL=http://127.0.0.1:<server port>/v1 (containers in a pod share localhost).
The GPU is asked for as the CDI device nvidia.com/gpu=all in resources.limits, which podman reads
from version 5.4 on; older podman starts the pod without it.

  --port N          host port for the OpenAI API (default 8080; 0 picks a free one)
  --gpu MODE        auto (default: NVIDIA when /dev/nvidia0 or a CDI spec is present), none, nvidia
  --engine podman   the only engine: docker has no kube play
  --image IMG       model server image instead of the default for the format and GPU
  --app-image IMG   app image instead of node:20-bookworm-slim
  --ctx-size N, --threads N   passed to llama.cpp
  --engine-arg A    extra argument before "kube" for podman (repeatable), e.g. --engine-arg=--cgroup-manager=cgroupfs
  --dryrun          print the Pod YAML (with --json: the plan and the manifest) and run nothing
  --down            stop and remove the pod ("podman kube down")

Examples:
  modelship init --template rag my-rag && modelship up my-rag
  modelship up --dryrun > pod.yaml && podman kube play pod.yaml
  modelship up my-rag --down
`,
  options: {
    port: { type: 'string', short: 'p' },
    gpu: { type: 'string' },
    engine: { type: 'string' },
    image: { type: 'string' },
    'app-image': { type: 'string' },
    'ctx-size': { type: 'string' },
    threads: { type: 'string' },
    'engine-arg': { type: 'string', multiple: true },
    dryrun: { type: 'boolean' },
    down: { type: 'boolean' },
  },
  async run(ctx) {
    const engine = flagString(ctx, 'engine') ?? 'podman';
    if (engine !== 'podman') throw new UsageError(`--engine must be podman, not "${engine}": "up" runs a pod with podman kube play (for docker use "modelship serve --engine docker").`);
    const dir = path.resolve(ctx.cwd, ctx.args[0] ?? '.');
    if (!(await pathExists(dir))) throw new ModelshipError('MODEL_NOT_FOUND', `no project folder at ${dir}: create one with "modelship init --template chat ${ctx.args[0] ?? '.'}".`);
    const plan = await planPod(ctx, dir);
    if (flagBoolean(ctx, 'dryrun')) return { json: summary(plan, dir), text: plan.yaml.trimEnd() };
    const engineArgs = flagList(ctx, 'engine-arg');
    if (flagBoolean(ctx, 'down')) {
      await podman([...engineArgs, 'kube', 'down', '-'], plan.yaml, ctx);
      return { json: { pod: plan.name, down: true }, text: `pod ${plan.name} removed` };
    }
    try {
      await podman([...engineArgs, 'kube', 'play', '--replace', '-'], plan.yaml, ctx);
    } catch (error) {
      // A pod whose containers did not all start is removed, not left half up.
      await execa('podman', [...engineArgs, 'kube', 'down', '-'], { input: plan.yaml, env: ctx.env, reject: false });
      throw error;
    }
    const lines = [
      `pod ${plan.name} is up: ${plan.url} (model server${plan.appImage ? ' and app' : ''})`,
      `logs: podman logs -f ${plan.name}-model-server${plan.appImage ? `, podman logs -f ${plan.name}-app` : ''}`,
      `stop: modelship up ${shellQuote(path.relative(ctx.cwd, dir) || '.')} --down`,
    ];
    return { json: { ...summary(plan, dir), up: true }, text: lines.join('\n') };
  },
};

async function planPod(ctx: CommandContext, dir: string): Promise<PodPlan> {
  const gpu = flagString(ctx, 'gpu') ?? 'auto';
  if (!['auto', 'none', 'nvidia'].includes(gpu)) throw new UsageError(`--gpu must be auto, none or nvidia, not "${gpu}".`);
  const accelerator: ContainerAccelerator = gpu === 'nvidia' ? 'cuda' : gpu === 'none' ? 'none' : (await detectAccelerator(pathExists)) === 'cuda' ? 'cuda' : 'none';
  // Templates keep the weights in model/; a bare model folder is its own model folder.
  const modelDir = (await pathExists(path.join(dir, 'model'))) ? path.join(dir, 'model') : dir;
  const source = await findModelIn(modelDir);
  const port = intFlag(ctx, 'port', 0, 65535) ?? 8080;
  const image = flagString(ctx, 'image');
  const appImage = flagString(ctx, 'app-image');
  const contextSize = intFlag(ctx, 'ctx-size', 16, 1 << 20);
  const threads = intFlag(ctx, 'threads', 1, 1024);
  return buildPodManifest({
    projectDir: dir,
    source,
    accelerator,
    hostPort: port === 0 ? await findFreePort() : port,
    app: await hasStartScript(dir),
    ...(image === undefined ? {} : { image }),
    ...(appImage === undefined ? {} : { appImage }),
    ...(contextSize === undefined ? {} : { contextSize }),
    ...(threads === undefined ? {} : { threads }),
  });
}

/**
 * An app is a package.json with a "start" script (rag, agents). A start script that only serves the
 * model (chat's `modelship serve`) is the model server the pod already runs, not an app beside it.
 */
async function hasStartScript(dir: string): Promise<boolean> {
  const file = path.join(dir, 'package.json');
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return false;
  let pkg: unknown;
  try {
    pkg = JSON.parse(text);
  } catch (error) {
    throw new ModelshipError('INPUT_INVALID', `${file} is not valid JSON (${(error as Error).message}): fix it or remove it.`);
  }
  const scripts = (pkg as { scripts?: Record<string, unknown> } | null)?.scripts;
  const start = scripts?.['start'];
  return typeof start === 'string' && !/^\s*modelship\s+serve\b/.test(start);
}

function summary(plan: PodPlan, dir: string) {
  return {
    pod: plan.name,
    project: dir,
    url: plan.url,
    serverImage: plan.serverImage,
    appImage: plan.appImage ?? null,
    hostPort: plan.hostPort,
    containerPort: plan.containerPort,
    manifest: plan.manifest,
  };
}

/** podman with the manifest on stdin; its output goes to stderr, a failure carries it. */
async function podman(args: string[], yaml: string, ctx: CommandContext): Promise<void> {
  const result = await execa('podman', args, { input: yaml, env: ctx.env, reject: false, all: true });
  if (result.failed && (result as { code?: string }).code === 'ENOENT') {
    throw new ModelshipError('INFER_ENGINE_MISSING', 'podman is not installed or not on PATH: install podman (4.3 or later; 5.4 or later for the GPU), or print the Pod with --dryrun.');
  }
  if (!ctx.json && result.all) ctx.stderr.write(`${result.all.trim()}\n`);
  if (result.exitCode !== 0) {
    throw new ModelshipError('INFER_CONTAINER_FAILED', `podman ${args.join(' ')} failed (exit ${String(result.exitCode)}):\n${(result.all ?? '').trim()}`);
  }
}
