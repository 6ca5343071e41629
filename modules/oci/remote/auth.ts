/**
 * Registry authentication: anonymous first, then what `WWW-Authenticate` asks for: Basic, or the
 * Bearer token flow (realm/service/scope, distribution's token.md and oauth.md), tokens cached per scope.
 */
import { ModelshipError } from '../../errors/index.js';
import type { Credential, CredentialProvider } from './credentials.js';
import { redactUrl } from './errors.js';
import { readText, type Transport } from './transport.js';

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** RFC 7235 challenges: several per header, quoted values may hold commas and escaped quotes. */
export function parseChallenges(header: string | undefined): Challenge[] {
  if (!header) return [];
  const challenges: Challenge[] = [];
  let i = 0;
  const skip = (re: RegExp) => {
    while (i < header.length && re.test(header[i]!)) i++;
  };
  const token = (): string => {
    const start = i;
    while (i < header.length && /[!#$%&'*+.^_`|~0-9A-Za-z-]/.test(header[i]!)) i++;
    return header.slice(start, i);
  };
  while (i < header.length) {
    skip(/[\s,]/);
    const scheme = token();
    if (!scheme) break;
    const challenge: Challenge = { scheme: scheme.toLowerCase(), params: {} };
    challenges.push(challenge);
    for (;;) {
      skip(/[\s,]/);
      const mark = i;
      const key = token();
      skip(/\s/);
      if (!key || header[i] !== '=') {
        i = mark; // not a parameter: the next challenge starts here
        break;
      }
      i++;
      skip(/\s/);
      let value = '';
      if (header[i] === '"') {
        i++;
        while (i < header.length && header[i] !== '"') {
          if (header[i] === '\\' && i + 1 < header.length) i++;
          value += header[i++];
        }
        i++;
      } else {
        const start = i;
        while (i < header.length && header[i] !== ',' && !/\s/.test(header[i]!)) i++;
        value = header.slice(start, i);
      }
      challenge.params[key.toLowerCase()] = value;
    }
    if (i === header.length) break;
  }
  return challenges;
}

/** The scope that reads a repository, and the one that writes it (`pull,push`). */
export function repositoryScope(repository: string, actions: 'pull' | 'push' | 'delete'): string {
  const list = actions === 'push' ? 'pull,push' : actions;
  return `repository:${repository}:${list}`;
}

/** Merge scopes that name the same resource: `repository:a:pull` + `repository:a:push` → `repository:a:pull,push`. */
export function mergeScopes(scopes: string[]): string[] {
  const byResource = new Map<string, Set<string>>();
  for (const scope of scopes) {
    const at = scope.lastIndexOf(':');
    if (at < 0) continue;
    const resource = scope.slice(0, at);
    const actions = byResource.get(resource) ?? new Set<string>();
    for (const a of scope.slice(at + 1).split(',')) if (a) actions.add(a);
    byResource.set(resource, actions);
  }
  return [...byResource.entries()].map(([resource, actions]) => `${resource}:${[...actions].sort().join(',')}`).sort();
}

interface CachedToken {
  token: string;
  expiresAt: number;
}

/** Shared by every repository of one registry: its credentials, tokens per scope and the scheme it asked for. */
export class AuthSession {
  private readonly tokens = new Map<string, CachedToken>();
  private basicHeader?: string;
  private bearerChallenge?: Challenge;
  private credential?: Promise<Credential | undefined>;

  constructor(
    readonly registry: string,
    private readonly transport: Transport,
    private readonly credentials?: CredentialProvider,
    private readonly now: () => number = Date.now,
  ) {}

  /** The Authorization header for a request needing `scopes`, if we already know one; undefined means try anonymously. */
  headerFor(scopes: string[]): string | undefined {
    const cached = this.tokens.get(cacheKey(scopes));
    if (cached && cached.expiresAt > this.now()) return `Bearer ${cached.token}`;
    return this.basicHeader;
  }

  /**
   * Answer a 401: obtain what the challenge asks for. Returns false when nothing new can be tried
   * (no credentials for Basic, or the same header was just refused).
   */
  async authenticate(header: string | undefined, scopes: string[], refused?: string): Promise<boolean> {
    const challenges = parseChallenges(header);
    const bearer = challenges.find((c) => c.scheme === 'bearer' && c.params['realm']);
    if (bearer) {
      this.bearerChallenge = bearer;
      const wanted = mergeScopes([...scopes, ...(bearer.params['scope'] ? bearer.params['scope'].split(' ') : [])]);
      const token = await this.fetchToken(bearer, wanted);
      const key = cacheKey(scopes);
      this.tokens.set(key, token);
      return `Bearer ${token.token}` !== refused;
    }
    if (challenges.some((c) => c.scheme === 'basic')) {
      const credential = await this.loadCredential();
      if (!credential?.username || credential.password === undefined) return false;
      const basic = basicHeader(credential.username, credential.password);
      if (basic === refused) return false;
      this.basicHeader = basic;
      return true;
    }
    return false;
  }

  /** Renew an expired token before a request that cannot be sent twice (a streamed upload). */
  async ensureFresh(scopes: string[]): Promise<void> {
    if (!this.bearerChallenge) return;
    const cached = this.tokens.get(cacheKey(scopes));
    if (cached && cached.expiresAt > this.now()) return;
    this.tokens.set(cacheKey(scopes), await this.fetchToken(this.bearerChallenge, mergeScopes(scopes)));
  }

  /** Ask the token realm for a token covering `scopes`. */
  async fetchToken(challenge: Challenge, scopes: string[]): Promise<CachedToken> {
    const credential = await this.loadCredential();
    const realm = parseRealm(challenge.params['realm']!, this.registry);
    const service = challenge.params['service'];
    if (credential?.identityToken) return this.refreshTokenGrant(realm, service, scopes, credential.identityToken);
    const url = new URL(realm);
    if (service) url.searchParams.set('service', service);
    for (const scope of scopes) url.searchParams.append('scope', scope);
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (credential?.username && credential.password !== undefined) headers['Authorization'] = basicHeader(credential.username, credential.password);
    const res = await this.transport.send({ method: 'GET', url, headers });
    return this.readToken(res.status, await readText(res.body), url);
  }

  /** OAuth2 refresh-token grant (distribution oauth.md), used for docker's `identitytoken`. */
  private async refreshTokenGrant(realm: string, service: string | undefined, scopes: string[], refreshToken: string): Promise<CachedToken> {
    const url = new URL(realm);
    const form = new URLSearchParams({ grant_type: 'refresh_token', client_id: 'modelship', refresh_token: refreshToken });
    if (service) form.set('service', service);
    if (scopes.length) form.set('scope', scopes.join(' '));
    const body = Buffer.from(form.toString());
    const res = await this.transport.send({
      method: 'POST',
      url,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': String(body.length), Accept: 'application/json' },
      body,
    });
    return this.readToken(res.status, await readText(res.body), url);
  }

  private readToken(status: number, text: string, url: URL): CachedToken {
    const where = `token server ${redactUrl(url)}`;
    if (status === 401 || status === 403) {
      throw new ModelshipError('OCI_UNAUTHORIZED', `${where} refused the credentials for ${this.registry} (${status}); run "modelship login ${this.registry}"`, {
        details: { registry: this.registry, status },
      });
    }
    if (status !== 200) throw new ModelshipError('OCI_REGISTRY', `${where} answered ${status}; try again later`, { details: { registry: this.registry, status } });
    let parsed: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch {
      throw new ModelshipError('OCI_REGISTRY', `${where} answered something that is not JSON`, { details: { registry: this.registry } });
    }
    const token = typeof parsed.access_token === 'string' && parsed.access_token ? parsed.access_token : parsed.token;
    if (typeof token !== 'string' || !token) throw new ModelshipError('OCI_REGISTRY', `${where} answered without a token`, { details: { registry: this.registry } });
    // token.md: 60 s when unspecified; renew a little early.
    const seconds = typeof parsed.expires_in === 'number' && parsed.expires_in > 0 ? parsed.expires_in : 60;
    return { token, expiresAt: this.now() + Math.max(seconds - 5, 1) * 1000 };
  }

  /** Whether the registry asked for Bearer tokens (so scopes matter). */
  get usesTokens(): boolean {
    return this.bearerChallenge !== undefined;
  }

  private loadCredential(): Promise<Credential | undefined> {
    this.credential ??= this.credentials ? this.credentials.get(this.registry) : Promise.resolve(undefined);
    return this.credential;
  }
}

function cacheKey(scopes: string[]): string {
  return mergeScopes(scopes).join(' ');
}

function basicHeader(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

function parseRealm(realm: string, registry: string): string {
  try {
    const url = new URL(realm);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('scheme');
    return url.toString();
  } catch {
    throw new ModelshipError('OCI_REGISTRY', `registry ${registry} sent a token realm that is not an http(s) URL: "${realm}"`, { details: { registry } });
  }
}
