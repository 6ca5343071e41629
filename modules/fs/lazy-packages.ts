/**
 * Packages that most runs never call, loaded on first use instead of at start-up (each costs tens
 * of ms to load). Both are CommonJS under Node, so require returns the very instance an import would.
 */
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';
import type * as TarStream from 'tar-stream';

const require = createRequire(import.meta.url);

export function loadYaml(): typeof Yaml {
  return require('yaml') as typeof Yaml;
}

export function loadTarStream(): typeof TarStream {
  return require('tar-stream') as typeof TarStream;
}
