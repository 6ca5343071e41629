/**
 * The quickstart end to end, offline, and every product it leaves: the artifact with its referrers,
 * the signature verifying, the served model's answer, the GitOps commit and the registered version.
 */
import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, inject, it } from 'vitest';
import { CANNED_SENTENCE } from '../../modules/gguf/index.js';
import { runQuickstart } from '../../modules/pipeline/index.js';
import { API_BASE_PATH, embeddedDatabasePath, openRegistryDatabase, startRegistryServer } from '../../modules/registry/index.js';
import { runCli } from '../helpers/cli.js';
import { busyboxBase } from '../modelpack/busybox.js';
import { hostBusyboxBase } from '../../modules/modelpack/index.js';
import { fetchManifest } from '../../modules/oci/manifest.js';
import type { ImageIndex, ImageManifest } from '../../modules/oci/types.js';
import { openStore } from '../../modules/store/index.js';
import { openReference } from '../../modules/oci/open.js';
import { kustomizeBuild } from '../gitops/kustomize.js';

const exec = promisify(execFile);

/** Reads the embedded registry through its REST API, as a Kubeflow client would. */
async function registeredVersion(home: string, versionId: string) {
  const database = await openRegistryDatabase(embeddedDatabasePath(home));
  const server = await startRegistryServer({ database });
  try {
    const api = `${server.url}${API_BASE_PATH}`;
    const version = (await (await fetch(`${api}/model_versions/${versionId}`)).json()) as { id: string; name: string; registeredModelId: string };
    const registered = (await (await fetch(`${api}/registered_models/${version.registeredModelId}`)).json()) as { id: string; name: string };
    const artifacts = (await (await fetch(`${api}/model_versions/${versionId}/artifacts`)).json()) as { items: Array<{ uri: string }> };
    return { registered, version, artifacts: artifacts.items };
  } finally {
    await server.close();
    database.close();
  }
}

/**
 * The hand-off the quickstart committed would start under KServe: the InferenceService pins the
 * ModelCar index, whose image (the busybox base's layer, then the model under models/) carries the
 * base with it; every kustomization in the repository builds.
 */
async function expectRunnableHandoff(dir: string): Promise<void> {
  const gitops = path.join(dir, 'gitops.git');
  const pin = (await exec('git', ['-C', gitops, 'show', 'main:models/tiny-chat/overlays/dev/inferenceservice-pin.yaml'])).stdout;
  const digest = /storageUri: oci:\/\/localhost:5000\/quickstart\/tiny-chat@(sha256:[0-9a-f]{64})/.exec(pin)?.[1];
  expect(digest, pin).toBeTruthy();
  const store = openStore({ MODELSHIP_HOME: path.join(dir, 'home') }, dir).layout;
  const index = await fetchManifest(store, await store.resolve(digest!), 'pinned');
  expect('manifests' in index, 'the pinned digest is the ModelCar index').toBe(true);
  const images = (index as ImageIndex).manifests.filter((m) => m.platform);
  const architecture = process.arch === 'arm64' ? 'arm64' : 'amd64';
  expect(images.map((m) => m.platform)).toEqual([{ os: 'linux', architecture, ...(architecture === 'arm64' ? { variant: 'v8' } : {}) }]);
  // One platform: the Pods go only to nodes that can pull it.
  expect(pin).toContain(`kubernetes.io/arch: ${architecture}`);
  const image = (await fetchManifest(store, images[0]!, 'image')) as ImageManifest;
  const base = (await fetchManifest(store, await store.resolve((await hostBusyboxBase(store)).reference), 'base')) as ImageManifest;
  expect(image.layers[0]?.digest).toBe(base.layers[0]!.digest);
  expect(image.layers.length).toBeGreaterThan(1);
  // Every layer of the image the cluster pulls is in the store, so "modelship push" sends the base with the model.
  for (const layer of image.layers) expect(await store.exists(layer), layer.digest).toBe(true);

  const tree = await mkdtemp(path.join(tmpdir(), 'modelship-quickstart-tree-'));
  await exec('sh', ['-c', `git -C "${gitops}" archive main | tar -x -C "${tree}"`]);
  const files = (await exec('git', ['-C', gitops, 'ls-tree', '-r', '--name-only', 'main'])).stdout.trim().split('\n');
  const folders = files.filter((f) => f.endsWith('/kustomization.yaml') || f === 'kustomization.yaml').map((f) => path.dirname(f));
  expect(folders.length).toBeGreaterThan(0);
  for (const folder of folders) await kustomizeBuild(tree, folder);
}

describe('modelship quickstart', () => {
  it('goes from nothing to an answer and a hand-off, offline, and every product checks out', async () => {
    const dir = path.join(await mkdtemp(path.join(tmpdir(), 'modelship-quickstart-')), 'qs');
    // A ModelCar base this machine reaches (an OCI layout), so the hand-off writes what KServe starts.
    const base = await busyboxBase();
    const run = await runCli(['quickstart', dir, '--modelcar-base', `oci:${base.location}:latest`, '--json']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const result = run.json();
    expect(result.steps.map((s: { step: string; status: string }) => `${s.step}:${s.status}`)).toEqual([
      'project:passed', 'key:passed', 'base:passed', 'pack:passed', 'sbom:passed', 'card:passed', 'mof:passed', 'sign:passed', 'verify:passed', 'serve:passed', 'chat:passed', 'handoff:passed',
    ]);
    expect(result.answer).toBe(CANNED_SENTENCE);
    expect(result.ideaToInferenceSeconds).toBeGreaterThan(0);
    expect(result.seconds).toBeGreaterThanOrEqual(result.ideaToInferenceSeconds);
    const env = { MODELSHIP_HOME: path.join(dir, 'home') };

    // The artifact and its referrers, and the signature, as the single commands see them.
    const discover = JSON.stringify((await runCli(['discover', result.reference, '--json'], { env })).json());
    for (const type of ['application/vnd.cyclonedx+json', 'application/spdx+json', 'application/vnd.modelship.mof.report.v1+json', 'application/vnd.dev.sigstore.bundle.v0.3+json']) expect(discover).toContain(type);
    const verified = await runCli(['verify', result.reference, '--local', '--key', path.join(dir, 'signing.pub')], { env });
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);

    // The commit in the GitOps repository pins the digest.
    const log = (await exec('git', ['-C', path.join(dir, 'gitops.git'), 'log', '--format=%s'])).stdout.trim().split('\n');
    expect(log).toHaveLength(1);
    expect(log[0]).toContain(result.digest);
    const pin = (await exec('git', ['-C', path.join(dir, 'gitops.git'), 'show', 'main:models/tiny-chat/overlays/dev/inferenceservice-pin.yaml'])).stdout;
    expect(pin).toContain(`storageUri: oci://localhost:5000/quickstart/tiny-chat@${result.digest}`);

    // The registered version points at the same digest.
    const ids = result.steps.find((s: { step: string }) => s.step === 'handoff').data.registered;
    const registered = await registeredVersion(env.MODELSHIP_HOME, ids.modelVersionId);
    expect(registered.registered.name).toBe('tiny-chat');
    expect(registered.version.name).toBe('v1');
    expect(registered.artifacts.map((a) => a.uri)).toEqual([expect.stringContaining(`@${result.digest}`)]);
    // The embedded registry is a file on this machine: the cluster cannot reach it, so no link and no path.
    expect(pin).not.toContain('modelregistry.kubeflow.org');
    const tree = (await exec('git', ['-C', path.join(dir, 'gitops.git'), 'grep', '-I', '-c', dir, 'main'], { encoding: 'utf8' }).catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? '' }))).stdout;
    expect(tree).toBe('');

    // The human output: one line per step with its time, and the idea-to-inference time.
    // With no base named (offline), the ModelCar is built on a base made from the machine's static busybox, and handed off.
    const againDir = path.join(dir, '..', 'again');
    const again = await runCli(['quickstart', againDir]);
    expect(again.code, again.stdout).toBe(0);
    expect(again.stdout).toMatch(/^ok {3}base .*built from this machine's busybox.*pushed with the model/m);
    expect(again.stdout).toMatch(/^ok {3}handoff /m);
    expect(again.stdout).toMatch(/^ok {3}chat +\d+\.\d\ds {2}"Who are you\?" → "Hello from modelship\."$/m);
    expect(again.stdout).toMatch(/^idea to inference: \d+\.\d s; total with hand-off: \d+\.\d s$/m);
    await expectRunnableHandoff(againDir);
  }, 300_000);

  it('without a static busybox or a base, skips the hand-off and says what to do', async () => {
    const dir = path.join(await mkdtemp(path.join(tmpdir(), 'modelship-quickstart-')), 'qs');
    const result = await runQuickstart({ dir, env: {}, cwd: dir, busybox: path.join(dir, '..', 'no-busybox') });
    expect(result.ok, JSON.stringify(result.steps, null, 1)).toBe(true);
    const byStep = Object.fromEntries(result.steps.map((s) => [s.step, s]));
    expect(byStep['base']).toMatchObject({ status: 'skipped', summary: expect.stringMatching(/no busybox .*busybox-static.*--modelcar-base/) });
    expect(byStep['handoff']).toMatchObject({ status: 'skipped', summary: expect.stringMatching(/KServe starts only a ModelCar.*--modelcar-base REF/) });
    expect(byStep['chat']?.status).toBe('passed');
    // Nothing was committed: no manifests for an artifact the cluster could not start.
    const log = await exec('git', ['-C', path.join(dir, 'gitops.git'), 'log']).then(() => 'commits', () => 'none');
    expect(log).toBe('none');
  }, 300_000);

  it('pushes to a registry when given one, and hands off what that registry serves', async () => {
    const registry = inject('registry');
    const dir = path.join(await mkdtemp(path.join(tmpdir(), 'modelship-quickstart-')), 'qs');
    // The base built from this machine's busybox: the registry must then serve it to the cluster, with the model.
    const result = await runQuickstart({ dir, env: {}, cwd: dir, registry, plainHttp: true });
    expect(result.ok, JSON.stringify(result.steps, null, 1)).toBe(true);
    expect(result.steps.find((s) => s.step === 'push')?.status).toBe('passed');
    const remote = (await openReference(`${registry}/quickstart/tiny-chat@${result.digest}`, { cwd: dir, env: {}, plainHttp: true })).target;
    const index = (await fetchManifest(remote, await remote.resolve(result.digest!), 'pushed index')) as ImageIndex;
    const image = (await fetchManifest(remote, index.manifests.find((m) => m.platform)!, 'pushed image')) as ImageManifest;
    const store = openStore({ MODELSHIP_HOME: path.join(dir, 'home') }, dir).layout;
    const baseLayer = (await fetchManifest(store, await store.resolve(result.steps.find((s) => s.step === 'base')!.data!['digest'] as string), 'base')) as ImageManifest;
    expect(image.layers[0]?.digest).toBe(baseLayer.layers[0]!.digest);
    for (const layer of [image.config, ...image.layers]) expect(await remote.exists(layer), layer.digest).toBe(true);
    const verified = await runCli(['verify', `${registry}/quickstart/tiny-chat:v1`, '--plain-http', '--key', path.join(dir, 'signing.pub')], { env: { MODELSHIP_HOME: path.join(dir, 'fresh') } });
    expect(verified.code, verified.stdout).toBe(0);
    const handoff = result.steps.find((s) => s.step === 'handoff');
    expect(handoff?.data?.['storageUri']).toBe(`oci://${registry}/quickstart/tiny-chat@${result.digest}`);
  }, 300_000);

  it('refuses a folder that is not empty and leaves it as it was', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'modelship-quickstart-'));
    await runCli(['example', path.join(dir, 'tiny-chat')]);
    const run = await runCli(['quickstart', dir]);
    expect(run.code).toBe(2);
  });
});
