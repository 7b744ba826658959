/** Schema pieces and redaction shared by the notifiers. */
import * as z from 'zod';
import { checkOutboundUrlAtCreation } from '../core/outbound';
import { config } from '../core/config';
import { DEFAULT_ON, NOTIFY_STATUSES, REDACTED } from './types';

/**
 * A notification URL: the creation rules of deploy targets (scheme, port, no userinfo and, unless private targets are
 * allowed (ALLOW_PRIVATE_TARGETS), no private or loopback IP literal and no `localhost` name). Other hostnames are
 * checked on their resolved address when sending.
 */
export const notifyUrlSchema = z
  .string()
  .min(1)
  .max(2048)
  .superRefine((url, ctx) => {
    const reason = checkOutboundUrlAtCreation(url, config.allowPrivateTargets());
    if (reason) ctx.addIssue({ code: 'custom', message: reason });
  });

/** Which log statuses send this notification; default succeeded and failed. */
export const onSchema = z
  .array(z.enum(NOTIFY_STATUSES))
  .min(1)
  .max(NOTIFY_STATUSES.length)
  .refine((on) => new Set(on).size === on.length, 'a status is listed twice')
  .default([...DEFAULT_ON]);

/** The URL with everything after the origin replaced: Slack, Teams and Discord URLs carry their credential there. */
export function redactUrlPath(url: string): string {
  try {
    const u = new URL(url);
    if ((u.pathname === '/' || u.pathname === '') && !u.search && !u.hash) return url;
    return `${u.origin}/${REDACTED}`;
  } catch {
    return REDACTED;
  }
}

/** The URL with its query values replaced (for any-URL webhooks whose path is the user's own). */
export function redactUrlQuery(url: string): string {
  try {
    const u = new URL(url);
    if (!u.search && !u.hash) return url;
    const names = [...new Set([...u.searchParams.keys()])];
    const query = names.map((n) => `${encodeURIComponent(n)}=${REDACTED}`).join('&');
    return `${u.origin}${u.pathname}${query ? `?${query}` : ''}`;
  } catch {
    return REDACTED;
  }
}

/** The parts of a URL that must not appear in errors: the whole URL, its path, query, and each long enough piece. */
export function urlSecrets(url: string): string[] {
  const out = [url];
  try {
    const u = new URL(url);
    if (u.pathname.length > 1) out.push(u.pathname, u.href);
    if (u.search) out.push(u.search.slice(1));
    for (const seg of u.pathname.split('/')) if (seg.length >= 6) out.push(seg, safeDecode(seg));
    for (const v of u.searchParams.values()) if (v.length >= 6) out.push(v, encodeURIComponent(v));
  } catch {
    /* not a URL: the whole string is enough */
  }
  return out;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Replaces every occurrence of each secret (longest first) by REDACTED. */
export function redactValues(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of [...new Set(secrets)].filter((s) => s.length >= 4).sort((a, b) => b.length - a.length)) {
    out = out.split(s).join(REDACTED);
  }
  return out;
}
