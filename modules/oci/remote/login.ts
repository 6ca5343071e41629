/**
 * Checking a login before it is stored: `GET /v2/` with the credentials, through the same
 * challenge handling as every other request (Basic, or a token for the registry itself).
 */
import { ModelshipError } from '../../errors/index.js';
import { RegistryClient, type ClientOptions } from './client.js';
import { staticCredentials } from './credentials.js';
import { isRegistryError } from './errors.js';
import { discard } from './transport.js';

export async function checkLogin(
  registry: string,
  credential: { username: string; password: string },
  options: Omit<ClientOptions, 'credentials'> = {},
): Promise<void> {
  const client = new RegistryClient(registry, { ...options, credentials: staticCredentials({ [registry]: credential }) });
  try {
    const res = await client.send({ method: 'GET', url: '/v2/', scopes: [], expect: [200], context: `log in to ${registry}` });
    discard(res.body);
    // A registry that lets anyone in never asked for the credentials: they are unchecked, not wrong.
  } catch (err) {
    if (isRegistryError(err) && err.status === 401) {
      throw new ModelshipError('OCI_UNAUTHORIZED', `${registry} refused the user name or password for "${credential.username}"; check them and try again`, {
        cause: err,
        details: { registry },
      });
    }
    throw err;
  } finally {
    client.close();
  }
}
