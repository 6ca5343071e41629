/**
 * Spec paths are relative to the context directory; `./x/`, `x/` and `x` name the same thing.
 */
import path from 'node:path';

/** Normal form of a spec path, or an error text when it leaves the context directory. */
export function normalizeSpecPath(raw: string): { path: string } | { error: string } {
  const trimmed = raw.trim();
  if (trimmed === '') return { error: 'is empty: give a path relative to the project folder ("." for all of it)' };
  if (path.posix.isAbsolute(trimmed) || /^[A-Za-z]:[\\/]/.test(trimmed)) {
    return { error: `"${raw}" is absolute: give a path relative to the project folder` };
  }
  const normal = path.posix.normalize(trimmed.replace(/\\/g, '/')).replace(/\/+$/, '');
  if (normal === '..' || normal.startsWith('../')) return { error: `"${raw}" points outside the project folder` };
  return { path: normal === '' ? '.' : normal };
}
