/**
 * Replays a Dagger function's pipeline on this machine, the way the engine would run it in its
 * container: the lazy Container's recorded query (exec argv, env, secret variables, workdir, mounted
 * directories, files and secrets at their container paths, stdout redirection) is read without an
 * engine, and each modelship exec runs against the CLI from source. Container paths map into a fresh
 * sandbox per call (so nothing is shared between calls, as in a container without cache volumes);
 * mounts map to their host sources. The image-building execs (apt, npm ci, build) are the image.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { CLI } from '../../dagger/src/index.js';

const exec = promisify(execFile);
const repoRoot = path.resolve(import.meta.dirname, '..', '..');
/** The CLI as this checkout runs it (node with tsx's loader, the CLI from source). */
export const HOST_CLI = [path.join(repoRoot, 'node_modules', '.bin', 'tsx'), path.join(repoRoot, 'test', 'infer', 'run-cli.ts')];

export interface Step {
  operation: string;
  args?: Record<string, unknown>;
}

/** The lazy GraphQL selection chain a Dagger object stands for. */
export function queryOf(obj: unknown): Step[] {
  return (obj as { _ctx: { _queryTree: Step[] } })._ctx._queryTree;
}

export type MountSource =
  | { kind: 'directory' | 'file'; hostPath: string }
  | { kind: 'secret'; name: string; plaintext: string }
  | { kind: 'cache'; key: string };

export interface RecordedExec {
  args: string[];
  env: Record<string, string>;
  /** Secret variables: name to the secret's name and plaintext (never in the exec's own arguments). */
  secretEnv: Record<string, { name: string; plaintext: string }>;
  workdir: string;
  mounts: Record<string, MountSource>;
  redirectStdout?: string;
}

/** Where a Directory, File or Secret argument comes from: a host path, or the secret's value. */
function sourceOf(kind: 'directory' | 'file' | 'secret', value: unknown): MountSource {
  const tree = queryOf(value);
  const last = tree.at(-1)!;
  if (kind === 'secret') {
    if (last.operation !== 'setSecret') throw new Error(`replay: a secret made by ${last.operation} cannot be replayed`);
    return { kind, name: String(last.args!['name']), plaintext: String(last.args!['plaintext']) };
  }
  if (tree[0]?.operation !== 'host' || tree.length !== 2) throw new Error(`replay: a ${kind} from ${tree.map((s) => s.operation).join('.')} is not a host path`);
  return { kind, hostPath: String(last.args!['path']) };
}

/** The container's execs in order, each with the state the engine would give it. */
export function recordedExecs(container: unknown): RecordedExec[] {
  const env: Record<string, string> = {};
  const secretEnv: RecordedExec['secretEnv'] = {};
  const mounts: Record<string, MountSource> = {};
  let workdir = '/';
  const execs: RecordedExec[] = [];
  for (const step of queryOf(container)) {
    const a = step.args ?? {};
    switch (step.operation) {
      case 'withEnvVariable': env[String(a['name'])] = String(a['value']); break;
      case 'withSecretVariable': { const s = sourceOf('secret', a['secret']) as Extract<MountSource, { kind: 'secret' }>; secretEnv[String(a['name'])] = { name: s.name, plaintext: s.plaintext }; break; }
      case 'withWorkdir': workdir = String(a['path']); break;
      case 'withMountedDirectory': mounts[String(a['path'])] = sourceOf('directory', a['source']); break;
      case 'withMountedFile': mounts[String(a['path'])] = sourceOf('file', a['source']); break;
      case 'withMountedSecret': mounts[String(a['path'])] = sourceOf('secret', a['source']); break;
      case 'withMountedCache': mounts[String(a['path'])] = { kind: 'cache', key: String(queryOf(a['cache']).at(-1)?.args?.['key']) }; break;
      case 'withExec':
        execs.push({ args: a['args'] as string[], env: { ...env }, secretEnv: { ...secretEnv }, workdir, mounts: { ...mounts }, ...(a['redirectStdout'] ? { redirectStdout: String(a['redirectStdout']) } : {}) });
        break;
      default:
    }
  }
  return execs;
}

/** The execs that run modelship (the others build the image). */
export function modelshipExecs(container: unknown): RecordedExec[] {
  return recordedExecs(container).filter((e) => e.args[0] === CLI[0] && e.args[1] === CLI[1]);
}

export interface Sandbox {
  root: string;
  /** A container path on this machine. */
  hostPath(containerPath: string): string;
}

export async function newSandbox(): Promise<Sandbox> {
  const root = await mkdtemp(path.join(tmpdir(), 'modelship-dagger-replay-'));
  return { root, hostPath: (p) => path.join(root, p) };
}

/** Maps container paths (mount points first, then the sandbox) inside one argument or env value. */
function pathMapper(sandbox: Sandbox, mounts: Record<string, MountSource>, secretFiles: Record<string, string>): (value: string) => string {
  const mapOne = (p: string): string => {
    if (!p.startsWith('/')) return p;
    if (secretFiles[p]) return secretFiles[p]!;
    for (const [point, m] of Object.entries(mounts)) {
      if (m.kind === 'directory' && (p === point || p.startsWith(`${point}/`))) return path.join(m.hostPath, p.slice(point.length));
      if (m.kind === 'file' && p === point) return m.hostPath;
    }
    return sandbox.hostPath(p);
  };
  // An OCI layout reference (oci:/PATH or oci:/PATH:TAG): its path maps, its tag stays.
  const mapRef = (v: string): string => {
    const oci = /^oci:(\/.*?)(:[^/:]+)?$/.exec(v);
    return oci ? `oci:${mapOne(oci[1]!)}${oci[2] ?? ''}` : mapOne(v);
  };
  return (value) => {
    const eq = /^(--[^=]+=)((?:oci:)?\/.*)$/.exec(value);
    return eq ? `${eq[1]}${mapRef(eq[2]!)}` : mapRef(value);
  };
}

export interface ReplayedExec {
  args: string[];
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the container's modelship execs in order in `sandbox`; stops at the first failure, as the
 * engine does. The registry on loopback is reached as the container would reach it.
 */
export async function replay(container: unknown, sandbox: Sandbox): Promise<ReplayedExec[]> {
  const done: ReplayedExec[] = [];
  for (const e of modelshipExecs(container)) {
    const secretFiles: Record<string, string> = {};
    for (const [point, m] of Object.entries(e.mounts)) {
      if (m.kind === 'secret') {
        const file = sandbox.hostPath(point);
        await mkdir(path.dirname(file), { recursive: true });
        await writeFile(file, m.plaintext, { mode: 0o600 });
        secretFiles[point] = file;
      }
      // A store on a cache volume would be shared by every call (referrers piling up on one digest).
      const home = e.env['MODELSHIP_HOME'] ?? '/root/.modelship';
      if (m.kind === 'cache' && (home === point || home.startsWith(`${point}/`) || point.startsWith(`${home}/`))) {
        throw new Error(`replay: the store ${home} is on the cache volume "${m.key}" shared between calls`);
      }
    }
    const map = pathMapper(sandbox, e.mounts, secretFiles);
    const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'], HOME: sandbox.hostPath('/root') };
    for (const [k, v] of Object.entries(e.env)) env[k] = map(v);
    for (const [k, v] of Object.entries(e.secretEnv)) env[k] = v.plaintext;
    const args = e.args.slice(CLI.length).map(map);
    const cwd = map(e.workdir);
    await mkdir(cwd, { recursive: true });
    const r = await exec(HOST_CLI[0]!, [HOST_CLI[1]!, ...args], { cwd, env, maxBuffer: 64 * 1024 * 1024 }).then(
      (x) => ({ code: 0, stdout: x.stdout, stderr: x.stderr }),
      (x: { code: number; stdout: string; stderr: string }) => ({ code: x.code, stdout: x.stdout, stderr: x.stderr }),
    );
    if (e.redirectStdout) {
      const out = sandbox.hostPath(e.redirectStdout);
      await mkdir(path.dirname(out), { recursive: true });
      await writeFile(out, r.stdout);
    }
    done.push({ args, ...r });
    if (r.code !== 0) break;
  }
  return done;
}

/** The container path a File or Directory taken from a container stands for. */
export function containerPathOf(value: unknown): string {
  return String(queryOf(value).at(-1)!.args!['path']);
}
