/**
 * Finds files shipped beside the code (schemas/, package.json) from both the sources and dist/.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ModelshipError } from '../errors/index.js';

let rootCache: string | undefined;

/** The package root: the nearest folder above this file holding package.json and schemas/. */
export function packageRoot(): string {
  if (rootCache) return rootCache;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'schemas'))) return (rootCache = dir);
    const up = path.dirname(dir);
    if (up === dir) {
      throw new ModelshipError('SBOM_SCHEMA_MISSING', `cannot find the schemas/ folder above ${fileURLToPath(import.meta.url)}: reinstall modelship`);
    }
    dir = up;
  }
}

export function readSchema(...parts: string[]): Record<string, unknown> {
  const file = path.join(packageRoot(), 'schemas', ...parts);
  return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
}

export function modelshipVersion(): string {
  const pkg = JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}
