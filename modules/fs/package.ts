/**
 * Files shipped beside the code (package.json, schemas/, templates/, hooks/), found the same way
 * from the sources (modules/…) and from the build (dist/modules/…).
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
    if (up === dir) throw new ModelshipError('INSTALL_BROKEN', `cannot find modelship's package.json and schemas/ above ${fileURLToPath(import.meta.url)}: reinstall modelship`);
    dir = up;
  }
}

/** Absolute path of a file the package ships, e.g. packagePath('hooks', 'pre-push'); refuses one that is missing. */
export function packagePath(...parts: string[]): string {
  const file = path.join(packageRoot(), ...parts);
  if (!existsSync(file)) throw new ModelshipError('INSTALL_BROKEN', `${parts.join('/')} is missing from the modelship installation at ${packageRoot()}: reinstall modelship`);
  return file;
}

export function modelshipVersion(): string {
  return (JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { version: string }).version;
}
