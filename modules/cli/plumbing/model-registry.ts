/** Which Kubeflow Model Registry a command talks to, and its token: the flags `register` and `trace` share. */
import { join } from 'node:path';
import { UsageError } from '../../errors/index.js';
import { pathExists } from '../../fs/exists.js';
import { loadSpec } from '../../project/index.js';
import { flagString, type CommandContext, type OptionSpec } from '../command.js';

export const REGISTRY_URL_ENV = 'MODELSHIP_MODEL_REGISTRY_URL';
export const REGISTRY_TOKEN_ENV = 'MODEL_REGISTRY_TOKEN';

export const MODEL_REGISTRY_OPTIONS = {
  'registry-url': { type: 'string' },
  'token-env': { type: 'string' },
} as const satisfies OptionSpec;

/** The model registry URL: --registry-url, then $MODELSHIP_MODEL_REGISTRY_URL, then modelship.yaml; undefined means embedded. */
export async function modelRegistryUrl(ctx: CommandContext): Promise<string | undefined> {
  const flag = flagString(ctx, 'registry-url');
  if (flag !== undefined) {
    if (flag === '') throw new UsageError('--registry-url needs a URL, e.g. https://model-registry.example.com');
    return flag;
  }
  const env = ctx.env[REGISTRY_URL_ENV];
  if (env) return env;
  for (const file of ['modelship.yaml', 'modelship.yml']) {
    if (!(await pathExists(join(ctx.cwd, file)))) continue;
    const settings = (await loadSpec(ctx.cwd, file)).pipeline.modelRegistry;
    return settings?.embedded ? undefined : settings?.url;
  }
  return undefined;
}

/** The bearer token: the variable --token-env names, else $MODEL_REGISTRY_TOKEN. */
export function modelRegistryToken(ctx: CommandContext): string | undefined {
  const name = flagString(ctx, 'token-env');
  if (name !== undefined) {
    const value = ctx.env[name];
    if (!value) throw new UsageError(`--token-env ${name}: the environment variable ${name} is not set or empty`);
    return value;
  }
  return ctx.env[REGISTRY_TOKEN_ENV] || undefined;
}
