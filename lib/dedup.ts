/**
 * Dedup keys of an event for one trigger. A re-delivery is recognized by the sender's delivery id, or
 * by the same content: action + repository + tag + what identifies this push (digest, else commit,
 * else the sender's push time). An event with none of these (an `api` call) has no content key:
 * each call is a deliberate request to deploy.
 */
import { createHash } from 'node:crypto';
import type { NormalizedEvent } from './event';

const hash = (parts: unknown[]) => createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 40);

export function dedupKeys(event: NormalizedEvent): string[] {
  const keys: string[] = [];
  if (event.deliveryId) keys.push(`delivery:${hash([event.provider, event.deliveryId])}`);
  const identity = event.digest ?? event.commit?.id ?? event.occurredAt;
  if (identity) keys.push(`content:${hash([event.action, event.repoFullName, event.tag ?? '', identity])}`);
  return keys;
}

/** SQS FIFO MessageDeduplicationId (<= 128 chars): the first dedup key, else the log id. */
export function messageDeduplicationId(triggerId: string, keys: string[], logId: string): string {
  return hash([triggerId, keys[0] ?? logId]);
}
