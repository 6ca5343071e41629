/**
 * `serve --policy` with keyless policies: the hand-off's Kyverno and policy-controller policies for a
 * Fulcio identity, an artifact signed keylessly against @sigstore/mock Fulcio and Rekor on loopback,
 * checked offline against that trusted root; without a trusted root the check refuses to run.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { handoff, type AdmissionPolicy } from '../../modules/gitops/index.js';
import { identityFromEnvironment } from '../../modules/sign/index.js';
import { signArtifact } from '../../modules/sign/artifact/index.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../modelpack/helpers.js';
import { idToken, startMockSigstore, type MockSigstore } from '../sign/artifact-sigstore.js';
import { pushModel, type PushedModel } from './helpers.js';

const registry = inject('registry');
const ISSUER = 'https://issuer.example.test';
const SUBJECT = 'engineer@example.test';

let sigstore: MockSigstore;
let model: PushedModel;
let dir: string;
let rootFile: string;

beforeAll(async () => {
  sigstore = await startMockSigstore();
  dir = await tempDir('policy-keyless-');
  rootFile = join(dir, 'trusted_root.json');
  await writeFile(rootFile, JSON.stringify(sigstore.trustedRoot));
  model = await pushModel(registry, { format: 'gguf', modelcar: true, repository: 'policy/keyless', seed: 31 });
  const token = idToken({ iss: ISSUER, sub: SUBJECT, email: SUBJECT, email_verified: true, aud: 'sigstore' });
  await signArtifact(model.target, model.tag, {
    kind: 'keyless', identity: identityFromEnvironment({ SIGSTORE_ID_TOKEN: token }), fulcioURL: sigstore.fulcioURL, rekorURL: sigstore.rekorURL, rekorEntryType: 'intoto',
  }, { repository: model.repository, attestDocuments: false });
}, 120_000);
afterAll(() => sigstore?.close());

/** The policy file the hand-off writes for this keyless identity. */
async function policyFile(kind: AdmissionPolicy, subjectRegExp: string): Promise<string> {
  const result = await handoff({
    target: model.target, registry: model.registry, repository: model.repository, selector: model.tag,
    namespace: 'models', env: 'dev', delivery: 'flux', policy: kind,
    identity: { kind: 'keyless', issuer: ISSUER, subjectRegExp },
    gitops: { repository: 'https://git.example.com/gitops.git', branch: 'main', root: 'models', author: { name: 'ci', email: 'ci@example.com' } },
    check: true, insecureRegistry: true,
  });
  const file = result.layout!.find((f) => f.path.includes('/policy/dev/') && !f.path.endsWith('kustomization.yaml'))!;
  const path = join(await tempDir('policy-keyless-file-'), `${kind}.yaml`);
  await writeFile(path, file.text);
  return path;
}

const serve = (args: string[]) => runCli(['serve', model.reference, ...args, '--plain-http', '--dryrun', '--json'], { cwd: dir, env: { MODELSHIP_HOME: join(dir, 'home') } });

describe('serve --policy, keyless', () => {
  for (const kind of ['kyverno', 'policy-controller'] as const) {
    it(`${kind}: admits the identity the policy names, refuses another, and refuses to guess without a trusted root`, async () => {
      const ours = await policyFile(kind, '^engineer@example\\.test$');
      const ok = await serve(['--policy', ours, '--trusted-root', rootFile]);
      expect(ok.code, ok.stdout + ok.stderr).toBe(0);
      expect(ok.json().policy).toMatchObject({ ok: true, image: `${registry}/${model.repository}@${model.pulled.digest}` });

      const theirs = await policyFile(kind, '^ci@example\\.test$');
      const refused = await serve(['--policy', theirs, '--trusted-root', rootFile]);
      expect(refused.code).toBe(8);
      expect(refused.json().error.code).toBe('POLICY_DENIED');
      expect(refused.json().error.message).toContain(kind === 'kyverno' ? '.attestors[0].entries[0].keyless: sigstore bundle verification failed' : 'signature keyless validation failed for authority modelship-signer');

      const blind = await serve(['--policy', ours]);
      expect(blind.code).toBe(2);
      expect(blind.json().error).toMatchObject({ code: 'POLICY_TRUSTED_ROOT_MISSING', message: expect.stringContaining('--trusted-root') });
    });
  }
});
