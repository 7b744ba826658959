/**
 * Re-deliveries: the same delivery sent again (a sender's retry, GitHub's "Redeliver" button). Recognized by the
 * sender's delivery id, or, for senders that send none, by the exact body bytes within a short window. Everything
 * else is a new event, judged against the trigger's deploy state (lib/match/identity.ts), not a time window: a
 * rollback to an image deployed earlier the same day is a new event and deploys.
 */
import { createHash } from 'node:crypto';
import { config } from '../core/config';
import type { NormalizedEvent } from '../core/event';

const hash = (parts: unknown[]) => createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 40);

export interface DedupClaim {
  key: string;
  /** how long the claim holds, seconds */
  ttlSeconds: number;
}

/** `bodySha256`: of the exact bytes received, for senders without a delivery id. */
export function redeliveryClaims(event: NormalizedEvent, bodySha256?: string): DedupClaim[] {
  if (event.deliveryId) {
    return [
      { key: `delivery:${hash([event.provider, event.deliveryId])}`, ttlSeconds: config.deliveryIdWindowSeconds() },
    ];
  }
  if (bodySha256)
    return [{ key: `body:${hash([event.provider, bodySha256])}`, ttlSeconds: config.redeliveryWindowSeconds() }];
  return [];
}

/** SQS FIFO MessageDeduplicationId (<= 128 chars): one per log entry, the claims above do the dedup. */
export function messageDeduplicationId(triggerId: string, logId: string): string {
  return hash([triggerId, logId]);
}
