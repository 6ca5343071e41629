/** Where a path really leads once every link on the way is resolved, and whether that stays under a folder. */
import { realpath } from 'node:fs/promises';
import { sep } from 'node:path';

/** Whether `real` is `realRoot` or lies under it (both already resolved by realpath). */
export function isInside(realRoot: string, real: string): boolean {
  return real === realRoot || real.startsWith(realRoot.endsWith(sep) ? realRoot : realRoot + sep);
}

/** The resolved target of `path` when it leads outside `realRoot`; undefined when it stays inside or leads nowhere. */
export async function escapesFolder(realRoot: string, path: string): Promise<string | undefined> {
  const real = await realpath(path).catch(() => undefined);
  return real !== undefined && !isInside(realRoot, real) ? real : undefined;
}
