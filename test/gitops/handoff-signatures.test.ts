/**
 * The hand-off checks, for each verifier it writes for, that the signature form that verifier reads
 * is on the digest it looks at: policy-controller and Kyverno `type: Cosign` read cosign's
 * simple-signing `.sig`, Kyverno 1.19 `type: SigstoreBundle` and Flux 2.8 the cosign v3 bundle,
 * Flux before 2.8 only the `.sig` tag.
 */
import { createPublicKey } from 'node:crypto';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { handoff, type HandoffOptions } from '../../modules/gitops/index.js';
import { parseRelease } from '../../modules/gitops/compat.js';
import { signArtifact } from '../../modules/sign/artifact/index.js';
import { pushModel, signingKeys, signModel, type PushedModel, type SigningKeys } from './helpers.js';

const registry = inject('registry');

let keys: SigningKeys;
/** Signed with `--no-simple-signing`: the cosign v3 bundle referrers only. */
let bundleOnly: PushedModel;
/** Signed as `modelship sign` does by default: bundles and the `.sig` tag signature. */
let both: PushedModel;

beforeAll(async () => {
  keys = await signingKeys();
  bundleOnly = await pushModel(registry, { format: 'gguf', modelcar: true, repository: 'gitops/sigforms-bundle-only', seed: 31 });
  await signArtifact(bundleOnly.target, bundleOnly.tag, { kind: 'key', privateKey: keys.privateKey }, { repository: bundleOnly.repository, attestDocuments: false, simpleSigning: false });
  both = await pushModel(registry, { format: 'gguf', modelcar: true, repository: 'gitops/sigforms-both', seed: 32 });
  await signModel(both, keys);
}, 180_000);

function options(model: PushedModel, extra: Partial<HandoffOptions>): HandoffOptions {
  return {
    target: model.target, registry: model.registry, repository: model.repository, selector: model.tag,
    namespace: 'models', env: 'dev', delivery: 'argocd', policy: 'kyverno',
    identity: { kind: 'key', publicKeyPem: keys.publicPem },
    verification: { kind: 'key', publicKey: createPublicKey(keys.publicPem) },
    gitops: { repository: 'https://github.com/acme/gitops.git', branch: 'main', root: 'models', author: { name: 'ci', email: 'ci@example.com' } },
    check: true,
    insecureRegistry: true,
    ...extra,
  };
}

/** The error a refused hand-off threw. */
async function refusal(run: Promise<unknown>): Promise<Error> {
  return run.then(() => { throw new Error('the hand-off was accepted'); }, (err: Error) => err);
}

describe('hand-off signature forms per verifier', () => {
  it('refuses a bundle-only artifact for policy-controller, naming the index digest, the missing .sig and the fix', async () => {
    // policy-controller v0.15.1 pkg/webhook/validator.go: a key authority without signatureFormat reads cosign's simple signature.
    const run = handoff(options(bundleOnly, { policy: 'policy-controller' }));
    await expect(run).rejects.toMatchObject({ code: 'VERIFY_FAILED' });
    const message = (await refusal(run)).message;
    expect(message).toContain('policy-controller');
    expect(message).toContain(bundleOnly.pulled.digest);
    expect(message).toContain('sha256-<hex>.sig');
    expect(message).toContain('without --no-simple-signing');
  });

  it('refuses a bundle-only artifact for Kyverno 1.18 (type: Cosign) and accepts it for Kyverno 1.19 (SigstoreBundle)', async () => {
    // Kyverno 1.13–1.18 run the policy as type: Cosign, which reads the .sig signature (pkg/image/verifiers/cpol/cosign).
    await expect(handoff(options(bundleOnly, { versions: { kyverno: parseRelease('1.18', '--kyverno') } })))
      .rejects.toMatchObject({ code: 'VERIFY_FAILED', message: expect.stringMatching(/Kyverno 1\.18 \(type: Cosign\).*simple-signing/) });
    const accepted = await handoff(options(bundleOnly, {}));
    expect(accepted.verification.admission).toMatchObject({ ok: true, digest: bundleOnly.pulled.digest, consumers: [{ form: 'sigstore-bundle', ok: true }] });
  });

  it('checks Flux on the digest its OCIRepository pins: the .sig before 2.8, the bundle from 2.8', async () => {
    const old = handoff(options(bundleOnly, { delivery: 'flux', versions: { flux: parseRelease('2.7', '--flux-version') } }));
    await expect(old).rejects.toMatchObject({ code: 'VERIFY_FAILED', message: expect.stringContaining('Flux 2.7 OCIRepository') });
    const flux = (await handoff(options(bundleOnly, { delivery: 'flux' }))).verification.admission!.consumers[1]!;
    expect(flux).toMatchObject({ consumer: 'Flux 2.8 OCIRepository', form: 'sigstore-bundle', ok: true });
    // The ModelPack manifest inside the index, not the index the Pod names.
    expect(flux.digest).not.toBe(bundleOnly.pulled.digest);
    expect((await refusal(old)).message).toContain(flux.digest);
  });

  it('accepts an artifact signed by default for every verifier and release', async () => {
    const cases: Partial<HandoffOptions>[] = [
      { policy: 'policy-controller' },
      { policy: 'policy-controller', delivery: 'flux', versions: { flux: parseRelease('2.7', '--flux-version') } },
      { versions: { kyverno: parseRelease('1.18', '--kyverno') } },
      { delivery: 'flux' },
      {},
    ];
    for (const extra of cases) {
      const result = await handoff(options(both, extra));
      expect(result.verification.admission?.ok, JSON.stringify(extra)).toBe(true);
      for (const c of result.verification.admission!.consumers) expect(c.referrer, c.consumer).toBeTruthy();
    }
  });

  it('refuses a default-signed artifact whose signatures another key made', async () => {
    const other = await signingKeys();
    await expect(handoff(options(both, { policy: 'policy-controller', identity: { kind: 'key', publicKeyPem: other.publicPem }, verification: { kind: 'key', publicKey: createPublicKey(other.publicPem) } })))
      .rejects.toMatchObject({ code: 'VERIFY_FAILED' });
  });
});
