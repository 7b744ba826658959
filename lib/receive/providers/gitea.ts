/**
 * Gitea (and Forgejo) webhooks. `X-Gitea-Signature` is the hex HMAC-SHA256 of the raw body, with no
 * prefix. Gitea also sends GitHub/Gogs copies of its headers; the URL picked this provider, so only
 * the Gitea ones are read. Gitea sends `push` for every push (tags included) and also `create` for a
 * new branch or tag; only the push is acted on, so a new ref deploys once.
 *
 * `package` events (Gitea >= 1.17, Forgejo) announce packages of Gitea's built-in registries; container packages
 * are image pushes (`created`) and deletes (`deleted`) of `<gitea host>/<owner>/<name>:<version>`, where the
 * version is the tag (or the digest of an untagged manifest). Other package types are ignored.
 */
import * as z from 'zod';
import { type Action, imageRef, splitRepoFullName } from '../../core/event';
import { clip, header, isoTime, parseStandardPush } from './git';
import type { ParseResult, Provider } from './types';
import { verifyHmacHeader } from './verify';

const userSchema = z.object({ login: z.string().nullish(), username: z.string().nullish() }).nullish();

export const giteaPackageSchema = z.object({
  action: z.string().min(1),
  package: z.object({
    type: z.string().min(1),
    name: z.string().min(1),
    version: z.string().min(1),
    // the registry host is Gitea's own: taken from the package page URL
    html_url: z.string().url(),
    created_at: z.string().nullish(),
    owner: z
      .object({ login: z.string().nullish(), username: z.string().nullish() })
      .refine((o) => !!(o.login || o.username), 'expected login or username'),
    creator: userSchema,
  }),
  sender: userSchema,
});

const PACKAGE_ACTIONS: Record<string, Action> = { created: 'push', deleted: 'delete' };

/** A package event: container packages are images of Gitea's registry; other types are ignored. */
export function parseGiteaPackage(provider: string, raw: unknown, deliveryId: string | undefined): ParseResult {
  const head = z.object({ action: z.string().min(1), package: z.object({ type: z.string().min(1) }) }).parse(raw);
  if (head.package.type !== 'container') {
    return {
      kind: 'ignored',
      reason: `${clip(head.package.type)} package events are not acted on (only container packages)`,
    };
  }
  const action = PACKAGE_ACTIONS[head.action];
  if (!action)
    return { kind: 'ignored', reason: `package action "${clip(head.action)}" is not acted on (created, deleted)` };
  const body = giteaPackageSchema.parse(raw);
  const p = body.package;
  const registry = new URL(p.html_url).host;
  const owner = (p.owner.login || p.owner.username)!;
  const names = splitRepoFullName(`${owner}/${p.name}`);
  const versionIsDigest = /^[a-z0-9]+:[0-9a-f]+$/i.test(p.version);
  const tag = versionIsDigest ? undefined : p.version;
  const digest = versionIsDigest ? p.version : undefined;
  return {
    kind: 'events',
    events: [
      {
        provider,
        kind: 'image',
        action,
        deliveryId,
        registry,
        ...names,
        tag,
        digest,
        image: imageRef({ registry, repoFullName: names.repoFullName, tag, digest }),
        owner: p.creator?.login || p.creator?.username || body.sender?.login || body.sender?.username || undefined,
        occurredAt: isoTime(p.created_at),
      },
    ],
  };
}

export const gitea: Provider = {
  id: 'gitea',
  title: 'Gitea / Forgejo',
  credential: { hint: 'Webhook "Secret": <secret> (Gitea signs the body: X-Gitea-Signature)' },
  // every copy of the signature, and the optional Authorization header Gitea >= 1.19 can send
  credentialHeaders: [
    'x-gitea-signature',
    'x-gogs-signature',
    'x-hub-signature',
    'x-hub-signature-256',
    'authorization',
  ],
  // the webhook form offers application/x-www-form-urlencoded (payload=<json>) besides application/json
  formPayload: true,
  // Gitea < 1.14 put the secret into the body as `secret`
  credentialBodyFields: ['secret'],
  verify: (req, secrets) => verifyHmacHeader(req, secrets, 'X-Gitea-Signature', 'sha256'),
  parse(req) {
    const event = header(req.headers, 'x-gitea-event');
    // push, create and release bodies all carry a ref or repository; only the header tells them apart
    if (!event) return { kind: 'ignored', reason: 'missing X-Gitea-Event header' };
    const deliveryId = header(req.headers, 'x-gitea-delivery');
    if (event === 'package') return parseGiteaPackage('gitea', req.body, deliveryId);
    if (event !== 'push') {
      const why = event === 'create' ? ' (Gitea also sends a push for the new ref)' : '';
      return { kind: 'ignored', reason: `gitea event "${clip(event)}" is not a push${why}` };
    }
    // recent Gitea sets head_commit; older ones list commits newest first
    return parseStandardPush('gitea', req.body, { newest: 'first', deliveryId });
  },
};
