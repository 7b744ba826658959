/**
 * `git` deploy target (GitOps write-back): writes the pushed image into manifests in a Git repository and commits,
 * for Argo CD / Flux to apply. The update rules are in ./git-edit (values spliced into the original text).
 *
 * One attempt (`via: "git"`, any Git server over smart HTTP(S), through isomorphic-git):
 * 1. the image (`[registry/]repo` + tag / digest) from the event; none → not retryable.
 * 2. the token, by reference (Secrets Manager / SSM, ../secrets), sent as HTTP basic auth
 *    (`auth.username`, default `x-access-token`, which GitHub and GitLab accept with any token).
 * 3. a shallow clone of `branch` into a fresh temp dir (removed after), never checked out: the pack is judged
 *    against ./git-limits before it is unpacked, and the files are read and written in the object store
 *    (./git-tree), so a symlink in the repository is refused, never followed. Every file edited by its rule.
 * 4. nothing changed (the new tree is the head's) → succeeded, "already in Git" (a retry after a crash between push and recording finds its
 *    own commit there: the `Triggerfish-Log:` trailer names the log entry, and its SHA is recorded).
 * 5. commit (message and author templated with the HTTP target's placeholders, plus the trailers), push without
 *    force. A rejected push (the branch moved: not fast-forward, or the server's ref update failed) → clone the
 *    new head and edit again, at most GIT_PUSH_TRIES times; then a retryable failure.
 *
 * Errors: 401/403/404 and a missing branch or file or rule match are not retryable; network errors, timeouts and
 * 5xx are. The token never appears in a result (errors are redacted by value).
 *
 * `via: "github"`: the contents API (./git-github); `via: "gitlab"`: the commits API (./git-gitlab); both in commit
 * or pull-request (PR / MR) mode. Plain Git has no pull requests: that combination is refused at creation (400).
 * Auto-merge is not implemented.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type * as GitTypes from 'isomorphic-git';
import * as z from 'zod';
import { verifySchema } from '../verify/schema';
import { config as settings } from '../../core/config';
import { checkOutboundUrlAtCreation } from '../../core/outbound';
import { redactValues, secretSet } from '../../core/redact-values';
import { lazy } from '../../core/lazy';
import { gitRefError } from '../../core/artifact-names';
import { describeSecretRef, resolveSecret, SecretError, secretRefSchema } from '../secrets';
import { commitIdentity, commitLine, commitMessage, hasTrailer } from '../../core/commit-text';
import { renderCommitText, renderString, templateString, templateVars } from '../template';
import { applyRule, parsePath, type EditRule, type NewImage } from './git-edit';
import { githubCommit, githubPullRequest, githubRepo, type HostCommitInput } from './git-github';
import { gitlabCommit, gitlabMergeRequest, gitlabProject } from './git-gitlab';
import { guardedGitHttp, GitHttpRefused } from './git-http';
import { readTreeFile, replaceTreeFile } from './git-tree';
import type { AttemptResult, DeployContext, DeployTarget } from './types';

export const GIT_TIMEOUT_MS = 60_000;
export const GIT_PUSH_TRIES = 3;
/** commits looked through for this log entry's trailer when nothing changed */
const HISTORY_DEPTH = 20;
export const DEFAULT_COMMIT_MESSAGE = 'Deploy {{image}}';
export const DEFAULT_AUTHOR = { name: 'Triggerfish', email: 'triggerfish@users.noreply.invalid' };
const MAX_FILES = 20;

const gitSdk = /* @__PURE__ */ lazy(() => import('isomorphic-git'));

/** git check-ref-format --branch (lib/core/artifact-names.ts): also refuses `HEAD`, `main.`, `a/.b`. */
const branchSchema = z
  .string()
  .min(1)
  .max(255)
  .superRefine((b, ctx) => {
    const error = gitRefError(b, 'branch');
    if (error) ctx.addIssue({ code: 'custom', message: `"${b}" ${error}` });
  });

const repoUrlSchema = z
  .string()
  .min(1)
  .max(2048)
  .superRefine((s, ctx) => {
    let u: URL;
    try {
      u = new URL(s);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'not a valid URL' });
      return;
    }
    if (u.search || u.hash) ctx.addIssue({ code: 'custom', message: 'the repository URL takes no query or fragment' });
    const reason = checkOutboundUrlAtCreation(u, settings.allowPrivateTargets());
    if (reason) ctx.addIssue({ code: 'custom', message: reason });
  });

const filePathSchema = z
  .string()
  .min(1)
  .max(1024)
  .refine(
    (p) =>
      !p.startsWith('/') &&
      !p.includes('\\') &&
      // `.git` in any letter case: on a case-insensitive file system `.GIT/config` is the clone's git config
      !p.split('/').some((seg) => seg === '' || seg === '.' || seg === '..' || seg.toLowerCase() === '.git'),
    {
      message: 'a relative path inside the repository (no leading /, no . or .. segments, not under .git in any case)',
    },
  );

const pathString = z
  .string()
  .min(1)
  .max(512)
  .refine((p) => parsePath(p) !== undefined, {
    message: 'not a valid YAML path (keys separated by ".", [n] indexes, [key=value] selectors)',
  });

const fileSchema = z
  .strictObject({
    path: filePathSchema,
    kustomize: z.strictObject({ image: z.string().min(1).max(512) }).optional(),
    helmValues: z
      .strictObject({ tag: pathString.optional(), repository: pathString.optional(), digest: pathString.optional() })
      .optional(),
    yamlPath: pathString.optional(),
    setters: z
      .union([
        z.literal(true),
        z.strictObject({
          imagePolicies: z
            .array(
              z
                .string()
                .min(3)
                .max(253)
                .regex(/^[^:\s]+:[^:\s]+$/, 'a Flux image policy is "<namespace>:<name>"'),
            )
            .max(20),
        }),
      ])
      .optional(),
  })
  .superRefine((f, ctx) => {
    const rules = (['kustomize', 'helmValues', 'yamlPath', 'setters'] as const).filter((k) => f[k] !== undefined);
    if (rules.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message: `each file has exactly one rule: kustomize, helmValues, yamlPath or setters (got ${rules.length ? rules.join(', ') : 'none'})`,
      });
    }
  });

export const GIT_VIAS = ['git', 'github', 'gitlab'] as const;

export const gitTargetSchema = z
  .strictObject({
    type: z.literal('git'),
    /** after the target accepted: what makes the deploy succeeded (lib/deploy/verify) */
    verify: verifySchema.optional(),
    url: repoUrlSchema,
    via: z.enum(GIT_VIAS).optional(),
    branch: branchSchema.optional(),
    files: z.array(fileSchema).min(1).max(MAX_FILES),
    mode: z.enum(['commit', 'pull-request']).optional(),
    auth: z
      .strictObject({
        token: secretRefSchema,
        username: z
          .string()
          .min(1)
          .max(100)
          .regex(/^[^:\s]+$/, 'no ":" or spaces')
          .optional(),
      })
      .optional(),
    commitMessage: templateString().pipe(z.string().min(1).max(4096)).optional(),
    author: z
      .strictObject({
        name: templateString().pipe(z.string().min(1).max(200)),
        email: templateString().pipe(z.string().min(1).max(200)),
      })
      .optional(),
    /** write repo@digest when the event has a digest (default: the tag) */
    pinDigest: z.boolean().optional(),
  })
  .superRefine((t, ctx) => {
    const via = gitVia(t);
    if (via === 'gitlab' && !gitlabProject(t.url)) {
      ctx.addIssue({
        code: 'custom',
        path: ['url'],
        message: 'a GitLab project URL is https://<host>/<group>/<project>',
      });
    }
    if (via === 'github' && !githubRepo(t.url)) {
      ctx.addIssue({
        code: 'custom',
        path: ['url'],
        message: 'a GitHub repository URL is https://<host>/<owner>/<repo>',
      });
    }
    if (t.mode === 'pull-request' && via === 'git') {
      ctx.addIssue({
        code: 'custom',
        path: ['mode'],
        message:
          'pull-request mode needs a host API (via github or gitlab); plain Git has no pull requests; use "commit"',
      });
    }
  });

export type GitTargetConfig = z.infer<typeof gitTargetSchema>;

/** `via`, or from the URL's host: github.com → github, gitlab.com → gitlab, anything else → git. */
export function gitVia(config: { url: string; via?: (typeof GIT_VIAS)[number] }): (typeof GIT_VIAS)[number] {
  if (config.via) return config.via;
  let host: string;
  try {
    host = new URL(config.url).hostname.toLowerCase();
  } catch {
    return 'git';
  }
  if (host === 'github.com' || host === 'www.github.com') return 'github';
  if (host === 'gitlab.com' || host === 'www.gitlab.com') return 'gitlab';
  return 'git';
}

function newImage(
  config: GitTargetConfig,
  event: { kind: string; registry?: string; repoFullName?: string; tag?: string; digest?: string },
): NewImage | string {
  if (event.kind !== 'image') return `the event is a ${event.kind} push, not an image`;
  if (!event.repoFullName) return 'the event names no repository';
  if (!event.tag && !event.digest) return 'the event has neither a tag nor a digest';
  const name = event.registry ? `${event.registry}/${event.repoFullName}` : event.repoFullName;
  return { name, tag: event.tag, digest: event.digest, pinDigest: config.pinDigest };
}

function ruleOf(f: GitTargetConfig['files'][number]): EditRule {
  if (f.kustomize) return { kustomize: f.kustomize };
  if (f.helmValues) return { helmValues: f.helmValues };
  if (f.yamlPath !== undefined) return { yamlPath: f.yamlPath };
  return { setters: f.setters! };
}

/** Why a Git error is (not) worth retrying. */
function classify(err: unknown): { retryable: boolean; statusCode?: number; message: string } {
  const e = err as { code?: string; data?: { statusCode?: number; statusMessage?: string }; message?: string };
  const message = e?.message ?? String(err);
  if (err instanceof GitHttpRefused) return { retryable: /timed out/.test(message), message };
  if (e?.code === 'HttpError') {
    const status = e.data?.statusCode ?? 0;
    return {
      retryable: status >= 500 || status === 429 || status === 408,
      statusCode: status,
      message: `HTTP ${status}${e.data?.statusMessage ? ` ${e.data.statusMessage}` : ''}`,
    };
  }
  if (e?.code === 'NotFoundError') return { retryable: false, message };
  if (e?.code === 'SmartHttpError' || e?.code === 'UserCanceledError') return { retryable: false, message };
  if (e?.code === 'ERR_OUTBOUND_REFUSED') return { retryable: false, message: `URL refused: ${message}` };
  return { retryable: true, message };
}

const TRAILER_LOG = 'Triggerfish-Log';

/** The PR branch (one per trigger), title and body: they name the image, the log entry and the event. */
export function pullRequestText(
  config: GitTargetConfig,
  ctx: DeployContext,
  image: string,
): { prBranch: string; title: string; body: string } {
  const who = ctx.triggerName ?? ctx.triggerId;
  const e = ctx.event;
  const event = [
    e.provider,
    e.action,
    e.repoFullName,
    e.tag ? `tag ${e.tag}` : undefined,
    e.digest ? `digest ${e.digest}` : undefined,
  ]
    .filter(Boolean)
    .join(' ');
  // pushed values stay on their line of the PR text (as in a commit message)
  const shown = commitLine(image);
  return {
    prBranch: `triggerfish/${who}`,
    title: `Deploy ${shown}`,
    body: [
      `Triggerfish trigger \`${who}\` (${ctx.triggerId}) deploys \`${shown}\` to ${config.files.map((f) => `\`${f.path}\``).join(', ')}.`,
      '',
      `- log entry: \`${ctx.logId}\``,
      `- event: ${commitLine(event)}`,
      '',
      'This pull request is updated in place by later events of the same trigger.',
    ].join('\n'),
  };
}

interface Edited {
  dir: string;
  head: string;
  /** the new root tree (the head's when nothing changed) */
  tree: string;
  changed: string[];
}

/** The config as admin answers show it (a function of its own, so the admin bundles leave out the deploy code). */
export function redactGitTarget(config: GitTargetConfig): GitTargetConfig {
  // the token is only a reference (its name); the URL takes no userinfo or query (refused at creation)
  return config;
}

export const gitTarget: DeployTarget<GitTargetConfig> = {
  type: 'git',
  schema: gitTargetSchema,

  async deploy(config, ctx) {
    const startedAt = performance.now();
    const timeoutMs = ctx.timeoutMs ?? GIT_TIMEOUT_MS;
    const deadline = Date.now() + timeoutMs;
    const branch = config.branch ?? 'main';
    const details: Record<string, unknown> = { via: 'git', branch };
    let secrets = secretSet([]);
    const result = (r: Omit<AttemptResult, 'durationMs' | 'details'>): AttemptResult => ({
      ...r,
      error: r.error === undefined ? undefined : redactValues(r.error, secrets),
      durationMs: Math.round(performance.now() - startedAt),
      details,
    });

    const img = newImage(config, ctx.event);
    if (typeof img === 'string') return result({ ok: false, retryable: false, error: `nothing to deploy: ${img}` });
    details.image =
      img.pinDigest && img.digest
        ? `${img.name}@${img.digest}`
        : img.tag
          ? `${img.name}:${img.tag}`
          : `${img.name}@${img.digest}`;

    let onAuth: GitTypes.AuthCallback | undefined;
    let token: string | undefined;
    if (config.auth) {
      try {
        token = await resolveSecret(config.auth.token);
      } catch (err) {
        if (err instanceof SecretError)
          return result({ ok: false, retryable: err.retryable, error: `token: ${err.message}` });
        return result({
          ok: false,
          retryable: true,
          error: `token: ${describeSecretRef(config.auth.token)} could not be read`,
        });
      }
      secrets = secretSet([token]);
      const username = config.auth.username ?? 'x-access-token';
      const password = token;
      onAuth = () => ({ username, password });
    }
    const vars = templateVars(ctx.event, ctx.triggerId, ctx.logId);
    const trailer = [TRAILER_LOG, ctx.logId] as const;
    // values are encoded for a commit (core/commit-text): one line each in the message, our trailers after the
    // user's text as the last paragraph, the identity as git itself would write it
    const message = commitMessage(renderCommitText(config.commitMessage ?? DEFAULT_COMMIT_MESSAGE, vars), [
      ['Triggerfish-Trigger', ctx.triggerId],
      trailer,
    ]);
    const author = config.author
      ? commitIdentity(renderString(config.author.name, vars), renderString(config.author.email, vars), DEFAULT_AUTHOR)
      : DEFAULT_AUTHOR;

    const via = gitVia(config);
    if (via === 'github' || via === 'gitlab') {
      const input: HostCommitInput = {
        url: config.url,
        branch,
        files: config.files.map((f) => ({ path: f.path, rule: ruleOf(f) })),
        img,
        triggerName: ctx.triggerName,
        token,
        message,
        trailer,
        author,
        allowPrivate: ctx.allowPrivateTargets,
        deadline,
        tries: GIT_PUSH_TRIES,
      };
      const run =
        config.mode === 'pull-request'
          ? (via === 'github' ? githubPullRequest : gitlabMergeRequest)({
              ...input,
              ...pullRequestText(config, ctx, details.image as string),
            })
          : via === 'github'
            ? githubCommit(input)
            : gitlabCommit(input);
      const r = await run.catch((err: unknown) => ({
        ok: false,
        retryable: true,
        error: `${via}: ${(err as Error)?.message ?? String(err)}`,
        details: {} as Record<string, unknown>,
      }));
      Object.assign(details, r.details);
      return result({
        ok: r.ok,
        retryable: r.retryable,
        statusCode: 'statusCode' in r ? r.statusCode : undefined,
        error: r.error,
        response: 'response' in r ? r.response : undefined,
      });
    }

    const http = guardedGitHttp({ allowPrivate: ctx.allowPrivateTargets, deadline, checkPacks: true });
    const onAuthFailure: GitTypes.AuthFailureCallback = () => ({ cancel: true });
    // loaded on first use: the deployer serves every target type, most deploys never touch Git
    const git = await gitSdk();

    const cloneAndEdit = async (): Promise<Edited | AttemptResult> => {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'triggerfish-git-'));
      try {
        await git.clone({
          fs,
          http,
          dir,
          url: config.url,
          ref: branch,
          singleBranch: true,
          depth: HISTORY_DEPTH,
          noTags: true,
          // no work tree: the files edited are read from and written to the object store (./git-tree)
          noCheckout: true,
          onAuth,
          onAuthFailure,
        });
      } catch (err) {
        await rm(dir, { recursive: true, force: true });
        const c = classify(err);
        const what = c.statusCode === 401 || c.statusCode === 403 ? `${c.message} (check the token)` : c.message;
        return result({
          ok: false,
          retryable: c.retryable,
          statusCode: c.statusCode,
          error: `clone ${branch}: ${what}`,
        });
      }
      try {
        return await editClone(dir);
      } catch (err) {
        await rm(dir, { recursive: true, force: true });
        throw err;
      }
    };

    const editClone = async (dir: string): Promise<Edited | AttemptResult> => {
      const head = await git.resolveRef({ fs, dir, ref: `refs/heads/${branch}` });
      const rootTree = (await git.readCommit({ fs, dir, oid: head })).commit.tree;
      // the texts as edited so far (two rules may edit the same file)
      const texts = new Map<string, { text: string; changed: boolean }>();
      const fail = async (error: string) => {
        await rm(dir, { recursive: true, force: true });
        return result({ ok: false, retryable: false, error });
      };
      for (const [i, f] of config.files.entries()) {
        let current = texts.get(f.path);
        if (!current) {
          const read = await readTreeFile(git, dir, rootTree, f.path, branch);
          if (read instanceof Error) return fail(`files.${i}: ${read.message}`);
          current = { text: read, changed: false };
        }
        const edit = applyRule(current.text, ruleOf(f), img, ctx.triggerName);
        if (edit.error) return fail(`files.${i} (${f.path}): ${edit.error}`);
        texts.set(f.path, edit.changed ? { text: edit.text, changed: true } : current);
      }
      let tree = rootTree;
      for (const [filepath, t] of texts) if (t.changed) tree = await replaceTreeFile(git, dir, tree, filepath, t.text);
      // the commit holds exactly the change: a rule that rewrote a value to the same bytes changes no tree
      const changed = tree === rootTree ? [] : [...texts].filter(([, t]) => t.changed).map(([p]) => p);
      return { dir, head, tree, changed };
    };

    for (let tryNo = 1; ; tryNo++) {
      details.tries = tryNo;
      const edited = await cloneAndEdit().catch((err: unknown) => {
        const c = classify(err);
        return result({ ok: false, retryable: c.retryable, statusCode: c.statusCode, error: c.message });
      });
      if ('ok' in edited) return edited;
      const { dir, head, tree, changed } = edited;
      try {
        if (!changed.length) {
          details.changedPaths = [];
          // a retry of this event after its commit was pushed: name that commit
          const log = await git.log({ fs, dir, ref: 'HEAD', depth: HISTORY_DEPTH }).catch(() => []);
          const own = log.find((c) => hasTrailer(c.commit.message, ...trailer));
          details.commit = own?.oid ?? head;
          return result({
            ok: true,
            retryable: false,
            response: own ? `already in Git (commit ${own.oid})` : 'already in Git',
          });
        }
        const oid = await git.commit({ fs, dir, message, author, tree, parent: [head], ref: `refs/heads/${branch}` });
        try {
          const pushed = await git.push({
            fs,
            http,
            dir,
            remote: 'origin',
            ref: branch,
            remoteRef: branch,
            force: false,
            onAuth,
            onAuthFailure,
          });
          if (!pushed.ok) throw Object.assign(new Error(pushed.error ?? 'push refused'), { code: 'PushRejectedError' });
        } catch (err) {
          const e = err as { code?: string; message?: string };
          if (e?.code === 'PushRejectedError' || e?.code === 'GitPushError') {
            if (tryNo < GIT_PUSH_TRIES && Date.now() < deadline) continue; // the branch moved: start from its new head
            return result({
              ok: false,
              retryable: true,
              error: `push to ${branch} rejected ${tryNo} times (the branch keeps moving): ${e.message ?? ''}`,
            });
          }
          throw err;
        }
        details.commit = oid;
        details.parent = head;
        details.changedPaths = changed;
        return result({ ok: true, retryable: false, response: `committed ${oid} to ${branch}` });
      } catch (err) {
        const c = classify(err);
        return result({
          ok: false,
          retryable: c.retryable,
          statusCode: c.statusCode,
          error: `push ${branch}: ${c.message}`,
        });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
  },

  redact: redactGitTarget,
};
