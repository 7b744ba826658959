/**
 * Reconciliation: no accepted webhook is lost. The trigger log in DynamoDB is the source of truth; the queue only
 * carries work. An entry left `queued` or `deploying` whose message is gone (the local SQS stand-in keeps nothing
 * across a restart; on AWS a message expires after the queue's retention) is queued once more:
 * - `queued`: it never ran, or it waits for a retry: queued again as it is;
 * - `deploying`: the deployer stopped during the attempt (killed, crashed), so nobody knows whether the target got
 *   it. It is retried, and the log records that attempt as `{error: "outcome unknown: ..."}`; the target may so
 *   see that event twice, never zero times.
 *
 * Used by the local stack at every start (and after the SQS stand-in restarted), and on AWS by the scheduled sweep
 * (functions/sweep.ts) for entries stuck longer than the queue keeps a message.
 * Entries are queued again in the order they were received (ULIDs), per trigger: the deploy queue's FIFO order.
 */
import { createHash } from 'node:crypto';
import { logger } from '../core/logger';
import { inFlightEntries, laneStates } from '../store/in-flight';
import { enqueueDeploy } from '../store/queue';
import { scheduleJob, verifyJob } from '../store/schedule';
import * as store from '../store/store';
import * as deployState from '../store/deploy-state';

export const UNKNOWN_OUTCOME = 'outcome unknown: the deployer stopped during this attempt';

export interface ReconcileOptions {
  /** what happened, for the log's reason (e.g. "a restart of the local stack") */
  cause: string;
  /** only entries last changed before this ISO time (the AWS sweep); default: all in-flight entries */
  updatedBefore?: string;
  /** at most this many entries per run (the sweep runs again later) */
  limit?: number;
}

export interface ReconcileReport {
  /** entries queued again */
  requeued: string[];
  /** of those, the ones that were `deploying`: their last attempt's outcome is unknown */
  unknownOutcome: string[];
  /** entries in their verification phase whose next poll was scheduled again (its message may have been lost) */
  reverified: string[];
  /** entries that could not be queued (left as they are; the next run tries again) */
  errors: { logId: string; error: string }[];
}

/** A new deduplication id: the first message's id is still remembered by the FIFO queue for 5 minutes. */
function requeueDeduplicationId(triggerId: string, logId: string, at: string): string {
  return createHash('sha256')
    .update(JSON.stringify(['requeue', triggerId, logId, at]))
    .digest('hex')
    .slice(0, 64);
}

export async function reconcileInFlight(opts: ReconcileOptions): Promise<ReconcileReport> {
  const report: ReconcileReport = { requeued: [], unknownOutcome: [], reverified: [], errors: [] };
  const entries = await inFlightEntries({ updatedBefore: opts.updatedBefore, limit: opts.limit });
  entries.sort((a, b) => a.triggerId.localeCompare(b.triggerId) || a.id.localeCompare(b.id));
  for (const entry of entries) {
    try {
      await requeue(entry, opts.cause, report);
    } catch (err) {
      report.errors.push({ logId: entry.id, error: (err as Error).message });
      logger.error('stuck deploy could not be queued again', {
        triggerId: entry.triggerId,
        logId: entry.id,
        error: (err as Error).message,
      });
    }
  }
  if (report.requeued.length || report.reverified.length || report.errors.length) {
    logger.warn('reconciled deploys left in flight', {
      cause: opts.cause,
      requeued: report.requeued.length,
      unknownOutcome: report.unknownOutcome.length,
      reverified: report.reverified.length,
      errors: report.errors.length,
    });
  }
  return report;
}

async function requeue(entry: store.LogEntry, cause: string, report: ReconcileReport): Promise<void> {
  const { triggerId, id: logId } = entry;
  if (!entry.event) {
    // cannot happen for an entry that was queued (it always has its event); end it rather than keep it in flight
    await store.updateLogStatus(triggerId, logId, {
      status: 'failed',
      reason: `no event to deploy after ${cause}`,
      onlyFrom: ['queued', 'deploying'],
    });
    if (entry.lane) await deployState.finishInState(triggerId, entry.lane, logId);
    return;
  }
  const verification = entry.attempts.at(-1)?.verification;
  if (entry.status === 'deploying' && verification && !verification.result) {
    // the target took the change: look again instead of deploying it again (a duplicate poll decides nothing twice)
    await scheduleJob(verifyJob(triggerId, logId), 0);
    report.reverified.push(logId);
    return;
  }
  const now = new Date().toISOString();
  const wasDeploying = entry.status === 'deploying';
  const changed = await store.updateLogStatus(triggerId, logId, {
    status: 'queued',
    reason: wasDeploying
      ? `queued again after ${cause}: the attempt that was running has an unknown outcome; retrying`
      : `queued again after ${cause}`,
    ...(wasDeploying ? { attempt: { at: now, durationMs: 0, error: UNKNOWN_OUTCOME } } : {}),
    onlyFrom: [entry.status],
  });
  if (!changed) return; // it moved on meanwhile (finished, superseded): nothing to do
  await enqueueDeploy(
    { triggerId, logId, event: entry.event, ...(entry.lane ? { lane: entry.lane } : {}) },
    requeueDeduplicationId(triggerId, logId, now),
  );
  report.requeued.push(logId);
  if (wasDeploying) report.unknownOutcome.push(logId);
  logger.info('trigger log', {
    triggerId,
    logId,
    status: 'queued',
    requeued: true,
    unknownOutcome: wasDeploying,
    cause,
  });
}

/**
 * A deploy that finished just before a crash may have its entry's final status written but not yet its lane's
 * deploy state (two writes): the lane would look busy with it for ever ("already deploying ..."). Finishes such
 * lanes from their entries. Local start only: one Query per trigger (the state items of its lanes).
 */
export async function repairLaneStates(): Promise<string[]> {
  const repaired: string[] = [];
  for await (const trigger of store.allTriggers()) {
    for (const { lane, state } of await laneStates(trigger.id)) {
      const flying = deployState.inFlight(state);
      if (!flying) continue;
      const entry = await store.getLogEntry(trigger.id, flying.logId);
      if (entry && (entry.status === 'queued' || entry.status === 'deploying')) continue; // really in flight
      const event = entry?.event;
      const succeeded =
        entry?.status === 'succeeded' && event
          ? deployState.refOf(event, entry.id, entry.attempts.at(-1)?.at ?? entry.updatedAt)
          : undefined;
      await deployState.finishInState(trigger.id, lane, flying.logId, succeeded);
      repaired.push(flying.logId);
      logger.warn('deploy state finished from its entry after a restart', {
        triggerId: trigger.id,
        logId: flying.logId,
        status: entry?.status ?? 'gone',
      });
    }
  }
  return repaired;
}
