/**
 * Path patterns, in the two dialects a project meets:
 *
 * - `git` (.modelshipignore, .kitignore as the docs describe them, `modelship init`): a leading `/` or
 *   an inner `/` anchors to the project folder, any other pattern matches at any depth; a path inside
 *   an ignored folder stays ignored.
 * - `docker` (what `.dockerignore` and KitOps' patternmatcher do, used when packing): anchored at the
 *   context root, last match wins, a pattern that matches a folder matches everything under it.
 *
 * Both read `#` comments and `!` re-includes; `*` and `?` stay inside one path component, `**` spans
 * any number, `[...]` is a character class.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';

export type PatternDialect = 'git' | 'docker';

/** KitOps reads .kitignore as Docker does; modelship.yaml projects use gitignore rules, as documented. */
export function ignoreDialectOf(spec: { source: { format: string } }): PatternDialect {
  return spec.source.format === 'kitfile' ? 'docker' : 'git';
}

export interface PathPattern {
  source: string;
  negated: boolean;
  regex: RegExp;
}

export function hasGlob(path: string): boolean {
  return /[*?[]/.test(path);
}

/** The regular-expression source for one glob, without anchors. */
export function globSource(glob: string): string {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        const slashAfter = glob[i + 2] === '/';
        out += slashAfter ? '(?:.*/)?' : '.*';
        i += slashAfter ? 2 : 1;
      } else out += '[^/]*';
    } else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end > i) {
        out += `[${glob.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\')}]`;
        i = end;
      } else out += '\\[';
    } else out += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return out;
}

/** A glob that must match a whole path. */
export function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${globSource(glob)}$`);
}

function compile(raw: string, dialect: PatternDialect): PathPattern | undefined {
  const line = dialect === 'docker' ? raw.trim() : raw.replace(/\s+$/, '');
  if (line === '' || line.startsWith('#')) return undefined;
  const negated = line.startsWith('!');
  let body = negated ? line.slice(1) : line;
  if (dialect === 'docker') {
    body = body.trim().replace(/^\.\//, '').replace(/^\/+/, '').replace(/\/+$/, '');
    if (body === '' || body === '.') return undefined;
    return { source: line, negated, regex: globToRegExp(body) };
  }
  body = body.replace(/^\.\//, '').replace(/\/+$/, '');
  const anchored = body.includes('/');
  body = body.replace(/^\//, '');
  if (body === '') return undefined;
  return { source: line, negated, regex: new RegExp(`^${anchored ? '' : '(?:.*/)?'}${globSource(body)}$`) };
}

/** Parse ignore-file text (comments and blank lines skipped) or a list of patterns. */
export function parsePatterns(lines: readonly string[] | string, dialect: PatternDialect = 'docker'): PathPattern[] {
  const list = typeof lines === 'string' ? lines.split(/\r?\n/) : lines;
  return list.map((line) => compile(line, dialect)).filter((p): p is PathPattern => p !== undefined);
}

/** `a/b/c` and each of its parent folders, shallowest first. */
function selfAndParents(relPath: string): string[] {
  const parts = relPath.split('/');
  return parts.map((_, i) => parts.slice(0, i + 1).join('/'));
}

/** True when `regex` matches the path or one of its parent folders. */
export function matchesPattern(pattern: Pick<PathPattern, 'regex'>, relPath: string): boolean {
  return selfAndParents(relPath).some((p) => pattern.regex.test(p));
}

/** Whether `relPath` (relative, `/`-separated) is ignored by `patterns`, read in `dialect`. */
export function isIgnored(patterns: readonly PathPattern[], relPath: string, dialect: PatternDialect = 'docker'): boolean {
  if (dialect === 'docker') {
    // The last pattern that matches the path or a parent decides.
    let ignored = false;
    for (const pattern of patterns) if (matchesPattern(pattern, relPath)) ignored = !pattern.negated;
    return ignored;
  }
  // A folder that is ignored hides everything inside it, as in git.
  const verdict = (p: string) => patterns.reduce((ignored, rule) => (rule.regex.test(p) ? !rule.negated : ignored), false);
  return selfAndParents(relPath.split('/').filter((s) => s !== '' && s !== '.').join('/')).some((p) => p !== '' && verdict(p));
}

export interface IgnoreMatcher {
  /** True when the path (relative, `/`-separated) or one of its folders is ignored. */
  ignores(relPath: string): boolean;
}

export function createIgnoreMatcher(patterns: readonly string[], dialect: PatternDialect = 'git'): IgnoreMatcher {
  const rules = parsePatterns(patterns, dialect);
  return { ignores: (relPath) => isIgnored(rules, relPath, dialect) };
}

export const IGNORE_FILES = ['.modelshipignore', '.kitignore'];

/** Patterns from the project's ignore files, in file order. */
export async function readIgnoreFiles(dir: string): Promise<string[]> {
  const patterns: string[] = [];
  for (const name of IGNORE_FILES) {
    const text = await readFile(path.join(dir, name), 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    for (const line of text.split(/\r?\n/)) {
      const trimmed = line.trim();
      if (trimmed !== '' && !trimmed.startsWith('#')) patterns.push(trimmed);
    }
  }
  return patterns;
}
