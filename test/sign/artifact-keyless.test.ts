import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { packModel } from '../../modules/modelpack/index.js';
import { LayoutTarget, copy, openReference } from '../../modules/oci/index.js';
import { OMS_PREDICATE_TYPE, identityFromEnvironment, type VerificationPolicy } from '../../modules/sign/index.js';
import { COSIGN_SIGN_PREDICATE_TYPE, signArtifact, verifyArtifact } from '../../modules/sign/artifact/index.js';
import { main } from '../../modules/cli/main.js';
import { sampleModel, tempDir } from '../modelpack/helpers.js';
import { idToken, startMockSigstore, type MockSigstore } from './artifact-sigstore.js';

const registry = inject('registry');
const ISSUER = 'https://issuer.example.test';
const SUBJECT = 'engineer@example.test';
const token = idToken({ iss: ISSUER, sub: SUBJECT, email: SUBJECT, email_verified: true, aud: 'sigstore' });

async function packedLayout(): Promise<{ base: string; layout: LayoutTarget }> {
  const base = await tempDir('sign-artifact-keyless-');
  const spec = await sampleModel(join(base, 'model'));
  const layout = new LayoutTarget(join(base, 'layout'));
  await layout.init();
  await packModel(spec, layout, { tag: 'v1' });
  return { base, layout };
}

describe('keyless signing of packed artifacts against @sigstore/mock Fulcio and Rekor on 127.0.0.1', () => {
  let sigstore: MockSigstore;
  beforeAll(async () => {
    sigstore = await startMockSigstore();
  });
  afterAll(() => sigstore?.close());

  const policy = (identity: RegExp): VerificationPolicy => ({ kind: 'keyless', identity, issuer: ISSUER, trustedRoot: sigstore.trustedRoot });

  it('signs with a Fulcio certificate and Rekor entries; the identity passes and another identity fails', async () => {
    const { layout } = await packedLayout();
    const signed = await signArtifact(layout, 'v1', {
      kind: 'keyless',
      identity: identityFromEnvironment({ SIGSTORE_ID_TOKEN: token }),
      fulcioURL: sigstore.fulcioURL,
      rekorURL: sigstore.rekorURL,
      rekorEntryType: 'intoto',
    });
    expect(signed.attached.filter((a) => !a.tag).map((a) => a.predicateType)).toEqual([OMS_PREDICATE_TYPE, COSIGN_SIGN_PREDICATE_TYPE]);
    const ok = await verifyArtifact(layout, 'v1', policy(/engineer@example\.test/));
    expect(ok.reason).toBeUndefined();
    // The two bundles and cosign's tag signature, each under the Fulcio identity.
    expect(ok.bundles.map((b) => b.checks.find((c) => c.name === 'identity')?.ok)).toEqual([true, true, true]);
    const wrong = await verifyArtifact(layout, 'v1', policy(/attacker@example\.test/));
    expect(wrong.ok).toBe(false);
    expect(wrong.reason).toMatch(/identity "engineer@example.test" does not match/);
  });

  it('signs a registry reference from the command line and verifies it offline with the trusted root', async () => {
    const { base, layout } = await packedLayout();
    const reference = `${registry}/sign-artifact/keyless-${Date.now().toString(36)}:v1`;
    const opened = await openReference(reference, { cwd: base, env: {}, plainHttp: true });
    await copy(layout, 'v1', opened.target, 'v1');
    const rootFile = join(base, 'trusted_root.json');
    await writeFile(rootFile, JSON.stringify(sigstore.trustedRoot));
    const env = { SIGSTORE_ID_TOKEN: token, MODELSHIP_HOME: join(base, 'home') };
    const cli = async (argv: string[]) => {
      const stdout = new PassThrough();
      const chunks: Buffer[] = [];
      stdout.on('data', (c: Buffer) => chunks.push(c));
      const code = await main(argv, { stdout, stderr: new PassThrough(), env, cwd: base });
      return { code, out: Buffer.concat(chunks).toString() };
    };
    const signed = await cli(['sign', reference, '--plain-http', '--keyless', '--fulcio-url', sigstore.fulcioURL, '--rekor-url', sigstore.rekorURL, '--rekor-entry-type', 'intoto', '--json']);
    expect(signed.code).toBe(0);
    expect(JSON.parse(signed.out)).toMatchObject({ method: 'keyless', resources: 7 });
    expect(signed.out).not.toContain(token);
    const verified = await cli(['verify', reference, '--plain-http', '--cert-identity', 'engineer@example\\.test', '--cert-oidc-issuer', ISSUER, '--trusted-root', rootFile]);
    expect(verified.out).toMatch(/ok +identity +signed by engineer@example.test/);
    expect(verified.code).toBe(0);
    const mismatch = await cli(['verify', reference, '--plain-http', '--cert-identity', 'ci@example\\.test', '--cert-oidc-issuer', ISSUER, '--trusted-root', rootFile, '--json']);
    expect(mismatch.code).toBe(8);
    expect(JSON.parse(mismatch.out).reason).toMatch(/does not match/);
  });
});
