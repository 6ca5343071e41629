/**
 * Python lock files for exact versions: poetry.lock, uv.lock (TOML) and Pipfile.lock (JSON).
 */
import { readFile } from 'node:fs/promises';
import { ModelshipError } from '../../errors/index.js';
import { normalizePypiName } from '../purl.js';
import { list, readToml, table } from './toml.js';
import type { LockedPackage } from './types.js';

function sha256Of(value: unknown): { alg: 'SHA-256'; hex: string }[] {
  const m = typeof value === 'string' ? /^sha256:([0-9a-f]{64})$/i.exec(value) : null;
  return m ? [{ alg: 'SHA-256', hex: m[1]!.toLowerCase() }] : [];
}

export async function readPoetryLock(file: string, display: string): Promise<LockedPackage[]> {
  const doc = await readToml(file, display);
  return list(doc['package']).map((raw) => {
    const p = table(raw);
    const category = p['category'];
    return {
      ecosystem: 'pypi' as const,
      name: normalizePypiName(String(p['name'])),
      version: String(p['version']),
      // Poetry < 1.5 marks dev packages by category; newer lock files leave groups to pyproject.
      optional: p['optional'] === true || category === 'dev',
      source: display,
      dependsOn: Object.keys(table(p['dependencies'])).map(normalizePypiName),
    };
  });
}

export async function readUvLock(file: string, display: string): Promise<LockedPackage[]> {
  const doc = await readToml(file, display);
  return list(doc['package']).flatMap((raw) => {
    const p = table(raw);
    const source = table(p['source']);
    // The project itself (editable or virtual source) is not a dependency.
    if (source['editable'] !== undefined || source['virtual'] !== undefined) return [];
    if (typeof p['version'] !== 'string') return [];
    const sdist = table(p['sdist']);
    return [
      {
        ecosystem: 'pypi' as const,
        name: normalizePypiName(String(p['name'])),
        version: p['version'],
        optional: false,
        source: display,
        ...(sdist['hash'] ? { hashes: sha256Of(sdist['hash']) } : {}),
        dependsOn: list(p['dependencies']).map((d) => normalizePypiName(String(table(d)['name']))),
      },
    ];
  });
}

export async function readPipfileLock(file: string, display: string): Promise<LockedPackage[]> {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new ModelshipError('SBOM_DEPS_INVALID', `${display}: not valid JSON (${(err as Error).message}); regenerate it with pipenv lock`, { cause: err });
  }
  const out: LockedPackage[] = [];
  for (const [section, optional] of [['default', false], ['develop', true]] as const) {
    for (const [name, raw] of Object.entries(table(doc[section]))) {
      const version = String(table(raw)['version'] ?? '').replace(/^===?/, '');
      if (!version) continue;
      const hashes = list(table(raw)['hashes']).flatMap(sha256Of);
      out.push({
        ecosystem: 'pypi',
        name: normalizePypiName(name),
        version,
        optional,
        source: display,
        ...(hashes.length === 1 ? { hashes } : {}),
        dependsOn: [],
      });
    }
  }
  return out;
}
