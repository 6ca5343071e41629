/**
 * `modelship up`: the Pod it writes for projects made by `init --template` validates against the
 * Kubernetes v1 Pod schema (kubernetes-models), names the exact images, arguments, mounts and
 * environment, and podman 4.3's `kube play` really starts it and `kube down` removes it.
 */
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { Pod } from 'kubernetes-models/v1';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildPodManifest, findFreePort } from '../../modules/infer/index.js';
import { runCli } from '../helpers/cli.js';

let root: string;
const projects: Record<string, string> = {};

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'modelship-up-'));
  for (const name of ['chat', 'rag', 'pytorch']) {
    const dir = path.join(root, `my-${name}`);
    const created = await runCli(['init', '--template', name, dir, '--no-git']);
    expect(created.code, created.stderr).toBe(0);
    projects[name] = dir;
  }
}, 180_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function dryrun(name: string, ...flags: string[]) {
  const run = await runCli(['up', projects[name]!, '--dryrun', '--json', ...flags]);
  expect(run.code, run.stderr).toBe(0);
  const plan = run.json();
  // The published contract: kubernetes-models' v1 Pod schema throws on anything Kubernetes would refuse.
  new Pod(plan.manifest).validate();
  return plan;
}

describe('modelship up --dryrun', () => {
  it('chat on CPU: only the llama.cpp server, the model folder read-only, the API on the host port', async () => {
    const plan = await dryrun('chat', '--gpu', 'none', '--port', '18080');
    const dir = projects['chat']!;
    expect(plan).toMatchObject({ pod: 'modelship-my-chat', url: 'http://127.0.0.1:18080/v1', serverImage: 'ghcr.io/ggml-org/llama.cpp:server', appImage: null, hostPort: 18080, containerPort: 8080 });
    expect(plan.manifest).toEqual({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'modelship-my-chat', labels: { 'modelship.dev/project': 'my-chat', 'modelship.dev/model': 'tiny-chat' } },
      spec: {
        restartPolicy: 'Never',
        containers: [
          {
            name: 'model-server',
            image: 'ghcr.io/ggml-org/llama.cpp:server',
            args: ['--host', '0.0.0.0', '--port', '8080', '--jinja', '--alias', 'tiny-chat', '-m', '/models/tiny-chat.gguf'],
            ports: [{ name: 'openai', containerPort: 8080, hostPort: 18080, hostIP: '127.0.0.1', protocol: 'TCP' }],
            volumeMounts: [{ name: 'model', mountPath: '/models', readOnly: true }],
          },
        ],
        volumes: [{ name: 'model', hostPath: { path: path.join(dir, 'model'), type: 'Directory' } }],
      },
    });
  });

  it('rag with an NVIDIA GPU: server-cuda with -ngl 99 and the CDI device, plus the app with OPENAI_BASE_URL on localhost', async () => {
    const plan = await dryrun('rag', '--gpu', 'nvidia', '--port', '18081', '--ctx-size', '2048');
    const dir = projects['rag']!;
    const [server, app] = plan.manifest.spec.containers;
    expect(server).toEqual({
      name: 'model-server',
      image: 'ghcr.io/ggml-org/llama.cpp:server-cuda',
      args: ['--host', '0.0.0.0', '--port', '8080', '-ngl', '99', '--jinja', '--alias', 'tiny-chat', '-c', '2048', '-m', '/models/tiny-chat.gguf'],
      ports: [{ name: 'openai', containerPort: 8080, hostPort: 18081, hostIP: '127.0.0.1', protocol: 'TCP' }],
      volumeMounts: [{ name: 'model', mountPath: '/models', readOnly: true }],
      resources: { limits: { 'nvidia.com/gpu=all': '1' } },
    });
    expect(app).toEqual({
      name: 'app',
      image: 'docker.io/library/node:20-bookworm-slim',
      command: ['sh', '-c', 'npm install --omit=dev --no-audit --no-fund && exec npm start'],
      workingDir: '/app',
      env: [
        { name: 'OPENAI_BASE_URL', value: 'http://127.0.0.1:8080/v1' },
        { name: 'OPENAI_API_KEY', value: 'local' },
        { name: 'MODEL', value: 'tiny-chat' },
      ],
      volumeMounts: [{ name: 'project', mountPath: '/app' }],
    });
    expect(plan.manifest.spec.volumes).toEqual([
      { name: 'model', hostPath: { path: path.join(dir, 'model'), type: 'Directory' } },
      { name: 'project', hostPath: { path: dir, type: 'Directory' } },
    ]);
    expect(plan.manifest.metadata.labels).toEqual({ 'modelship.dev/project': 'my-rag', 'modelship.dev/model': 'tiny-chat' });
  });

  it('pytorch (safetensors): vLLM on port 8000 serving the model folder, CPU and GPU', async () => {
    const dir = projects['pytorch']!;
    const cpu = await dryrun('pytorch', '--gpu', 'none', '--port', '18082');
    const gpu = await dryrun('pytorch', '--gpu', 'nvidia', '--port', '18082');
    for (const plan of [cpu, gpu]) {
      expect(plan.serverImage).toBe('vllm/vllm-openai:latest');
      expect(plan.appImage).toBeNull();
      expect(plan.manifest.spec.containers).toHaveLength(1);
      const [server] = plan.manifest.spec.containers;
      expect(server.args).toEqual(['--model', '/models', '--served-model-name', 'model', '--host', '0.0.0.0', '--port', '8000']);
      expect(server.ports).toEqual([{ name: 'openai', containerPort: 8000, hostPort: 18082, hostIP: '127.0.0.1', protocol: 'TCP' }]);
      expect(plan.manifest.spec.volumes).toEqual([{ name: 'model', hostPath: { path: path.join(dir, 'model'), type: 'Directory' } }]);
    }
    expect(cpu.manifest.spec.containers[0].resources).toBeUndefined();
    expect(gpu.manifest.spec.containers[0].resources).toEqual({ limits: { 'nvidia.com/gpu=all': '1' } });
  });

  it('without --json prints the Pod as YAML, the same manifest', async () => {
    const json = await dryrun('rag', '--gpu', 'none', '--port', '18083');
    const text = await runCli(['up', '--dryrun', '--gpu', 'none', '--port', '18083'], { cwd: projects['rag']! });
    expect(text.code, text.stderr).toBe(0);
    expect(parse(text.stdout)).toEqual(json.manifest);
  });

  it('a folder name Kubernetes would refuse becomes a valid pod name and label', () => {
    const dir = path.join(root, 'My_Project (copy)!');
    const plan = buildPodManifest({
      projectDir: dir,
      source: { format: 'gguf', dir: path.join(dir, 'model'), file: path.join(dir, 'model', 'a b.gguf'), name: 'a b' },
      accelerator: 'vulkan',
      hostPort: 8080,
      app: false,
    });
    new Pod(plan.manifest).validate();
    expect(plan.name).toBe('modelship-my-project-copy');
    expect(plan.manifest.metadata.labels).toEqual({ 'modelship.dev/project': 'My_Project-copy', 'modelship.dev/model': 'a-b' });
    // Vulkan's /dev/dri is not passed to pods: the CPU image, no offload.
    expect(plan.serverImage).toBe('ghcr.io/ggml-org/llama.cpp:server');
    expect(plan.manifest.spec.containers[0]!.args).toEqual(['--host', '0.0.0.0', '--port', '8080', '--jinja', '--alias', 'a b', '-m', '/models/a b.gguf']);
  });

  it('refuses what it cannot do, with the usage exit code and what to do', async () => {
    const docker = await runCli(['up', projects['chat']!, '--engine', 'docker', '--dryrun']);
    expect(docker.code).toBe(2);
    expect(docker.stderr).toMatch(/--engine must be podman.*serve --engine docker/);
    const gpu = await runCli(['up', projects['chat']!, '--gpu', 'amd', '--dryrun']);
    expect(gpu.code).toBe(2);
    expect(gpu.stderr).toMatch(/--gpu must be auto, none or nvidia, not "amd"/);
    const missing = await runCli(['up', path.join(root, 'nowhere'), '--dryrun']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain(path.join(root, 'nowhere'));
  });
});

describe('modelship up with podman kube play', () => {
  // Nothing can be pulled here: the server and app images are busybox-static imported from a tar,
  // the pod's infra image too (podman would otherwise build one from catatonit, absent here), and
  // runc, cgroupfs and ulimits come from a containers.conf as FACTS §1 says containers need.
  const suffix = `${process.pid}`;
  const serverImage = `localhost/modelship-up-server:${suffix}`;
  const appImage = `localhost/modelship-up-app:${suffix}`;
  const infraImage = `localhost/modelship-up-infra:${suffix}`;
  let work: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'modelship-up-podman-'));
    const rootfs = path.join(work, 'rootfs');
    await mkdir(path.join(rootfs, 'bin'), { recursive: true });
    await copyFile('/bin/busybox', path.join(rootfs, 'bin', 'busybox'));
    await symlink('busybox', path.join(rootfs, 'bin', 'sh'));
    // `npm` stand-in: "install" does nothing, "start" fetches the model file through OPENAI_BASE_URL.
    await writeFile(path.join(rootfs, 'bin', 'npm'), '#!/bin/sh\n[ "$1" = start ] || exit 0\nfor i in 1 2 3 4 5 6 7 8 9 10; do /bin/busybox wget -qO /app/fetched.gguf "${OPENAI_BASE_URL%/v1}/$MODEL.gguf" && exit 0; /bin/busybox sleep 0.5; done\nexit 1\n');
    await chmod(path.join(rootfs, 'bin', 'npm'), 0o755);
    await execa('tar', ['-C', rootfs, '-cf', path.join(work, 'image.tar'), 'bin']);
    const conf = path.join(work, 'containers.conf');
    await writeFile(conf, [
      '[containers]',
      'default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]',
      '[engine]',
      'cgroup_manager = "cgroupfs"',
      'runtime = "runc"',
      `infra_image = "${infraImage}"`,
      '[engine.runtimes]',
      'runc = ["/usr/sbin/runc"]',
      '',
    ].join('\n'));
    env = { CONTAINERS_CONF: conf };
    const tar = path.join(work, 'image.tar');
    const podman = (args: string[]) => execa('podman', args, { env });
    // The llama.cpp arguments the pod passes land in "$@" of sh -c and are ignored: busybox httpd stands in.
    await podman(['import', '--change', 'ENTRYPOINT ["/bin/sh", "-c", "touch /models/written 2>/dev/null; exec /bin/busybox httpd -f -p 8080 -h /models", "server"]', tar, serverImage]);
    await podman(['import', '--change', 'ENV PATH=/bin', tar, appImage]);
    await podman(['import', '--change', 'ENTRYPOINT ["/bin/busybox", "sleep", "2147483647"]', tar, infraImage]);
  }, 120_000);

  afterAll(async () => {
    await execa('podman', ['rmi', '-f', serverImage, appImage, infraImage], { env, reject: false });
    await rm(work, { recursive: true, force: true });
  });

  it('starts the server and the app in one pod: the app reaches the server on localhost, the host on the port; --down removes it', async () => {
    const dir = projects['rag']!;
    const port = await findFreePort();
    const args = ['up', dir, '--gpu', 'none', '--port', String(port), '--image', serverImage, '--app-image', appImage];
    const up = await runCli([...args, '--json'], { env });
    try {
      expect(up.code, up.stderr).toBe(0);
      expect(up.json()).toMatchObject({ pod: 'modelship-my-rag', url: `http://127.0.0.1:${port}/v1`, up: true });
      const model = await readFile(path.join(dir, 'model', 'tiny-chat.gguf'));
      let fetched: Buffer | undefined;
      for (let i = 0; i < 60 && !fetched; i++) {
        fetched = await readFile(path.join(dir, 'fetched.gguf')).catch(() => undefined);
        if (!fetched) await new Promise((r) => setTimeout(r, 250));
      }
      expect(fetched?.equals(model), 'the app fetched the model file through OPENAI_BASE_URL').toBe(true);
      const fromHost = Buffer.from(await (await fetch(`http://127.0.0.1:${port}/tiny-chat.gguf`)).arrayBuffer());
      expect(fromHost.equals(model)).toBe(true);
      // The model folder is mounted read-only: the server's touch failed.
      await expect(readFile(path.join(dir, 'model', 'written'))).rejects.toThrow();
      const labels = await execa('podman', ['pod', 'inspect', 'modelship-my-rag', '--format', '{{json .Labels}}'], { env });
      expect(JSON.parse(labels.stdout)).toMatchObject({ 'modelship.dev/project': 'my-rag', 'modelship.dev/model': 'tiny-chat' });
    } finally {
      const down = await runCli([...args, '--down', '--json'], { env });
      expect(down.code, down.stderr).toBe(0);
      expect(down.json()).toEqual({ pod: 'modelship-my-rag', down: true });
    }
    const gone = await execa('podman', ['pod', 'exists', 'modelship-my-rag'], { env, reject: false });
    expect(gone.exitCode).toBe(1);
  }, 120_000);
});
