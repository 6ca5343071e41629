/**
 * The modules a source file loads as soon as it is imported: its static imports, followed through
 * the repository's own files (type-only imports and `import()` load nothing at that point).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

export interface StaticGraph {
  /** Repository files reached, relative to the repository root. */
  files: string[];
  /** Packages and node: builtins reached (bare specifiers, as written). */
  packages: string[];
}

/** Specifiers of the imports and re-exports in `source` that load a module at once. */
export function staticSpecifiers(source: string): string[] {
  const found: string[] = [];
  const statement = /^\s*(import|export)\s+(type\s+)?([^'";]*?\s+from\s+)?['"]([^'"]+)['"]/gm;
  for (const m of source.matchAll(statement)) {
    // Only `import type` / `export type` load nothing: with verbatimModuleSyntax, `import { type A }` still loads the module.
    if (m[2]) continue;
    found.push(m[4]!);
  }
  return found;
}

export function staticImportGraph(root: string, entry: string): StaticGraph {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    const rel = path.relative(root, file);
    if (files.has(rel)) return;
    files.add(rel);
    for (const spec of staticSpecifiers(readFileSync(file, 'utf8'))) {
      if (!spec.startsWith('.')) {
        packages.add(spec);
        continue;
      }
      const target = path.resolve(path.dirname(file), spec);
      const ts = target.replace(/\.js$/, '.ts');
      visit(existsSync(ts) ? ts : target);
    }
  };
  visit(path.resolve(root, entry));
  return { files: [...files].sort(), packages: [...packages].sort() };
}
