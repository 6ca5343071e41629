/** What is at a path, in words, for messages that must say more than "does not exist". */
import type { Stats } from 'node:fs';
import { lstat, stat } from 'node:fs/promises';

/** "a folder", "a FIFO (named pipe)", "a character device"… for anything but a regular file. */
export function kindOf(info: Stats): string {
  if (info.isFile()) return 'a regular file';
  if (info.isDirectory()) return 'a folder';
  if (info.isFIFO()) return 'a FIFO (named pipe)';
  if (info.isCharacterDevice()) return 'a character device';
  if (info.isBlockDevice()) return 'a block device';
  if (info.isSocket()) return 'a socket';
  if (info.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

/**
 * What `path` is, links followed and named: undefined when nothing is there at all,
 * "a symbolic link to a folder", "a symbolic link that leads nowhere", "a FIFO (named pipe)"…
 */
export async function describePath(path: string): Promise<{ info?: Stats; text: string } | undefined> {
  const own = await lstat(path).catch(() => undefined);
  if (!own) return undefined;
  if (!own.isSymbolicLink()) return { info: own, text: kindOf(own) };
  const target = await stat(path).catch(() => undefined);
  return target ? { info: target, text: `a symbolic link to ${kindOf(target)}` } : { text: 'a symbolic link that leads nowhere' };
}
