/**
 * GitLab project/group webhooks (Push Hook, Tag Push Hook). Two credentials, either accepted:
 * - `X-Gitlab-Token`: the "Secret token" in plain text;
 * - the "Signing token" (GitLab 19+, Standard Webhooks): `webhook-signature: v1,<base64 HMAC-SHA256
 *   of "{webhook-id}.{webhook-timestamp}.{raw body}">`, which also binds the body and a timestamp.
 * GitLab has no container-registry webhook, so every event here is code.
 */
import { createHmac } from 'node:crypto';
import * as z from 'zod';
import { anySecret, safeEqual } from '../../core/crypto';
import { clip, commitSchema, header, headCommit, isoTime, normalizePush } from './git';
import { requestBytes, type Provider, type VerifyResult, type WebhookRequest } from './types';
import { verifyTokenHeader } from './verify';

/** Standard Webhooks' replay window, either way (clock skew). */
const SIGNATURE_TOLERANCE_S = 5 * 60;

/**
 * The HMAC key of a signing token. GitLab only accepts signing tokens of the form
 * `whsec_<standard base64 of 32 bytes>` and keys the HMAC with the decoded bytes. Triggerfish secrets
 * are 32 random bytes in base64url, so a secret stands for those 32 bytes: the user pastes
 * gitlabSigningToken(secret) (the same bytes re-encoded) into GitLab, and the secret itself into
 * "Secret token". A secret stored already in whsec_ form is decoded as is. Any other secret cannot be
 * a GitLab signing token and only works as X-Gitlab-Token.
 */
export function gitlabSigningKey(secret: string): Buffer | undefined {
  if (secret.startsWith('whsec_')) {
    const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
    return key.length > 0 ? key : undefined;
  }
  const key = Buffer.from(secret, 'base64url');
  // only a canonical 32-byte base64url string is one of ours (Buffer.from ignores junk characters)
  return key.length === 32 && key.toString('base64url') === secret ? key : undefined;
}

/** What to paste into GitLab's "Signing token" field for a Triggerfish secret. */
export function gitlabSigningToken(secret: string): string | undefined {
  if (secret.startsWith('whsec_')) return secret;
  const key = gitlabSigningKey(secret);
  return key ? `whsec_${key.toString('base64')}` : undefined;
}

function verifySignature(req: WebhookRequest, secrets: readonly string[], now: Date): VerifyResult {
  const id = header(req.headers, 'webhook-id');
  const timestamp = header(req.headers, 'webhook-timestamp');
  if (!id || !timestamp) return { ok: false, reason: 'missing webhook-id or webhook-timestamp header' };
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'webhook-timestamp is not a unix time' };
  if (Math.abs(now.getTime() / 1000 - Number(timestamp)) > SIGNATURE_TOLERANCE_S) {
    return { ok: false, reason: 'webhook-timestamp is more than 5 minutes from now' };
  }
  // space-separated "v1,<base64>" entries (several during a signing-token rotation); other versions are skipped
  const received = (req.headers['webhook-signature'] ?? '')
    .split(' ')
    .filter((s) => s.startsWith('v1,'))
    .map((s) => s.slice('v1,'.length));
  if (received.length === 0) return { ok: false, reason: 'webhook-signature has no v1 signature' };
  // "{id}.{timestamp}." + the exact body bytes
  const message = Buffer.concat([Buffer.from(`${id}.${timestamp}.`, 'utf8'), requestBytes(req)]);
  const ok = anySecret(secrets, (secret) => {
    const key = gitlabSigningKey(secret);
    if (!key) return false;
    const expected = createHmac('sha256', key).update(message).digest('base64');
    let match = false;
    for (const sig of received) match = safeEqual(sig, expected) || match;
    return match;
  });
  return ok ? { ok: true } : { ok: false, reason: 'webhook-signature does not match the body' };
}

export const gitlabPushSchema = z.object({
  object_kind: z.string().nullish(),
  ref: z.string().min(1),
  before: z.string().nullish(),
  after: z.string().nullish(),
  // the commit the ref points to; `after` is the tag object for an annotated tag
  checkout_sha: z.string().nullish(),
  user_name: z.string().nullish(),
  user_username: z.string().nullish(),
  project: z.object({
    // `namespace` and `name` are display names ("Mike", "Diaspora"); the path is what identifies it
    path_with_namespace: z.string().min(1),
  }),
  commits: z.array(commitSchema).nullish(),
});

/** X-Gitlab-Event values and body object_kind values we act on -> is it a tag push (a Map: no prototype keys). */
const HOOKS = new Map([
  ['Push Hook', false],
  ['Tag Push Hook', true],
]);
const KINDS = new Map([
  ['push', false],
  ['tag_push', true],
]);

export const gitlab: Provider = {
  id: 'gitlab',
  title: 'GitLab',
  credential: {
    settings: (secret): Record<string, string> => {
      const signing = gitlabSigningToken(secret);
      return signing ? { 'Secret token': secret, 'Signing token': signing } : { 'Secret token': secret };
    },
    // the sender's words: GitLab's field names, and where the value is in the setup answer (not a code name)
    hint: 'Webhook "Secret token": <secret> (or "Signing token": the value of settings["Signing token"] in this answer)',
  },
  credentialHeaders: ['x-gitlab-token', 'webhook-signature'],
  verify(req, secrets, now) {
    const hasToken = header(req.headers, 'x-gitlab-token') !== undefined;
    // GitLab sends webhook-id/-timestamp on every delivery, the signature only with a signing token
    const hasSignature = header(req.headers, 'webhook-signature') !== undefined;
    if (!hasToken && !hasSignature) return { ok: false, reason: 'missing X-Gitlab-Token or webhook-signature header' };
    const signed = hasSignature ? verifySignature(req, secrets, now) : undefined;
    if (signed?.ok) return signed;
    // a hook can carry both; the plain token proves the secret just as well (it was never replay-safe)
    const token = hasToken ? verifyTokenHeader(req, secrets, 'X-Gitlab-Token', { bearer: 'no' }) : undefined;
    if (token?.ok) return token;
    const reasons = [signed, token].flatMap((r) => (r && !r.ok ? [r.reason] : []));
    return { ok: false, reason: reasons.join('; ') };
  },
  parse(req) {
    const event = header(req.headers, 'x-gitlab-event');
    let tagPush: boolean | undefined;
    if (event) {
      tagPush = HOOKS.get(event);
      if (tagPush === undefined) return { kind: 'ignored', reason: `gitlab event "${clip(event)}" is not a push` };
    } else {
      // without the header the body says it: object_kind is "push" or "tag_push"
      const kind = z.object({ object_kind: z.string().nullish() }).safeParse(req.body).data?.object_kind;
      tagPush = kind ? KINDS.get(kind) : undefined;
      if (tagPush === undefined) return { kind: 'ignored', reason: 'missing X-Gitlab-Event header' };
    }
    const body = gitlabPushSchema.parse(req.body);
    const commit = headCommit({ commits: body.commits, ids: [body.checkout_sha, body.after], newest: 'last' });
    const raw = commit ? body.commits?.find((c) => c.id === commit.id) : undefined;
    return normalizePush({
      provider: 'gitlab',
      ref: body.ref,
      tagPush,
      after: body.after,
      repoFullName: body.project.path_with_namespace,
      // user_username is the login; older payloads (and the tag docs example) only have user_name
      owner: body.user_username || body.user_name,
      commit,
      occurredAt: isoTime(raw?.timestamp),
      deliveryId:
        header(req.headers, 'x-gitlab-event-uuid') ??
        header(req.headers, 'idempotency-key') ??
        header(req.headers, 'webhook-id'),
    });
  },
};
