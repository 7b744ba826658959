/**
 * Dedup keys of an event for one trigger. A re-delivery is recognized by the sender's delivery id, or
 * by its content:
 * - with a digest: action + repository + digest, whatever the tag. One image announced under several
 *   tags (Harbor sends one request per tag, Quay one per push) deploys once; the others are duplicates.
 * - without a digest: action + repository + tag + what identifies this push (commit, else the sender's
 *   push time: Docker Hub sends no digest, and a re-push of `latest` must deploy again).
 * An event with none of these (an `api` call) has no content key: each call is a deliberate deploy.
 */
import { createHash } from 'node:crypto';
import type { NormalizedEvent } from '../core/event';

const hash = (parts: unknown[]) => createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 40);

export function dedupKeys(event: NormalizedEvent): string[] {
  const keys: string[] = [];
  if (event.deliveryId) keys.push(`delivery:${hash([event.provider, event.deliveryId])}`);
  if (event.digest) {
    keys.push(`digest:${hash([event.action, event.repoFullName, event.digest])}`);
  } else {
    const identity = event.commit?.id ?? event.occurredAt;
    if (identity) keys.push(`content:${hash([event.action, event.repoFullName, event.tag ?? '', event.branch ?? '', identity])}`);
  }
  return keys;
}

/** SQS FIFO MessageDeduplicationId (<= 128 chars): the first dedup key, else the log id. */
export function messageDeduplicationId(triggerId: string, keys: string[], logId: string): string {
  return hash([triggerId, keys[0] ?? logId]);
}
