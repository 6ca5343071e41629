/**
 * The HTTP client for one registry: authentication on 401, retries with backoff and jitter on 429,
 * 5xx and dropped connections (only for requests that can be sent again), and redirects for reads.
 */
import type { Readable } from 'node:stream';
import { ModelshipError } from '../../errors/index.js';
import { silentReporter, type Reporter } from '../../progress/index.js';
import { AuthSession, parseChallenges } from './auth.js';
import type { CredentialProvider } from './credentials.js';
import { RegistryError, parseSpecErrors, redactUrl } from './errors.js';
import { Transport, discard, isRetryableNetworkError, readText, type TransportOptions, type WireResponse } from './transport.js';

export interface RetryOptions {
  /** Tries in all, the first included (default 5). */
  attempts?: number;
  /** First backoff step in ms (default 200); doubles each time, with full jitter. */
  baseDelayMs?: number;
}

export interface ClientOptions extends TransportOptions {
  credentials?: CredentialProvider;
  reporter?: Reporter;
  retry?: RetryOptions;
  /** Cancels every exchange of this client (e.g. on Ctrl-C). */
  signal?: AbortSignal;
}

export interface RegistryRequest {
  method: string;
  /** A path under the registry (`/v2/...`) or an absolute URL (upload locations). */
  url: string | URL;
  headers?: Record<string, string>;
  /** A stream body is sent once: failures are handled by the caller's resume logic. */
  body?: Uint8Array | Readable;
  /** Token scopes the request needs, e.g. `repository:a/b:pull`. */
  scopes: string[];
  /** Statuses the caller handles; any other becomes a RegistryError. */
  expect: number[];
  /** What we were doing, for messages: "push blob sha256:…". */
  context?: string;
  /** Set false for requests that must not be repeated blindly. */
  retry?: boolean;
  signal?: AbortSignal;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;
const MAX_RETRY_AFTER_MS = 60_000;
/** A plain 500 is often a real bug on the server: retried less than overload answers. */
const MAX_500_RETRIES = 2;

export class RegistryClient {
  readonly base: URL;
  readonly auth: AuthSession;
  readonly reporter: Reporter;
  private readonly transport: Transport;
  private readonly attempts: number;
  private readonly baseDelayMs: number;
  private readonly signal: AbortSignal | undefined;

  constructor(readonly registry: string, options: ClientOptions = {}) {
    this.transport = new Transport(options);
    // Docker Hub's name and its API host differ; credentials stay keyed by the name.
    this.base = new URL(`${this.transport.scheme}://${registry === 'docker.io' ? 'registry-1.docker.io' : registry}`);
    this.auth = new AuthSession(registry, this.transport, options.credentials);
    this.reporter = options.reporter ?? silentReporter;
    this.attempts = Math.max(1, options.retry?.attempts ?? 5);
    this.baseDelayMs = options.retry?.baseDelayMs ?? 200;
    this.signal = options.signal;
  }

  url(pathOrUrl: string | URL): URL {
    return new URL(String(pathOrUrl), this.base);
  }

  /** Send a request; resolves with the response when its status is one the caller expects. */
  async send(request: RegistryRequest): Promise<WireResponse> {
    const replayable = !(request.body !== undefined && !(request.body instanceof Uint8Array));
    const mayRetry = replayable && request.retry !== false;
    const signal = request.signal ?? this.signal;
    if (!replayable) await this.auth.ensureFresh(request.scopes);
    let url = this.url(request.url);
    let authRetried = false;
    let redirects = 0;
    let failures = 0;
    let serverErrors = 0;
    for (;;) {
      const sameRegistry = url.origin === this.base.origin;
      const authorization = sameRegistry ? this.auth.headerFor(request.scopes) : undefined;
      const headers: Record<string, string> = { 'User-Agent': 'modelship', ...request.headers };
      if (authorization) headers['Authorization'] = authorization;
      let res: WireResponse;
      try {
        res = await this.transport.send({ method: request.method, url, headers, ...(request.body !== undefined ? { body: request.body } : {}), ...(signal ? { signal } : {}) });
      } catch (err) {
        if (mayRetry && !signal?.aborted && isRetryableNetworkError(err) && ++failures < this.attempts) {
          await this.pause(this.backoff(failures), `${request.method} ${redactUrl(url)}: ${(err as Error).message}`);
          continue;
        }
        throw err;
      }
      const { status } = res;
      if (status === 401 && sameRegistry && replayable && !authRetried) {
        const challenge = res.headers['www-authenticate'];
        discard(res.body);
        authRetried = true;
        if (await this.auth.authenticate(challenge, request.scopes, authorization)) continue;
        const insufficient = parseChallenges(challenge).some((c) => c.params['error'] === 'insufficient_scope');
        throw new RegistryError(request.method, url, status, [], request.context, insufficient ? 'OCI_DENIED' : undefined);
      }
      if (REDIRECTS.has(status) && (request.method === 'GET' || request.method === 'HEAD') && res.headers.location && !request.expect.includes(status)) {
        discard(res.body);
        if (++redirects > MAX_REDIRECTS) throw new ModelshipError('OCI_REGISTRY', `${request.method} ${redactUrl(this.url(request.url))}: more than ${MAX_REDIRECTS} redirects`);
        url = new URL(res.headers.location, url);
        continue;
      }
      if (request.expect.includes(status)) return res;
      const retryable = status === 429 || status === 502 || status === 503 || status === 504 || (status === 500 && serverErrors < MAX_500_RETRIES);
      if (mayRetry && retryable && ++failures < this.attempts) {
        if (status === 500) serverErrors++;
        const wait = retryAfterMs(res.headers['retry-after'], Date.now()) ?? this.backoff(failures);
        discard(res.body);
        await this.pause(wait, `${request.method} ${redactUrl(url)} answered ${status}`);
        continue;
      }
      throw await this.failure(request, url, res);
    }
  }

  /** The response as a RegistryError, with the spec error codes from its body. */
  async failure(request: Pick<RegistryRequest, 'method' | 'context'>, url: URL, res: WireResponse): Promise<RegistryError> {
    // The body is always drained: an unread one pins its socket (and the process) until the idle timeout.
    let text = '';
    if (request.method === 'HEAD') discard(res.body);
    else text = await readText(res.body).catch(() => '');
    // Authenticated but not allowed: the token lacked the scope (token.md "insufficient_scope").
    const insufficient = res.status === 401 && parseChallenges(res.headers['www-authenticate']).some((c) => c.params['error'] === 'insufficient_scope');
    return new RegistryError(request.method, url, res.status, parseSpecErrors(text), request.context, insufficient ? 'OCI_DENIED' : undefined);
  }

  close(): void {
    this.transport.close();
  }

  private backoff(failures: number): number {
    const ceiling = this.baseDelayMs * 2 ** (failures - 1);
    return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
  }

  private async pause(ms: number, why: string): Promise<void> {
    this.reporter.note(`${why}; retrying in ${(ms / 1000).toFixed(1)} s`);
    await new Promise((resolve) => setTimeout(resolve, ms));
  }
}

/** `Retry-After` as seconds or an HTTP date, capped; undefined when absent or unreadable. */
export function retryAfterMs(header: string | string[] | undefined, now: number): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  const ms = /^\d+$/.test(value.trim()) ? Number(value.trim()) * 1000 : Date.parse(value) - now;
  if (!Number.isFinite(ms)) return undefined;
  return Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS);
}
