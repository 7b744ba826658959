/**
 * Gitee WebHooks (Push Hook, Tag Push Hook). `X-Gitee-Token` is either the password itself
 * (password mode) or Base64(HMAC-SHA256(secret, "<X-Gitee-Timestamp>\n<secret>")) (signing-key mode).
 * Gitee signs no body bytes, only the timestamp, so a signed token is replayable with any body
 * within its freshness window; that is Gitee's design and all a receiver can check.
 */
import * as z from 'zod';
import { anySecret, hmacBase64, safeEqual } from '../../core/crypto';
import { clip, header, parseStandardPush } from './git';
import type { Provider, VerifyResult } from './types';

/** Gitee's documented freshness window for signed tokens, either way (clock skew). */
const TIMESTAMP_TOLERANCE_MS = 60 * 60 * 1000;

/** X-Gitee-Event values and body hook_name values we act on -> is it a tag push (a Map: no prototype keys). */
const HOOKS = new Map([
  ['Push Hook', false],
  ['Tag Push Hook', true],
]);
const HOOK_NAMES = new Map([
  ['push_hooks', false],
  ['tag_push_hooks', true],
]);

export const gitee: Provider = {
  id: 'gitee',
  title: 'Gitee',
  credential: { hint: 'WebHook password or signing key (签名密钥): <secret>' },
  credentialHeaders: ['x-gitee-token'],
  // the body repeats the credential: `password` (password mode) and `sign` (signing-key mode)
  credentialBodyFields: ['password', 'sign'],
  verify(req, secrets, now): VerifyResult {
    const token = header(req.headers, 'x-gitee-token');
    if (!token) return { ok: false, reason: 'missing X-Gitee-Token header' };
    if (anySecret(secrets, (s) => safeEqual(token, s))) return { ok: true };
    const timestamp = header(req.headers, 'x-gitee-timestamp');
    // the signed string uses the header exactly as sent, so it is only checked for being a number
    if (!timestamp || !/^\d{1,15}$/.test(timestamp)) {
      return { ok: false, reason: 'X-Gitee-Token does not match (and there is no valid X-Gitee-Timestamp to sign)' };
    }
    const signed = anySecret(secrets, (s) => safeEqual(token, hmacBase64('sha256', s, `${timestamp}\n${s}`)));
    if (!signed) return { ok: false, reason: 'X-Gitee-Token does not match' };
    if (Math.abs(now.getTime() - Number(timestamp)) > TIMESTAMP_TOLERANCE_MS) {
      return { ok: false, reason: 'X-Gitee-Timestamp is more than 1 hour from now' };
    }
    return { ok: true };
  },
  parse(req) {
    // the "test" button posts a canned push of oschina/git-osc; acting on it could deploy by accident
    if (header(req.headers, 'x-gitee-ping') === 'true') {
      return { kind: 'ignored', reason: 'gitee test delivery (X-Gitee-Ping)' };
    }
    const event = header(req.headers, 'x-gitee-event') ?? header(req.headers, 'x-git-oschina-event');
    let tagPush: boolean | undefined;
    if (event) {
      tagPush = HOOKS.get(event);
      if (tagPush === undefined) return { kind: 'ignored', reason: `gitee event "${clip(event)}" is not a push` };
    } else {
      // without the header the body says it: hook_name is "push_hooks" or "tag_push_hooks"
      const name = z.object({ hook_name: z.string().nullish() }).safeParse(req.body).data?.hook_name;
      tagPush = name ? HOOK_NAMES.get(name) : undefined;
      if (tagPush === undefined) return { kind: 'ignored', reason: 'missing X-Gitee-Event header' };
    }
    // Gitee sends no delivery id; commits are listed oldest first and head_commit is set
    return parseStandardPush('gitee', req.body, { newest: 'last', tagPush });
  },
};
