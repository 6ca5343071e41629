/**
 * pyproject.toml: PEP 621 `[project]` dependencies and optional-dependencies, and Poetry's
 * `[tool.poetry.dependencies]`, groups and dev-dependencies.
 */
import { normalizePypiName } from '../purl.js';
import { isExtraMarker, parsePep508 } from './pep508.js';
import { list, readToml, table } from './toml.js';
import type { DeclaredDependency } from './types.js';

export async function readPyproject(file: string, display: string): Promise<DeclaredDependency[]> {
  const doc = await readToml(file, display);
  const out: DeclaredDependency[] = [];
  const project = table(doc['project']);
  const pep508 = (items: unknown, scope: 'required' | 'optional', where: string) => {
    for (const item of list(items)) {
      if (typeof item !== 'string') continue;
      const req = parsePep508(item);
      if (!req) continue;
      out.push({
        ecosystem: 'pypi',
        name: req.name,
        range: req.specifier,
        ...(req.pinned ? { version: req.pinned } : {}),
        scope: scope === 'required' && !isExtraMarker(req.marker) ? 'required' : 'optional',
        source: `${display} ${where}`,
      });
    }
  };
  pep508(project['dependencies'], 'required', '[project] dependencies');
  for (const [extra, items] of Object.entries(table(project['optional-dependencies']))) {
    pep508(items, 'optional', `[project.optional-dependencies] ${extra}`);
  }
  const poetry = table(table(doc['tool'])['poetry']);
  const poetryTable = (deps: unknown, scope: 'required' | 'optional', where: string) => {
    for (const [name, value] of Object.entries(table(deps))) {
      if (name.toLowerCase() === 'python') continue; // the interpreter, not a package
      const spec = typeof value === 'string' ? value : String(table(value)['version'] ?? '');
      if (typeof value !== 'string' && (table(value)['path'] || table(value)['git'] || table(value)['url'])) continue;
      const optional = scope === 'optional' || table(value)['optional'] === true;
      const pin = /^=?=?\s*(\d[^,*|^~<>=\s]*)$/.exec(spec.trim());
      out.push({
        ecosystem: 'pypi',
        name: normalizePypiName(name),
        range: spec === '*' ? '' : spec,
        ...(pin ? { version: pin[1]! } : {}),
        scope: optional ? 'optional' : 'required',
        source: `${display} ${where}`,
      });
    }
  };
  poetryTable(poetry['dependencies'], 'required', '[tool.poetry.dependencies]');
  poetryTable(poetry['dev-dependencies'], 'optional', '[tool.poetry.dev-dependencies]');
  for (const [group, body] of Object.entries(table(poetry['group']))) {
    const optionalGroup = group !== 'main';
    poetryTable(table(body)['dependencies'], optionalGroup ? 'optional' : 'required', `[tool.poetry.group.${group}.dependencies]`);
  }
  return out;
}
