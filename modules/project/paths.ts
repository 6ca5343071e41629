/**
 * Spec paths are relative to the context directory; `./x/`, `x/` and `x` name the same thing.
 */
import path from 'node:path';
import { globToRegExp, hasGlob, matchesPattern } from './ignore.js';

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

/**
 * Whether a file (relative, `/`-separated) falls under a spec entry's path: "." covers every file,
 * a folder what is inside it, a glob what it matches and what is inside a match. A path that
 * leaves the project folder covers nothing.
 */
export function specPathMatcher(raw: string): (file: string) => boolean {
  const normal = normalizeSpecPath(raw);
  if ('error' in normal) return () => false;
  const p = normal.path;
  if (p === '.') return () => true;
  if (hasGlob(p)) {
    const pattern = { regex: globToRegExp(p) };
    return (file) => matchesPattern(pattern, file);
  }
  return (file) => file === p || file.startsWith(`${p}/`);
}

/** How closely a spec path names a file: an exact file beats a deeper folder beats a shallower one beats "."; globs lose to all. */
export function specPathSpecificity(raw: string): number {
  const normal = normalizeSpecPath(raw);
  if ('error' in normal) return -2;
  const p = normal.path;
  return p === '.' ? 0 : hasGlob(p) ? -1 : p.split('/').length;
}

/**
 * The spec entry that claims a file, the one rule every step uses (packing, SBOM, MOF): the most
 * specific matching path wins, and among equals the first listed.
 */
export function specEntryMatcher<E extends { path: string }>(entries: readonly E[]): (file: string) => E | undefined {
  const ranked = entries.map((entry) => ({ entry, specificity: specPathSpecificity(entry.path), matches: specPathMatcher(entry.path) }));
  return (file) => {
    let best: (typeof ranked)[number] | undefined;
    for (const r of ranked) if (r.matches(file) && (!best || r.specificity > best.specificity)) best = r;
    return best?.entry;
  };
}
