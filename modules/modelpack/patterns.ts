/**
 * Path patterns as `.kitignore` and `.dockerignore` read them: anchored at the context root,
 * `*` and `?` stay inside one path component, `**` spans any number, `!` re-includes, last match wins.
 * A pattern that matches a directory matches everything under it.
 */

export interface PathPattern {
  source: string;
  negated: boolean;
  regex: RegExp;
}

export function hasGlob(path: string): boolean {
  return /[*?[]/.test(path);
}

export function globToRegExp(glob: string): RegExp {
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
    } else out += c.replace(/[.+^${}()|\\/]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}

function clean(line: string): string {
  return line.trim().replace(/^\.\//, '').replace(/^\/+/, '').replace(/\/+$/, '');
}

/** Parse ignore-file text (comments and blank lines skipped) or a list of patterns. */
export function parsePatterns(lines: string[] | string): PathPattern[] {
  const list = typeof lines === 'string' ? lines.split(/\r?\n/) : lines;
  const patterns: PathPattern[] = [];
  for (const raw of list) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const negated = line.startsWith('!');
    const body = clean(negated ? line.slice(1) : line);
    if (body === '' || body === '.') continue;
    patterns.push({ source: line, negated, regex: globToRegExp(body) });
  }
  return patterns;
}

/** `a/b/c` and each of its parent directories, deepest last. */
function selfAndParents(path: string): string[] {
  const parts = path.split('/');
  return parts.map((_, i) => parts.slice(0, i + 1).join('/'));
}

export function matchesPattern(pattern: PathPattern, path: string): boolean {
  return selfAndParents(path).some((p) => pattern.regex.test(p));
}

/** True when the last pattern that matches `path` (or a parent) is not a negation. */
export function isIgnored(patterns: PathPattern[], path: string): boolean {
  let ignored = false;
  for (const pattern of patterns) if (matchesPattern(pattern, path)) ignored = !pattern.negated;
  return ignored;
}
