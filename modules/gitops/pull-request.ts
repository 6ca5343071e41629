/**
 * Open (or find) the pull request that proposes a hand-off, with @octokit/rest. The API base URL is
 * injectable (GITHUB_API_URL, as GitHub Actions sets it) so GitHub Enterprise and tests work alike.
 */
import { Octokit } from '@octokit/rest';
import { describeError, ModelshipError } from '../errors/index.js';

export const DEFAULT_GITHUB_API_URL = 'https://api.github.com';

export interface PullRequestInput {
  /** owner/name on GitHub. */
  repository: string;
  head: string;
  base: string;
  title: string;
  body: string;
  token: string;
  apiUrl?: string;
  /** HTTP for tests and proxies; default global fetch. */
  fetch?: typeof fetch;
}

export interface PullRequestResult {
  number: number;
  url: string;
  /** False when an open pull request for this branch already existed. */
  created: boolean;
}

/** owner/name from a GitHub clone URL (https or ssh), or undefined for anything else. */
export function githubRepositoryOf(url: string): string | undefined {
  const m = /^(?:https:\/\/(?:[^@/]+@)?github\.com\/|git@github\.com:|ssh:\/\/git@github\.com\/)([\w.-]+)\/([\w.-]+?)(?:\.git)?\/?$/.exec(url);
  return m ? `${m[1]}/${m[2]}` : undefined;
}

export async function openPullRequest(input: PullRequestInput): Promise<PullRequestResult> {
  const [owner, repo, ...rest] = input.repository.split('/');
  if (!owner || !repo || rest.length) throw new ModelshipError('GITOPS_PR_FAILED', `"${input.repository}" is not a GitHub owner/name; pass --github-repo OWNER/NAME`);
  const octokit = new Octokit({
    auth: input.token,
    baseUrl: (input.apiUrl ?? DEFAULT_GITHUB_API_URL).replace(/\/+$/, ''),
    userAgent: 'modelship',
    ...(input.fetch ? { request: { fetch: input.fetch } } : {}),
    log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
  });
  const where = `${input.apiUrl ?? DEFAULT_GITHUB_API_URL} (${input.repository})`;
  try {
    const existing = await octokit.rest.pulls.list({ owner, repo, head: `${owner}:${input.head}`, base: input.base, state: 'open' });
    const open = existing.data[0];
    if (open) {
      await octokit.rest.pulls.update({ owner, repo, pull_number: open.number, title: input.title, body: input.body });
      return { number: open.number, url: open.html_url, created: false };
    }
    const created = await octokit.rest.pulls.create({ owner, repo, head: input.head, base: input.base, title: input.title, body: input.body, maintainer_can_modify: true });
    return { number: created.data.number, url: created.data.html_url, created: true };
  } catch (err) {
    const status = (err as { status?: number }).status;
    if (status === 401 || status === 403) throw new ModelshipError('GITOPS_TOKEN_MISSING', `${where} refused the token (HTTP ${status}): give GITHUB_TOKEN a token with pull-requests: write on ${input.repository}`, { cause: err });
    throw new ModelshipError('GITOPS_PR_FAILED', `cannot open the pull request on ${where}: ${describeError(err)}; the branch ${input.head} is pushed, open it by hand`, { cause: err });
  }
}
