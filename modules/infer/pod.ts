/**
 * `modelship up`: a project as one Pod, the way Podman AI Lab recipes run: the model server
 * (llama.cpp for GGUF, vLLM for safetensors) plus, when the project has one, its app, sharing
 * localhost. The manifest is plain Kubernetes; `podman kube play` runs it.
 */
import path from 'node:path';
import { stringify } from 'yaml';
import { containerName, MODEL_MOUNT, serverArguments, serverImage, serverPort, type ContainerAccelerator } from './container.js';
import type { ModelSource } from './source.js';

/** Runs the app from the mounted project without a build step (a Containerfile would need `podman build` first). */
export const APP_IMAGE = 'docker.io/library/node:20-bookworm-slim';
export const APP_MOUNT = '/app';
export const APP_COMMAND = ['sh', '-c', 'npm install --omit=dev --no-audit --no-fund && exec npm start'];
/** The CDI device podman 5.4+ reads from resources.limits (kube play support for CDI names); older podman ignores it. */
export const CDI_GPU_RESOURCE = 'nvidia.com/gpu=all';
export const LABEL_PROJECT = 'modelship.dev/project';
export const LABEL_MODEL = 'modelship.dev/model';

export interface PodOptions {
  /** The project folder (mounted for the app). */
  projectDir: string;
  source: ModelSource;
  /** 'cuda' asks for every NVIDIA GPU through CDI; 'vulkan' is not passed to pods. */
  accelerator: ContainerAccelerator;
  /** Port on 127.0.0.1 that reaches the model server's OpenAI API. */
  hostPort: number;
  /** Whether the project has an app to run next to the server (package.json with a start script). */
  app: boolean;
  /** Pod name; default modelship-<project folder name>. */
  name?: string;
  /** Server image instead of the one for the format and the GPU. */
  image?: string;
  appImage?: string;
  /** Replace the server's or the app's command (e.g. a stand-in server). */
  serverCommand?: string[];
  appCommand?: string[];
  contextSize?: number;
  threads?: number;
}

export interface PodPlan {
  name: string;
  manifest: PodManifest;
  /** The manifest as YAML, what `podman kube play -` reads. */
  yaml: string;
  serverImage: string;
  appImage: string | undefined;
  containerPort: number;
  hostPort: number;
  /** The OpenAI-compatible base URL on the host. */
  url: string;
}

/** The subset of a v1 Pod this module writes. */
export interface PodManifest {
  apiVersion: 'v1';
  kind: 'Pod';
  metadata: { name: string; labels: Record<string, string> };
  spec: { restartPolicy: 'Never'; containers: PodContainer[]; volumes: PodVolume[] };
}

interface PodContainer {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  workingDir?: string;
  env?: { name: string; value: string }[];
  ports?: { name: string; containerPort: number; hostPort: number; hostIP: string; protocol: 'TCP' }[];
  volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[];
  resources?: { limits: Record<string, string> };
}

interface PodVolume {
  name: string;
  hostPath: { path: string; type: 'Directory' };
}

export function buildPodManifest(options: PodOptions): PodPlan {
  const { source, accelerator } = options;
  // The pod's containers get the GPU through CDI only; Vulkan's /dev/dri is not passed.
  const gpu = accelerator === 'cuda';
  const serverAccelerator: ContainerAccelerator = gpu ? 'cuda' : 'none';
  const name = options.name ?? podName(path.basename(options.projectDir));
  const containerPort = serverPort(source);
  const image = options.image ?? serverImage(source, serverAccelerator);
  const server: PodContainer = {
    name: 'model-server',
    image,
    ...(options.serverCommand ? { command: options.serverCommand } : { args: serverArguments(source, serverAccelerator, options) }),
    ports: [{ name: 'openai', containerPort, hostPort: options.hostPort, hostIP: '127.0.0.1', protocol: 'TCP' }],
    volumeMounts: [{ name: 'model', mountPath: MODEL_MOUNT, readOnly: true }],
    ...(gpu ? { resources: { limits: { [CDI_GPU_RESOURCE]: '1' } } } : {}),
  };
  const volumes: PodVolume[] = [{ name: 'model', hostPath: { path: source.dir, type: 'Directory' } }];
  const containers = [server];
  const appImage = options.app ? (options.appImage ?? APP_IMAGE) : undefined;
  if (appImage) {
    containers.push({
      name: 'app',
      image: appImage,
      command: options.appCommand ?? APP_COMMAND,
      workingDir: APP_MOUNT,
      // Containers in a pod share one network namespace: the server is on localhost.
      env: [
        { name: 'OPENAI_BASE_URL', value: `http://127.0.0.1:${containerPort}/v1` },
        { name: 'OPENAI_API_KEY', value: 'local' },
        { name: 'MODEL', value: source.name },
      ],
      volumeMounts: [{ name: 'project', mountPath: APP_MOUNT }],
    });
    volumes.push({ name: 'project', hostPath: { path: options.projectDir, type: 'Directory' } });
  }
  const manifest: PodManifest = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { [LABEL_PROJECT]: labelValue(path.basename(options.projectDir)), [LABEL_MODEL]: labelValue(source.name) } },
    spec: { restartPolicy: 'Never', containers, volumes },
  };
  return {
    name,
    manifest,
    yaml: stringify(manifest),
    serverImage: image,
    appImage,
    containerPort,
    hostPort: options.hostPort,
    url: `http://127.0.0.1:${options.hostPort}/v1`,
  };
}

/** Pod names are DNS subdomains: lower-case alphanumerics, '-' and '.', ending alphanumeric. */
function podName(project: string): string {
  return `modelship-${containerName(project).replace(/_/g, '-').slice(0, 200).replace(/[^a-z0-9]+$/, '')}`.replace(/-$/, '');
}

/** Label values: at most 63 of [A-Za-z0-9._-], starting and ending alphanumeric. */
function labelValue(text: string): string {
  return text.replace(/[^A-Za-z0-9._-]+/g, '-').slice(0, 63).replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '') || 'unnamed';
}
