/**
 * Serving in a container: the exact podman/docker command line for the upstream server image
 * that fits the model format and the hardware, with the model mounted read-only and a free port.
 */
import net from 'node:net';
import path from 'node:path';
import { execa } from 'execa';
import { ModelshipError } from '../errors/index.js';
import type { ModelSource } from './source.js';

export type ContainerEngine = 'podman' | 'docker';
/** What the container is given: nothing, NVIDIA GPUs (CDI / --gpus) or the DRI devices for Vulkan. */
export type ContainerAccelerator = 'none' | 'cuda' | 'vulkan';

export const DEFAULT_IMAGES = {
  llamaCpp: 'ghcr.io/ggml-org/llama.cpp:server',
  llamaCppCuda: 'ghcr.io/ggml-org/llama.cpp:server-cuda',
  llamaCppVulkan: 'ghcr.io/ggml-org/llama.cpp:server-vulkan',
  vllm: 'vllm/vllm-openai:latest',
} as const;

export const LLAMA_CPP_PORT = 8080;
export const VLLM_PORT = 8000;
export const MODEL_MOUNT = '/models';

export interface ContainerOptions {
  engine: ContainerEngine;
  source: ModelSource;
  accelerator: ContainerAccelerator;
  /** Host port on 127.0.0.1 that maps to the server inside. */
  hostPort: number;
  /** Overrides the image chosen from format and accelerator. */
  image?: string;
  /** Container name; default modelship-<model name>. */
  name?: string;
  contextSize?: number;
  threads?: number;
  /** Flags before `run` (e.g. podman's --runtime, --cgroup-manager). */
  engineArgs?: string[];
  /** Extra `run` flags (e.g. --ulimit). */
  runArgs?: string[];
  /** Replaces the server's arguments after the image (e.g. another entry point). */
  command?: string[];
}

export interface ContainerPlan {
  engine: ContainerEngine;
  image: string;
  name: string;
  /** The whole command line, argv[0] being the engine. */
  argv: string[];
  hostPort: number;
  containerPort: number;
  /** The OpenAI-compatible base URL once the container is up. */
  url: string;
}

export function buildContainerCommand(options: ContainerOptions): ContainerPlan {
  const { engine, source, accelerator } = options;
  const vllm = source.format === 'safetensors';
  const image = options.image ?? serverImage(source, accelerator);
  const containerPort = serverPort(source);
  const name = options.name ?? `modelship-${containerName(source.name)}`;
  // podman labels the mount for SELinux (Z); docker has no such option.
  const mount = `${source.dir}:${MODEL_MOUNT}:${engine === 'podman' ? 'ro,Z' : 'ro'}`;
  const serverArgs = options.command ?? serverArguments(source, accelerator, options);
  const argv = [
    engine,
    ...(options.engineArgs ?? []),
    'run', '--rm',
    '--name', name,
    '-p', `127.0.0.1:${options.hostPort}:${containerPort}`,
    ...acceleratorArgs(engine, accelerator),
    ...(vllm ? ['--ipc=host'] : []),
    '-v', mount,
    ...(options.runArgs ?? []),
    image,
    ...serverArgs,
  ];
  return { engine, image, name, argv, hostPort: options.hostPort, containerPort, url: `http://127.0.0.1:${options.hostPort}` };
}

/** The port the server listens on inside its container: vLLM's or llama.cpp's default. */
export function serverPort(source: ModelSource): number {
  return source.format === 'safetensors' ? VLLM_PORT : LLAMA_CPP_PORT;
}

/** The server's arguments with the model mounted at MODEL_MOUNT: vLLM for safetensors, llama.cpp for GGUF. */
export function serverArguments(source: ModelSource, accelerator: ContainerAccelerator, tuning: { contextSize?: number; threads?: number } = {}): string[] {
  if (source.format === 'safetensors') {
    return ['--model', MODEL_MOUNT, '--served-model-name', source.name, '--host', '0.0.0.0', '--port', String(VLLM_PORT)];
  }
  return [
    '--host', '0.0.0.0',
    '--port', String(LLAMA_CPP_PORT),
    ...(accelerator === 'none' ? [] : ['-ngl', '99']),
    '--jinja',
    '--alias', source.name,
    ...(tuning.contextSize ? ['-c', String(tuning.contextSize)] : []),
    ...(tuning.threads ? ['-t', String(tuning.threads)] : []),
    '-m', `${MODEL_MOUNT}/${path.relative(source.dir, source.file).split(path.sep).join('/')}`,
  ];
}

/** The upstream server image for the format and the accelerator. */
export function serverImage(source: ModelSource, accelerator: ContainerAccelerator): string {
  if (source.format === 'safetensors') return DEFAULT_IMAGES.vllm;
  if (accelerator === 'cuda') return DEFAULT_IMAGES.llamaCppCuda;
  if (accelerator === 'vulkan') return DEFAULT_IMAGES.llamaCppVulkan;
  return DEFAULT_IMAGES.llamaCpp;
}

function acceleratorArgs(engine: ContainerEngine, accelerator: ContainerAccelerator): string[] {
  switch (accelerator) {
    case 'none':
      return [];
    case 'cuda':
      return engine === 'podman' ? ['--device', 'nvidia.com/gpu=all'] : ['--gpus', 'all'];
    case 'vulkan':
      return ['--device', '/dev/dri'];
    default: {
      const never: never = accelerator;
      throw new Error(`unknown accelerator ${String(never)}`);
    }
  }
}

/** Container names allow [a-zA-Z0-9][a-zA-Z0-9_.-]*. */
export function containerName(model: string): string {
  return model.toLowerCase().replace(/[^a-z0-9_.-]+/g, '-').replace(/^[^a-z0-9]+/, '') || 'model';
}

/** A port nobody listens on right now, from the kernel. */
export async function findFreePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** NVIDIA CDI specs or a /dev/nvidia0 say CUDA; /dev/dri says Vulkan; else none. */
export async function detectAccelerator(exists: (p: string) => Promise<boolean>): Promise<ContainerAccelerator> {
  if ((await exists('/dev/nvidia0')) || (await exists('/etc/cdi/nvidia.yaml')) || (await exists('/var/run/cdi/nvidia.yaml'))) return 'cuda';
  if (await exists('/dev/dri/renderD128')) return 'vulkan';
  return 'none';
}

export interface RunningContainer {
  plan: ContainerPlan;
  /** Resolves when the container exits. */
  exited: Promise<number>;
  stop(): Promise<void>;
}

/** Start the container and wait until GET `readyPath` answers 200 (or the container dies). */
export async function startContainer(plan: ContainerPlan, options: { readyPath?: string; timeoutMs?: number; stopArgs?: string[] } = {}): Promise<RunningContainer> {
  const child = execa(plan.argv[0]!, plan.argv.slice(1), { reject: false, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe', all: true });
  let output = '';
  child.all?.on('data', (d: Buffer) => {
    output = (output + d.toString()).slice(-4000);
  });
  const exited = child.then((r) => r.exitCode ?? 1);
  let dead = false;
  void exited.then(() => (dead = true));
  const stop = async () => {
    if (dead) return;
    await execa(plan.engine, [...(options.stopArgs ?? []), 'stop', '-t', '2', plan.name], { reject: false });
    await exited;
  };
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  while (Date.now() < deadline) {
    if (dead) {
      throw new ModelshipError('INFER_CONTAINER_FAILED', `${plan.engine} exited before the server was ready:\n${output.trim()}\ncommand: ${plan.argv.join(' ')}`);
    }
    const ok = await fetch(plan.url + (options.readyPath ?? '/health')).then((r) => r.ok, () => false);
    if (ok) return { plan, exited, stop };
    await new Promise((r) => setTimeout(r, 250));
  }
  await stop();
  throw new ModelshipError('INFER_CONTAINER_FAILED', `the container did not answer ${plan.url} in time:\n${output.trim()}`);
}

