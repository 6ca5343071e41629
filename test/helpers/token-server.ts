/**
 * A token server for distribution's token auth (docs/spec/auth/token.md): checks Basic credentials,
 * grants per-repository actions and issues ES256 JWTs whose `x5c` header carries the signing
 * certificate, which the registry verifies against its `rootcertbundle` (the CA that issued it).
 */
import { createPrivateKey, randomUUID, sign } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createCa, pemToBase64Der, type TestCa } from './tls.js';

export interface TokenRequestRecord {
  user?: string;
  service?: string;
  scopes: string[];
}

export interface TokenServerOptions {
  service?: string;
  issuer?: string;
  /** user → password; requests with other credentials get 401. */
  users?: Record<string, string>;
  /** Actions granted to `user` (undefined for anonymous) on `repository`, out of those asked. */
  grant?: (user: string | undefined, repository: string, asked: string[]) => string[];
  /** refresh token → user, for the OAuth2 refresh-token grant (POST, distribution oauth.md). */
  refreshTokens?: Record<string, string>;
  /** Answer with `access_token` only (the OAuth2 field) instead of `token`. */
  accessTokenOnly?: boolean;
}

export interface RunningTokenServer {
  realm: string;
  service: string;
  issuer: string;
  /** The CA the registry must trust (its rootcertbundle). */
  rootCertPem: string;
  requests: TokenRequestRecord[];
  stop(): Promise<void>;
}

function base64url(input: Buffer | string): string {
  return Buffer.from(input).toString('base64url');
}

function basicUser(req: IncomingMessage, users: Record<string, string>): { user?: string; refused: boolean } {
  const header = req.headers.authorization;
  if (!header?.startsWith('Basic ')) return { refused: false };
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const user = decoded.slice(0, colon);
  return users[user] !== undefined && users[user] === decoded.slice(colon + 1) ? { user, refused: false } : { refused: true };
}

export async function startTokenServer(options: TokenServerOptions = {}): Promise<RunningTokenServer> {
  const service = options.service ?? 'modelship-test-registry';
  const issuer = options.issuer ?? 'modelship-test-issuer';
  const users = options.users ?? {};
  const grant = options.grant ?? ((user, _repository, asked) => (user ? asked : asked.filter((a) => a === 'pull')));
  const ca: TestCa = await createCa('modelship token CA');
  const signer = await ca.issue({ commonName: 'modelship token signer' });
  const key = createPrivateKey(signer.keyPem);
  const x5c = [pemToBase64Der(signer.certPem)];
  const requests: TokenRequestRecord[] = [];

  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    let auth = basicUser(req, users);
    if (req.method === 'POST') {
      // OAuth2: the form carries grant_type=refresh_token, service, scope (space-separated) and the refresh token.
      let text = '';
      for await (const chunk of req) text += String(chunk);
      const form = new URLSearchParams(text);
      const user = form.get('grant_type') === 'refresh_token' ? options.refreshTokens?.[form.get('refresh_token') ?? ''] : undefined;
      auth = user ? { user, refused: false } : { refused: true };
      url.searchParams.set('service', form.get('service') ?? '');
      for (const scope of (form.get('scope') ?? '').split(' ').filter(Boolean)) url.searchParams.append('scope', scope);
    }
    if (auth.refused) {
      res.writeHead(401, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'bad credentials' }] }));
      return;
    }
    const scopes = url.searchParams.getAll('scope');
    requests.push({ ...(auth.user ? { user: auth.user } : {}), ...(url.searchParams.get('service') ? { service: url.searchParams.get('service')! } : {}), scopes });
    const access = scopes.flatMap((scope) => {
      const [type, name, actions] = [scope.slice(0, scope.indexOf(':')), scope.slice(scope.indexOf(':') + 1, scope.lastIndexOf(':')), scope.slice(scope.lastIndexOf(':') + 1)];
      if (type !== 'repository') return [];
      return [{ type, name, actions: grant(auth.user, name, actions.split(',')) }];
    });
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'ES256', x5c };
    const claims = { iss: issuer, sub: auth.user ?? '', aud: service, exp: now + 300, nbf: now - 10, iat: now, jti: randomUUID(), access };
    const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
    // JWS ES256 wants r||s, not DER.
    const signature = sign('sha256', Buffer.from(signingInput), { key, dsaEncoding: 'ieee-p1363' });
    const token = `${signingInput}.${base64url(signature)}`;
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(options.accessTokenOnly ? { access_token: token, expires_in: 300 } : { token, expires_in: 300, issued_at: new Date().toISOString() }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    rootCertPem: ca.certPem,
    requests,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
