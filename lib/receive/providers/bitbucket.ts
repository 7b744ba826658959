/**
 * Bitbucket Cloud repository webhooks (`X-Event-Key: repo:push`). Bitbucket signs the raw body with
 * HMAC-SHA256 under GitHub's old SHA-1 header name: `X-Hub-Signature: sha256=<hex>`. One push lists a
 * change per ref; each change whose `new` is set (not a deletion) becomes one code event.
 */
import * as z from 'zod';
import type { Commit, NormalizedEvent } from '../../core/event';
import { clip, header, isoTime, normalizePush } from './git';
import type { Provider } from './types';
import { verifyHmacHeader } from './verify';

const accountSchema = z
  .object({ display_name: z.string().nullish(), nickname: z.string().nullish(), username: z.string().nullish() })
  .nullish();

const refSchema = z.object({
  // "branch" or "tag" ("named_branch"/"bookmark" were Mercurial's, gone since 2020)
  type: z.string().min(1),
  name: z.string().min(1),
  target: z.object({
    hash: z.string().min(1),
    message: z.string().nullish(),
    date: z.string().nullish(),
    // {raw: "Name <email>", user}; Atlassian's older example puts an account here instead
    author: z.object({ raw: z.string().nullish(), user: accountSchema, display_name: z.string().nullish() }).nullish(),
    links: z.object({ html: z.object({ href: z.string().nullish() }).nullish() }).nullish(),
  }),
});

export const bitbucketPushSchema = z.object({
  actor: accountSchema,
  repository: z.object({
    // "workspace/repo_slug": the workspace is the namespace, the slug the repository
    full_name: z.string().regex(/^[^/\s]+\/[^/\s]+$/, 'expected "workspace/repo_slug"'),
    name: z.string().nullish(),
  }),
  push: z.object({
    changes: z.array(
      z.object({
        new: refSchema.nullish(),
        old: z.object({ type: z.string().nullish(), name: z.string().nullish() }).nullish(),
        created: z.boolean().nullish(),
        closed: z.boolean().nullish(),
        forced: z.boolean().nullish(),
      }),
    ),
  }),
});
type Ref = z.infer<typeof refSchema>;

/** "Brad Rydzewski <brad@example.com>" -> "Brad Rydzewski": the git author, as the other code hosts report it. */
function authorOf(author: Ref['target']['author']): string | undefined {
  const name = author?.raw?.replace(/\s*<[^>]*>\s*$/, '').trim();
  return name || author?.user?.display_name || author?.display_name || undefined;
}

function commitOf(ref: Ref): Commit {
  const t = ref.target;
  return { id: t.hash, message: t.message ?? '', author: authorOf(t.author), url: t.links?.html?.href || undefined };
}

export const bitbucket: Provider = {
  id: 'bitbucket',
  title: 'Bitbucket Cloud',
  credential: { hint: 'Webhook "Secret": <secret> (Bitbucket signs the body: X-Hub-Signature: sha256=...)' },
  credentialHeaders: ['x-hub-signature'],
  verify: (req, secrets) => verifyHmacHeader(req, secrets, 'X-Hub-Signature', 'sha256', 'sha256='),
  parse(req) {
    const key = header(req.headers, 'x-event-key');
    if (!key) return { kind: 'ignored', reason: 'missing X-Event-Key header' };
    if (key !== 'repo:push') return { kind: 'ignored', reason: `bitbucket event "${clip(key)}" is not a push` };
    const body = bitbucketPushSchema.parse(req.body);
    // X-Request-UUID names the delivery (X-Hook-UUID names the webhook); all events of one push share it
    const deliveryId = header(req.headers, 'x-request-uuid');
    // login-like names first: display names are neither unique nor stable
    const owner = body.actor?.nickname || body.actor?.username || body.actor?.display_name;
    const events: NormalizedEvent[] = [];
    const skipped: string[] = [];
    for (const change of body.push.changes) {
      const ref = change.new;
      if (!ref) {
        // a null `new` is a deleted branch or tag: nothing to deploy
        const old = change.old;
        skipped.push(`${old?.type === 'tag' ? 'tag' : 'branch'} "${clip(old?.name ?? '?')}" was deleted`);
        continue;
      }
      if (ref.type !== 'branch' && ref.type !== 'tag') {
        skipped.push(`ref type "${clip(ref.type)}" is not a branch or tag`);
        continue;
      }
      const result = normalizePush({
        provider: 'bitbucket',
        ref: `${ref.type === 'tag' ? 'refs/tags/' : 'refs/heads/'}${ref.name}`,
        repoFullName: body.repository.full_name,
        owner,
        commit: commitOf(ref),
        // Bitbucket sends no push time; like the other code hosts, fall back to the head commit's
        occurredAt: isoTime(ref.target.date),
        deliveryId,
      });
      if (result.kind === 'events') events.push(...result.events);
      else skipped.push(result.reason);
    }
    if (events.length > 0) return { kind: 'events', events };
    return { kind: 'ignored', reason: skipped.length > 0 ? skipped.join('; ') : 'bitbucket push has no changes' };
  },
};
