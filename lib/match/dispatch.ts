/**
 * The second half of the pipeline, shared by HTTP webhooks, EventBridge (ECR) and the admin API's redeliver:
 * authenticated, normalized events -> match -> re-delivery claim + deploy state -> `queued` entry -> enqueue ->
 * supersede the older waiting deploy. Writes exactly one log entry and says what happened; callers turn that into
 * their answer.
 *
 * Judging an event that matched (the contract's v2 rules):
 * 1. a re-delivery (same delivery id, or same body bytes within a short window) is `duplicate`;
 * 2. an event for exactly what the target runs or is deploying now (same digest, same commit) is `untriggered`
 *    with a reason starting "already"; an older artifact that is not what runs now deploys (a rollback);
 * 3. otherwise it is queued, and (unless the trigger says `"queue": "all"`) the older deploy of the same lane that
 *    is still waiting ends `superseded`, and its retry wait is cut short, so the newer one runs at once.
 */
import AsyncLock from 'async-lock';
import type { NormalizedEvent } from '../core/event';
import { logger } from '../core/logger';
import * as deployState from '../store/deploy-state';
import { enqueueDeploy, releaseRetryWait } from '../store/queue';
import * as store from '../store/store';
import type { Trigger } from '../trigger';
import { messageDeduplicationId, redeliveryClaims, type DedupClaim } from './dedup';
import { artifactOf, describeArtifact, laneOf } from './identity';
import { deploySubject, logEntryFields, reportOutcome } from '../deploy/report';
import { selectEvent } from './matcher';

export type Outcome =
  | { status: 'triggered'; log: string }
  | { status: 'untriggered'; log: string; reason: string }
  | { status: 'duplicate'; log: string; duplicateOf: string }
  /** the queue refused: the entry is `failed` and the sender must retry (503) */
  | { status: 'unqueued'; log: string };

/** Builds a log entry for this request (the caller knows how the request looked). */
export type EntryFactory = (fields: Partial<store.LogEntry> & { status: store.LogStatus }) => store.LogEntry;

export interface DispatchOptions {
  /** sha256 of the exact body bytes: recognizes re-deliveries of senders that send no delivery id */
  bodySha256?: string;
  /** admin redeliver: run this event again even if the target runs it now; no re-delivery claim */
  redeliveryOf?: string;
  /** a rollback (lib/match/rollback.ts): like a redelivery, deploys even what the lane's state calls running */
  rollbackOf?: string;
}

/** An image event must name what to deploy; these never deploy. */
function missingArtifact(event: NormalizedEvent): string | undefined {
  if (event.kind !== 'code' && !event.tag && !event.digest)
    return 'event names neither a tag nor a digest: nothing to deploy';
  return undefined;
}

/**
 * The event of a request a trigger acts on, and the reason when it does not (disabled, no match, nothing to deploy),
 * before the deploy state is consulted. Also the admin API's dry run. A redelivery is not matched again: it runs the
 * entry's event as it was judged then, whatever the rules say now.
 */
export function chooseEvent(
  trigger: Trigger,
  events: NormalizedEvent[],
  redelivery = false,
): { event: NormalizedEvent; reason?: string } {
  const { event, result } = redelivery
    ? { event: events[0], result: { matched: true as const } }
    : selectEvent(trigger.match, events, { trackedImage: trigger.trackedImage ?? trigger.match.image });
  const reason = !trigger.enabled ? 'trigger disabled' : !result.matched ? result.reason : missingArtifact(event);
  return { event, reason };
}

/**
 * Webhooks of one lane that arrive together race for its deploy state: one transaction wins, each other one is
 * cancelled and decides again on the state that came back with the cancellation (no read). Between tries a random
 * wait of up to 2^try ms (at most 256) spreads the racers out, so a burst costs each racer a few transactions instead
 * of all of them retrying in step; after STATE_RACE_MS the sender is asked to retry (503). Within one process (the
 * local stack serves every request in one) the lane's decisions take turns (async-lock), so they never race there; on
 * AWS a Lambda instance serves one request at a time, and the backoff is what spreads a burst.
 */
const STATE_RACE_MS = 3000;
const backoff = (tries: number) => new Promise((r) => setTimeout(r, Math.random() * 2 ** Math.min(tries, 8)));
const laneTurns = new AsyncLock({ maxPending: Infinity });

export async function dispatch(
  trigger: Trigger,
  events: NormalizedEvent[],
  entryFor: EntryFactory,
  options: DispatchOptions = {},
): Promise<Outcome> {
  const deliberate = !!(options.redeliveryOf || options.rollbackOf);
  const { event, reason: unmatched } = chooseEvent(trigger, events, deliberate);
  const base = {
    event,
    deliveryId: event.deliveryId,
    ...(options.redeliveryOf ? { redeliveryOf: options.redeliveryOf } : {}),
    ...(options.rollbackOf ? { rollbackOf: options.rollbackOf, origin: 'rollback' as const } : {}),
  };
  if (unmatched)
    return untriggered(await writeEntry(entryFor({ ...base, status: 'untriggered', reason: unmatched }), trigger));

  const claims = deliberate ? [] : redeliveryClaims(event, options.bodySha256);
  const lane = laneOf(event);
  const artifact = artifactOf(event);
  const queueAll = trigger.queue === 'all';

  return laneTurns.acquire(`${trigger.id}\n${lane}`, () =>
    decide(trigger, event, base, entryFor, { ...options, claims, lane, artifact, queueAll }),
  );
}

async function decide(
  trigger: Trigger,
  event: NormalizedEvent,
  base: Pick<store.LogEntry, 'event' | 'deliveryId' | 'redeliveryOf' | 'rollbackOf'> &
    Partial<Pick<store.LogEntry, 'origin'>>,
  entryFor: EntryFactory,
  ctx: DispatchOptions & { claims: DedupClaim[]; lane: string; artifact?: string; queueAll: boolean },
): Promise<Outcome> {
  const { claims, lane, artifact, queueAll } = ctx;
  const giveUpAt = Date.now() + STATE_RACE_MS;
  // the claims are read with the state: a re-delivery is answered without a (cancelled) transaction
  let { state, heldBy } = await deployState.getDeployStateWithClaims(trigger.id, lane, claims);
  for (let tries = 1; ; tries++) {
    if (heldBy) return duplicate(trigger, entryFor, base, heldBy);
    const flying = deployState.inFlight(state);
    const runs = flying ?? state.current;
    if (artifact && runs?.artifact === artifact && !ctx.redeliveryOf && !ctx.rollbackOf) {
      // decided on the state as read and writes none of it: nothing to check at the write (a deploy finishing
      // meanwhile does not make this answer wrong: it was true when the webhook was judged)
      const what = describeArtifact(runs, event.kind);
      const reason = flying
        ? `already deploying ${what} (log ${runs.logId})`
        : `already running ${what} (log ${runs.logId})`;
      const entry = entryFor({ ...base, status: 'untriggered', reason });
      const written = await store.claimAndWrite(entry, claims);
      if ('duplicateOf' in written) return duplicate(trigger, entryFor, base, written.duplicateOf);
      logEntry(entry, trigger);
      return { status: 'untriggered', log: entry.id, reason };
    }

    const entry = entryFor({ ...base, status: 'queued', lane });
    const ref = deployState.refOf(event, entry.id, entry.receivedAt);
    const written = await store.claimAndWrite(entry, claims, [deployState.setLatestItem(trigger.id, lane, ref, state)]);
    if ('duplicateOf' in written) return duplicate(trigger, entryFor, base, written.duplicateOf);
    if ('conflict' in written) {
      // another webhook of this lane was queued (or a retry began waiting) since the read: judge again on the state
      // as it is now, which came back with the conflict
      if (Date.now() > giveUpAt) throw new Error('the deploy state of this trigger kept changing; retry later');
      await backoff(tries);
      state = written.item ? deployState.stateOfItem(written.item) : await deployState.getDeployState(trigger.id, lane);
      heldBy = undefined;
      continue;
    }
    return enqueue(trigger, entry, { claims, lane, previous: state.latest, flying, retry: state.retry, queueAll });
  }
}

async function enqueue(
  trigger: Trigger,
  entry: store.LogEntry,
  ctx: {
    claims: DedupClaim[];
    lane: string;
    previous?: deployState.StateRef;
    flying?: deployState.StateRef;
    retry?: deployState.DeployState['retry'];
    queueAll: boolean;
  },
): Promise<Outcome> {
  const event = entry.event!;
  try {
    await enqueueDeploy(
      { triggerId: trigger.id, logId: entry.id, event, lane: ctx.lane },
      messageDeduplicationId(trigger.id, entry.id),
    );
  } catch (err) {
    const reason = 'could not be queued; the sender was asked to retry';
    // give the claims and the state back so the sender's retry is judged as if this request never came
    await store.releaseClaims(trigger.id, entry.id, ctx.claims);
    await deployState.restoreLatest(trigger.id, ctx.lane, entry.id, ctx.previous);
    await store.updateLogStatus(trigger.id, entry.id, { status: 'failed', reason });
    reportOutcome({
      ...deploySubject(trigger, entry.id, event),
      status: 'unqueued',
      reason,
      attempts: 0,
      receivedAt: entry.receivedAt,
      error: (err as Error).message,
    });
    return { status: 'unqueued', log: entry.id };
  }
  logEntry(entry, trigger);
  if (!ctx.queueAll && ctx.flying) await supersede(trigger.id, ctx.flying.logId, entry.id, ctx.retry);
  return { status: 'triggered', log: entry.id };
}

/**
 * Ends the older deploy of the lane if it is still waiting (queued, or waiting for a retry); one that is running
 * now finishes its attempt, and the deployer then sees it was superseded rather than retrying it.
 */
async function supersede(
  triggerId: string,
  olderLogId: string,
  newerLogId: string,
  retry: deployState.DeployState['retry'],
): Promise<void> {
  const ended = await store.updateLogStatus(triggerId, olderLogId, {
    status: 'superseded',
    reason: `superseded by ${newerLogId}, a newer event of the same lane`,
    supersededBy: newerLogId,
    onlyFrom: ['queued'],
  });
  if (!ended) return;
  logger.info('trigger log', {
    triggerId,
    logId: olderLogId,
    status: 'superseded',
    reason: `superseded by ${newerLogId}`,
  });
  // its message may be waiting out a retry backoff in front of ours (one FIFO group per trigger): end the wait
  if (retry?.logId === olderLogId) await releaseRetryWait(retry.receiptHandle);
}

async function duplicate(
  trigger: Trigger,
  entryFor: EntryFactory,
  base: object,
  duplicateOf: string,
): Promise<Outcome> {
  const entry = await writeEntry(
    entryFor({ ...base, status: 'duplicate', reason: `re-delivery of ${duplicateOf}`, duplicateOf }),
    trigger,
  );
  return { status: 'duplicate', log: entry.id, duplicateOf };
}

function untriggered(entry: store.LogEntry): Outcome {
  return { status: 'untriggered', log: entry.id, reason: entry.reason ?? '' };
}

async function writeEntry(entry: store.LogEntry, trigger: Pick<Trigger, 'name'>): Promise<store.LogEntry> {
  await write(entry, trigger);
  return entry;
}

/** Writes an entry that needs no claim (untriggered, unauthorized, rejected, duplicate). */
export async function write(entry: store.LogEntry, trigger?: Pick<Trigger, 'name'>): Promise<void> {
  await store.putLogEntry(entry);
  logEntry(entry, trigger);
}

/** One line per webhook outcome: what operators read in CloudWatch (never the request itself). */
function logEntry(entry: store.LogEntry, trigger?: Pick<Trigger, 'name'>): void {
  logger.info('trigger log', logEntryFields(entry, trigger));
}
