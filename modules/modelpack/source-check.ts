/**
 * A file must not change while it is packed: its size, mtime and inode are compared with what was
 * seen when the model folder was listed, before and after it is read, and the bytes read are counted.
 */
import { ModelshipError } from '../errors/index.js';

export interface SourceIdentity {
  /** Path shown to the user. */
  absPath: string;
  size: number;
  mtimeMs: number;
  ino: number;
}

export interface SeenStat {
  size: number;
  mtimeMs: number;
  ino: number;
}

/** What differs between the listed file and what was found, or undefined when nothing does. */
export function changeOf(file: SourceIdentity, seen: SeenStat): string | undefined {
  if (seen.ino !== file.ino) return 'it was replaced by another file';
  if (seen.size !== file.size) return `its size went from ${file.size} to ${seen.size} bytes`;
  if (seen.mtimeMs !== file.mtimeMs) return 'it was modified (its mtime moved)';
  return undefined;
}

export function sourceChanged(file: SourceIdentity, reason: string): ModelshipError {
  return new ModelshipError(
    'PACK_SOURCE_CHANGED',
    `${file.absPath} changed while it was being packed: ${reason}; nothing was stored for it. Wait until whatever writes it has finished, then pack again`,
    { details: { path: file.absPath, reason } },
  );
}

/** Throws PACK_SOURCE_CHANGED unless `before`, `after` and the byte count all match the listed file. */
export function assertUnchanged(file: SourceIdentity, before: SeenStat, after: SeenStat, bytesRead: number): void {
  const reason =
    changeOf(file, before) ??
    changeOf(file, after) ??
    (bytesRead < file.size ? `only ${bytesRead} of its ${file.size} bytes could be read (truncated)` : bytesRead > file.size ? `it grew past its ${file.size} bytes` : undefined);
  if (reason) throw sourceChanged(file, reason);
}
