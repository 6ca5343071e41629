import { access } from 'node:fs/promises';

/** Whether something is at `path` (any kind of file, readable or not). */
export function pathExists(path: string): Promise<boolean> {
  return access(path).then(() => true, () => false);
}
