/**
 * Registry credentials where docker and podman keep them: `$REGISTRY_AUTH_FILE`, podman's
 * `${XDG_RUNTIME_DIR}/containers/auth.json`, docker's `config.json` (`auths` with base64 `auth` or
 * `identitytoken`), and the `docker-credential-<name>` helpers named by `credHelpers` / `credsStore`.
 */
import { loadChildProcess } from '../../fs/lazy-packages.js';
import { mkdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { ModelshipError } from '../../errors/index.js';
import { writeFileAtomic } from '../../fs/atomic.js';

export interface Credential {
  username?: string;
  password?: string;
  /** An OAuth2 refresh token (docker's `identitytoken`), traded at the token realm. */
  identityToken?: string;
}

export interface CredentialProvider {
  /** Credentials for `registry` (host[:port]), or undefined for anonymous access. */
  get(registry: string): Promise<Credential | undefined>;
}

interface AuthEntry {
  auth?: string;
  identitytoken?: string;
  username?: string;
  password?: string;
}

export interface AuthConfigFile {
  auths?: Record<string, AuthEntry>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
  [key: string]: unknown;
}

const DOCKER_HUB_KEY = 'https://index.docker.io/v1/';

/** Files read in this order, as containers/image does; the first that knows the registry wins. */
export function authFilesToRead(env: NodeJS.ProcessEnv): string[] {
  const files: string[] = [];
  if (env['REGISTRY_AUTH_FILE']) files.push(env['REGISTRY_AUTH_FILE']);
  if (env['XDG_RUNTIME_DIR']) files.push(join(env['XDG_RUNTIME_DIR'], 'containers', 'auth.json'));
  files.push(dockerConfigPath(env));
  return files;
}

/** Where `login` writes: $REGISTRY_AUTH_FILE when set, else docker's config.json. */
export function authFileToWrite(env: NodeJS.ProcessEnv): string {
  return env['REGISTRY_AUTH_FILE'] || dockerConfigPath(env);
}

function dockerConfigPath(env: NodeJS.ProcessEnv): string {
  const dir = env['DOCKER_CONFIG'] || join(env['HOME'] || homedir(), '.docker');
  return join(dir, 'config.json');
}

/** `https://host/v1/`, `host`, `docker.io` … to the host[:port] the key is for. */
export function normalizeRegistryKey(key: string): string {
  let host = key.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '');
  if (host === 'index.docker.io' || host === 'registry-1.docker.io') host = 'docker.io';
  return host;
}

function keyFor(registry: string): string {
  return registry === 'docker.io' ? DOCKER_HUB_KEY : registry;
}

async function readAuthFile(path: string): Promise<AuthConfigFile | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ModelshipError('INPUT_INVALID', `cannot read credentials file ${path}: ${(err as Error).message}`, { cause: err });
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object');
    return parsed as AuthConfigFile;
  } catch (err) {
    // Never quote the file: it holds secrets.
    throw new ModelshipError('INPUT_INVALID', `credentials file ${path} is not valid JSON (${(err as Error).name}); fix or remove it`, { details: { file: path } });
  }
}

function entryFor(file: AuthConfigFile, registry: string): AuthEntry | undefined {
  for (const [key, entry] of Object.entries(file.auths ?? {})) {
    if (normalizeRegistryKey(key) === registry) return entry;
  }
  return undefined;
}

function decodeEntry(entry: AuthEntry, path: string, registry: string): Credential | undefined {
  if (entry.identitytoken) return { ...(entry.username ? { username: entry.username } : {}), identityToken: entry.identitytoken };
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) {
      throw new ModelshipError('INPUT_INVALID', `the "auth" entry for ${registry} in ${path} is not base64 of "user:password"; run "modelship login ${registry}" again`, {
        details: { file: path, registry },
      });
    }
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (entry.username && entry.password) return { username: entry.username, password: entry.password };
  return undefined;
}

/** The credential helper that holds `registry`'s secret in this file, if any. */
function helperFor(file: AuthConfigFile, registry: string): string | undefined {
  for (const [key, helper] of Object.entries(file.credHelpers ?? {})) if (normalizeRegistryKey(key) === registry) return helper;
  return file.credsStore || undefined;
}

/** Credentials as docker, podman and skopeo find them. */
export function dockerCredentials(env: NodeJS.ProcessEnv = process.env): CredentialProvider {
  return {
    async get(registry: string) {
      for (const path of authFilesToRead(env)) {
        const file = await readAuthFile(path);
        if (!file) continue;
        const helper = helperFor(file, registry);
        if (helper) {
          const found = await helperGet(helper, registry, env);
          if (found) return found;
        }
        const entry = entryFor(file, registry);
        const decoded = entry && decodeEntry(entry, path, registry);
        if (decoded) return decoded;
      }
      return undefined;
    },
  };
}

/** Fixed credentials, e.g. from flags or tests. */
export function staticCredentials(byRegistry: Record<string, Credential>): CredentialProvider {
  return { get: async (registry) => byRegistry[registry] };
}

/** Run `docker-credential-<helper> <action>` with `input` on stdin; the helper's protocol is one JSON or URL on stdin. */
function runHelper(helper: string, action: 'get' | 'store' | 'erase', input: string, env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  const program = `docker-credential-${helper}`;
  return new Promise((resolve, reject) => {
    const child = loadChildProcess().spawn(program, [action], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (err) => {
      reject(new ModelshipError('OCI_UNAUTHORIZED', `credential helper ${program} could not run (${(err as NodeJS.ErrnoException).code ?? err.message}); install it or remove it from the config file`, { cause: err }));
    });
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.on('error', () => {});
    child.stdin.end(input);
  });
}

async function helperGet(helper: string, registry: string, env: NodeJS.ProcessEnv): Promise<Credential | undefined> {
  const result = await runHelper(helper, 'get', keyFor(registry), env);
  if (result.code !== 0) {
    if (/not found/i.test(result.stdout + result.stderr)) return undefined;
    throw new ModelshipError('OCI_UNAUTHORIZED', `credential helper docker-credential-${helper} failed to get credentials for ${registry} (exit ${result.code})`, { details: { registry, helper } });
  }
  let parsed: { Username?: string; Secret?: string };
  try {
    parsed = JSON.parse(result.stdout) as { Username?: string; Secret?: string };
  } catch {
    throw new ModelshipError('OCI_UNAUTHORIZED', `credential helper docker-credential-${helper} printed something that is not JSON for ${registry}`, { details: { registry, helper } });
  }
  if (!parsed.Secret) return undefined;
  // The helper protocol marks identity tokens with the user name "<token>".
  if (parsed.Username === '<token>') return { identityToken: parsed.Secret };
  return { ...(parsed.Username ? { username: parsed.Username } : {}), password: parsed.Secret };
}

/** Write JSON next to its target and rename over it, owner-only. */
async function writeAuthFile(path: string, file: AuthConfigFile): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFileAtomic(path, JSON.stringify(file, null, '\t') + '\n', { mode: 0o600 });
}

export interface StoredCredential {
  file: string;
  /** The credential helper that holds the secret, when one is configured. */
  helper?: string;
}

/** Store a login where docker and podman read it, keeping every other entry. */
export async function saveCredential(env: NodeJS.ProcessEnv, registry: string, credential: { username: string; password: string }): Promise<StoredCredential> {
  const path = authFileToWrite(env);
  const file = (await readAuthFile(path)) ?? {};
  const helper = helperFor(file, registry);
  const auths = { ...(file.auths ?? {}) };
  for (const key of Object.keys(auths)) if (normalizeRegistryKey(key) === registry) delete auths[key];
  if (helper) {
    const input = JSON.stringify({ ServerURL: keyFor(registry), Username: credential.username, Secret: credential.password });
    const result = await runHelper(helper, 'store', input, env);
    if (result.code !== 0) {
      throw new ModelshipError('OCI_UNAUTHORIZED', `credential helper docker-credential-${helper} failed to store credentials for ${registry} (exit ${result.code})`, { details: { registry, helper } });
    }
    // docker leaves an empty entry so that `auths` still lists the registry.
    auths[keyFor(registry)] = {};
  } else {
    auths[keyFor(registry)] = { auth: Buffer.from(`${credential.username}:${credential.password}`).toString('base64') };
  }
  await writeAuthFile(path, { ...file, auths });
  return { file: path, ...(helper ? { helper } : {}) };
}

/** Remove a login from the file `login` writes (and from its helper); false when there was none. */
export async function removeCredential(env: NodeJS.ProcessEnv, registry: string): Promise<StoredCredential & { removed: boolean }> {
  const path = authFileToWrite(env);
  const file = await readAuthFile(path);
  if (!file) return { file: path, removed: false };
  const helper = helperFor(file, registry);
  let removed = false;
  if (helper) {
    const result = await runHelper(helper, 'erase', keyFor(registry), env);
    if (result.code === 0) removed = true;
    else if (!/not found/i.test(result.stdout + result.stderr)) {
      throw new ModelshipError('OCI_UNAUTHORIZED', `credential helper docker-credential-${helper} failed to erase credentials for ${registry} (exit ${result.code})`, { details: { registry, helper } });
    }
  }
  const auths = { ...(file.auths ?? {}) };
  for (const key of Object.keys(auths)) {
    if (normalizeRegistryKey(key) === registry) {
      delete auths[key];
      removed = true;
    }
  }
  if (removed) await writeAuthFile(path, { ...file, auths });
  return { file: path, removed, ...(helper ? { helper } : {}) };
}
