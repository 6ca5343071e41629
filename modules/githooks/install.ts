/**
 * Installs modelship's pre-push hook in a git repository: where git runs hooks from (git itself says
 * where: core.hooksPath or .git/hooks), or in husky's folder when core.hooksPath points at husky's
 * runner. The hook records the command line that installed it, so it runs without modelship on PATH.
 * A hook that modelship did not write is never replaced.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { ModelshipError, describeError } from '../errors/index.js';
import { writeFileAtomic } from '../fs/atomic.js';
import { packagePath } from '../fs/package.js';
import { shellQuote } from '../text/shell-quote.js';

const run = promisify(execFile);

/** The line that marks a hook as modelship's own (and so safe to update). */
export const HOOK_MARKER = '# modelship pre-push hook';

export interface InstalledHook {
  /** Absolute path of the hook file. */
  file: string;
  via: 'husky' | 'core.hooksPath' | '.git/hooks';
  /** False when the same hook was already there. */
  changed: boolean;
  /** The command line the hook runs first (the one that installed it), when known. */
  command?: string[];
}

export interface InstallOptions {
  force?: boolean;
  /**
   * The command line that runs this modelship (node, its flags, the script's absolute path), recorded
   * in the hook. Its last element is the script the hook checks still exists.
   */
  invocation?: readonly string[];
}

/** The hook script shipped in hooks/pre-push at the package root, with `invocation` recorded in it. */
export async function prePushScript(invocation?: readonly string[]): Promise<string> {
  const template = await readFile(packagePath('hooks', 'pre-push'), 'utf8');
  if (!invocation?.length) return template;
  const script = invocation.at(-1)!;
  return template
    .replace(/^installed_cli=''$/m, () => `installed_cli=${shellQuote(script)}`)
    .replace(/^installed\(\) \{ return 127; \}$/m, () => `installed() { ${invocation.map(shellQuote).join(' ')} "$@"; }`);
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

/**
 * Where the hook goes. git says where it runs pre-push from (core.hooksPath with ~ expanded, or the
 * common .git/hooks). husky 9 points core.hooksPath at DIR/_, whose runner sources the user's hook
 * from DIR: then the hook goes in DIR. A package.json listing husky changes nothing by itself.
 */
export async function hookLocation(root: string): Promise<{ file: string; via: InstalledHook['via'] }> {
  const file = path.resolve(root, await git(root, ['rev-parse', '--git-path', 'hooks/pre-push']));
  const hooksDir = path.dirname(file);
  if (path.basename(hooksDir) === '_' && existsSync(path.join(hooksDir, 'h'))) return { file: path.join(path.dirname(hooksDir), 'pre-push'), via: 'husky' };
  const hooksPath = await git(root, ['config', '--get', 'core.hooksPath']).catch(() => '');
  return { file, via: hooksPath ? 'core.hooksPath' : '.git/hooks' };
}

export async function installPrePushHook(dir: string, opts: InstallOptions = {}): Promise<InstalledHook> {
  const root = await repositoryRoot(dir);
  const { file, via } = await hookLocation(root);
  const script = await prePushScript(opts.invocation);
  const existing = await readFile(file, 'utf8').catch(() => undefined);
  if (existing !== undefined && !existing.includes(HOOK_MARKER) && !opts.force) {
    throw new ModelshipError('SPEC_EXISTS', `${file} is a pre-push hook modelship did not write: add "modelship hooks run pre-push \\"$@\\"" to it yourself, or replace it with --force`);
  }
  const command = opts.invocation?.length ? { command: [...opts.invocation] } : {};
  if (existing === script) return { file, via, changed: false, ...command };
  await mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, script);
  await chmod(file, 0o755);
  return { file, via, changed: true, ...command };
}
