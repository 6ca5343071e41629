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

describe('modelship quickstart', () => {
  it('goes from nothing to an answer and a hand-off, offline, and every product checks out', async () => {
    const dir = path.join(await mkdtemp(path.join(tmpdir(), 'modelship-quickstart-')), 'qs');
    // A ModelCar base this machine reaches (an OCI layout), so the hand-off writes what KServe starts.
    const base = await busyboxBase();
    const run = await runCli(['quickstart', dir, '--modelcar', '--modelcar-base', `oci:${base.location}:latest`, '--json']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const result = run.json();
    expect(result.steps.map((s: { step: string; status: string }) => `${s.step}:${s.status}`)).toEqual([
      'project:passed', 'key:passed', 'pack:passed', 'sbom:passed', 'card:passed', 'mof:passed', 'sign:passed', 'verify:passed', 'serve:passed', 'chat:passed', 'handoff:passed',
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
    // Without a ModelCar base the artifact is a plain ModelPack artifact KServe cannot start: the hand-off is skipped, saying why.
    const again = await runCli(['quickstart', path.join(dir, '..', 'again')]);
    expect(again.code, again.stdout).toBe(0);
    expect(again.stdout).toMatch(/^skip handoff .*plain ModelPack artifact, which KServe cannot start.*modelship pack --modelcar/m);
    expect(again.stdout).toMatch(/^ok {3}chat +\d+\.\d\ds {2}"Who are you\?" → "Hello from modelship\."$/m);
    expect(again.stdout).toMatch(/^idea to inference: \d+\.\d s; total with hand-off: \d+\.\d s$/m);
  }, 300_000);

  it('pushes to a registry when given one, and hands off what that registry serves', async () => {
    const registry = inject('registry');
    const dir = path.join(await mkdtemp(path.join(tmpdir(), 'modelship-quickstart-')), 'qs');
    const result = await runQuickstart({ dir, env: {}, cwd: dir, registry, plainHttp: true, modelcar: { target: await busyboxBase(), reference: 'latest' } });
    expect(result.ok, JSON.stringify(result.steps, null, 1)).toBe(true);
    expect(result.steps.find((s) => s.step === 'push')?.status).toBe('passed');
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
