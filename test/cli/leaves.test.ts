import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../modules/cli/registry.js';

const cliDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../modules/cli');
const commandsDir = path.join(cliDir, 'commands');
const plumbingDir = path.join(cliDir, 'plumbing');

/** Every module specifier a source file imports or re-exports, statically or with `import()`. */
function specifiers(source: string): string[] {
  const found: string[] = [];
  for (const m of source.matchAll(/\b(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)) found.push(m[1]!);
  return found;
}

/** The imports in a command file that reach another command file. */
function siblingImports(source: string): string[] {
  return specifiers(source).filter((s) => /^\.\/[^/]+$/.test(s) || /^\.\.\/commands\//.test(s));
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.ts')).sort();
}

describe('command files are leaves', () => {
  it('the check sees static, re-exported and dynamic sibling imports', () => {
    const sample = [
      "import { openContextOf } from './copy.js';",
      "export { REGISTRY_OPTIONS } from './copy.js';",
      "const { serveNative } = await import('./serve.js');",
      "import type { Command } from '../command.js';",
      "import { requireArgs } from '../plumbing/arguments.js';",
    ].join('\n');
    expect(siblingImports(sample)).toEqual(['./copy.js', './copy.js', './serve.js']);
  });

  it('covers every registered command', () => {
    const files = tsFiles(commandsDir).map((f) => f.replace(/\.ts$/, ''));
    for (const entry of COMMANDS) expect(files, `commands/${entry.name}.ts`).toContain(entry.name);
  });

  it('no command file imports another command file; shared plumbing lives in modules/cli/plumbing', () => {
    const offenders = tsFiles(commandsDir).flatMap((file) =>
      siblingImports(readFileSync(path.join(commandsDir, file), 'utf8')).map((spec) => `commands/${file} imports ${spec}`),
    );
    expect(offenders).toEqual([]);
  });

  it('a command file exports nothing but its command, so no other module leans on it', () => {
    const offenders = tsFiles(commandsDir).flatMap((file) => {
      const source = readFileSync(path.join(commandsDir, file), 'utf8');
      const exports = source.split('\n').filter((line) => /^export\b/.test(line) && !/^export const command\b/.test(line));
      return exports.map((line) => `commands/${file}: ${line.slice(0, 80)}`);
    });
    expect(offenders).toEqual([]);
  });

  it('plumbing never reaches back into a command', () => {
    const offenders = tsFiles(plumbingDir).flatMap((file) =>
      specifiers(readFileSync(path.join(plumbingDir, file), 'utf8'))
        .filter((spec) => /(^|\/)commands\//.test(spec))
        .map((spec) => `plumbing/${file} imports ${spec}`),
    );
    expect(offenders).toEqual([]);
  });
});
