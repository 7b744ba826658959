/**
 * The `git` target's `via: "gitlab"` path, commit mode: the REST API v4 through @gitbeaker/rest.
 *
 * 1. GET /projects/:id/repository/files/:path?ref=<branch> per file (content + `last_commit_id`), edit.
 * 2. One POST /projects/:id/repository/commits {branch, commit_message, author_*, actions: [{action: "update",
 *    file_path, content, last_commit_id}]}: all changed files in one commit. GitLab refuses an action whose
 *    `last_commit_id` is not the file's last commit any more (400 "... has changed since you started editing it")
 *    → read and edit again, at most GIT_PUSH_TRIES times.
 * 3. Unchanged → no commit; a crash-retry finds its commit by the `Triggerfish-Log:` trailer in
 *    GET /projects/:id/repository/commits?ref_name=<branch>.
 * The requests go through guardedFetch (gitbeaker's own requester calls the global fetch with no address guard),
 * plugged in as gitbeaker's `requesterFn` (built with its createRequesterFn, so headers/bodies are gitbeaker's).
 */
import { hasTrailer } from '../../core/commit-text';
import type { Gitlab as GitlabClient } from '@gitbeaker/rest';
import type { RequestOptions } from '@gitbeaker/requester-utils';
import { lazy } from '../../core/lazy';
import { applyRule } from './git-edit';
import type { HostCommitInput, HostCommitResult } from './git-github';
import { guardedFetch } from './git-http';
import { GIT_FILE_LIMIT } from './git-limits';
import { hostFailures } from './git-host-failure';

/** The project path (`group/sub/project`) of https://host/group/sub/project(.git). */
export function gitlabProject(url: string): { host: string; project: string } | undefined {
  const u = new URL(url);
  const parts = u.pathname
    .replace(/\.git$/, '')
    .split('/')
    .filter(Boolean);
  if (parts.length < 2) return undefined;
  return { host: u.origin, project: parts.join('/') };
}

/** Loaded on first use (most deploys are not GitLab write-backs). */
const gitbeaker = /* @__PURE__ */ lazy(async () => ({
  ...(await import('@gitbeaker/rest')),
  ...(await import('@gitbeaker/requester-utils')),
}));

/** A gitbeaker client whose every request goes through the guarded fetch (outbound rules, deadline). */
async function client(
  host: string,
  input: Pick<HostCommitInput, 'token' | 'allowPrivate' | 'deadline'>,
): Promise<InstanceType<typeof GitlabClient>> {
  const { Gitlab } = await gitbeaker();
  return new Gitlab({
    host,
    token: input.token ?? '',
    requesterFn: await requester(guardedFetch({ allowPrivate: input.allowPrivate, deadline: input.deadline })),
  } as ConstructorParameters<typeof GitlabClient>[0]);
}

async function requester(f: typeof fetch) {
  const { createRequesterFn, GitbeakerRequestError } = await gitbeaker();
  return createRequesterFn(
    (_, reqo) => Promise.resolve(reqo),
    async (endpoint: string, options?: Record<string, unknown>) => {
      const { prefixUrl, searchParams, method, headers, body } = (options ?? {}) as RequestOptions & {
        prefixUrl?: string;
        searchParams?: string;
        body?: string;
      };
      const base = prefixUrl ? (prefixUrl.endsWith('/') ? prefixUrl : `${prefixUrl}/`) : undefined;
      const url = new URL(endpoint, base);
      url.search = searchParams ?? '';
      const res = await f(url.href, { method, headers: headers as Record<string, string>, body });
      const type = (res.headers.get('content-type') ?? '').split(';')[0].trim();
      const text = await res.text();
      let parsed: unknown = text;
      if (type === 'application/json' && text) parsed = JSON.parse(text);
      if (!res.ok) {
        const message =
          (parsed as { message?: unknown; error?: unknown })?.message ?? (parsed as { error?: unknown })?.error ?? text;
        const description = typeof message === 'string' ? message : JSON.stringify(message);
        throw new GitbeakerRequestError(description, {
          cause: {
            description,
            request: new Request(url, { method }),
            response: new Response(null, { status: res.status }),
          },
        });
      }
      return {
        body: res.status === 204 ? null : parsed,
        headers: Object.fromEntries(res.headers.entries()),
        status: res.status,
      } as never;
    },
  );
}

const { statusOf, failure, readFailure } = hostFailures({
  statusOf: (err) => {
    const s = (err as { cause?: { response?: { status?: unknown } } })?.cause?.response?.status;
    return typeof s === 'number' ? s : undefined;
  },
  tokenHint: 'check the token and its api / write_repository scope',
  noun: 'project',
});

const CHANGED_MEANWHILE = /changed since you started editing|has been modified|last_commit_id/i;

export interface GitLabCommitOptions {
  /** read the files from this ref (default: the branch) */
  readRef?: string;
  /** create / overwrite `branch` from this branch (the commits API's start_branch) */
  startBranch?: string;
  /** with startBranch: overwrite `branch` (the commits API's force) */
  force?: boolean;
}

export async function gitlabCommit(input: HostCommitInput, opts: GitLabCommitOptions = {}): Promise<HostCommitResult> {
  const details: Record<string, unknown> = { via: 'gitlab', branch: input.branch };
  const where = gitlabProject(input.url);
  if (!where) return { ok: false, retryable: false, error: 'the URL is not https://<host>/<group>/<project>', details };
  const api = await client(where.host, input);
  const { project } = where;
  for (let tryNo = 1; ; tryNo++) {
    details.tries = tryNo;
    const actions: { action: 'update'; filePath: string; content: string; lastCommitId: string }[] = [];
    // the texts as edited so far in this try (two rules may edit the same file)
    const edited = new Map<string, { text: string; lastCommitId: string; changed: boolean }>();
    for (const f of input.files) {
      let current = edited.get(f.path);
      if (!current) {
        try {
          const file = (await api.RepositoryFiles.show(project, f.path, opts.readRef ?? input.branch)) as unknown as {
            content: string;
            encoding: string;
            last_commit_id: string;
            size?: number;
          };
          // GitLab's files API does not say whether the path is a symlink (it answers the link's target path as
          // its content, which no rule matches, so the edit fails); its size it does say
          if (typeof file.size === 'number' && file.size > GIT_FILE_LIMIT)
            return {
              ok: false,
              retryable: false,
              error: `${f.path} is ${file.size} bytes, over the per-file limit of ${GIT_FILE_LIMIT / 1024 / 1024} MiB`,
              details,
            };
          current = {
            text: Buffer.from(file.content, file.encoding === 'base64' ? 'base64' : 'utf8').toString('utf8'),
            lastCommitId: file.last_commit_id,
            changed: false,
          };
        } catch (err) {
          return readFailure(err, f.path, input.branch, details);
        }
      }
      const edit = applyRule(current.text, f.rule, input.img, input.triggerName);
      if (edit.error) return { ok: false, retryable: false, error: `${f.path}: ${edit.error}`, details };
      edited.set(
        f.path,
        edit.changed ? { text: edit.text, lastCommitId: current.lastCommitId, changed: true } : current,
      );
    }
    for (const [filePath, v] of edited)
      if (v.changed) actions.push({ action: 'update', filePath, content: v.text, lastCommitId: v.lastCommitId });
    details.changedPaths = actions.map((a) => a.filePath);
    if (!actions.length) {
      try {
        const list = (await api.Commits.all(project, {
          refName: input.branch,
          perPage: 20,
          maxPages: 1,
        })) as unknown as { id: string; message: string }[];
        const own = list.find((c) => hasTrailer(c.message, ...input.trailer));
        if (own) {
          details.commit = own.id;
          return { ok: true, retryable: false, response: `already in Git (commit ${own.id})`, details };
        }
      } catch {
        // naming the earlier commit is a courtesy: the state is in Git either way
      }
      return { ok: true, retryable: false, response: 'already in Git', details };
    }
    try {
      const commit = (await api.Commits.create(project, input.branch, input.message, actions, {
        authorName: input.author.name,
        authorEmail: input.author.email,
        ...(opts.startBranch ? { startBranch: opts.startBranch, force: opts.force } : {}),
      })) as unknown as { id: string; web_url?: string };
      details.commit = commit.id;
      if (commit.web_url) details.commitUrl = commit.web_url;
      return { ok: true, retryable: false, response: `committed ${commit.id} to ${input.branch}`, details };
    } catch (err) {
      const status = statusOf(err);
      const conflict = (status === 400 || status === 409) && CHANGED_MEANWHILE.test((err as Error).message ?? '');
      if (conflict && tryNo < input.tries && Date.now() < input.deadline) continue;
      if (conflict)
        return {
          ok: false,
          retryable: true,
          statusCode: status,
          error: `commit to ${input.branch} conflicted ${tryNo} times (the files keep changing)`,
          details,
        };
      return failure(err, `commit to ${input.branch}`, details);
    }
  }
}

export interface MergeRequestInput extends HostCommitInput {
  prBranch: string;
  title: string;
  body: string;
}

/**
 * Merge-request mode: the base branch already holds the image → "already in Git", no MR. With an open MR from the
 * trigger's branch, the edit is committed on that branch (updated in place) and the MR's title and description
 * are updated; without one, the commit is made with `start_branch` = the base and `force`, which (re)creates
 * the trigger's branch from the base, and the MR is opened.
 * Routes: GET /projects/:id/merge_requests?source_branch&target_branch&state=opened, POST
 * /projects/:id/merge_requests, PUT /projects/:id/merge_requests/:iid, and the commit/file routes above.
 */
export async function gitlabMergeRequest(input: MergeRequestInput): Promise<HostCommitResult> {
  const details: Record<string, unknown> = {
    via: 'gitlab',
    mode: 'pull-request',
    base: input.branch,
    branch: input.prBranch,
  };
  const where = gitlabProject(input.url);
  if (!where) return { ok: false, retryable: false, error: 'the URL is not https://<host>/<group>/<project>', details };
  const api = await client(where.host, input);
  const { project } = where;
  for (const f of input.files) {
    try {
      const file = (await api.RepositoryFiles.show(project, f.path, input.branch)) as unknown as {
        content: string;
        encoding: string;
      };
      const edit = applyRule(
        Buffer.from(file.content, file.encoding === 'base64' ? 'base64' : 'utf8').toString('utf8'),
        f.rule,
        input.img,
        input.triggerName,
      );
      if (edit.error) return { ok: false, retryable: false, error: `${f.path}: ${edit.error}`, details };
      if (edit.changed) break;
      if (f === input.files[input.files.length - 1])
        return {
          ok: true,
          retryable: false,
          response: `already in Git (${input.branch})`,
          details: { ...details, changedPaths: [] },
        };
    } catch (err) {
      return readFailure(err, f.path, input.branch, details);
    }
  }
  try {
    const open = (await api.MergeRequests.all({
      projectId: project,
      sourceBranch: input.prBranch,
      targetBranch: input.branch,
      state: 'opened',
      perPage: 1,
      maxPages: 1,
    })) as unknown as { iid: number; web_url: string }[];
    const committed = open.length
      ? await gitlabCommit({ ...input, branch: input.prBranch })
      : await gitlabCommit(
          { ...input, branch: input.prBranch },
          { readRef: input.branch, startBranch: input.branch, force: true },
        );
    Object.assign(details, committed.details, {
      via: 'gitlab',
      mode: 'pull-request',
      base: input.branch,
      branch: input.prBranch,
    });
    if (!committed.ok) return { ...committed, details };
    let mr: { iid: number; web_url: string };
    if (open.length) {
      mr = (await api.MergeRequests.edit(project, open[0].iid, {
        title: input.title,
        description: input.body,
      })) as unknown as typeof mr;
      details.pullRequestAction = 'updated';
    } else {
      mr = (await api.MergeRequests.create(project, input.prBranch, input.branch, input.title, {
        description: input.body,
      })) as unknown as typeof mr;
      details.pullRequestAction = 'opened';
    }
    details.pullRequest = mr.web_url;
    details.pullRequestNumber = mr.iid;
    return {
      ok: true,
      retryable: false,
      response: `${committed.response}; merge request ${mr.web_url} ${details.pullRequestAction}`,
      details,
    };
  } catch (err) {
    return failure(err, 'merge request', details);
  }
}
