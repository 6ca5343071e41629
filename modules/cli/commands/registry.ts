/**
 * `modelship registry serve`: the embedded model registry over HTTP, speaking the Kubeflow Model
 * Registry REST API (v1alpha3) from the database under $MODELSHIP_HOME.
 */
import { ModelshipError, UsageError } from '../../errors/index.js';
import { embeddedDatabasePath, openRegistryDatabase, startRegistryServer, API_BASE_PATH, API_V1_PATH } from '../../registry/index.js';
import { modelshipHome } from '../../store/index.js';
import { flagString, type Command } from '../command.js';
import { stopSignal } from '../stop-signal.js';
import { isLoopbackHost } from '../../text/loopback.js';

const USAGE = 'registry serve [--port N] [--host ADDR] [--token-env NAME]';

function parsePort(raw: string | undefined): number {
  if (raw === undefined) return 8080;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be a whole number from 0 to 65535 (0 picks a free one), not "${raw}"`);
  return port;
}

export const command: Command = {
  name: 'registry',
  summary: 'Serve the embedded model registry (Kubeflow Model Registry REST API) from $MODELSHIP_HOME',
  usage: USAGE,
  help: `Serves the embedded model registry, the one "modelship register" writes when no registry
URL is configured, over the Kubeflow Model Registry REST API (v1alpha3, under
${API_BASE_PATH}, and under ${API_V1_PATH} where Kubeflow's Python client 0.3.18 calls
it): registered models, model versions and model artifacts, find by name, and lists with
pageSize, nextPageToken, orderBy (ID, CREATE_TIME, LAST_UPDATE_TIME) and sortOrder (ASC, DESC). Point the Kubeflow client, the dashboard or another modelship at it.

The data is a SQLite database at $MODELSHIP_HOME/model-registry/registry.sqlite (WAL mode):
"modelship register" may write while the server runs. --port defaults to 8080 (0 picks a free
port), --host to 127.0.0.1. With --token-env NAME every request needs
"Authorization: Bearer <the value of NAME>". Ctrl-C (SIGINT) or SIGTERM stops it.
With --json the first line printed is {url, api, database} once it listens.

Examples:
  modelship registry serve
  modelship registry serve --port 9090 --host 0.0.0.0 --token-env MR_TOKEN
  curl http://127.0.0.1:8080${API_BASE_PATH}/registered_models?pageSize=10`,
  options: { port: { type: 'string' }, host: { type: 'string' }, 'token-env': { type: 'string' } },
  async run(ctx) {
    const [sub, ...extra] = ctx.args;
    if (sub !== 'serve' || extra.length) throw new UsageError(`usage: modelship ${USAGE}`);
    const port = parsePort(flagString(ctx, 'port'));
    const host = flagString(ctx, 'host') ?? '127.0.0.1';
    const tokenEnv = flagString(ctx, 'token-env');
    const token = tokenEnv === undefined ? undefined : ctx.env[tokenEnv];
    if (tokenEnv !== undefined && !token) throw new UsageError(`--token-env ${tokenEnv}: the environment variable ${tokenEnv} is not set or empty`);
    if (!token && !isLoopbackHost(host)) {
      ctx.stderr.write(`warning: --host ${host} without --token-env: anyone who can reach this address can read and write the model registry; set a token with --token-env NAME, or put an authenticating proxy in front\n`);
    }
    const path = embeddedDatabasePath(modelshipHome(ctx.env, ctx.cwd));
    const database = await openRegistryDatabase(path);
    try {
      const integrity = database.integrityCheck();
      if (integrity !== 'ok') throw new ModelshipError('MODEL_REGISTRY_DATABASE', `${path} failed SQLite's integrity check (${integrity}); restore it from a backup or move it aside`);
      const server = await startRegistryServer({ database, port, host, ...(token ? { token } : {}) }).catch((err: unknown) => {
        const code = (err as { code?: unknown }).code;
        if (code === 'EADDRINUSE') throw new UsageError(`port ${port} on ${host} is in use; pick another with --port (0 picks a free one)`);
        throw err;
      });
      const ready = { url: server.url, api: server.url + API_BASE_PATH, database: path };
      ctx.stdout.write(ctx.json ? JSON.stringify(ready) + '\n' : `Model registry at ${ready.api} (data: ${path}; Ctrl-C to stop)\n`);
      const signal = await stopSignal();
      await server.close();
      return { json: { ...ready, stopped: signal }, text: `stopped (${signal})` };
    } finally {
      database.close();
    }
  },
};
