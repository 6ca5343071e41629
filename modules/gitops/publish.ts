/**
 * Commit the layout to the GitOps repository and push it with simple-git. A push that loses a race
 * is replayed on the new tip (fetch, write again, commit, push) until it lands; a push the remote
 * refuses for any other reason keeps the commit in the clone and says how to push it later.
 * The clone never holds the repository URL's credentials (fetch and push name the URL each time),
 * and nothing is written through a symbolic link or into `.git`.
 */
import { existsSync } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { simpleGit, type SimpleGit } from 'simple-git';
import { describeError, ModelshipError } from '../errors/index.js';
import { writeFileAtomic } from '../fs/atomic.js';
import type { LayoutFile } from './layout.js';
import { publicRepositoryUrl, redactRepositoryUrl } from './repository-url.js';

export interface PublishOptions {
  /** Clone URL or path of the GitOps repository (a bare repository on disk works too). */
  repository: string;
  /** Branch to commit on and push. */
  branch: string;
  /** Where a new branch starts (the pull request's base); default: `branch`. */
  baseBranch?: string;
  files: LayoutFile[];
  message: string;
  /** The clone: created when missing, fetched when it is already a clone of `repository`. */
  workdir: string;
  author: { name: string; email: string };
  /** Pushes lost to a concurrent writer before giving up (default 8). */
  maxAttempts?: number;
}

export interface PublishResult {
  /** False when the repository already held exactly these files: nothing committed, nothing pushed. */
  committed: boolean;
  /** The commit the branch points at on the remote. */
  commit: string;
  branch: string;
  attempts: number;
  /** Files whose content changed. */
  changed: string[];
}

const RACE = /\[rejected\].*\((fetch first|non-fast-forward)\)|failed to update ref|cannot lock ref|incorrect old value/i;

export async function publishLayout(opts: PublishOptions): Promise<PublishResult> {
  for (const f of opts.files) assertNoGitComponent(f.path);
  const git = await openClone(opts.repository, opts.workdir);
  // The clone is ours: its own identity, so the host's git config (or its absence) does not matter.
  await step(opts, 'config', () => git.addConfig('user.name', opts.author.name).addConfig('user.email', opts.author.email));
  const maxAttempts = opts.maxAttempts ?? 8;
  for (let attempt = 1; ; attempt++) {
    await step(opts, 'fetch', () => git.raw(['fetch', '--prune', opts.repository, '+refs/heads/*:refs/remotes/origin/*']));
    await startBranch(git, opts);
    // Every path is checked before the first write: a link in the tree would write outside the clone.
    for (const f of opts.files) await assertNoLinkOnPath(opts.workdir, f.path, opts.repository);
    for (const f of opts.files) await writeFileAtomic(join(opts.workdir, f.path), f.text);
    const paths = opts.files.map((f) => f.path);
    await step(opts, 'add', () => git.add(paths));
    const status = await git.status(paths);
    const changed = status.files.map((f) => f.path);
    if (!changed.length) return { committed: false, commit: await git.revparse(['HEAD']), branch: opts.branch, attempts: attempt, changed };
    await step(opts, 'commit', () => git.commit(opts.message, paths));
    const commit = await git.revparse(['HEAD']);
    try {
      await git.raw(['push', opts.repository, `HEAD:refs/heads/${opts.branch}`]);
      return { committed: true, commit, branch: opts.branch, attempts: attempt, changed };
    } catch (err) {
      const text = redactRepositoryUrl(describeError(err), opts.repository);
      if (RACE.test(text) && attempt < maxAttempts) {
        // Someone pushed first: replay these files on their tip after a short, jittered pause.
        await new Promise((r) => setTimeout(r, 50 * attempt + Math.floor(Math.random() * 100)));
        continue;
      }
      const where = publicRepositoryUrl(opts.repository);
      throw new ModelshipError(
        'GITOPS_PUSH_REJECTED',
        `${where} refused the push of ${opts.branch}${RACE.test(text) ? ` after ${attempt} attempts lost to concurrent pushes` : ''}: ${text.trim()}\n` +
          `Nothing is lost: the clone ${opts.workdir} is kept on purpose (it holds no credentials) with commit ${commit} on branch ${opts.branch}; push it with: git -C ${opts.workdir} push origin HEAD:refs/heads/${opts.branch}` +
          (where !== opts.repository ? ' (with your git credentials: the URL\'s were not kept)' : ''),
        { details: { commit, workdir: opts.workdir, branch: opts.branch } },
      );
    }
  }
}

/** The clone is `git init` plus an origin without credentials; fetch and push name the full URL each time. */
async function openClone(repository: string, workdir: string): Promise<SimpleGit> {
  const origin = publicRepositoryUrl(repository);
  if (existsSync(join(workdir, '.git'))) {
    const git = simpleGit(workdir);
    const found = (await git.getRemotes(true)).find((r) => r.name === 'origin');
    if (found?.refs.fetch === origin || found?.refs.fetch === repository) {
      // The replay resets the work tree to the remote's tip: never over someone's uncommitted work.
      const status = await git.status();
      if (!status.isClean()) throw new ModelshipError('GITOPS_GIT_FAILED', `${workdir} has uncommitted changes (${status.files.slice(0, 3).map((f) => f.path).join(', ')}${status.files.length > 3 ? ', …' : ''}): commit or stash them, or give another work folder`);
      return git;
    }
    throw new ModelshipError('GITOPS_GIT_FAILED', `${workdir} is a clone of ${found ? publicRepositoryUrl(found.refs.fetch) : 'no origin'}, not ${origin}: give another work folder`);
  }
  try {
    await simpleGit().raw(['init', '-q', workdir]);
    const git = simpleGit(workdir);
    await git.raw(['remote', 'add', 'origin', origin]);
    await git.raw(['fetch', '-q', repository, '+refs/heads/*:refs/remotes/origin/*']);
    return git;
  } catch (err) {
    throw new ModelshipError('GITOPS_GIT_FAILED', `cannot clone the GitOps repository ${origin}: ${redactRepositoryUrl(describeError(err), repository).trim()}; check the URL and your git credentials`);
  }
}

/** Prepares the clone (init and first fetch) before anything is recorded, so an unreachable repository records nothing. */
export async function prepareClone(repository: string, workdir: string): Promise<void> {
  await openClone(repository, workdir);
}

/** A path with a `.git` component would write into the clone's own git data. */
export function assertNoGitComponent(path: string): void {
  if (path.split(/[\\/]+/).some((part) => part.toLowerCase() === '.git')) {
    throw new ModelshipError('GITOPS_INVALID_PATH', `"${path}" has a .git component: the hand-off never writes into a repository's git data; give a --path (and --name) without .git`);
  }
}

/** Refuses when any existing component of `path` under `root` is a symbolic link (or not a folder where one is needed). */
async function assertNoLinkOnPath(root: string, path: string, repository: string): Promise<void> {
  const parts = path.split('/').filter(Boolean);
  let current = root;
  for (let i = 0; i < parts.length; i++) {
    current = join(current, parts[i]!);
    const info = await lstat(current).catch(() => undefined);
    if (!info) return;
    const at = parts.slice(0, i + 1).join('/');
    if (info.isSymbolicLink()) {
      throw new ModelshipError('GITOPS_INVALID_PATH', `${publicRepositoryUrl(repository)} has a symbolic link at ${at}: the hand-off never writes through a link (it could point outside the repository); replace the link with a folder, or give another --path`);
    }
    if (i < parts.length - 1 && !info.isDirectory()) throw new ModelshipError('GITOPS_INVALID_PATH', `${publicRepositoryUrl(repository)} has a file at ${at} where the hand-off needs a folder; give another --path`);
  }
}

/** Check out `branch` at the remote's tip: the branch itself, else the base, else a first (orphan) commit. */
async function startBranch(git: SimpleGit, opts: PublishOptions): Promise<void> {
  const remote = new Set((await git.branch(['-r'])).all);
  const from = remote.has(`origin/${opts.branch}`) ? opts.branch : remote.has(`origin/${opts.baseBranch ?? opts.branch}`) ? (opts.baseBranch ?? opts.branch) : undefined;
  if (from) {
    await step(opts, 'checkout', () => git.raw(['checkout', '--force', '-B', opts.branch, `origin/${from}`]));
    await step(opts, 'clean', () => git.raw(['clean', '-fdq']));
    return;
  }
  // An empty repository: the first commit starts the branch.
  await step(opts, 'checkout', () => git.raw(['symbolic-ref', 'HEAD', `refs/heads/${opts.branch}`]));
}

async function step<T>(opts: PublishOptions, what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw new ModelshipError('GITOPS_GIT_FAILED', `git ${what} failed in ${opts.workdir} (${publicRepositoryUrl(opts.repository)}): ${redactRepositoryUrl(describeError(err), opts.repository).trim()}`, { details: { workdir: opts.workdir } });
  }
}

/** Who hand-off commits are by, unless GIT_AUTHOR_NAME / GIT_AUTHOR_EMAIL say otherwise. */
export const DEFAULT_GITOPS_AUTHOR = { name: 'modelship', email: 'modelship@users.noreply.github.com' };

/**
 * A branch name as git-check-ref-format(1) takes it under refs/heads/, and as Flux's `ref.branch`
 * means it: not HEAD, not a full ref, not a refspec (`+main`) or an option (`-x`).
 */
export function assertBranchName(branch: string, flag = '--branch'): void {
  const why =
    branch === '' ? 'is empty'
    : branch === 'HEAD' || branch === '@' ? 'names no branch'
    : branch.startsWith('refs/') ? 'is a full ref; give the branch name alone (main, not refs/heads/main)'
    : /^[-+]/.test(branch) ? 'starts with "-" or "+"'
    : /[\x00-\x20\x7f~^:?*[\\]/.test(branch) ? 'has a space, a control character or one of ~ ^ : ? * [ \\'
    : /\.\.|@\{|\/\/|^\/|\/$|\.$/.test(branch) ? 'has "..", "@{", "//", or starts or ends with "/" or ends with "."'
    : branch.split('/').some((part) => part.startsWith('.') || part.endsWith('.lock')) ? 'has a part that starts with "." or ends with ".lock"'
    : undefined;
  if (why) throw new ModelshipError('GITOPS_INVALID_BRANCH', `${flag} ${JSON.stringify(branch)} ${why}: give a branch name such as main or deploy/models`);
}
