/** The JSON schemas the SBOM builders validate against, shipped under schemas/. */
import { readFileSync } from 'node:fs';
import { packagePath } from '../fs/package.js';

export { packageRoot, modelshipVersion } from '../fs/package.js';

export function readSchema(...parts: string[]): Record<string, unknown> {
  return JSON.parse(readFileSync(packagePath('schemas', ...parts), 'utf8')) as Record<string, unknown>;
}
