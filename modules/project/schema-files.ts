/**
 * JSON Schemas shipped with modelship under schemas/ at the package root, so users validate
 * offline and editors complete modelship.yaml.
 */
import { existsSync } from 'node:fs';
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
