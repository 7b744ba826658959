/**
 * Push normalization shared by the code hosts. GitHub, Gitee, Gogs and Gitea send the same push
 * shape (ref/before/after, repository.full_name, pusher, commits[], head_commit); GitLab brings its
 * own schema but ends in the same normalizePush().
 */
import * as z from 'zod';
import { type Commit, type NormalizedEvent, parseGitRef, splitRepoFullName } from '../../core/event';
import type { ParseResult } from './types';

/** Header values and body strings we echo into reasons are cut, they come from the sender. */
export const clip = (s: string): string => (s.length > 64 ? `${s.slice(0, 64)}…` : s);

/** Reads a header from the (lowercased) request headers; empty counts as absent. */
export const header = (headers: Record<string, string>, name: string): string | undefined =>
  headers[name.toLowerCase()]?.trim() || undefined;

export const commitSchema = z.object({
  id: z.string().min(1),
  message: z.string().nullish(),
  timestamp: z.string().nullish(),
  url: z.string().nullish(),
  author: z.object({ name: z.string().nullish(), username: z.string().nullish() }).nullish(),
});
type RawCommit = z.infer<typeof commitSchema>;

const userSchema = z
  .object({ login: z.string().nullish(), username: z.string().nullish(), name: z.string().nullish() })
  .nullish();

const SLUG = /^[A-Za-z0-9_.-]+$/;

/**
 * "owner/repo": full_name, else the same path from path_with_namespace, namespace + path, or owner + name
 * (only when name is a slug: Gitee's `name` is a display name such as "Gitee FeedBack").
 */
function repositoryPath(r: {
  full_name?: string | null;
  path_with_namespace?: string | null;
  namespace?: string | null;
  path?: string | null;
  name?: string | null;
  owner?: { login?: string | null; username?: string | null } | null;
}): string | undefined {
  if (r.full_name) return r.full_name;
  if (r.path_with_namespace) return r.path_with_namespace;
  if (r.namespace && r.path) return `${r.namespace}/${r.path}`;
  const owner = r.owner?.login || r.owner?.username;
  return owner && r.name && SLUG.test(r.name) ? `${owner}/${r.name}` : undefined;
}

/** The push body of GitHub, Gitee, Gogs and Gitea. Only ref and the repository path are needed. */
export const pushSchema = z.object({
  ref: z.string().min(1),
  before: z.string().nullish(),
  after: z.string().nullish(),
  deleted: z.boolean().nullish(),
  repository: z
    .object({
      // full_name is the path ("oschina/git-osc"); `name` can be a display name on Gitee
      full_name: z.string().min(1).nullish(),
      // where full_name is missing, these name the same path (Gitee: path_with_namespace, namespace + path)
      path_with_namespace: z.string().min(1).nullish(),
      namespace: z.string().nullish(),
      path: z.string().nullish(),
      name: z.string().nullish(),
      owner: z.object({ login: z.string().nullish(), username: z.string().nullish() }).nullish(),
      // GitHub: unix seconds on push events, an ISO string elsewhere; Gitee: ISO string
      pushed_at: z.union([z.number(), z.string()]).nullish(),
    })
    .refine((r) => repositoryPath(r) !== undefined, {
      message: 'expected the repository path (full_name, or owner and name)',
      path: ['full_name'],
    }),
  pusher: userSchema,
  sender: userSchema,
  head_commit: commitSchema.nullish(),
  commits: z.array(commitSchema).nullish(),
});
export type PushBody = z.infer<typeof pushSchema>;

/** A timestamp as ISO 8601; unix seconds for numbers. Go's zero time (0001-01-01) and junk are absent. */
export function isoTime(value: string | number | null | undefined): string | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  const ms = typeof value === 'number' ? value * 1000 : Date.parse(value);
  // before 1970 is Go's zero value; beyond year 9999 toISOString would throw
  if (!Number.isFinite(ms) || ms <= 0 || ms > 253402300799000) return undefined;
  return new Date(ms).toISOString();
}

const isZeroSha = (sha: string | null | undefined): boolean => !!sha && /^0+$/.test(sha);

export function toCommit(c: RawCommit): Commit {
  return {
    id: c.id,
    message: c.message ?? '',
    author: c.author?.name || c.author?.username || undefined,
    url: c.url || undefined,
  };
}

/**
 * The commit the ref now points to: the sender's head_commit, else the listed commit whose id is
 * one of `ids` (checkout_sha, after), else the newest listed one (`newest` says which end that is:
 * GitHub/GitLab/Gitee list oldest first, Gogs/Gitea newest first). With nothing listed (a tag push)
 * only the sha is known, which is still what a deploy wants.
 */
export function headCommit(opts: {
  head?: RawCommit | null;
  commits?: RawCommit[] | null;
  ids: Array<string | null | undefined>;
  newest: 'first' | 'last';
}): Commit | undefined {
  if (opts.head) return toCommit(opts.head);
  const commits = opts.commits ?? [];
  for (const id of opts.ids) {
    const found = id ? commits.find((c) => c.id === id) : undefined;
    if (found) return toCommit(found);
  }
  const newest = opts.newest === 'first' ? commits[0] : commits[commits.length - 1];
  if (newest) return toCommit(newest);
  const sha = opts.ids.find((id) => id && !isZeroSha(id));
  return sha ? { id: sha, message: '' } : undefined;
}

export interface GitPush {
  provider: string;
  ref: string;
  /** the sender said it is a tag push (GitLab/Gitee "Tag Push Hook") even if ref lacks refs/tags/ */
  tagPush?: boolean;
  after?: string | null;
  deleted?: boolean | null;
  repoFullName: string;
  owner?: string | null;
  commit?: Commit;
  occurredAt?: string;
  deliveryId?: string;
}

/** One push -> one 'code' event, or 'ignored' when the ref was deleted. */
export function normalizePush(p: GitPush): ParseResult {
  const ref = parseGitRef(p.ref);
  const tag = ref.tag ?? (p.tagPush ? ref.branch : undefined);
  const branch = tag === undefined ? ref.branch : undefined;
  const event: NormalizedEvent = {
    provider: p.provider,
    kind: 'code',
    action: tag !== undefined ? 'tag_push' : 'push',
    deliveryId: p.deliveryId,
    ...splitRepoFullName(p.repoFullName),
    branch,
    tag,
    owner: p.owner || undefined,
    commit: p.commit,
    occurredAt: p.occurredAt,
  };
  // a deletion has nothing to deploy; GitLab/Gitee only say so through an all-zero `after`
  if (p.deleted || isZeroSha(p.after)) {
    const what = tag !== undefined ? `tag "${clip(tag)}"` : `branch "${clip(branch ?? p.ref)}"`;
    return { kind: 'ignored', reason: `${what} was deleted`, event };
  }
  return { kind: 'events', events: [event] };
}

/** GitHub, Gitee, Gogs and Gitea pushes: validate the shared shape and normalize it. */
export function parseStandardPush(
  provider: string,
  raw: unknown,
  opts: { newest: 'first' | 'last'; tagPush?: boolean; deliveryId?: string },
): ParseResult {
  const body = pushSchema.parse(raw);
  const commit = headCommit({ head: body.head_commit, commits: body.commits, ids: [body.after], newest: opts.newest });
  const pusher = body.pusher ?? body.sender;
  return normalizePush({
    provider,
    ref: body.ref,
    tagPush: opts.tagPush,
    after: body.after,
    deleted: body.deleted,
    // the refinement guarantees a path
    repoFullName: repositoryPath(body.repository)!,
    // GitHub's pusher has only `name` (the login); the others carry username/login next to a display name
    owner: pusher?.username || pusher?.login || pusher?.name,
    commit,
    // when it was pushed if the sender says so, else when the head commit was made
    occurredAt:
      isoTime(body.repository.pushed_at) ??
      isoTime(body.head_commit?.timestamp) ??
      (commit ? isoTime(body.commits?.find((c) => c.id === commit.id)?.timestamp) : undefined),
    deliveryId: opts.deliveryId,
  });
}
