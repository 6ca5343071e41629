/**
 * The real admission controllers' own code judges the hand-off's policies against the Pod KServe
 * makes, with the image and its signatures in the loopback registry: Kyverno's CLI (v1.19.1, the
 * same engine as its admission webhook) and policy-controller's tester (v0.15.1, its webhook's
 * validation). Each passes the model signed by our key and refuses it for another key and unsigned.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';
import { handoff, type AdmissionPolicy } from '../../modules/gitops/index.js';
import { judgePath } from '../helpers/judges.js';
import { pushModel, signingKeys, signModel, type PushedModel, type SigningKeys } from '../gitops/helpers.js';
import { tempDir } from '../modelpack/helpers.js';

const registry = inject('registry');

/** The hand-off's policy file for this model and signer, as --check writes it. */
async function policyFile(model: PushedModel, keys: SigningKeys, policy: AdmissionPolicy): Promise<string> {
  const result = await handoff({
    target: model.target, registry: model.registry, repository: model.repository, selector: model.tag,
    namespace: 'models', env: 'dev', delivery: 'flux', policy,
    identity: { kind: 'key', publicKeyPem: keys.publicPem },
    gitops: { repository: 'https://git.example.com/gitops.git', branch: 'main', root: 'models', author: { name: 'ci', email: 'ci@example.com' } },
    check: true, insecureRegistry: true,
  });
  const file = result.layout!.find((f) => f.path.startsWith('models/tiny-chat/policy/dev/') && !f.path.endsWith('kustomization.yaml'))!;
  const path = join(await tempDir('judge-policy-'), 'policy.yaml');
  await writeFile(path, file.text);
  return path;
}

/** The Pod KServe makes for oci://REPO@DIGEST: the ModelCar as an init container and a sidecar. */
async function kservePod(image: string): Promise<string> {
  const pod = {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'tiny-chat-predictor', namespace: 'models' },
    spec: {
      initContainers: [{ name: 'modelcar-init', image, args: ['sh', '-c', 'echo Pre-fetching modelcar $(MODEL_IMAGE) ...'] }],
      containers: [
        { name: 'kserve-container', image: 'ghcr.io/ggml-org/llama.cpp:server' },
        { name: 'modelcar', image, args: ['sh', '-c', 'ln -sf /proc/$$/root/models /mnt/ && sleep infinity'] },
      ],
    },
  };
  const path = join(await tempDir('judge-pod-'), 'pod.yaml');
  await writeFile(path, stringify(pod));
  return path;
}

/** `kubectl-kyverno apply POLICY --resource POD --registry`: exit status and the pass/fail/error counts it prints. */
async function kyvernoApply(policy: string, pod: string): Promise<{ code: number; pass: number; fail: number; error: number; out: string }> {
  const run = await execa(judgePath('kyverno'), ['apply', policy, '--resource', pod, '--registry', '--remove-color'], { reject: false, env: { DOCKER_CONFIG: await tempDir('judge-docker-') } });
  const out = `${run.stdout}\n${run.stderr}`;
  const count = (name: string) => Number(new RegExp(`${name}: (\\d+)`).exec(out)?.[1] ?? NaN);
  return { code: run.exitCode ?? -1, pass: count('pass'), fail: count('fail'), error: count('error'), out };
}

describe('Kyverno v1.19.1 judges the hand-off ClusterPolicy', () => {
  it('admits the ModelCar Pod signed by our key; refuses it with another key and unsigned', async () => {
    const keys = await signingKeys();
    const signed = await pushModel(registry, { format: 'gguf', modelcar: true, repository: 'judge/kyverno-signed' });
    await signModel(signed, keys);
    const pod = await kservePod(`${registry}/${signed.repository}@${signed.pulled.digest}`);

    const ours = await kyvernoApply(await policyFile(signed, keys, 'kyverno'), pod);
    // Every rule of the policy applied to the Pod and passed: none skipped, so the image check really ran.
    expect(ours.pass, ours.out).toBeGreaterThan(0);
    expect(ours.out).toContain('skip: 0');
    expect([ours.code, ours.fail, ours.error], ours.out).toEqual([0, 0, 0]);

    const other = await kyvernoApply(await policyFile(signed, await signingKeys(), 'kyverno'), pod);
    expect(other.code, other.out).not.toBe(0);
    expect(other.fail + other.error, other.out).toBeGreaterThan(0);

    const unsigned = await pushModel(registry, { format: 'gguf', modelcar: true, repository: 'judge/kyverno-unsigned', seed: 11 });
    const bare = await kyvernoApply(await policyFile(unsigned, keys, 'kyverno'), await kservePod(`${registry}/${unsigned.repository}@${unsigned.pulled.digest}`));
    expect(bare.code, bare.out).not.toBe(0);
    expect(bare.fail + bare.error, bare.out).toBeGreaterThan(0);
  }, 180_000);
});

describe('policy-controller v0.15.1 tester judges the hand-off ClusterImagePolicy', () => {
  // The key authority verifies cosign's `sha256-<hex>.sig` signature form, which `modelship sign` attaches beside the bundle.
  it('passes the model image signed by our key; fails it with another key and unsigned', async () => {
    const keys = await signingKeys();
    const signed = await pushModel(registry, { format: 'gguf', modelcar: true, repository: 'judge/pc-signed' });
    await signModel(signed, keys);
    const image = `${registry}/${signed.repository}@${signed.pulled.digest}`;
    const tester = judgePath('policy-tester');
    const env = { DOCKER_CONFIG: await tempDir('judge-docker-') };

    const ours = await execa(tester, ['-policy', await policyFile(signed, keys, 'policy-controller'), '-image', image], { reject: false, env });
    expect(ours.exitCode, `${ours.stdout}\n${ours.stderr}`).toBe(0);

    const other = await execa(tester, ['-policy', await policyFile(signed, await signingKeys(), 'policy-controller'), '-image', image], { reject: false, env });
    expect(other.exitCode, other.stdout).toBe(1);

    const unsigned = await pushModel(registry, { format: 'gguf', modelcar: true, repository: 'judge/pc-unsigned', seed: 12 });
    const bare = await execa(tester, ['-policy', await policyFile(unsigned, keys, 'policy-controller'), '-image', `${registry}/${unsigned.repository}@${unsigned.pulled.digest}`], { reject: false, env });
    expect(bare.exitCode, bare.stdout).toBe(1);
  }, 180_000);
});
