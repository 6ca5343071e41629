/**
 * Commit the layout to the GitOps repository and push it with simple-git. A push that loses a race
 * is replayed on the new tip (fetch, write again, commit, push) until it lands; a push the remote
 * refuses for any other reason keeps the commit in the clone and says how to push it later.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { simpleGit, type SimpleGit } from 'simple-git';
import { describeError, ModelshipError } from '../errors/index.js';
import { writeFileAtomic } from '../fs/atomic.js';
import type { LayoutFile } from './layout.js';

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
  const git = await openClone(opts.repository, opts.workdir);
  // The clone is ours: its own identity, so the host's git config (or its absence) does not matter.
  await step(opts, 'config', () => git.addConfig('user.name', opts.author.name).addConfig('user.email', opts.author.email));
  const maxAttempts = opts.maxAttempts ?? 8;
  for (let attempt = 1; ; attempt++) {
    await step(opts, 'fetch', () => git.fetch(['--prune', 'origin']));
    await startBranch(git, opts);
    for (const f of opts.files) await writeFileAtomic(join(opts.workdir, f.path), f.text);
    const paths = opts.files.map((f) => f.path);
    await step(opts, 'add', () => git.add(paths));
    const status = await git.status(paths);
    const changed = status.files.map((f) => f.path);
    if (!changed.length) return { committed: false, commit: await git.revparse(['HEAD']), branch: opts.branch, attempts: attempt, changed };
    await step(opts, 'commit', () => git.commit(opts.message, paths));
    const commit = await git.revparse(['HEAD']);
    try {
      await git.push('origin', `HEAD:refs/heads/${opts.branch}`);
      return { committed: true, commit, branch: opts.branch, attempts: attempt, changed };
    } catch (err) {
      const text = describeError(err);
      if (RACE.test(text) && attempt < maxAttempts) {
        // Someone pushed first: replay these files on their tip after a short, jittered pause.
        await new Promise((r) => setTimeout(r, 50 * attempt + Math.floor(Math.random() * 100)));
        continue;
      }
      throw new ModelshipError(
        'GITOPS_PUSH_REJECTED',
        `${opts.repository} refused the push of ${opts.branch}${RACE.test(text) ? ` after ${attempt} attempts lost to concurrent pushes` : ''}: ${text.trim()}\n` +
          `Nothing is lost: commit ${commit} is in ${opts.workdir} on branch ${opts.branch}; push it with: git -C ${opts.workdir} push origin HEAD:refs/heads/${opts.branch}`,
        { cause: err, details: { commit, workdir: opts.workdir, branch: opts.branch } },
      );
    }
  }
}

async function openClone(repository: string, workdir: string): Promise<SimpleGit> {
  if (existsSync(join(workdir, '.git'))) {
    const git = simpleGit(workdir);
    const origin = (await git.getRemotes(true)).find((r) => r.name === 'origin');
    if (origin?.refs.fetch === repository) {
      // The replay resets the work tree to the remote's tip: never over someone's uncommitted work.
      const status = await git.status();
      if (!status.isClean()) throw new ModelshipError('GITOPS_GIT_FAILED', `${workdir} has uncommitted changes (${status.files.slice(0, 3).map((f) => f.path).join(', ')}${status.files.length > 3 ? ', …' : ''}): commit or stash them, or give another work folder`);
      return git;
    }
    throw new ModelshipError('GITOPS_GIT_FAILED', `${workdir} is a clone of ${origin?.refs.fetch ?? 'no origin'}, not ${repository}: give another work folder`);
  }
  try {
    await simpleGit().clone(repository, workdir, ['--no-checkout']);
  } catch (err) {
    throw new ModelshipError('GITOPS_GIT_FAILED', `cannot clone the GitOps repository ${repository}: ${describeError(err).trim()}; check the URL and your git credentials`, { cause: err });
  }
  return simpleGit(workdir);
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
    throw new ModelshipError('GITOPS_GIT_FAILED', `git ${what} failed in ${opts.workdir} (${opts.repository}): ${describeError(err).trim()}`, { cause: err, details: { workdir: opts.workdir } });
  }
}

/** Who hand-off commits are by, unless GIT_AUTHOR_NAME / GIT_AUTHOR_EMAIL say otherwise. */
export const DEFAULT_GITOPS_AUTHOR = { name: 'modelship', email: 'modelship@users.noreply.github.com' };
