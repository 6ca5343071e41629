/**
 * @sigstore/mock Fulcio and Rekor served on 127.0.0.1, with the trusted root that verifies what they
 * issue offline, and OIDC tokens as Fulcio reads them.
 */
import { createServer, type Server } from 'node:http';
import { createHash, generateKeyPairSync } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import * as sigstoreMock from '@sigstore/mock';

const { fulcioHandler, initializeCA, initializeCTLog, initializeTLog, rekorHandler } = sigstoreMock;
type Handler = ReturnType<typeof rekorHandler>;

export interface MockSigstore {
  fulcioURL: string;
  rekorURL: string;
  trustedRoot: unknown;
  close(): void;
}

const b64 = (b: ArrayBufferView | Buffer) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');

/** An OIDC token as Fulcio reads it; the mock does not check its signature. */
export function idToken(claims: Record<string, unknown>): string {
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

/** The mock Rekor stores proposed entries as they come: sign with entry type `intoto`. */
export async function startMockSigstore(): Promise<MockSigstore> {
  const clock = new Date();
  const keyPair = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ctLog = await initializeCTLog(keyPair(), clock);
  const ca = await initializeCA(keyPair(), ctLog, clock);
  // The mock's root certificate starts when it is made, after `clock` was read: move the one clock (shared by
  // reference) past it, or a loaded machine issues leaves older than their root and chains fail to verify.
  clock.setTime(Date.now());
  // The checkpoint names the log by host:port, so the server must exist before the log.
  const rekorHandlers: Handler[] = [];
  const rekor = await serve(rekorHandlers);
  const tlog = await initializeTLog(rekor.url, keyPair(), clock);
  rekorHandlers.push(rekorHandler(tlog));
  const fulcio = await serve([fulcioHandler(ca)]);
  const validFor = { start: new Date(clock.getTime() - 60_000).toISOString() };
  const trustedRoot = {
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
  return {
    fulcioURL: fulcio.url,
    rekorURL: rekor.url,
    trustedRoot,
    close() {
      fulcio.server.close();
      rekor.server.close();
    },
  };
}
