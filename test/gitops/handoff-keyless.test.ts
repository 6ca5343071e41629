/**
 * The hand-off's signature-form check for a keyless-signed ModelCar (Fulcio certificate, Rekor
 * entry, from the loopback Sigstore mock): each consumer written for finds, under the keyless
 * identity, the form it reads on the digest it looks at; with cosign's `.sig` signature deleted
 * from the registry, the hand-off refuses policy-controller (and Kyverno before 1.19), naming it,
 * and still accepts Kyverno 1.19, which reads the bundle.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { handoff, type HandoffOptions } from '../../modules/gitops/index.js';
import { parseRelease } from '../../modules/gitops/compat.js';
import { signatureTagOf } from '../../modules/oci/signature-tag.js';
import { identityFromEnvironment } from '../../modules/sign/index.js';
import { signArtifact } from '../../modules/sign/artifact/index.js';
import { idToken, startMockSigstore, type MockSigstore } from '../sign/artifact-sigstore.js';
import { pushModel, type PushedModel } from './helpers.js';

const registry = inject('registry');
const ISSUER = 'https://issuer.example.test';
const SUBJECT = 'engineer@example.test';

let sigstore: MockSigstore;
let model: PushedModel;

beforeAll(async () => {
  sigstore = await startMockSigstore();
  model = await pushModel(registry, { format: 'gguf', modelcar: true, repository: 'gitops/keyless-forms', seed: 41 });
  const token = idToken({ iss: ISSUER, sub: SUBJECT, email: SUBJECT, email_verified: true, aud: 'sigstore' });
  await signArtifact(model.target, model.tag, {
    kind: 'keyless', identity: identityFromEnvironment({ SIGSTORE_ID_TOKEN: token }), fulcioURL: sigstore.fulcioURL, rekorURL: sigstore.rekorURL, rekorEntryType: 'intoto',
  }, { repository: model.repository, attestDocuments: false });
}, 180_000);
afterAll(() => sigstore?.close());

function options(extra: Partial<HandoffOptions>): HandoffOptions {
  return {
    target: model.target, registry: model.registry, repository: model.repository, selector: model.tag,
    namespace: 'models', env: 'dev', delivery: 'argocd', policy: 'kyverno',
    identity: { kind: 'keyless', subjectRegExp: '^engineer@example\\.test$', issuer: ISSUER },
    verification: { kind: 'keyless', identity: /^engineer@example\.test$/, issuer: ISSUER, trustedRoot: sigstore.trustedRoot },
    gitops: { repository: 'https://github.com/acme/gitops.git', branch: 'main', root: 'models', author: { name: 'ci', email: 'ci@example.com' } },
    check: true,
    insecureRegistry: true,
    ...extra,
  };
}

/** distribution 2.8's manifest DELETE (storage.delete.enabled): the `.sig` tag goes with its manifest. */
async function deleteManifest(digest: string): Promise<void> {
  const res = await fetch(`http://${registry}/v2/${model.repository}/manifests/${digest}`, { method: 'DELETE' });
  expect(res.status, await res.text()).toBe(202);
}

describe('hand-off of a keyless-signed ModelCar: the form each consumer reads', () => {
  it('finds the bundle for Kyverno 1.19 and Flux 2.8, the .sig for policy-controller; without the .sig refuses policy-controller only', async () => {
    const sig = await model.target.resolve(signatureTagOf(model.pulled.digest));

    // Kyverno 1.19 type: SigstoreBundle reads the bundle referrer of the index (pkg/image/verifiers/cpol/cosign/sigstore.go).
    const kyverno = (await handoff(options({}))).verification.admission!;
    expect(kyverno).toMatchObject({ ok: true, digest: model.pulled.digest, consumers: [{ consumer: expect.stringContaining('Kyverno 1.19'), form: 'sigstore-bundle', ok: true }] });
    expect(kyverno.consumers[0]!.referrer).not.toBe(sig.digest);

    // policy-controller v0.15.1 pkg/webhook/validator.go: a keyless authority without signatureFormat reads the simple signature.
    const pc = (await handoff(options({ policy: 'policy-controller' }))).verification.admission!;
    expect(pc).toMatchObject({ ok: true, digest: model.pulled.digest, consumers: [{ consumer: expect.stringContaining('policy-controller'), form: 'simple-signing', ok: true }] });
    expect(pc.consumers[0]!.referrer).toBe(sig.digest);

    // Flux 2.8 (source-controller 1.8 internal/oci/cosign) reads the bundle on the ModelPack manifest its OCIRepository pins.
    const flux = (await handoff(options({ policy: 'policy-controller', delivery: 'flux' }))).verification.admission!;
    expect(flux.consumers.map((c) => [c.form, c.digest, c.ok])).toEqual([['simple-signing', model.pulled.digest, true], ['sigstore-bundle', model.manifest.digest, true]]);

    // Another identity: no signature is trusted, whatever its form.
    await expect(handoff(options({ policy: 'policy-controller', verification: { kind: 'keyless', identity: /^attacker@example\.test$/, issuer: ISSUER, trustedRoot: sigstore.trustedRoot } })))
      .rejects.toMatchObject({ code: 'VERIFY_FAILED' });

    await deleteManifest(sig.digest);
    await expect(model.target.resolve(signatureTagOf(model.pulled.digest))).rejects.toMatchObject({ code: 'OCI_NOT_FOUND' });

    const refused = handoff(options({ policy: 'policy-controller' }));
    await expect(refused).rejects.toMatchObject({ code: 'VERIFY_FAILED' });
    const message = await refused.then(() => '', (err: Error) => err.message);
    expect(message).toMatch(/policy-controller ClusterImagePolicy verifies sha256:[0-9a-f]{64} and reads cosign's simple-signing signature/);
    expect(message).toContain(model.pulled.digest);
    expect(message).toContain('it has only the cosign v3 Sigstore bundle referrer');
    await expect(handoff(options({ versions: { kyverno: parseRelease('1.18', '--kyverno') } }))).rejects.toMatchObject({ code: 'VERIFY_FAILED', message: expect.stringContaining('Kyverno 1.18 (type: Cosign)') });
    expect((await handoff(options({}))).verification.admission).toMatchObject({ ok: true, consumers: [{ form: 'sigstore-bundle', ok: true }] });
  }, 120_000);
});
