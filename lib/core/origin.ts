/**
 * Where a trigger log entry came from, set by the code path that created it (never by anything in a request):
 * - `webhook`: a sender's request (or an ECR event from EventBridge);
 * - `redeliver`: the admin API's redeliver of an earlier entry;
 * - `test`: the admin API's "send test event" (a signed sample through the real pipeline);
 * - `rollback`: a deploy of the lane's last good artifact (after a failed verification, or the admin's rollback).
 * Later paths add theirs here (`poll`, `promotion`): the list is the one place to extend.
 */
export const ORIGINS = ['webhook', 'redeliver', 'test', 'rollback'] as const;
export type Origin = (typeof ORIGINS)[number];

/**
 * The origin of an entry stored before entries had one: a redelivery names its first entry; a test event carried
 * the `x-triggerfish-test` request header (which a sender could also set: only entries from before `origin` are read
 * this way); anything else came from a sender.
 */
export function legacyOrigin(entry: {
  redeliveryOf?: unknown;
  request?: { headers?: Record<string, unknown> };
}): Origin {
  if (entry.redeliveryOf) return 'redeliver';
  if (entry.request?.headers?.['x-triggerfish-test'] === 'true') return 'test';
  return 'webhook';
}
