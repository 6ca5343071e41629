/**
 * Which model projects a push touches: the git hook runs the pipeline only for those, so a push
 * that changes nothing of a model costs a git call or two.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { ModelshipError, describeError } from '../errors/index.js';
import { resolveSpecFiles } from '../modelpack/index.js';
import { IGNORE_FILES, loadSpec, SPEC_FILE_NAMES } from '../project/index.js';

const run = promisify(execFile);
const ZERO_SHA = /^0+$/;

async function git(cwd: string, args: string[]): Promise<string> {
  try {
    return (await run('git', args, { cwd, maxBuffer: 64 * 1024 * 1024 })).stdout;
  } catch (err) {
    throw new ModelshipError('INPUT_INVALID', `git ${args.join(' ')} failed in ${cwd}: ${describeError(err)}`, { cause: err });
  }
}

/** One line of a pre-push hook's standard input. */
export interface PushedRef {
  localRef: string;
  localSha: string;
  remoteRef: string;
  remoteSha: string;
}

export function parsePrePushInput(text: string): PushedRef[] {
  return text
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((f) => f.length === 4)
    .map(([localRef, localSha, remoteRef, remoteSha]) => ({ localRef: localRef!, localSha: localSha!, remoteRef: remoteRef!, remoteSha: remoteSha! }));
}

/** Paths (relative to the repository root) the pushed commits change; deleted branches change nothing. */
export async function pushedPaths(repoRoot: string, remote: string, refs: PushedRef[]): Promise<string[]> {
  const paths = new Set<string>();
  for (const ref of refs) {
    if (ZERO_SHA.test(ref.localSha)) continue;
    const known = !ZERO_SHA.test(ref.remoteSha) && (await git(repoRoot, ['cat-file', '-t', ref.remoteSha]).then(() => true, () => false));
    // A new branch: the commits no branch of that remote has yet. --no-renames: a file moved out of
    // a project is a deletion there, which rename detection (diff.renames, on by default) would hide.
    const out = known
      ? await git(repoRoot, ['diff', '--no-renames', '--name-only', '-z', ref.remoteSha, ref.localSha])
      : await git(repoRoot, ['log', '--no-renames', '--format=', '--name-only', '-z', ref.localSha, '--not', `--remotes=${remote}`]);
    for (const p of out.split('\0')) if (p.trim()) paths.add(p.trim());
  }
  return [...paths].sort();
}

/** Folders of the repository holding a modelship.yaml, Kitfile or Modelfile that git tracks. */
export async function projectFolders(repoRoot: string): Promise<string[]> {
  const tracked = (await git(repoRoot, ['ls-files', '-z'])).split('\0').filter(Boolean);
  const names = new Set(SPEC_FILE_NAMES);
  return [...new Set(tracked.filter((p) => names.has(path.posix.basename(p))).map((p) => path.posix.dirname(p)))].sort();
}

/** Projects (absolute folders) whose spec, ignore files or packed files are among `changed`. */
export async function touchedProjects(repoRoot: string, changed: string[]): Promise<string[]> {
  const touched: string[] = [];
  for (const folder of await projectFolders(repoRoot)) {
    const prefix = folder === '.' ? '' : `${folder}/`;
    const inside = changed.filter((p) => p.startsWith(prefix)).map((p) => p.slice(prefix.length));
    if (!inside.length) continue;
    const dir = path.join(repoRoot, folder);
    if (await touchesModel(dir, inside)) touched.push(dir);
  }
  return touched;
}

async function touchesModel(dir: string, changed: string[]): Promise<boolean> {
  const own = new Set<string>([...SPEC_FILE_NAMES, ...IGNORE_FILES]);
  // A deleted file of the project may have been part of the model: the check decides.
  if (changed.some((p) => own.has(p) || !existsSync(path.join(dir, p)))) return true;
  let packed: Set<string>;
  try {
    packed = new Set((await resolveSpecFiles(await loadSpec(dir))).map((f) => f.path));
  } catch {
    return true; // a spec that no longer loads is for the check to report
  }
  return changed.some((p) => packed.has(p));
}
