/** Flags and loaders the document commands share (`mof`, `card`, `handoff`): the project spec, the release date, the MOF class to reach. */
import type { SpecLoader } from '../../card/index.js';
import { ModelshipError, UsageError } from '../../errors/index.js';
import { loadSpec } from '../../project/index.js';
import { flagString, type CommandContext } from '../command.js';

/** modules/project's loader; a folder with no spec file is still a project (described from its files). */
export const projectSpecLoader: SpecLoader = async (dir) => {
  try {
    return await loadSpec(dir);
  } catch (err) {
    if (err instanceof ModelshipError && err.code === 'SPEC_NOT_FOUND') return undefined;
    throw err;
  }
};

/** `--date YYYY-MM-DD`: the release date written into the MOT YAML, for reproducible output. */
export function releaseDateFlag(ctx: CommandContext): string | undefined {
  const date = flagString(ctx, 'date');
  if (date !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(date)) throw new UsageError(`--date takes YYYY-MM-DD, not "${date}"`);
  return date;
}

export function parseRequire(raw: string | undefined, fallback: number | undefined): 1 | 2 | 3 | undefined {
  if (raw === undefined) return fallback as 1 | 2 | 3 | undefined;
  if (!/^[123]$/.test(raw)) throw new UsageError(`--require takes 1, 2 or 3 (the MOF class to reach; 3 is Open Model, 1 Open Science), not "${raw}"`);
  return Number(raw) as 1 | 2 | 3;
}
