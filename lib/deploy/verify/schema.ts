/**
 * `target.verify`: what makes a deploy `succeeded` after its target accepted the change (lib/deploy/verify).
 *   absent           the target's own check (kubernetes rollout status, ecs steady state), default timeout
 *   false            no verification: accepted is succeeded (as before verification existed)
 *   {timeout, http}  timeout "30s" | "5m" | "1h" (VERIFY_MIN_SECONDS..VERIFY_MAX_SECONDS); http: a URL of yours that
 *                    answers 2xx with a body containing the deployed tag or digest once the new version serves
 * Light on purpose: the admin API loads it with the target schemas.
 */
import * as z from 'zod';
import { checkOutboundUrlAtCreation } from '../../core/outbound';
import { config as settings } from '../../core/config';

export const VERIFY_DEFAULT_SECONDS = 600;
/** the shortest timeout accepted: a poll or two at the default interval */
export const VERIFY_MIN_SECONDS = 5;
export const VERIFY_MAX_SECONDS = 24 * 3600;
const DURATION = /^([1-9][0-9]{0,5})(s|m|h)$/;
const UNIT_SECONDS = { s: 1, m: 60, h: 3600 } as const;

/** "90s" -> 90, "5m" -> 300, "1h" -> 3600; undefined for anything else. */
export function durationSeconds(text: string): number | undefined {
  const m = DURATION.exec(text);
  return m ? Number(m[1]) * UNIT_SECONDS[m[2] as keyof typeof UNIT_SECONDS] : undefined;
}

const durationSchema = z.string().superRefine((s, ctx) => {
  const seconds = durationSeconds(s);
  if (seconds === undefined) ctx.addIssue({ code: 'custom', message: 'a duration like "30s", "5m" or "1h"' });
  else if (seconds < VERIFY_MIN_SECONDS || seconds > VERIFY_MAX_SECONDS)
    ctx.addIssue({ code: 'custom', message: `between ${VERIFY_MIN_SECONDS}s and ${VERIFY_MAX_SECONDS / 3600}h` });
});

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/;

export const verifyHttpSchema = z.strictObject({
  /** polled with GET under the outbound URL rules of targets; no templates */
  url: z
    .string()
    .max(2048)
    .superRefine((u, ctx) => {
      const refused = checkOutboundUrlAtCreation(u, settings.allowPrivateTargets());
      if (refused) ctx.addIssue({ code: 'custom', message: refused });
    }),
  /** e.g. an Authorization header; shown redacted by the admin API */
  headers: z
    .record(z.string().regex(HEADER_NAME, 'not a header name'), z.string().max(4096))
    .refine((h) => Object.keys(h).length <= 10, 'at most 10 headers')
    .optional(),
});

export const verifySchema = z.union([
  z.literal(false),
  z.strictObject({ timeout: durationSchema.optional(), http: verifyHttpSchema.optional() }),
]);
export type VerifyConfig = z.infer<typeof verifySchema>;
