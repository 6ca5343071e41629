/**
 * `modelship login REGISTRY`: check credentials against the registry's `/v2/`, then store them
 * where docker, podman and skopeo look (or in the configured credential helper).
 */
import { UsageError } from '../../errors/index.js';
import { checkLogin, remoteOptionsFrom, saveCredential } from '../../oci/remote/index.js';
import { flagBoolean, flagString, type Command, type CommandContext } from '../command.js';
import { REGISTRY_OPTIONS } from '../plumbing/registry-flags.js';
import { registryArgument } from '../plumbing/references.js';

const USAGE = 'login REGISTRY -u USER --password-stdin [--plain-http] [--ca-file F]';

async function readPassword(ctx: CommandContext): Promise<string> {
  if (flagBoolean(ctx, 'password-stdin')) {
    const chunks: Buffer[] = [];
    for await (const chunk of ctx.stdin) chunks.push(Buffer.from(chunk as Buffer));
    const password = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
    if (!password) throw new UsageError('--password-stdin read an empty password; pipe it in, e.g. `echo "$TOKEN" | modelship login ghcr.io -u me --password-stdin`');
    return password;
  }
  const flag = flagString(ctx, 'password');
  if (flag !== undefined) {
    ctx.stderr.write('warning: --password leaves the password in the shell history and process list; prefer --password-stdin\n');
    return flag;
  }
  throw new UsageError(`give the password on stdin with --password-stdin.\nUsage: modelship ${USAGE}`);
}

export const command: Command = {
  name: 'login',
  summary: 'Check and store credentials for a registry (where docker and podman read them)',
  usage: USAGE,
  help: `Checks USER and the password against REGISTRY (GET /v2/, with Basic or token auth as the
registry asks), then stores them in $REGISTRY_AUTH_FILE if set, else ~/.docker/config.json
(created owner-only; other entries are kept). When that file names a credential helper
(credsStore or credHelpers), the secret goes to docker-credential-<helper> instead.
The password is never printed.

Examples:
  echo "$GITHUB_TOKEN" | modelship login ghcr.io -u octocat --password-stdin
  modelship login 127.0.0.1:5000 -u dev --password-stdin --plain-http < password.txt`,
  options: {
    username: { type: 'string', short: 'u' },
    password: { type: 'string', short: 'p' },
    'password-stdin': { type: 'boolean' },
    ...REGISTRY_OPTIONS,
  },
  async run(ctx) {
    const registry = registryArgument(ctx, USAGE);
    const username = flagString(ctx, 'username');
    if (!username) throw new UsageError(`give the user name with -u USER.\nUsage: modelship ${USAGE}`);
    const password = await readPassword(ctx);
    const caFile = flagString(ctx, 'ca-file');
    const options = remoteOptionsFrom(ctx.env, { plainHttp: flagBoolean(ctx, 'plain-http'), ...(caFile ? { caFile } : {}) });
    await checkLogin(registry, { username, password }, {
      ...(options.plainHttp ? { plainHttp: true } : {}),
      ...(options.caCertPem ? { caCertPem: options.caCertPem } : {}),
      reporter: ctx.reporter,
    });
    const stored = await saveCredential(ctx.env, registry, { username, password });
    const where = stored.helper ? `docker-credential-${stored.helper} (listed in ${stored.file})` : stored.file;
    return {
      json: { registry, username, file: stored.file, ...(stored.helper ? { helper: stored.helper } : {}) },
      text: `Login succeeded: credentials for ${username}@${registry} stored in ${where}`,
    };
  },
};
