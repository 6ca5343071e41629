/**
 * `serve --policy` says what the cluster would say: the reason modelship gives for an artifact the
 * hand-off's policy refuses is checked against the real controllers' own output on the same policy
 * file and the same image in the loopback registry (Kyverno CLI v1.19.1, the engine of its webhook;
 * policy-controller's tester v0.15.1, its webhook's validation).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { stringify } from 'yaml';
import { evaluateClusterPolicy, handoff, loadClusterPolicy, type AdmissionPolicy } from '../../modules/gitops/index.js';
import { judgePath } from '../helpers/judges.js';
import { pushModel, signingKeys, signModel, type PushedModel, type SigningKeys } from '../gitops/helpers.js';
import { tempDir } from '../modelpack/helpers.js';

const registry = inject('registry');

let policyKeys: SigningKeys;
let foreign: PushedModel;
let unsigned: PushedModel;

beforeAll(async () => {
  policyKeys = await signingKeys();
  foreign = await pushModel(registry, { format: 'gguf', modelcar: true, repository: 'judge/reason', tag: 'foreign', seed: 21 });
  unsigned = await pushModel(registry, { format: 'gguf', modelcar: true, repository: 'judge/reason', tag: 'unsigned', seed: 22 });
  await signModel(foreign, await signingKeys());
}, 120_000);

/** The hand-off's policy file trusting `policyKeys`, as --check writes it. */
async function policyFile(model: PushedModel, policy: AdmissionPolicy): Promise<string> {
  const result = await handoff({
    target: model.target, registry: model.registry, repository: model.repository, selector: model.tag,
    namespace: 'models', env: 'dev', delivery: 'flux', policy,
    identity: { kind: 'key', publicKeyPem: policyKeys.publicPem },
    gitops: { repository: 'https://git.example.com/gitops.git', branch: 'main', root: 'models', author: { name: 'ci', email: 'ci@example.com' } },
    check: true, insecureRegistry: true,
  });
  const file = result.layout!.find((f) => f.path.startsWith('models/tiny-chat/policy/dev/') && !f.path.endsWith('kustomization.yaml'))!;
  const path = join(await tempDir('judge-reason-'), 'policy.yaml');
  await writeFile(path, file.text);
  return path;
}

async function ourReason(model: PushedModel, file: string): Promise<string> {
  const verdict = await evaluateClusterPolicy({ target: model.target, digest: model.pulled.digest, repository: `${model.registry}/${model.repository}` }, await loadClusterPolicy(file));
  expect(verdict.ok).toBe(false);
  return verdict.reason!;
}

async function kservePod(image: string): Promise<string> {
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'tiny-chat-predictor', namespace: 'models' }, spec: { containers: [{ name: 'modelcar', image }] } };
  const path = join(await tempDir('judge-reason-pod-'), 'pod.yaml');
  await writeFile(path, stringify(pod));
  return path;
}

describe('the reason given is the controller\'s', () => {
  for (const [what, model] of [['signed by another key', () => foreign], ['unsigned', () => unsigned]] as const) {
    it(`Kyverno v1.19.1, ${what}`, async () => {
      const m = model();
      const file = await policyFile(m, 'kyverno');
      const image = `${registry}/${m.repository}@${m.pulled.digest}`;
      const run = await execa(judgePath('kyverno'), ['apply', file, '--resource', await kservePod(image), '--registry', '--remove-color'], { reject: false, env: { DOCKER_CONFIG: await tempDir('judge-docker-') } });
      const out = `${run.stdout}\n${run.stderr}`;
      expect(run.exitCode, out).not.toBe(0);
      // Ours: "POLICY: RULE: MESSAGE"; Kyverno prints the rule's MESSAGE under the policy and rule.
      const reason = await ourReason(m, file);
      const message = reason.slice(reason.indexOf('failed to verify image'));
      expect(out).toContain(message);
      expect(reason.startsWith('tiny-chat-dev-signed-model: verify-model-signature: ')).toBe(true);
    }, 120_000);

    it(`policy-controller v0.15.1, ${what}`, async () => {
      const m = model();
      const file = await policyFile(m, 'policy-controller');
      const image = `${registry}/${m.repository}@${m.pulled.digest}`;
      const run = await execa(judgePath('policy-tester'), ['-policy', file, '-image', image], { reject: false, env: { DOCKER_CONFIG: await tempDir('judge-docker-') } });
      const out = `${run.stdout}\n${run.stderr}`;
      expect(run.exitCode, out).toBe(1);
      const reason = await ourReason(m, file);
      // Up to cosign's per-signature error, which is the verifier's own wording (ours is modelship's).
      const frame = reason.slice(reason.indexOf('signature key validation failed')).split('no matching signatures:')[0]!;
      expect(frame.length).toBeGreaterThan(40);
      expect(out).toContain(frame.trim());
      expect(out).toContain(what === 'unsigned' ? 'no signatures found' : 'no matching signatures');
    }, 120_000);
  }
});
