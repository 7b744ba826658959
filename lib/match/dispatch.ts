/**
 * The second half of the pipeline, shared by HTTP webhooks and EventBridge (ECR):
 * authenticated, normalized events -> match -> dedup claim + `queued` entry -> enqueue.
 * Writes exactly one log entry and says what happened; callers turn that into their answer.
 */
import { dedupKeys, messageDeduplicationId } from './dedup';
import type { NormalizedEvent } from '../core/event';
import { logger } from '../core/logger';
import { selectEvent } from './matcher';
import { enqueueDeploy } from '../store/queue';
import * as store from '../store/store';
import type { Trigger } from '../trigger';

export type Outcome =
  | { status: 'triggered'; log: string }
  | { status: 'untriggered'; log: string; reason: string }
  | { status: 'duplicate'; log: string; duplicateOf: string }
  /** the queue refused: the entry is `failed` and the sender must retry (503) */
  | { status: 'unqueued'; log: string };

/** Builds a log entry for this request (the caller knows how the request looked). */
export type EntryFactory = (fields: Partial<store.LogEntry> & { status: store.LogStatus }) => store.LogEntry;

export async function dispatch(trigger: Trigger, events: NormalizedEvent[], entryFor: EntryFactory): Promise<Outcome> {
  const { event, result } = selectEvent(trigger.match, events, {
    trackedImage: trigger.trackedImage ?? trigger.match.image,
  });
  const base = { event, deliveryId: event.deliveryId };
  if (!trigger.enabled || !result.matched) {
    const reason = !trigger.enabled ? 'trigger disabled' : (result as { reason: string }).reason;
    const entry = entryFor({ ...base, status: 'untriggered', reason });
    await write(entry);
    return { status: 'untriggered', log: entry.id, reason };
  }

  const entry = entryFor({ ...base, status: 'queued' });
  const keys = dedupKeys(event);
  const claim = await store.claimAndQueue(entry, keys);
  if (!claim.ok) {
    const dup = entryFor({ ...base, status: 'untriggered', reason: `duplicate of ${claim.duplicateOf}`, duplicateOf: claim.duplicateOf });
    await write(dup);
    return { status: 'duplicate', log: dup.id, duplicateOf: claim.duplicateOf };
  }
  try {
    await enqueueDeploy({ triggerId: trigger.id, logId: entry.id, event }, messageDeduplicationId(trigger.id, keys, entry.id));
  } catch (err) {
    logger.error('deploy could not be queued', { triggerId: trigger.id, logId: entry.id, error: (err as Error).message });
    // give the claims back so the sender's retry is not taken for a duplicate
    await store.releaseClaims(trigger.id, entry.id, keys);
    await store.updateLogStatus(trigger.id, entry.id, { status: 'failed', reason: 'could not be queued; the sender was asked to retry' });
    return { status: 'unqueued', log: entry.id };
  }
  logger.info('trigger log', { triggerId: trigger.id, logId: entry.id, status: 'queued' });
  return { status: 'triggered', log: entry.id };
}

/** Writes an entry that needs no claim (untriggered, unauthorized, rejected). */
export async function write(entry: store.LogEntry): Promise<void> {
  await store.putLogEntry(entry);
  logger.info('trigger log', { triggerId: entry.triggerId, logId: entry.id, status: entry.status, reason: entry.reason });
}
