/**
 * Deploy state: what a trigger's target runs and what is on its way there, per lane (one image repository, or one
 * branch of a code repository; see lib/match/identity.ts). Kept in the logs table next to the entries
 * (`state#<lane hash>`), so the webhook path reads one more item and writes it in the transaction it already makes.
 *
 * - `latest`: the newest event queued in this lane (it may be finished);
 * - `doneUpTo`: the newest entry of this lane that reached a terminal status (ULIDs sort by time), so `latest` is in
 *   flight exactly when latest.logId > doneUpTo;
 * - `current`: the newest entry that succeeded (verified, when the target verifies): what the target runs now;
 * - `previous`: the `current` before it, when that was another artifact: what a rollback goes back to;
 * - `retry`: the receipt handle of a deploy message waiting for its retry (its visibility timeout), so that a newer
 *   event can end the wait at once instead of queueing behind it;
 */
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { config } from '../core/config';
import { artifactOf, type NormalizedEvent } from '../core/event';
import { dynamo } from './aws';
import { getWithClaims } from './store';

/** One event as the deploy state remembers it. */
export interface StateRef {
  logId: string;
  /** digest (images) or commit (code): what "the same thing" means; absent when the sender says neither */
  artifact?: string;
  image?: string;
  tag?: string;
  at: string;
}

export interface DeployState {
  latest?: StateRef;
  current?: StateRef;
  previous?: StateRef;
  doneUpTo?: string;
  retry?: { logId: string; receiptHandle: string };
}

/** An event as the deploy state remembers it (what dispatch queues, what the deployer records as running). */
export function refOf(event: NormalizedEvent, logId: string, at: string): StateRef {
  return { logId, artifact: artifactOf(event), image: event.image, tag: event.tag, at };
}

export const stateKey = (triggerId: string, lane: string) => ({ triggerId, sk: `state#${lane}` });

export async function getDeployState(triggerId: string, lane: string): Promise<DeployState> {
  const out = await dynamo().send(
    new GetCommand({ TableName: config.logsTable(), Key: stateKey(triggerId, lane), ConsistentRead: true }),
  );
  return stateOfItem(out.Item);
}

/** A deploy state item as read (or as returned with a failed condition), or none yet. */
export function stateOfItem(found: Record<string, unknown> | undefined): DeployState {
  const item = found as DeployState | undefined;
  return item
    ? {
        latest: item.latest,
        current: item.current,
        previous: item.previous,
        doneUpTo: item.doneUpTo,
        retry: item.retry,
      }
    : {};
}

/** The deploy state and whether a redelivery claim is held (its entry), in one read (store.getWithClaims). */
export async function getDeployStateWithClaims(
  triggerId: string,
  lane: string,
  claims: Array<{ key: string }>,
): Promise<{ state: DeployState; heldBy?: string }> {
  if (!claims.length) return { state: await getDeployState(triggerId, lane) };
  const { sk } = stateKey(triggerId, lane);
  const { items, heldBy } = await getWithClaims(triggerId, [sk], claims);
  return { state: stateOfItem(items.get(sk)), heldBy };
}

/** The in-flight event of a lane: its latest one, unless that one has finished. */
export function inFlight(state: DeployState): StateRef | undefined {
  const latest = state.latest;
  if (!latest) return undefined;
  return state.doneUpTo && state.doneUpTo >= latest.logId ? undefined : latest;
}

/**
 * The transaction item that makes `ref` the lane's latest event, if the lane's latest event and its waiting retry
 * are still those read (`read`). Only those two: the decision to queue depends on nothing else that can change
 * meanwhile (a deploy that finishes moves `doneUpTo`/`current`, which must not make a webhook try again), and the
 * retry is checked so that the waiting message the caller supersedes is the one the state holds. On a conflict the
 * state comes back with the failure (ALL_OLD): the caller decides again without reading it.
 */
export function setLatestItem(
  triggerId: string,
  lane: string,
  ref: StateRef,
  read: Pick<DeployState, 'latest' | 'retry'>,
) {
  const conditions = [
    read.latest ? 'latest.logId = :prev' : 'attribute_not_exists(latest)',
    read.retry ? '#r.receiptHandle = :rh' : 'attribute_not_exists(#r)',
  ];
  return {
    Update: {
      TableName: config.logsTable(),
      Key: stateKey(triggerId, lane),
      UpdateExpression: 'SET latest = :l, expiresAt = :x',
      ConditionExpression: conditions.join(' AND '),
      ExpressionAttributeNames: { '#r': 'retry' },
      ExpressionAttributeValues: {
        ':l': ref,
        ':x': stateExpiry(),
        ...(read.latest ? { ':prev': read.latest.logId } : {}),
        ...(read.retry ? { ':rh': read.retry.receiptHandle } : {}),
      },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
    },
  };
}

/**
 * Records that an entry of the lane finished (`current` too when it succeeded; `previous` then becomes the `current`
 * it replaces, as read by the caller in `before`, when that was another artifact). Ignored when a newer entry of the
 * lane finished already, so a late outcome never moves the state back.
 */
export async function finishInState(
  triggerId: string,
  lane: string,
  logId: string,
  succeeded?: StateRef,
  before?: DeployState,
): Promise<void> {
  const replaced = before?.current;
  const previous =
    succeeded && replaced && replaced.logId !== logId && whatOf(replaced) !== whatOf(succeeded) ? replaced : undefined;
  const set = ['doneUpTo = :id', 'expiresAt = :x'];
  if (succeeded) set.push('#c = :c');
  if (previous) set.push('#p = :p');
  await conditional(
    new UpdateCommand({
      TableName: config.logsTable(),
      Key: stateKey(triggerId, lane),
      UpdateExpression: `SET ${set.join(', ')} REMOVE #r`,
      ConditionExpression: 'attribute_not_exists(doneUpTo) OR doneUpTo < :id',
      ExpressionAttributeNames: {
        '#r': 'retry',
        ...(succeeded ? { '#c': 'current' } : {}),
        ...(previous ? { '#p': 'previous' } : {}),
      },
      ExpressionAttributeValues: {
        ':id': logId,
        ':x': stateExpiry(),
        ...(succeeded ? { ':c': succeeded } : {}),
        ...(previous ? { ':p': previous } : {}),
      },
    }),
  );
}

/**
 * Remembers the receipt handle of a message that waits for its retry, only while `logId` is still the lane's latest
 * event. False when a newer event was queued meanwhile: then the caller supersedes instead of waiting.
 */
export async function rememberRetry(
  triggerId: string,
  lane: string,
  logId: string,
  receiptHandle: string,
): Promise<boolean> {
  return conditional(
    new UpdateCommand({
      TableName: config.logsTable(),
      Key: stateKey(triggerId, lane),
      UpdateExpression: 'SET #r = :r',
      ConditionExpression: 'latest.logId = :id',
      ExpressionAttributeNames: { '#r': 'retry' },
      ExpressionAttributeValues: { ':r': { logId, receiptHandle }, ':id': logId },
    }),
  );
}

/** Puts `previous` back as the lane's latest event when `logId` could not be queued after all. */
export async function restoreLatest(
  triggerId: string,
  lane: string,
  logId: string,
  previous: StateRef | undefined,
): Promise<void> {
  await conditional(
    new UpdateCommand({
      TableName: config.logsTable(),
      Key: stateKey(triggerId, lane),
      UpdateExpression: previous ? 'SET latest = :p' : 'REMOVE latest',
      ConditionExpression: 'latest.logId = :id',
      ExpressionAttributeValues: { ':id': logId, ...(previous ? { ':p': previous } : {}) },
    }),
  );
}

/** What a ref deploys: its digest or commit, else its image reference or tag. */
const whatOf = (ref: StateRef) => ref.artifact ?? ref.image ?? ref.tag;

/** The state lives as long as the entries it names, renewed on every write. */
function stateExpiry(): number {
  return Math.floor(Date.now() / 1000) + config.logTtlDays() * 86400;
}

async function conditional(command: UpdateCommand): Promise<boolean> {
  try {
    await dynamo().send(command);
    return true;
  } catch (e) {
    if ((e as Error).name === 'ConditionalCheckFailedException') return false;
    throw e;
  }
}
