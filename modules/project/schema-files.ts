/**
 * JSON Schemas shipped with modelship under schemas/ at the package root, so users validate
 * offline and editors complete modelship.yaml.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ModelshipError } from '../errors/index.js';

/** Absolute path of schemas/<name>, from the sources (modules/project) or the build (dist/modules/project). */
export function schemaFilePath(name: string): string {
  for (const up of ['../../schemas/', '../../../schemas/']) {
    const candidate = fileURLToPath(new URL(up + name, import.meta.url));
    if (existsSync(candidate)) return candidate;
  }
  throw new ModelshipError('INPUT_INVALID', `schema file schemas/${name} is missing from the modelship installation: reinstall modelship`);
}

/**
 * Where editors find schemas/<name> on every machine: the copy published with this version of the
 * package (as changesets does), never a path into one machine's installation.
 */
export function publishedSchemaUrl(name: string): string {
  const packageJson = path.join(path.dirname(schemaFilePath(name)), '..', 'package.json');
  const { version } = JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string };
  return `https://unpkg.com/modelship@${version}/schemas/${name}`;
}
