import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { createHash, generateKeyPairSync } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import * as sigstoreMock from '@sigstore/mock';
import { identityFromEnvironment, signModelFolder, verifyModelFolder, type VerificationPolicy } from '../../modules/sign/index.js';
import { makeModel } from './helpers.js';
import { runCli } from '../helpers/cli.js';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const { fulcioHandler, initializeCA, initializeCTLog, initializeTLog, rekorHandler } = sigstoreMock;
type Handler = ReturnType<typeof rekorHandler>;

const ISSUER = 'https://issuer.example.test';
const SUBJECT = 'engineer@example.test';
const b64 = (b: ArrayBufferView | Buffer) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');

/** An OIDC token as Fulcio reads it; the mock does not check the signature. */
function idToken(claims: Record<string, unknown>): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'ES256', typ: 'JWT' })}.${part(claims)}.${Buffer.from('sig').toString('base64url')}`;
}

function serve(handlers: Handler[]): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const handler = handlers.find((h) => req.method === 'POST' && req.url === h.path);
      if (!handler) {
        res.writeHead(404).end();
        return;
      }
      void handler.fn(Buffer.concat(chunks).toString('utf8')).then(({ statusCode, response, contentType }) => {
        res.writeHead(statusCode, { 'Content-Type': contentType ?? 'text/plain' });
        res.end(typeof response === 'string' ? response : Buffer.from(response.buffer, response.byteOffset, response.byteLength));
      });
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })));
}

// The mock Rekor stores proposed entries as they come, which suits `intoto` (dsse needs server-side canonicalization).
describe('keyless signing against @sigstore/mock Fulcio and Rekor on 127.0.0.1', () => {
  let fulcio: { server: Server; url: string };
  let rekor: { server: Server; url: string };
  let trustedRoot: unknown;

  beforeAll(async () => {
    const clock = new Date();
    const keyPair = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const ctLog = await initializeCTLog(keyPair(), clock);
    const ca = await initializeCA(keyPair(), ctLog, clock);
    // The checkpoint names the log by host:port, so the server must exist before the log.
    const rekorHandlers: Handler[] = [];
    rekor = await serve(rekorHandlers);
    const tlog = await initializeTLog(rekor.url, keyPair(), clock);
    rekorHandlers.push(rekorHandler(tlog));
    fulcio = await serve([fulcioHandler(ca)]);
    const validFor = { start: new Date(clock.getTime() - 60_000).toISOString() };
    trustedRoot = {
      mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
      tlogs: [
        {
          baseUrl: rekor.url,
          hashAlgorithm: 'SHA2_256',
          publicKey: { rawBytes: b64(tlog.publicKey), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor },
          logId: { keyId: createHash('sha256').update(tlog.publicKey).digest('base64') },
        },
      ],
      certificateAuthorities: [
        { subject: { organization: 'sigstore.mock', commonName: 'sigstore' }, uri: fulcio.url, certChain: { certificates: [{ rawBytes: b64(ca.rootCertificate) }] }, validFor },
      ],
      ctlogs: [
        {
          baseUrl: 'https://ctfe.example.test',
          hashAlgorithm: 'SHA2_256',
          publicKey: { rawBytes: b64(ctLog.publicKey), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor },
          logId: { keyId: b64(ctLog.logID) },
        },
      ],
      timestampAuthorities: [],
    };
  });

  afterAll(() => {
    fulcio?.server.close();
    rekor?.server.close();
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
