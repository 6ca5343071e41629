/** Where a path really leads once every link on the way is resolved, and whether that stays under a folder. */
import { realpath } from 'node:fs/promises';
import { sep } from 'node:path';
import { ModelshipError } from '../errors/index.js';

/** Whether `real` is `realRoot` or lies under it (both already resolved by realpath). */
export function isInside(realRoot: string, real: string): boolean {
  return real === realRoot || real.startsWith(realRoot.endsWith(sep) ? realRoot : realRoot + sep);
}

/** The resolved target of `path` when it leads outside `realRoot`; undefined when it stays inside or leads nowhere. */
export async function escapesFolder(realRoot: string, path: string): Promise<string | undefined> {
  const real = await realpath(path).catch(() => undefined);
  return real !== undefined && !isInside(realRoot, real) ? real : undefined;
}

/** Refuses to read `abs` (named `rel` in messages) when it is a link leading out of the project folder `root`. */
export async function requireInsideProject(root: string, abs: string, rel: string): Promise<void> {
  const target = await escapesFolder(await realpath(root), abs);
  if (target === undefined) return;
  throw new ModelshipError(
    'SPEC_LINK_OUTSIDE',
    `${rel} in ${root} is a symbolic link to ${target}, outside the project folder; reading it would publish that file. Copy the file into the project, or remove the link`,
    { details: { link: rel, target, contextDir: root } },
  );
}
