import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { buildContainerCommand, findFreePort, startContainer, type ModelSource } from '../../modules/infer/index.js';

const gguf: ModelSource = { format: 'gguf', dir: '/home/me/models/llama', file: '/home/me/models/llama/llama-3-8b.Q4_K_M.gguf', name: 'llama-3-8b.Q4_K_M' };
const safetensors: ModelSource = { format: 'safetensors', dir: '/home/me/models/qwen', file: '/home/me/models/qwen', name: 'qwen' };

function line(options: Parameters<typeof buildContainerCommand>[0]): string {
  return buildContainerCommand(options).argv.join(' ');
}

describe('container command lines', () => {
  it('llama.cpp on CPU: podman labels the read-only mount, docker does not', () => {
    expect(line({ engine: 'podman', source: gguf, accelerator: 'none', hostPort: 8081 })).toBe(
      'podman run --rm --name modelship-llama-3-8b.q4_k_m -p 127.0.0.1:8081:8080 -v /home/me/models/llama:/models:ro,Z ghcr.io/ggml-org/llama.cpp:server --host 0.0.0.0 --port 8080 --jinja --alias llama-3-8b.Q4_K_M -m /models/llama-3-8b.Q4_K_M.gguf',
    );
    expect(line({ engine: 'docker', source: gguf, accelerator: 'none', hostPort: 8081 })).toBe(
      'docker run --rm --name modelship-llama-3-8b.q4_k_m -p 127.0.0.1:8081:8080 -v /home/me/models/llama:/models:ro ghcr.io/ggml-org/llama.cpp:server --host 0.0.0.0 --port 8080 --jinja --alias llama-3-8b.Q4_K_M -m /models/llama-3-8b.Q4_K_M.gguf',
    );
  });

  it('llama.cpp on NVIDIA: CDI for podman, --gpus for docker, the CUDA image, all layers offloaded', () => {
    expect(line({ engine: 'podman', source: gguf, accelerator: 'cuda', hostPort: 9000 })).toBe(
      'podman run --rm --name modelship-llama-3-8b.q4_k_m -p 127.0.0.1:9000:8080 --device nvidia.com/gpu=all -v /home/me/models/llama:/models:ro,Z ghcr.io/ggml-org/llama.cpp:server-cuda --host 0.0.0.0 --port 8080 -ngl 99 --jinja --alias llama-3-8b.Q4_K_M -m /models/llama-3-8b.Q4_K_M.gguf',
    );
    expect(line({ engine: 'docker', source: gguf, accelerator: 'cuda', hostPort: 9000, contextSize: 8192, threads: 4 })).toBe(
      'docker run --rm --name modelship-llama-3-8b.q4_k_m -p 127.0.0.1:9000:8080 --gpus all -v /home/me/models/llama:/models:ro ghcr.io/ggml-org/llama.cpp:server-cuda --host 0.0.0.0 --port 8080 -ngl 99 --jinja --alias llama-3-8b.Q4_K_M -c 8192 -t 4 -m /models/llama-3-8b.Q4_K_M.gguf',
    );
  });

  it('llama.cpp on Vulkan passes /dev/dri', () => {
    expect(line({ engine: 'podman', source: gguf, accelerator: 'vulkan', hostPort: 9001, name: 'chat' })).toBe(
      'podman run --rm --name chat -p 127.0.0.1:9001:8080 --device /dev/dri -v /home/me/models/llama:/models:ro,Z ghcr.io/ggml-org/llama.cpp:server-vulkan --host 0.0.0.0 --port 8080 -ngl 99 --jinja --alias llama-3-8b.Q4_K_M -m /models/llama-3-8b.Q4_K_M.gguf',
    );
  });

  it('vLLM for safetensors, with --ipc=host, port 8000 and the served name', () => {
    expect(line({ engine: 'podman', source: safetensors, accelerator: 'cuda', hostPort: 8100 })).toBe(
      'podman run --rm --name modelship-qwen -p 127.0.0.1:8100:8000 --device nvidia.com/gpu=all --ipc=host -v /home/me/models/qwen:/models:ro,Z vllm/vllm-openai:latest --model /models --served-model-name qwen --host 0.0.0.0 --port 8000',
    );
    expect(line({ engine: 'docker', source: safetensors, accelerator: 'cuda', hostPort: 8100 })).toBe(
      'docker run --rm --name modelship-qwen -p 127.0.0.1:8100:8000 --gpus all --ipc=host -v /home/me/models/qwen:/models:ro vllm/vllm-openai:latest --model /models --served-model-name qwen --host 0.0.0.0 --port 8000',
    );
    expect(line({ engine: 'docker', source: safetensors, accelerator: 'none', hostPort: 8100 })).toBe(
      'docker run --rm --name modelship-qwen -p 127.0.0.1:8100:8000 --ipc=host -v /home/me/models/qwen:/models:ro vllm/vllm-openai:latest --model /models --served-model-name qwen --host 0.0.0.0 --port 8000',
    );
  });

  it('takes an image override and engine/run arguments where they belong', () => {
    const plan = buildContainerCommand({
      engine: 'podman',
      source: gguf,
      accelerator: 'none',
      hostPort: 1234,
      image: 'registry.local/llama.cpp:b6000',
      engineArgs: ['--runtime', '/usr/sbin/runc'],
      runArgs: ['--ulimit', 'nofile=1024:1024'],
    });
    expect(plan.argv.slice(0, 4)).toEqual(['podman', '--runtime', '/usr/sbin/runc', 'run']);
    expect(plan.argv.indexOf('--ulimit')).toBeLessThan(plan.argv.indexOf('registry.local/llama.cpp:b6000'));
    expect(plan.image).toBe('registry.local/llama.cpp:b6000');
    expect(plan.url).toBe('http://127.0.0.1:1234');
  });
});

describe('a real container with podman', () => {
  // Containers run here only with runc, cgroupfs and explicit ulimits; images cannot be pulled,
  // so the image is busybox-static imported from a local tar.
  const engineArgs = ['--runtime', '/usr/sbin/runc', '--cgroup-manager=cgroupfs'];
  const image = 'localhost/modelship-test-busybox:1';
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'infer-podman-'));
    await mkdir(path.join(dir, 'root', 'bin'), { recursive: true });
    await copyFile('/bin/busybox', path.join(dir, 'root', 'bin', 'busybox'));
    await execa('tar', ['-C', path.join(dir, 'root'), '-cf', path.join(dir, 'image.tar'), 'bin']);
    await execa('podman', [...engineArgs, 'import', path.join(dir, 'image.tar'), image]);
  });

  afterAll(async () => {
    await execa('podman', [...engineArgs, 'rmi', '-f', image], { reject: false });
    await rm(dir, { recursive: true, force: true });
  });

  it('mounts the model folder read-only and maps a free loopback port', async () => {
    const models = path.join(dir, 'models');
    await mkdir(models);
    await writeFile(path.join(models, 'tiny.gguf'), 'GGUF weights stand-in\n');
    const plan = buildContainerCommand({
      engine: 'podman',
      source: { format: 'gguf', dir: models, file: path.join(models, 'tiny.gguf'), name: 'tiny' },
      accelerator: 'none',
      hostPort: await findFreePort(),
      name: `modelship-test-${process.pid}`,
      image,
      engineArgs,
      runArgs: ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024'],
      // busybox httpd stands in for the llama.cpp server: same mount, same port mapping.
      command: ['/bin/busybox', 'sh', '-c', 'touch /models/written 2>/dev/null && echo writable > /tmp/w; /bin/busybox httpd -f -p 8080 -h /models'],
    });
    const running = await startContainer(plan, { readyPath: '/tiny.gguf', timeoutMs: 60_000, stopArgs: engineArgs });
    try {
      const res = await fetch(`${plan.url}/tiny.gguf`);
      expect(await res.text()).toBe('GGUF weights stand-in\n');
      const inspect = await execa('podman', [...engineArgs, 'inspect', plan.name, '--format', '{{range .Mounts}}{{.Destination}} {{.RW}}{{end}}']);
      expect(inspect.stdout.trim()).toBe('/models false');
    } finally {
      await running.stop();
    }
    // The mount was read-only: nothing was written into the model folder.
    await expect(import('node:fs/promises').then((fs) => fs.access(path.join(models, 'written')))).rejects.toThrow();
  }, 90_000);
});
