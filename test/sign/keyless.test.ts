import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { identityFromEnvironment, signModelFolder, verifyModelFolder, type VerificationPolicy } from '../../modules/sign/index.js';
import { makeModel } from './helpers.js';
import { runCli } from '../helpers/cli.js';
import { idToken, startMockSigstore, type MockSigstore } from './artifact-sigstore.js';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ISSUER = 'https://issuer.example.test';
const SUBJECT = 'engineer@example.test';

// The mock Rekor stores proposed entries as they come, which suits `intoto` (dsse needs server-side canonicalization).
describe('keyless signing against @sigstore/mock Fulcio and Rekor on 127.0.0.1', () => {
  let sigstore: MockSigstore;
  let fulcio: { url: string };
  let rekor: { url: string };
  let trustedRoot: unknown;

  beforeAll(async () => {
    sigstore = await startMockSigstore();
    fulcio = { url: sigstore.fulcioURL };
    rekor = { url: sigstore.rekorURL };
    trustedRoot = sigstore.trustedRoot;
  });

  afterAll(() => {
    sigstore?.close();
  });

  it('signs with a Fulcio certificate and a Rekor entry; the identity check passes and a wrong one fails', async () => {
    const dir = await makeModel();
    const token = idToken({ iss: ISSUER, sub: SUBJECT, email: SUBJECT, email_verified: true, aud: 'sigstore' });
    const signed = await signModelFolder(dir, {
      signing: { kind: 'keyless', identity: identityFromEnvironment({ SIGSTORE_ID_TOKEN: token }), fulcioURL: fulcio.url, rekorURL: rekor.url, rekorEntryType: 'intoto' },
    });
    expect(signed.bundle.verificationMaterial.certificate?.rawBytes).toBeTruthy();
    expect(signed.bundle.verificationMaterial.tlogEntries).toHaveLength(1);
    const policy = (identity: RegExp, issuer = ISSUER): VerificationPolicy => ({ kind: 'keyless', identity, issuer, trustedRoot });
    const ok = await verifyModelFolder(dir, signed.bundlePath, policy(/engineer@example\.test/));
    expect(ok.reason).toBeUndefined();
    expect(ok.checks.map((c) => c.name)).toContain('identity');
    const wrong = await verifyModelFolder(dir, signed.bundlePath, policy(/attacker@example\.test/));
    expect(wrong.ok).toBe(false);
    expect(wrong.reason).toMatch(/identity "engineer@example.test" does not match/);
    const wrongIssuer = await verifyModelFolder(dir, signed.bundlePath, policy(/engineer@example\.test/, 'https://token.actions.githubusercontent.com'));
    expect(wrongIssuer.reason).toMatch(/issuer/);
  });

  it('fails clearly without an OIDC token', async () => {
    const dir = await makeModel();
    await expect(
      signModelFolder(dir, { signing: { kind: 'keyless', identity: identityFromEnvironment({}), fulcioURL: fulcio.url, rekorURL: rekor.url } }),
    ).rejects.toThrow(/SIGSTORE_ID_TOKEN/);
  });

  it('takes the token from GitHub Actions ambient credentials with audience sigstore', async () => {
    const token = idToken({ iss: ISSUER, sub: SUBJECT });
    const seen: string[] = [];
    const gha = createServer((req, res) => {
      seen.push(`${req.url} ${req.headers.authorization}`);
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ value: token }));
    });
    await new Promise<void>((r) => gha.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(gha.address() as AddressInfo).port}/token?api-version=2.0`;
      const got = await identityFromEnvironment({ ACTIONS_ID_TOKEN_REQUEST_URL: url, ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'runner-secret' }).getToken();
      expect(got).toBe(token);
      expect(seen).toEqual(['/token?api-version=2.0&audience=sigstore Bearer runner-secret']);
    } finally {
      gha.close();
    }
  });

  it('signs keyless from the command line with the token from the environment, and verifies offline', async () => {
    const dir = await makeModel();
    const token = idToken({ iss: ISSUER, sub: SUBJECT, email: SUBJECT, email_verified: true, aud: 'sigstore' });
    const rootFile = join(await mkdtemp(join(tmpdir(), 'sign-root-')), 'trusted_root.json');
    await writeFile(rootFile, JSON.stringify(trustedRoot));
    const cli = async (argv: string[]) => {
      const { code, stdout: out } = await runCli(argv, { env: { SIGSTORE_ID_TOKEN: token }, cwd: dir });
      return { code, out };
    };
    const signed = await cli(['sign', '.', '--keyless', '--fulcio-url', fulcio.url, '--rekor-url', rekor.url, '--rekor-entry-type', 'intoto', '--json']);
    expect(signed.code).toBe(0);
    expect(JSON.parse(signed.out)).toMatchObject({ method: 'keyless' });
    expect(signed.out).not.toContain(token);
    const verified = await cli(['verify', '.', '--cert-identity', 'engineer@example\\.test', '--cert-oidc-issuer', ISSUER, '--trusted-root', rootFile]);
    expect(verified.out).toMatch(/ok +identity +signed by engineer@example.test/);
    expect(verified.code).toBe(0);
  });
});
