/**
 * Installs modelship's pre-push hook in a git repository: through husky where the repository uses
 * it (.husky/), else in the folder git runs hooks from (core.hooksPath, or .git/hooks). A hook that
 * modelship did not write is never replaced.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { ModelshipError, describeError } from '../errors/index.js';
import { writeFileAtomic } from '../fs/atomic.js';
import { packagePath } from '../fs/package.js';

const run = promisify(execFile);

/** The line that marks a hook as modelship's own (and so safe to update). */
export const HOOK_MARKER = '# modelship pre-push hook';

export interface InstalledHook {
  /** Absolute path of the hook file. */
  file: string;
  via: 'husky' | 'core.hooksPath' | '.git/hooks';
  /** False when the same hook was already there. */
  changed: boolean;
}

/** The hook script shipped in hooks/pre-push at the package root. */
export async function prePushScript(): Promise<string> {
  return readFile(packagePath('hooks', 'pre-push'), 'utf8');
}

async function git(cwd: string, args: string[]): Promise<string> {
  return (await run('git', args, { cwd })).stdout.trim();
}

export async function repositoryRoot(dir: string): Promise<string> {
  try {
    return await git(dir, ['rev-parse', '--show-toplevel']);
  } catch (err) {
    throw new ModelshipError('INPUT_INVALID', `${dir} is not inside a git repository (${describeError(err).split('\n')[0]}): run "git init" first`, { cause: err });
  }
}

/** Where the hook goes: husky's folder when the repository uses husky, else where git looks. */
async function hookLocation(root: string): Promise<{ file: string; via: InstalledHook['via'] }> {
  if (await usesHusky(root)) return { file: path.join(root, '.husky', 'pre-push'), via: 'husky' };
  const hooksPath = await git(root, ['config', '--get', 'core.hooksPath']).catch(() => '');
  if (hooksPath) return { file: path.join(path.resolve(root, hooksPath), 'pre-push'), via: 'core.hooksPath' };
  const gitDir = path.resolve(root, await git(root, ['rev-parse', '--git-common-dir']));
  return { file: path.join(gitDir, 'hooks', 'pre-push'), via: '.git/hooks' };
}

async function usesHusky(root: string): Promise<boolean> {
  if (existsSync(path.join(root, '.husky'))) return true;
  try {
    const pkg = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
    return Boolean(pkg['devDependencies']?.['husky'] ?? pkg['dependencies']?.['husky']);
  } catch {
    return false;
  }
}

export async function installPrePushHook(dir: string, opts: { force?: boolean } = {}): Promise<InstalledHook> {
  const root = await repositoryRoot(dir);
  const { file, via } = await hookLocation(root);
  const script = await prePushScript();
  const existing = await readFile(file, 'utf8').catch(() => undefined);
  if (existing !== undefined && !existing.includes(HOOK_MARKER) && !opts.force) {
    throw new ModelshipError('SPEC_EXISTS', `${file} is a pre-push hook modelship did not write: add "modelship hooks run pre-push \\"$@\\"" to it yourself, or replace it with --force`);
  }
  if (existing === script) return { file, via, changed: false };
  await mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, script);
  await chmod(file, 0o755);
  return { file, via, changed: true };
}
