/**
 * Packages and Node modules that most runs never call, loaded on first use instead of at start-up
 * (each costs milliseconds to tens of ms to load). The packages are CommonJS under Node, so require
 * returns the very instance an import would.
 */
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';
import type * as TarStream from 'tar-stream';
import type * as ChildProcess from 'node:child_process';
import type * as Zlib from 'node:zlib';

const require = createRequire(import.meta.url);

export function loadYaml(): typeof Yaml {
  return require('yaml') as typeof Yaml;
}

export function loadTarStream(): typeof TarStream {
  return require('tar-stream') as typeof TarStream;
}

export function loadChildProcess(): typeof ChildProcess {
  return require('node:child_process') as typeof ChildProcess;
}

export function loadZlib(): typeof Zlib {
  return require('node:zlib') as typeof Zlib;
}
