/**
 * `modelship serve`: one command from a model (file, folder or packed artifact) to an
 * OpenAI-compatible endpoint, in-process (node-llama-cpp) or in a podman/docker container.
 */
import { UsageError } from '../../errors/index.js';
import { stopSignal } from '../stop-signal.js';
import { pathExists } from '../../fs/exists.js';
import { resolveModelSource } from '../../infer/source.js';
import type { ContainerAccelerator } from '../../infer/container.js';
import { flagBoolean, flagList, flagString, type Command, type CommandContext } from '../command.js';
import { shellQuote } from '../plumbing/shell-quote.js';
import { announce, readServeSettings, referenceFetcher, serveNative, SERVE_OPTIONS, type ServeSettings } from '../plumbing/serving.js';
import type { AdmittedReference } from '../plumbing/cluster-policy.js';
import { clusterPolicyAsked, CLUSTER_POLICY_HELP, CLUSTER_POLICY_OPTIONS } from '../plumbing/cluster-policy-flags.js';

export const command = {
  name: 'serve',
  summary: 'Serve a model behind an OpenAI-compatible API (native, podman or docker)',
  usage: 'serve REF|DIR|FILE.gguf [--port N] [--host H] [--engine native|podman|docker] [--policy GITOPS_DIR|FILE [--env ENV]] [--dryrun]',
  help: `
Serves GET /v1/models, POST /v1/chat/completions (SSE streaming or not), POST /v1/completions,
POST /v1/embeddings, GET /health and GET /metrics (Prometheus). Prints the base URL and a curl to try.
Ctrl-C (SIGINT) or SIGTERM stops cleanly and frees the port.

A folder is searched for one .gguf file (or safetensors weights, served with vLLM in a container).
REF is a packed model: a store reference (name:tag), oci:PATH:TAG or a registry reference; it is
pulled into the store and its weights and config unpacked once under MODELSHIP_HOME/serve/<digest>.
--engine native (default) runs llama.cpp in-process through node-llama-cpp and uses CUDA, Vulkan or
Metal when a build for them loads; --engine podman|docker runs the upstream llama.cpp server image
(server, server-cuda, server-vulkan) or vllm/vllm-openai with the GPU passed through.

  --port N          port to listen on (0 picks a free one; default 8080 native, a free one for containers)
  --host H          address to bind (default 127.0.0.1)
  --threads N       CPU threads (default: all cores)
  --ctx-size N      context size in tokens (default: the model's, at most 4096)
  --gpu MODE        auto (default), none, or all (fail without a GPU)
  --queue N         requests that may wait while the model is busy (default 16); more get 503
  --raw-embeddings  return embeddings as the model makes them (default: scaled to unit length, as OpenAI's)
  --image IMG       container image instead of the default for the format and GPU
  --engine-arg A    extra argument before "run" for podman/docker (repeatable)
  --run-arg A       extra argument for "run" (repeatable), e.g. --run-arg=--ulimit=nofile=1024:1024
  --dryrun          print what would run (the exact container command) and exit
  --plain-http, --ca-file PEM   reach the registry REF names over HTTP, or trust another CA

Serving under the cluster's policy (REF must be the registry reference the policy checks; what is
served is then the digest that was admitted):
${CLUSTER_POLICY_HELP}

Examples:
  modelship serve ./model --port 0
  modelship serve ./model/llama.gguf --engine podman --dryrun
  modelship serve ghcr.io/acme/tiny-chat:v1 --policy ../gitops --env prod
  modelship serve 127.0.0.1:5000/models/tiny:v1 --plain-http --policy clusterpolicy.yaml --dryrun
`,
  options: { ...SERVE_OPTIONS, ...CLUSTER_POLICY_OPTIONS },
  async run(ctx) {
    const input = ctx.args[0];
    if (!input) throw new UsageError('serve needs a model: modelship serve REF|DIR|FILE.gguf');
    const engineKind = flagString(ctx, 'engine') ?? 'native';
    if (!['native', 'podman', 'docker'].includes(engineKind)) throw new UsageError(`--engine must be native, podman or docker, not "${engineKind}".`);
    const settings = readServeSettings(ctx);
    // The cluster's verdict comes before any pull, unpack or engine start. Its machinery (gitops,
    // signing, the store) takes over a second to load, so it loads only when a policy is asked for.
    const policy = clusterPolicyAsked(ctx) ? await import('../plumbing/cluster-policy.js') : undefined;
    const gate = policy ? await policy.clusterPolicyGateOf(ctx) : undefined;
    const admitted = policy && gate ? await policy.admitReference(ctx, input, gate) : undefined;
    if (policy && admitted) ctx.stderr.write(`policy: ${policy.admittedLine(admitted.verdict)}\n`);
    const served = admitted?.reference ?? input;
    const result = engineKind === 'native' ? await serveNative(ctx, served, settings) : await serveInContainer(ctx, served, engineKind as 'podman' | 'docker', settings);
    return withPolicy(result, admitted);
  },
} satisfies Command;

async function serveInContainer(ctx: CommandContext, input: string, engine: 'podman' | 'docker', s: ServeSettings) {
  const { buildContainerCommand, detectAccelerator, findFreePort, startContainer } = await import('../../infer/container.js');
  const source = await resolveModelSource(input, { cwd: ctx.cwd, fetchReference: referenceFetcher(ctx) });
  const accelerator: ContainerAccelerator = s.gpu === 'none' ? 'none' : await detectAccelerator(pathExists);
  if (s.gpu === 'all' && accelerator === 'none') throw new UsageError('--gpu all: no NVIDIA device (/dev/nvidia0, CDI spec) or /dev/dri found on this machine.');
  const image = flagString(ctx, 'image');
  const plan = buildContainerCommand({
    engine,
    source,
    accelerator,
    hostPort: s.port || (await findFreePort()),
    ...(image === undefined ? {} : { image }),
    ...(s.contextSize === undefined ? {} : { contextSize: s.contextSize }),
    ...(s.threads === undefined ? {} : { threads: s.threads }),
    engineArgs: flagList(ctx, 'engine-arg'),
    runArgs: flagList(ctx, 'run-arg'),
  });
  const commandLine = plan.argv.map(shellQuote).join(' ');
  if (flagBoolean(ctx, 'dryrun')) return { json: { engine, image: plan.image, command: plan.argv, url: `${plan.url}/v1` }, text: commandLine };
  ctx.stderr.write(`${commandLine}\n`);
  const running = await startContainer(plan, { readyPath: '/health', stopArgs: flagList(ctx, 'engine-arg') });
  const ready = { url: `${plan.url}/v1`, model: source.name, engine, backend: `${plan.image} (${accelerator === 'none' ? 'CPU' : accelerator})` };
  announce(ctx, ready);
  const signal = await Promise.race([stopSignal(), running.exited.then((code) => `container exited with ${code}`)]);
  await running.stop();
  return { json: { ...ready, stopped: signal }, text: `stopped (${signal})` };
}

function withPolicy<T extends { json: object; text: string }>(result: T, admitted: AdmittedReference | undefined): T {
  if (!admitted) return result;
  return { ...result, json: { ...result.json, policy: admitted.verdict } };
}
