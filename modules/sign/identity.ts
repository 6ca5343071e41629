/**
 * Where a keyless signature's OIDC token comes from: SIGSTORE_ID_TOKEN, or GitHub Actions'
 * ambient credentials (audience "sigstore"). The environment is passed in, never read globally.
 */
import type { IdentityProvider } from '@sigstore/sign';
import { ModelshipError, describeError } from '../errors/index.js';

export function identityFromEnvironment(env: NodeJS.ProcessEnv, fetchImpl: typeof fetch = fetch): IdentityProvider {
  return {
    async getToken() {
      const direct = env['SIGSTORE_ID_TOKEN'];
      if (direct) return direct;
      const url = env['ACTIONS_ID_TOKEN_REQUEST_URL'];
      const bearer = env['ACTIONS_ID_TOKEN_REQUEST_TOKEN'];
      if (url && bearer) return githubActionsToken(url, bearer, fetchImpl);
      throw new ModelshipError(
        'SIGN_NO_IDENTITY',
        'keyless signing needs an OIDC token: set SIGSTORE_ID_TOKEN, or run in GitHub Actions with "permissions: id-token: write"',
      );
    },
  };
}

async function githubActionsToken(requestURL: string, bearer: string, fetchImpl: typeof fetch): Promise<string> {
  const url = new URL(requestURL);
  url.searchParams.set('audience', 'sigstore');
  let res: Response;
  try {
    res = await fetchImpl(url, { headers: { Accept: 'application/json', Authorization: `Bearer ${bearer}` } });
  } catch (err) {
    throw new ModelshipError('SIGN_NO_IDENTITY', `could not reach the GitHub Actions token endpoint ${url.origin}: ${describeError(err)}`, { cause: err });
  }
  const body = (await res.json().catch(() => ({}))) as { value?: unknown };
  if (!res.ok || typeof body.value !== 'string') {
    throw new ModelshipError('SIGN_NO_IDENTITY', `the GitHub Actions token endpoint ${url.origin} answered ${res.status} without a token; does the job have "id-token: write"?`);
  }
  return body.value;
}
