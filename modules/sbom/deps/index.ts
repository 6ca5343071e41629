/**
 * The code's own dependencies: manifests say what is wanted, lock files what is installed.
 * Each folder is read on its own; a lock file, when present, gives the exact versions and the graph.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { npmPurl, pypiPurl } from '../purl.js';
import type { Dependency, DependencyEcosystem } from '../input.js';
import { readPackageJson, readPackageLock } from './npm.js';
import { readPyproject } from './pyproject.js';
import { readPipfileLock, readPoetryLock, readUvLock } from './pylock.js';
import { readRequirements } from './requirements.js';
import type { DeclaredDependency, LockedPackage } from './types.js';

export type { DeclaredDependency, LockedPackage } from './types.js';
export { readRequirements } from './requirements.js';
export { readPyproject } from './pyproject.js';
export { readPoetryLock, readUvLock, readPipfileLock } from './pylock.js';
export { readPackageJson, readPackageLock } from './npm.js';
export { parsePep508 } from './pep508.js';

/** Manifest and lock file names, in the order they are read. */
export const DEPENDENCY_FILES = ['requirements.txt', 'pyproject.toml', 'poetry.lock', 'uv.lock', 'Pipfile.lock', 'package.json', 'package-lock.json'];

const purlOf = (ecosystem: DependencyEcosystem, name: string, version?: string) =>
  ecosystem === 'pypi' ? pypiPurl(name, version) : npmPurl(name, version);

/**
 * Reads the dependency files in `projectDir` and in each of `codeDirs` (relative to it).
 * Results are sorted by purl and unique.
 */
export async function readDependencies(projectDir: string, codeDirs: readonly string[] = []): Promise<Dependency[]> {
  const dirs = [...new Set(['.', ...codeDirs].map((d) => path.normalize(d)))].filter((d) => {
    const abs = path.resolve(projectDir, d);
    return existsSync(abs) && statSync(abs).isDirectory();
  });
  const byPurl = new Map<string, Dependency>();
  for (const dir of dirs) {
    for (const dep of await readFolder(projectDir, dir)) {
      const known = byPurl.get(dep.purl);
      if (!known) byPurl.set(dep.purl, dep);
      else if (dep.scope === 'required' || dep.direct) byPurl.set(dep.purl, { ...known, scope: known.scope === 'required' ? 'required' : dep.scope, direct: known.direct || dep.direct });
    }
  }
  return [...byPurl.values()].sort((a, b) => a.purl.localeCompare(b.purl));
}

async function readFolder(projectDir: string, dir: string): Promise<Dependency[]> {
  const file = (name: string) => {
    const abs = path.resolve(projectDir, dir, name);
    return existsSync(abs) ? { abs, display: path.relative(projectDir, abs) } : undefined;
  };
  const python: DeclaredDependency[] = [];
  const req = file('requirements.txt');
  if (req) python.push(...(await readRequirements(req.abs, path.resolve(projectDir))));
  const pyproject = file('pyproject.toml');
  if (pyproject) python.push(...(await readPyproject(pyproject.abs, pyproject.display)));
  const pyLocked: LockedPackage[] = [];
  const poetry = file('poetry.lock');
  if (poetry) pyLocked.push(...(await readPoetryLock(poetry.abs, poetry.display)));
  const uv = file('uv.lock');
  if (uv) pyLocked.push(...(await readUvLock(uv.abs, uv.display)));
  const pipfile = file('Pipfile.lock');
  if (pipfile) pyLocked.push(...(await readPipfileLock(pipfile.abs, pipfile.display)));

  const node: DeclaredDependency[] = [];
  const pkg = file('package.json');
  if (pkg) node.push(...(await readPackageJson(pkg.abs, pkg.display)));
  const npmLocked: LockedPackage[] = [];
  const lock = file('package-lock.json');
  if (lock) npmLocked.push(...(await readPackageLock(lock.abs, lock.display)));

  return [...merge('pypi', python, pyLocked), ...merge('npm', node, npmLocked)];
}

/** Locked packages win; declarations add what the lock lacks and mark which are direct. */
function merge(ecosystem: DependencyEcosystem, declared: DeclaredDependency[], locked: LockedPackage[]): Dependency[] {
  const declaredByName = new Map<string, DeclaredDependency>();
  for (const d of declared) {
    const known = declaredByName.get(d.name);
    if (!known || (known.scope === 'optional' && d.scope === 'required')) declaredByName.set(d.name, d);
  }
  // Lock files name dependencies by name only; the first locked version of a name stands for it.
  const lockedPurl = new Map<string, string>();
  for (const p of locked) if (!lockedPurl.has(p.name)) lockedPurl.set(p.name, purlOf(ecosystem, p.name, p.version));
  const out: Dependency[] = locked.map((p) => {
    const decl = declaredByName.get(p.name);
    const dependsOn = [...new Set(p.dependsOn.map((n) => lockedPurl.get(n)).filter((x): x is string => x !== undefined))].sort();
    return {
      ecosystem,
      name: p.name,
      version: p.version,
      purl: purlOf(ecosystem, p.name, p.version),
      scope: decl ? decl.scope : p.optional ? 'optional' : 'required',
      source: p.source,
      direct: decl !== undefined || declared.length === 0,
      ...(p.hashes?.length ? { hashes: p.hashes } : {}),
      ...(dependsOn.length ? { dependsOn } : {}),
    };
  });
  for (const d of declaredByName.values()) {
    if (lockedPurl.has(d.name)) continue;
    const version = d.version;
    out.push({
      ecosystem,
      name: d.name,
      ...(version ? { version } : d.range ? { versionRange: d.range } : {}),
      purl: purlOf(ecosystem, d.name, version),
      scope: d.scope,
      source: d.source,
      direct: true,
      ...(d.sha256?.length ? { hashes: d.sha256.map((hex) => ({ alg: 'SHA-256' as const, hex })) } : {}),
    });
  }
  return out;
}
