/**
 * The local model store: one OCI image layout under `$MODELSHIP_HOME/store` (default ~/.modelship),
 * tagged with full references (`registry/repo:tag`, or a bare `name:tag`), plus the pack cache.
 * Any OCI tool reads it: `skopeo inspect --raw oci:$MODELSHIP_HOME/store:<reference>`.
 */
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { ModelshipError } from '../errors/index.js';
import { LayoutTarget } from '../oci/layout.js';
import { parseRemoteReference } from '../oci/reference.js';
import { PackCache } from '../modelpack/cache.js';

export interface LocalStore {
  home: string;
  /** The OCI layout directory. */
  root: string;
  layout: LayoutTarget;
  cache: PackCache;
}

export function modelshipHome(env: NodeJS.ProcessEnv, cwd = process.cwd()): string {
  const configured = env['MODELSHIP_HOME'];
  if (configured) return isAbsolute(configured) ? configured : resolve(cwd, configured);
  return join(env['HOME'] || homedir(), '.modelship');
}

export function openStore(env: NodeJS.ProcessEnv, cwd?: string): LocalStore {
  const home = modelshipHome(env, cwd);
  const root = join(home, 'store');
  return { home, root, layout: new LayoutTarget(root), cache: new PackCache(join(home, 'cache', 'pack-cache.json')) };
}

/** True when the first path component is a registry host (a dot, a port or localhost), as docker decides. */
function namesRegistry(input: string): boolean {
  const slash = input.indexOf('/');
  if (slash <= 0) return false;
  const first = input.slice(0, slash);
  return first.includes('.') || first.includes(':') || first === 'localhost' || first.startsWith('[');
}

/**
 * The store's name for a reference: `host[:port]/repo:tag`, `name:tag` for a bare name
 * (kept short, as kit and modctl do), `:latest` when no tag is given, `…@sha256:…` for a digest.
 */
export function storeReference(input: string): string {
  if (input.startsWith('oci:')) throw new ModelshipError('USAGE', `"${input}" is an OCI layout, not a store reference; give NAME:TAG or HOST/REPO:TAG`);
  const parsed = parseRemoteReference(input);
  const repository = namesRegistry(input.replace(/^docker:\/\//, '')) ? `${parsed.registry}/${parsed.repository}` : input.replace(/^docker:\/\//, '').replace(/[:@].*$/, '');
  if (parsed.digest) return `${repository}@${parsed.digest}`;
  return `${repository}:${parsed.tag ?? 'latest'}`;
}

/** The registry reference a store reference names, or undefined for bare names. */
export function remoteOf(reference: string): string | undefined {
  return namesRegistry(reference) ? reference : undefined;
}
