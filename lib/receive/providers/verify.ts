/**
 * The credential checks providers share. Each returns a VerifyResult whose reason names what was
 * wrong (missing header, bad signature) and never contains a secret or the received credential.
 */
import { anySecret, hmacHex, safeEqual } from '../../core/crypto';
import { requestBytes, type VerifyResult, type WebhookRequest } from './types';

const OK: VerifyResult = { ok: true };
const fail = (reason: string): VerifyResult => ({ ok: false, reason });

/** `?token=<secret>` in the webhook URL (Docker Hub, ACR, Quay, GAR). */
export function verifyQueryToken(req: WebhookRequest, secrets: readonly string[]): VerifyResult {
  const token = req.query.token;
  if (!token) return fail('missing token query parameter');
  return anySecret(secrets, (s) => safeEqual(token, s)) ? OK : fail('token query parameter does not match');
}

/**
 * A header carrying the secret as is, or as `Bearer <secret>` when `bearer` allows it
 * (Harbor, TCR, Azure custom headers; GitLab's X-Gitlab-Token).
 */
export function verifyTokenHeader(
  req: WebhookRequest,
  secrets: readonly string[],
  header: string,
  opts: { bearer: 'required' | 'optional' | 'no' },
): VerifyResult {
  const raw = req.headers[header.toLowerCase()];
  if (!raw) return fail(`missing ${header} header`);
  let value = raw.trim();
  const m = /^bearer\s+(.+)$/i.exec(value);
  if (m) {
    if (opts.bearer === 'no') return fail(`${header} header does not match`);
    value = m[1].trim();
  } else if (opts.bearer === 'required') {
    return fail(`${header} header is not a Bearer credential`);
  }
  return anySecret(secrets, (s) => safeEqual(value, s)) ? OK : fail(`${header} header does not match`);
}

/**
 * A hex HMAC of the raw body in a header, with an optional prefix such as "sha256=" (GitHub, Gitea,
 * Gogs, Bitbucket, Nexus).
 */
export function verifyHmacHeader(
  req: WebhookRequest,
  secrets: readonly string[],
  header: string,
  algorithm: 'sha1' | 'sha256' | 'sha512',
  prefix = '',
): VerifyResult {
  const raw = req.headers[header.toLowerCase()];
  if (!raw) return fail(`missing ${header} header`);
  const value = raw.trim();
  if (prefix && !value.startsWith(prefix)) return fail(`${header} header must start with "${prefix}"`);
  const received = value.slice(prefix.length).toLowerCase();
  // over the exact received bytes: a body that is not UTF-8 still verifies (and is then refused as not JSON)
  const bytes = requestBytes(req);
  const ok = anySecret(secrets, (s) => safeEqual(received, hmacHex(algorithm, s, bytes)));
  return ok ? OK : fail(`${header} signature does not match the body`);
}
