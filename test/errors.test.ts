import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FAMILY_BY_CODE, exitStatusOf, ModelshipError, UsageError } from '../modules/errors/index.js';

const root = path.resolve(import.meta.dirname, '..');

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith('.ts')).map((e) => path.join(e.parentPath, e.name));
}

describe('error codes', () => {
  it('maps every code a module throws to a family, and documents every family member', async () => {
    const thrown = new Set<string>();
    for (const file of await sourceFiles(path.join(root, 'modules'))) {
      const text = await readFile(file, 'utf8');
      for (const m of text.matchAll(/ModelshipError\(\s*'([A-Z][A-Z0-9_]+)'/g)) thrown.add(m[1]!);
    }
    expect(thrown.size).toBeGreaterThan(20);
    expect([...thrown].filter((code) => !(code in FAMILY_BY_CODE))).toEqual([]);
    const doc = await readFile(path.join(root, 'docs', 'exit-codes.md'), 'utf8');
    expect(Object.keys(FAMILY_BY_CODE).filter((code) => !doc.includes('`' + code + '`'))).toEqual([]);
  });

  it('gives each family its exit status and unknown failures 1', () => {
    expect(exitStatusOf(new UsageError('x'))).toBe(2);
    expect(exitStatusOf(new ModelshipError('OCI_DIGEST_MISMATCH', 'x'))).toBe(7);
    expect(exitStatusOf(new ModelshipError('VERIFY_FAILED', 'x'))).toBe(8);
    expect(exitStatusOf(new ModelshipError('NOT_A_KNOWN_CODE', 'x'))).toBe(1);
    expect(exitStatusOf(new Error('bug'))).toBe(1);
  });
});
