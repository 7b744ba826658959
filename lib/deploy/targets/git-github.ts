/**
 * The `git` target's `via: "github"` path, commit mode: the REST contents API through @octokit/rest.
 *
 * Per file: GET /repos/{owner}/{repo}/contents/{path}?ref=<branch> (content + blob `sha`), edit, then
 * PUT /repos/{owner}/{repo}/contents/{path} with that `sha` (optimistic concurrency: GitHub answers 409 when the
 * file changed meanwhile) → re-read and re-edit, at most GIT_PUSH_TRIES times. The contents API commits one file
 * per request, so N changed files are N commits. Unchanged → no commit; a retry after a crash finds its commit by
 * the `Triggerfish-Log:` trailer in GET /repos/{owner}/{repo}/commits?sha=<branch>.
 * API base: https://api.github.com for github.com, `<origin>/api/v3` for GitHub Enterprise Server (and tests).
 * Requests go through guardedFetch (outbound address rules, no redirects).
 */
import { hasTrailer } from '../../core/commit-text';
import type { Octokit } from '@octokit/rest';
import { lazy } from '../../core/lazy';
import { applyRule, type EditRule, type NewImage } from './git-edit';
import { guardedFetch } from './git-http';
import { GIT_FILE_LIMIT } from './git-limits';
import { hostFailures } from './git-host-failure';

export interface HostCommitInput {
  url: string;
  branch: string;
  files: { path: string; rule: EditRule }[];
  img: NewImage;
  triggerName?: string;
  token?: string;
  message: string;
  /** our `Triggerfish-Log` trailer (key, value): how a retry finds the commit it made before a crash */
  trailer: readonly [string, string];
  author: { name: string; email: string };
  allowPrivate: boolean;
  deadline: number;
  tries: number;
}

export interface HostCommitResult {
  ok: boolean;
  retryable: boolean;
  statusCode?: number;
  error?: string;
  response?: string;
  details: Record<string, unknown>;
}

/** owner and repo from https://host/owner/repo(.git). */
export function githubRepo(url: string): { apiBase: string; owner: string; repo: string } | undefined {
  const u = new URL(url);
  const parts = u.pathname
    .replace(/\.git$/, '')
    .split('/')
    .filter(Boolean);
  if (parts.length !== 2) return undefined;
  const host = u.hostname.toLowerCase();
  const apiBase = host === 'github.com' || host === 'www.github.com' ? 'https://api.github.com' : `${u.origin}/api/v3`;
  return { apiBase, owner: parts[0], repo: parts[1] };
}

const { statusOf, failure, readFailure } = hostFailures({
  statusOf: (err) => {
    const s = (err as { status?: unknown })?.status;
    return typeof s === 'number' ? s : undefined;
  },
  tokenHint: 'check the token and its contents:write permission',
  noun: 'repository',
});

/**
 * The file of a contents API answer, or why it is not one. GitHub answers a symlink to a file with that file (its
 * own `path`) and any other symlink as `type: "symlink"`: both are refused, as the plain Git path refuses links.
 * Files over the per-file limit are refused too (GitHub sends no content over 1 MB, encoding "none").
 */
function contentsFile(data: unknown, path: string, branch: string): { sha: string; text: string } | string {
  const d = data as { type?: string; path?: string; sha?: string; size?: number; content?: string; encoding?: string };
  if (Array.isArray(data) || !d) return `${path} is not a file in ${branch}`;
  if (d.type === 'symlink' || (typeof d.path === 'string' && d.path !== path))
    return `${path} is a symbolic link in the repository; links are not followed (point files[].path at the file itself)`;
  if (typeof d.size === 'number' && d.size > GIT_FILE_LIMIT)
    return `${path} is ${d.size} bytes, over the per-file limit of ${GIT_FILE_LIMIT / 1024 / 1024} MiB`;
  if (d.type !== 'file' || typeof d.sha !== 'string' || d.encoding !== 'base64')
    return `${path} is not a file in ${branch}`;
  return { sha: d.sha, text: Buffer.from(d.content ?? '', 'base64').toString('utf8') };
}

/** Loaded on first use (most deploys are not GitHub write-backs). */
const octokitSdk = /* @__PURE__ */ lazy(() => import('@octokit/rest'));

async function client(input: HostCommitInput, apiBase: string): Promise<Octokit> {
  const { Octokit } = await octokitSdk();
  return new Octokit({
    auth: input.token,
    baseUrl: apiBase,
    userAgent: 'Triggerfish/0.1',
    request: { fetch: guardedFetch({ allowPrivate: input.allowPrivate, deadline: input.deadline }), retries: 0 },
    log: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
  });
}

export async function githubCommit(input: HostCommitInput): Promise<HostCommitResult> {
  const details: Record<string, unknown> = { via: 'github', branch: input.branch };
  const repo = githubRepo(input.url);
  if (!repo) return { ok: false, retryable: false, error: 'the URL is not https://<host>/<owner>/<repo>', details };
  const octokit = await client(input, repo.apiBase);
  const { owner, repo: name } = repo;
  const commits: string[] = [];
  const changedPaths: string[] = [];
  let tries = 0;
  for (const f of input.files) {
    for (let attempt = 1; ; attempt++) {
      tries++;
      let current: { sha: string; text: string };
      try {
        const got = await octokit.rest.repos.getContent({ owner, repo: name, path: f.path, ref: input.branch });
        const file = contentsFile(got.data, f.path, input.branch);
        if (typeof file === 'string') return { ok: false, retryable: false, error: file, details };
        current = file;
      } catch (err) {
        return readFailure(err, f.path, input.branch, details);
      }
      const edit = applyRule(current.text, f.rule, input.img, input.triggerName);
      if (edit.error) return { ok: false, retryable: false, error: `${f.path}: ${edit.error}`, details };
      if (!edit.changed) break;
      try {
        const put = await octokit.rest.repos.createOrUpdateFileContents({
          owner,
          repo: name,
          path: f.path,
          branch: input.branch,
          sha: current.sha,
          message: input.message,
          content: Buffer.from(edit.text, 'utf8').toString('base64'),
          author: input.author,
          committer: input.author,
        });
        if (put.data.commit.sha) commits.push(put.data.commit.sha);
        changedPaths.push(f.path);
        break;
      } catch (err) {
        const status = statusOf(err);
        // 409: the file's blob sha is not the branch's any more (another commit): read it again
        if (status === 409 && attempt < input.tries && Date.now() < input.deadline) continue;
        if (status === 409)
          return {
            ok: false,
            retryable: true,
            statusCode: 409,
            error: `update of ${f.path} conflicted ${attempt} times (the branch keeps moving)`,
            details: { ...details, tries },
          };
        return failure(err, `update ${f.path}`, details);
      }
    }
  }
  details.tries = tries;
  details.changedPaths = changedPaths;
  if (!commits.length) {
    try {
      const list = await octokit.rest.repos.listCommits({ owner, repo: name, sha: input.branch, per_page: 20 });
      const own = list.data.find((c) => hasTrailer(c.commit.message, ...input.trailer));
      if (own) {
        details.commit = own.sha;
        return { ok: true, retryable: false, response: `already in Git (commit ${own.sha})`, details };
      }
    } catch {
      // naming the earlier commit is a courtesy: the state is in Git either way
    }
    return { ok: true, retryable: false, response: 'already in Git', details };
  }
  details.commit = commits[commits.length - 1];
  if (commits.length > 1) details.commits = commits;
  return { ok: true, retryable: false, response: `committed ${commits.join(', ')} to ${input.branch}`, details };
}

export interface PullRequestInput extends HostCommitInput {
  /** the branch the PR is opened from, one per trigger */
  prBranch: string;
  title: string;
  body: string;
}

/**
 * Pull-request mode: the files of the base branch already hold the image → "already in Git", no PR. Otherwise
 * the trigger's branch (created from the base, or reset to it when no PR of it is open any more: it is
 * Triggerfish's own branch, never the protected base) gets the edit as a commit (githubCommit on that branch),
 * and the one open PR from it is updated in place (title, body) or opened.
 * GitHub routes: GET /repos/{o}/{r}/git/ref/heads/{b}, POST /repos/{o}/{r}/git/refs, PATCH
 * /repos/{o}/{r}/git/refs/heads/{b}, GET/POST /repos/{o}/{r}/pulls, PATCH /repos/{o}/{r}/pulls/{n}.
 */
export async function githubPullRequest(input: PullRequestInput): Promise<HostCommitResult> {
  const details: Record<string, unknown> = {
    via: 'github',
    mode: 'pull-request',
    base: input.branch,
    branch: input.prBranch,
  };
  const repo = githubRepo(input.url);
  if (!repo) return { ok: false, retryable: false, error: 'the URL is not https://<host>/<owner>/<repo>', details };
  const octokit = await client(input, repo.apiBase);
  const { owner, repo: name } = repo;

  // 1. is the image in the base branch already?
  let pending = false;
  for (const f of input.files) {
    try {
      const got = await octokit.rest.repos.getContent({ owner, repo: name, path: f.path, ref: input.branch });
      const file = contentsFile(got.data, f.path, input.branch);
      if (typeof file === 'string') return { ok: false, retryable: false, error: file, details };
      const edit = applyRule(file.text, f.rule, input.img, input.triggerName);
      if (edit.error) return { ok: false, retryable: false, error: `${f.path}: ${edit.error}`, details };
      if (edit.changed) pending = true;
    } catch (err) {
      return readFailure(err, f.path, input.branch, details);
    }
  }
  if (!pending)
    return {
      ok: true,
      retryable: false,
      response: `already in Git (${input.branch})`,
      details: { ...details, changedPaths: [] },
    };

  try {
    // 2. the trigger's branch, and its open PR if any
    const base = await octokit.rest.git.getRef({ owner, repo: name, ref: `heads/${input.branch}` });
    const open = await octokit.rest.pulls.list({
      owner,
      repo: name,
      head: `${owner}:${input.prBranch}`,
      base: input.branch,
      state: 'open',
      per_page: 1,
    });
    let existing = true;
    try {
      await octokit.rest.git.getRef({ owner, repo: name, ref: `heads/${input.prBranch}` });
    } catch (err) {
      if (statusOf(err) !== 404) throw err;
      existing = false;
    }
    if (!existing)
      await octokit.rest.git.createRef({
        owner,
        repo: name,
        ref: `refs/heads/${input.prBranch}`,
        sha: base.data.object.sha,
      });
    else if (!open.data.length) {
      // its last PR was merged or closed: start again from the base. (No PR at all: a crash between the commit and
      // opening the PR; keep the branch so its commit is found.)
      const closed = await octokit.rest.pulls.list({
        owner,
        repo: name,
        head: `${owner}:${input.prBranch}`,
        state: 'closed',
        per_page: 1,
      });
      if (closed.data.length)
        await octokit.rest.git.updateRef({
          owner,
          repo: name,
          ref: `heads/${input.prBranch}`,
          sha: base.data.object.sha,
          force: true,
        });
    }

    // 3. the edit as a commit on that branch (blob sha concurrency, crash-retry by trailer)
    const committed = await githubCommit({ ...input, branch: input.prBranch });
    Object.assign(details, committed.details, {
      via: 'github',
      mode: 'pull-request',
      base: input.branch,
      branch: input.prBranch,
    });
    if (!committed.ok) return { ...committed, details };

    // 4. one open PR per trigger, updated in place
    let pr: { number: number; html_url: string };
    if (open.data.length) {
      const updated = await octokit.rest.pulls.update({
        owner,
        repo: name,
        pull_number: open.data[0].number,
        title: input.title,
        body: input.body,
      });
      pr = updated.data;
      details.pullRequestAction = 'updated';
    } else {
      const created = await octokit.rest.pulls.create({
        owner,
        repo: name,
        head: input.prBranch,
        base: input.branch,
        title: input.title,
        body: input.body,
      });
      pr = created.data;
      details.pullRequestAction = 'opened';
    }
    details.pullRequest = pr.html_url;
    details.pullRequestNumber = pr.number;
    return {
      ok: true,
      retryable: false,
      response: `${committed.response}; pull request ${pr.html_url} ${details.pullRequestAction}`,
      details,
    };
  } catch (err) {
    return failure(err, 'pull request', details);
  }
}
