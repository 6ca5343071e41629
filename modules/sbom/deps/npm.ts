/**
 * package.json (declared) and package-lock.json v2/v3 (`packages`, exact versions and integrity).
 */
import { readFile } from 'node:fs/promises';
import { ModelshipError } from '../../errors/index.js';
import { table } from './toml.js';
import type { DeclaredDependency, LockedPackage } from './types.js';

async function readJson(file: string, display: string, fix: string): Promise<Record<string, unknown>> {
  try {
    return table(JSON.parse(await readFile(file, 'utf8')));
  } catch (err) {
    throw new ModelshipError('SBOM_DEPS_INVALID', `${display}: not valid JSON (${(err as Error).message}); ${fix}`, { cause: err });
  }
}

export async function readPackageJson(file: string, display: string): Promise<DeclaredDependency[]> {
  const pkg = await readJson(file, display, 'fix the file');
  const out: DeclaredDependency[] = [];
  const sections = [
    ['dependencies', 'required'],
    ['optionalDependencies', 'optional'],
    ['peerDependencies', 'optional'],
    ['devDependencies', 'optional'],
  ] as const;
  for (const [section, scope] of sections) {
    for (const [name, range] of Object.entries(table(pkg[section]))) {
      const spec = String(range);
      out.push({
        ecosystem: 'npm',
        name,
        range: spec,
        ...(/^\d+\.\d+\.\d+[^\s|<>=^~*]*$/.test(spec) ? { version: spec } : {}),
        scope,
        source: `${display} ${section}`,
      });
    }
  }
  return out;
}

/** npm integrity is `sha512-<base64>`; SBOMs want hex. */
function integrityHashes(integrity: unknown): LockedPackage['hashes'] {
  if (typeof integrity !== 'string') return undefined;
  const out: NonNullable<LockedPackage['hashes']> = [];
  for (const part of integrity.split(/\s+/)) {
    const m = /^(sha512|sha256)-(.+)$/.exec(part);
    if (m) out.push({ alg: m[1] === 'sha512' ? 'SHA-512' : 'SHA-256', hex: Buffer.from(m[2]!, 'base64').toString('hex') });
  }
  return out.length ? out : undefined;
}

export async function readPackageLock(file: string, display: string): Promise<LockedPackage[]> {
  const lock = await readJson(file, display, 'regenerate it with npm install');
  const version = Number(lock['lockfileVersion']);
  const packages = table(lock['packages']);
  if (!(version >= 2) || Object.keys(packages).length === 0) {
    throw new ModelshipError(
      'SBOM_DEPS_INVALID',
      `${display}: lockfileVersion ${String(lock['lockfileVersion'])} has no "packages" map; regenerate it with npm 7 or later (npm install --lockfile-version 3)`,
    );
  }
  const out: LockedPackage[] = [];
  for (const [key, raw] of Object.entries(packages)) {
    if (!key.includes('node_modules/')) continue; // "" is the project itself; workspaces are not dependencies
    const p = table(raw);
    if (p['link'] === true || typeof p['version'] !== 'string') continue;
    const name = typeof p['name'] === 'string' ? p['name'] : key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length);
    const hashes = integrityHashes(p['integrity']);
    out.push({
      ecosystem: 'npm',
      name,
      version: p['version'],
      optional: p['dev'] === true || p['optional'] === true || p['devOptional'] === true || p['peer'] === true,
      source: display,
      ...(hashes ? { hashes } : {}),
      dependsOn: [...Object.keys(table(p['dependencies'])), ...Object.keys(table(p['optionalDependencies']))],
    });
  }
  return out;
}
