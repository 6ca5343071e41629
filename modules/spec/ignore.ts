/**
 * gitignore-style patterns (.modelshipignore, .kitignore): `#` comments, `!` re-includes, a leading
 * `/` or an inner `/` anchors to the project folder, `*`, `?`, `[...]` and `**` as in git.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';

interface Rule {
  negate: boolean;
  regex: RegExp;
}

function globToRegex(glob: string): string {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i]!;
    if (ch === '*') {
      if (glob[i + 1] === '*') {
        const slashAfter = glob[i + 2] === '/';
        out += slashAfter ? '(?:.*/)?' : '.*';
        i += slashAfter ? 2 : 1;
      } else out += '[^/]*';
    } else if (ch === '?') out += '[^/]';
    else if (ch === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end < 0) out += '\\[';
      else {
        out += '[' + glob.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\') + ']';
        i = end;
      }
    } else out += ch.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return out;
}

function compile(pattern: string): Rule | undefined {
  let p = pattern.replace(/\s+$/, '');
  if (p === '' || p.startsWith('#')) return undefined;
  const negate = p.startsWith('!');
  if (negate) p = p.slice(1);
  p = p.replace(/^\.\//, '').replace(/\/+$/, '');
  const anchored = p.includes('/');
  p = p.replace(/^\//, '');
  if (p === '') return undefined;
  return { negate, regex: new RegExp(`^${anchored ? '' : '(?:.*/)?'}${globToRegex(p)}$`) };
}

export interface IgnoreMatcher {
  /** True when the path (relative, `/`-separated) or one of its folders is ignored. */
  ignores(relPath: string): boolean;
}

export function createIgnoreMatcher(patterns: readonly string[]): IgnoreMatcher {
  const rules = patterns.map(compile).filter((r): r is Rule => r !== undefined);
  const verdict = (p: string) => rules.reduce((ignored, rule) => (rule.regex.test(p) ? !rule.negate : ignored), false);
  return {
    ignores(relPath) {
      const parts = relPath.split('/').filter((s) => s !== '' && s !== '.');
      // A folder that is ignored hides everything inside it, as in git.
      for (let i = 1; i <= parts.length; i++) if (verdict(parts.slice(0, i).join('/'))) return true;
      return false;
    },
  };
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
