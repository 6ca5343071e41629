/**
 * One HTTP exchange over node:http/https with streamed bodies: HTTPS by default, a custom CA when
 * given, plain HTTP only when asked. Network and TLS failures become OCI_NETWORK / OCI_TLS.
 */
import type * as http from 'node:http';
import type * as https from 'node:https';
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import type * as tls from 'node:tls';
import { ModelshipError } from '../../errors/index.js';
import { redactUrl } from './errors.js';

export interface TransportOptions {
  plainHttp?: boolean;
  /** PEM bundle trusted in addition to the system roots. */
  caCertPem?: string;
  /** Idle time on a socket before the exchange fails, in ms. */
  timeoutMs?: number;
}

export interface WireRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  /** Streamed as it is read; the caller sets Content-Length. */
  body?: Uint8Array | Readable;
  signal?: AbortSignal;
}

export interface WireResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: http.IncomingMessage;
  url: URL;
}

const DEFAULT_TIMEOUT_MS = 120_000;

/** OpenSSL verification failures a custom CA would fix. */
const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'EPROTO',
  'ERR_SSL_WRONG_VERSION_NUMBER',
]);

/** Connection failures worth another try (the request may not have reached the server whole). */
const RETRYABLE_NETWORK_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNREFUSED', 'ETIMEDOUT', 'ECONNABORTED', 'EAI_AGAIN', 'UND_ERR_SOCKET']);

export function isRetryableNetworkError(err: unknown): boolean {
  if (!(err instanceof ModelshipError) || err.code !== 'OCI_NETWORK') return false;
  const cause = err.cause as NodeJS.ErrnoException | undefined;
  return (cause?.code !== undefined && RETRYABLE_NETWORK_CODES.has(cause.code)) || /socket hang up|aborted|timed out/i.test(cause?.message ?? '');
}

const require = createRequire(import.meta.url);

/** node:http, node:https and node:tls load with the first transport: commands that stay local never need them. */
function netModules(): { http: typeof http; https: typeof https; tls: typeof tls } {
  return { http: require('node:http') as typeof http, https: require('node:https') as typeof https, tls: require('node:tls') as typeof tls };
}

export class Transport {
  readonly scheme: 'http' | 'https';
  private readonly agent: http.Agent;
  private readonly timeoutMs: number;
  private readonly hasCustomCa: boolean;

  constructor(options: TransportOptions = {}) {
    this.scheme = options.plainHttp ? 'http' : 'https';
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.hasCustomCa = options.caCertPem !== undefined;
    const { http, https, tls } = netModules();
    // node's `ca` replaces the system roots, so the custom CA is added to them.
    this.agent = options.plainHttp
      ? new http.Agent({ keepAlive: true })
      : new https.Agent({ keepAlive: true, ...(options.caCertPem ? { ca: [...tls.rootCertificates, options.caCertPem] } : {}) });
  }

  /** Send one request; resolves once the response headers arrived (the body streams after). */
  send(request: WireRequest): Promise<WireResponse> {
    const { url } = request;
    const { http, https } = netModules();
    const lib = url.protocol === 'https:' ? https : http;
    // A redirect may leave the registry (blob storage); those hosts get the default agent.
    const agent = url.protocol === `${this.scheme}:` ? this.agent : undefined;
    return new Promise<WireResponse>((resolve, reject) => {
      let settled = false;
      const fail = (err: unknown) => {
        if (settled) return;
        settled = true;
        reject(this.translate(err, request));
      };
      const req = lib.request(url, { method: request.method, headers: request.headers, ...(agent ? { agent } : {}), ...(request.signal ? { signal: request.signal } : {}) });
      req.setTimeout(this.timeoutMs, () => req.destroy(Object.assign(new Error(`no data for ${this.timeoutMs} ms`), { code: 'ETIMEDOUT' })));
      req.on('error', fail);
      req.on('response', (res) => {
        settled = true;
        res.setTimeout(this.timeoutMs, () => res.destroy(Object.assign(new Error(`no data for ${this.timeoutMs} ms`), { code: 'ETIMEDOUT' })));
        // A HEAD answer has no body, but until it is read to its end the socket stays busy and keeps the process alive.
        if (request.method === 'HEAD') res.resume();
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res, url });
      });
      const body = request.body;
      if (body === undefined) req.end();
      else if (body instanceof Uint8Array) req.end(body);
      else {
        // The body's own failure (e.g. a digest mismatch while verifying) wins over the socket's.
        body.once('error', (err) => {
          fail(err);
          req.destroy(err);
        });
        req.once('close', () => {
          if (!body.readableEnded) body.destroy();
        });
        body.pipe(req);
      }
    });
  }

  close(): void {
    this.agent.destroy();
  }

  private translate(err: unknown, request: WireRequest): unknown {
    if (err instanceof ModelshipError) return err;
    const e = err as NodeJS.ErrnoException;
    const where = `${request.method} ${redactUrl(request.url)}`;
    if (e?.name === 'AbortError') return new ModelshipError('OCI_NETWORK', `${where} was cancelled`, { cause: err });
    if (e?.code && TLS_CODES.has(e.code)) {
      const hint = this.hasCustomCa
        ? 'the certificate does not chain to the CA given with --ca-file, or does not name this host'
        : 'if the registry uses a private CA, pass its certificate with --ca-file FILE (or use --plain-http for a plain-HTTP registry)';
      return new ModelshipError('OCI_TLS', `${where}: TLS verification failed (${e.code}: ${e.message}); ${hint}`, { cause: err, details: { url: redactUrl(request.url), tlsCode: e.code } });
    }
    const reason = e?.code ? `${e.code}: ${e.message}` : describe(err);
    return new ModelshipError('OCI_NETWORK', `${where} failed: ${reason}; check that the registry is reachable`, { cause: err, details: { url: redactUrl(request.url) } });
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}


/** Read a response body as text, at most `limit` bytes (error bodies, token answers). */
export async function readText(body: Readable, limit = 64 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    const b = chunk as Buffer;
    if (total + b.length > limit) {
      chunks.push(b.subarray(0, limit - total));
      body.destroy();
      break;
    }
    chunks.push(b);
    total += b.length;
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Drop a body we do not need so the socket returns to the pool. */
export function discard(body: Readable): void {
  body.resume();
  body.on('error', () => {});
}
