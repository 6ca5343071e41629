/**
 * `modelship logout REGISTRY`: remove the stored login from the file `login` writes and from its
 * credential helper, keeping every other entry.
 */
import { removeCredential } from '../../oci/remote/index.js';
import type { Command } from '../command.js';
import { registryArgument } from '../plumbing/references.js';

const USAGE = 'logout REGISTRY';

export const command: Command = {
  name: 'logout',
  summary: 'Remove the stored credentials for a registry',
  usage: USAGE,
  help: `Removes REGISTRY's entry from $REGISTRY_AUTH_FILE if set, else ~/.docker/config.json, and
erases it from the credential helper that file names. Logging out when not logged in is not an error.

Example:
  modelship logout ghcr.io`,
  options: {},
  async run(ctx) {
    const registry = registryArgument(ctx, USAGE);
    const result = await removeCredential(ctx.env, registry);
    return {
      json: { registry, removed: result.removed, file: result.file, ...(result.helper ? { helper: result.helper } : {}) },
      text: result.removed ? `Removed the credentials for ${registry} from ${result.helper ? `docker-credential-${result.helper} and ` : ''}${result.file}` : `Not logged in to ${registry} (${result.file})`,
    };
  },
};
