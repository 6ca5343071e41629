import { describe, expect, it } from 'vitest';
import { mergeScopes, parseChallenges, repositoryScope } from '../../../modules/oci/remote/auth.js';
import { retryAfterMs } from '../../../modules/oci/remote/client.js';
import { RegistryError, parseSpecErrors, redactUrl } from '../../../modules/oci/remote/errors.js';
import { nextLink } from '../../../modules/oci/remote/listing.js';
import { normalizeRegistryKey } from '../../../modules/oci/remote/credentials.js';

describe('WWW-Authenticate parsing', () => {
  it('reads several challenges, quoted values with commas and escapes, and bare tokens', () => {
    const header =
      'Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push repository:c:pull",error="insufficient_scope", Basic realm="say \\"hi\\", ok"';
    expect(parseChallenges(header)).toEqual([
      { scheme: 'bearer', params: { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:a/b:pull,push repository:c:pull', error: 'insufficient_scope' } },
      { scheme: 'basic', params: { realm: 'say "hi", ok' } },
    ]);
    expect(parseChallenges('Basic realm=plain')).toEqual([{ scheme: 'basic', params: { realm: 'plain' } }]);
    expect(parseChallenges('Negotiate, Basic realm="x"')).toEqual([
      { scheme: 'negotiate', params: {} },
      { scheme: 'basic', params: { realm: 'x' } },
    ]);
    expect(parseChallenges(undefined)).toEqual([]);
  });

  it('merges scopes on the same repository and keeps others apart', () => {
    expect(mergeScopes([repositoryScope('a', 'pull'), 'repository:a:push', repositoryScope('b', 'pull')])).toEqual(['repository:a:pull,push', 'repository:b:pull']);
    expect(repositoryScope('x/y', 'push')).toBe('repository:x/y:pull,push');
  });
});

describe('retry and paging headers', () => {
  it('reads Retry-After as seconds or an HTTP date, capped at a minute', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMs('1', now)).toBe(1000);
    expect(retryAfterMs('Thu, 01 Jan 2026 00:00:03 GMT', now)).toBe(3000);
    expect(retryAfterMs('86400', now)).toBe(60_000);
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs(undefined, now)).toBeUndefined();
  });

  it('finds rel="next" in Link headers, relative or absolute, among other links', () => {
    expect(nextLink('</v2/a/tags/list?n=2&last=b>; rel="next"')).toBe('/v2/a/tags/list?n=2&last=b');
    expect(nextLink('<https://r.example/v2/a/tags/list?last=c>; rel="prev", <https://r.example/v2/a/tags/list?last=d>; rel=next')).toBe('https://r.example/v2/a/tags/list?last=d');
    expect(nextLink(undefined)).toBeUndefined();
  });
});

describe('registry errors', () => {
  it('maps spec codes, keeps method, status and a URL without secrets', () => {
    const body = '{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"v9"}}]}';
    const err = new RegistryError('GET', 'https://user:hunter2@r.example/v2/a/manifests/v9?_state=SECRETSTATE&digest=sha256:1', 404, parseSpecErrors(body), 'fetch manifest');
    expect(err.code).toBe('OCI_NOT_FOUND');
    expect(err.status).toBe(404);
    expect(err.errors.map((e) => e.code)).toEqual(['MANIFEST_UNKNOWN']);
    expect(err.message).toContain('GET https://r.example/v2/a/manifests/v9');
    expect(err.message).not.toContain('hunter2');
    expect(err.message).not.toContain('SECRETSTATE');
    expect(new RegistryError('PUT', 'https://r.example/v2/a/blobs/uploads/x', 400, parseSpecErrors('{"errors":[{"code":"DIGEST_INVALID"}]}')).code).toBe('OCI_DIGEST_MISMATCH');
    expect(new RegistryError('GET', 'https://r.example/v2/', 403, parseSpecErrors('<html>no</html>')).code).toBe('OCI_DENIED');
    expect(new RegistryError('GET', 'https://r.example/v2/', 503, []).code).toBe('OCI_REGISTRY');
    expect(redactUrl('https://r.example/p?token=abc&n=2')).toBe('https://r.example/p?token=%E2%80%A6&n=2');
  });

  it('normalises docker config keys to host[:port]', () => {
    expect(normalizeRegistryKey('https://index.docker.io/v1/')).toBe('docker.io');
    expect(normalizeRegistryKey('http://127.0.0.1:5000')).toBe('127.0.0.1:5000');
    expect(normalizeRegistryKey('ghcr.io')).toBe('ghcr.io');
  });
});
