/**
 * DynamoDB persistence: triggers, trigger log entries and delivery dedup claims.
 *
 * Tables (see serverless.yml):
 * - triggers: pk `id`. Sparse GSI `byRepository` on `repositoryKey` for senders without a trigger id (ECR). The
 *   listing GSIs (`byCreated`, `byProvider`, `byEnabled`, `byProviderEnabled`, sort key `listSort` =
 *   `<createdAt>#<id>`) let `GET /admin/triggers` read one page per request whatever the filter (triggerItem()).
 * - logs: pk `triggerId`, sk `log#<logId>` for entries (logId is a ULID, so sk order is time order) and
 *   `dedup#<key>` for dedup claims. Both carry `expiresAt` (epoch seconds) for DynamoDB TTL. Entries also carry
 *   `statusKey` = `<status>#<logId>` (`inflight#<logId>` for queued and deploying, one key for both so that the
 *   deployer's claim changes no index key), the sort key of the sparse GSI `byStatus` (pk `triggerId`): a status page
 *   reads only entries of that status (of both in-flight ones, for queued or deploying), newest first. Every write of an entry's status sets it (logItem(),
 *   updateLogStatus, startDeploy); entries written before it existed get it from backfillIndexKeys().
 *   Entries waiting for or in a deploy (`queued`, `deploying`) also carry `inFlight`, the key of the sparse GSI
 *   `inFlightByReceipt` (sorted by `sk`, which never changes), so stuck ones are found without a scan
 *   (lib/store/in-flight.ts).
 */
import { randomBytes } from 'node:crypto';
import {
  BatchGetCommand,
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { encodeTime, ulid } from 'ulid';
import { dynamo } from './aws';
import { attemptItem, entryFromItem, packEntry } from './log-item';
import { config } from '../core/config';
import type { NormalizedEvent } from '../core/event';
import type { Origin } from '../core/origin';
import type { Trigger } from '../trigger';
import type { NotificationRecord } from './notifications';

import { IN_FLIGHT_STATUSES, type LogStatus } from '../core/log-status';
export { LOG_STATUSES, type LogStatus } from '../core/log-status';

export interface Attempt {
  at: string;
  durationMs: number;
  statusCode?: number;
  response?: string;
  error?: string;
  details?: Record<string, unknown>;
  /** the verification phase after the target accepted this attempt (lib/deploy/verify) */
  verification?: Verification;
}

/** One look at whether the deployed change runs. */
export interface VerificationPoll {
  at: string;
  /** what the check saw ("1 of 3 updated pods unavailable", "HTTP 200: body does not contain v1.4.2") */
  message: string;
  /** set on the poll that decided */
  ok?: boolean;
}

export interface Verification {
  startedAt: string;
  /** ISO time after which a check that is still not done fails */
  deadline: string;
  timeoutSeconds: number;
  /** what is checked: the target's own rollout status, the user's `verify.http` URL */
  checks: Array<'target' | 'http'>;
  /** the target's check passed already (only `http` is left) */
  targetOk?: boolean;
  /** the latest polls (at most MAX_VERIFICATION_POLLS; pollCount says how many there were) */
  polls: VerificationPoll[];
  pollCount: number;
  result?: 'succeeded' | 'failed' | 'superseded';
}
export const MAX_VERIFICATION_POLLS = 20;

export interface LogEntry {
  id: string;
  triggerId: string;
  receivedAt: string;
  provider: string;
  deliveryId?: string;
  event?: NormalizedEvent;
  status: LogStatus;
  reason?: string;
  /** for a re-delivery (`duplicate`): the entry of the first delivery */
  duplicateOf?: string;
  /** for a `superseded` entry: the newer entry that replaced it */
  supersededBy?: string;
  /** for an entry made by the admin API's redeliver: the entry it runs again */
  redeliveryOf?: string;
  /** the path that created the entry (lib/core/origin.ts); entries stored before it read as their legacy origin */
  origin: Origin;
  /** the deploy-state lane of the event (lib/match/identity.ts); set on entries that were queued */
  lane?: string;
  /** for a rollback: the entry whose failed verification (or the admin's request) it undoes */
  rollbackOf?: string;
  request?: {
    method: string;
    path: string;
    query?: Record<string, string>;
    headers: Record<string, string>;
    body: string;
    bodyBytes: number;
  };
  attempts: Attempt[];
  /** what each notifier answered about this entry's outcome (lib/notify) */
  notifications?: NotificationRecord[];
  updatedAt: string;
  /** epoch seconds; DynamoDB TTL */
  expiresAt: number;
}

const nowIso = () => new Date().toISOString();
const epoch = (d = Date.now()) => Math.floor(d / 1000);
const logKey = (triggerId: string, logId: string) => ({ triggerId, sk: `log#${logId}` });
/** The value of the `inFlight` index key: one constant, so one Query lists them all (they are few at any time). */
export const IN_FLIGHT = 'pending';
const inFlightAttr = (status: LogStatus) => (IN_FLIGHT_STATUSES.includes(status) ? { inFlight: IN_FLIGHT } : {});
/** The `byStatus` prefix of a status: in-flight ones share one, so queued -> deploying rewrites no index key. */
const statusPrefix = (status: LogStatus) => (IN_FLIGHT_STATUSES.includes(status) ? 'inflight' : status);
const statusKey = (status: LogStatus, logId: string) => `${statusPrefix(status)}#${logId}`;

/** An entry as it is stored: its keys, the `byStatus` index key, its fixed fields compressed (./log-item.ts). */
export function logItem(entry: LogEntry): Record<string, unknown> {
  return packEntry(entry, {
    ...logKey(entry.triggerId, entry.id),
    statusKey: statusKey(entry.status, entry.id),
    ...inFlightAttr(entry.status),
  });
}

// ---------- triggers ----------

export function newTriggerId(): string {
  // unguessable: the id is part of every webhook URL
  return randomBytes(12).toString('hex');
}

/** The listing index attributes of a trigger item (never shown: stripTriggerKeys). */
const LISTING_ATTRIBUTES = ['listAll', 'listEnabled', 'listProviderEnabled', 'listSort'] as const;
const enabledKey = (enabled: boolean) => (enabled === false ? 'disabled' : 'enabled');

/** A trigger as it is stored: the trigger and the key attributes of the listing indexes. */
export function triggerItem(trigger: Trigger): Record<string, unknown> {
  return {
    ...trigger,
    listAll: 'trigger',
    listEnabled: enabledKey(trigger.enabled),
    listProviderEnabled: `${trigger.provider}#${enabledKey(trigger.enabled)}`,
    listSort: `${trigger.createdAt}#${trigger.id}`,
  };
}

function stripTriggerKeys(item: Record<string, unknown>): Trigger {
  const out = { ...item };
  for (const a of LISTING_ATTRIBUTES) delete out[a];
  return out as unknown as Trigger;
}

export async function getTrigger(id: string, consistent = false): Promise<Trigger | undefined> {
  const out = await dynamo().send(
    new GetCommand({ TableName: config.triggersTable(), Key: { id }, ConsistentRead: consistent || undefined }),
  );
  return out.Item ? stripTriggerKeys(out.Item) : undefined;
}

export async function putTrigger(trigger: Trigger): Promise<void> {
  await dynamo().send(
    new PutCommand({
      TableName: config.triggersTable(),
      Item: triggerItem({ ...trigger, version: 1 }),
      ConditionExpression: 'attribute_not_exists(id)',
    }),
  );
}

/**
 * Writes `trigger` in place of the version it was read at (`trigger.version`; items written before versions
 * existed have none, read as 0), as version + 1. Every trigger write is one of these (or putTrigger), so a write
 * based on a stale read never lands: `changed` says another write came first, `gone` that the trigger was deleted.
 */
async function writeTriggerVersion(trigger: Trigger): Promise<'written' | 'changed' | 'gone'> {
  const read = trigger.version ?? 0;
  try {
    await dynamo().send(
      new PutCommand({
        TableName: config.triggersTable(),
        Item: triggerItem({ ...trigger, version: read + 1 }),
        ConditionExpression:
          read === 0
            ? 'attribute_exists(id) AND (attribute_not_exists(version) OR version = :v)'
            : 'attribute_exists(id) AND version = :v',
        ExpressionAttributeValues: { ':v': read },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    return 'written';
  } catch (e) {
    if ((e as Error).name !== 'ConditionalCheckFailedException') throw e;
    return (e as { Item?: unknown }).Item ? 'changed' : 'gone';
  }
}

/**
 * Sets some attributes of a trigger that must still be at the version it was read at (`read`), as version + 1: the
 * UpdateItem form of writeTriggerVersion, for writers allowed only UpdateItem (the deployer's tracked image). Only
 * attributes that no listing index key derives from.
 */
async function setTriggerAtVersion(
  id: string,
  read: number,
  set: Partial<Pick<Trigger, 'trackedImage'>>,
): Promise<'written' | 'changed' | 'gone'> {
  const names: Record<string, string> = { '#ver': 'version' };
  const values: Record<string, unknown> = { ':v': read, ':next': read + 1 };
  const sets = ['#ver = :next'];
  Object.entries(set).forEach(([k, v], i) => {
    names[`#a${i}`] = k;
    values[`:a${i}`] = v;
    sets.push(`#a${i} = :a${i}`);
  });
  try {
    await dynamo().send(
      new UpdateCommand({
        TableName: config.triggersTable(),
        Key: { id },
        UpdateExpression: `SET ${sets.join(', ')}`,
        ConditionExpression:
          read === 0
            ? 'attribute_exists(id) AND (attribute_not_exists(#ver) OR #ver = :v)'
            : 'attribute_exists(id) AND #ver = :v',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    return 'written';
  } catch (e) {
    if ((e as Error).name !== 'ConditionalCheckFailedException') throw e;
    return (e as { Item?: unknown }).Item ? 'changed' : 'gone';
  }
}

/** Replaces a trigger that must still exist and still be at the version it was read at (tests, migrations). */
export async function replaceTrigger(trigger: Trigger): Promise<boolean> {
  return (await writeTriggerVersion(trigger)) === 'written';
}

/** How often a trigger change is decided again on a fresh read after another write won the race. */
export const TRIGGER_CHANGE_TRIES = 8;

/**
 * What a change decides on the trigger as it is now: the whole trigger to write (PutItem), or a few attributes to set
 * (`set`, UpdateItem: the deployer may only update), with the answer; or only an answer (nothing to write).
 */
export type TriggerChange<A> =
  { write: Trigger; answer: A } | { set: Partial<Pick<Trigger, 'trackedImage'>>; answer: A } | { answer: A };

export type TriggerChangeResult<A> =
  | { status: 'done'; answer: A; written?: Trigger }
  | { status: 'gone' }
  /** every try lost its race to another write: nothing was written */
  | { status: 'conflict'; tries: number };

/**
 * A read-modify-write of a trigger that never loses another write: `decide` runs on a consistent read, its result is
 * written only if the trigger is still at that version; when another write came first, `decide` runs again on a fresh
 * read (up to TRIGGER_CHANGE_TRIES times, with a short random wait), so each change applies on top of every other.
 * `decide` must be a pure function of the trigger it is given (it may run more than once).
 */
export async function changeTrigger<A>(
  id: string,
  decide: (current: Trigger) => TriggerChange<A> | Promise<TriggerChange<A>>,
  tries = TRIGGER_CHANGE_TRIES,
): Promise<TriggerChangeResult<A>> {
  for (let t = 1; t <= tries; t++) {
    const current = await getTrigger(id, true);
    if (!current) return { status: 'gone' };
    const change = await decide(current);
    const read = current.version ?? 0;
    let next: Trigger;
    let outcome: 'written' | 'changed' | 'gone';
    if ('write' in change) {
      next = change.write;
      outcome = await writeTriggerVersion({ ...next, version: current.version });
    } else if ('set' in change) {
      next = { ...current, ...change.set };
      outcome = await setTriggerAtVersion(id, read, change.set);
    } else {
      return { status: 'done', answer: change.answer };
    }
    if (outcome === 'written')
      return { status: 'done', answer: change.answer, written: { ...next, version: read + 1 } };
    if (outcome === 'gone') return { status: 'gone' };
    // lost the race: a random wait of up to 2^t ms spreads racers apart before deciding again
    await new Promise((r) => setTimeout(r, Math.random() * 2 ** Math.min(t + 2, 8)));
  }
  return { status: 'conflict', tries };
}

export async function deleteTrigger(id: string): Promise<boolean> {
  const out = await dynamo().send(
    new DeleteCommand({ TableName: config.triggersTable(), Key: { id }, ReturnValues: 'ALL_OLD' }),
  );
  return out.Attributes !== undefined;
}

export interface TriggerListOptions {
  limit: number;
  provider?: string;
  enabled?: boolean;
  cursor?: string;
}

/** The listing index for a filter, its partition key attribute and value. */
function listingIndex(opts: Pick<TriggerListOptions, 'provider' | 'enabled'>): {
  index: string;
  attr: string;
  value: string;
} {
  if (opts.provider !== undefined && opts.enabled !== undefined) {
    return {
      index: 'byProviderEnabled',
      attr: 'listProviderEnabled',
      value: `${opts.provider}#${enabledKey(opts.enabled)}`,
    };
  }
  if (opts.provider !== undefined) return { index: 'byProvider', attr: 'provider', value: opts.provider };
  if (opts.enabled !== undefined) return { index: 'byEnabled', attr: 'listEnabled', value: enabledKey(opts.enabled) };
  return { index: 'byCreated', attr: 'listAll', value: 'trigger' };
}

/** Every trigger, page by page (admin and maintenance paths only: it reads the whole listing). */
export async function* allTriggers(): AsyncGenerator<Trigger> {
  let cursor: string | undefined;
  do {
    const page = await listTriggers({ limit: 100, cursor });
    yield* page.items;
    cursor = page.cursor;
  } while (cursor);
}

/**
 * One page of triggers, oldest first (by creation), optionally only one provider's and/or only enabled (disabled)
 * ones: one Query on the listing index of that filter, so a page costs the same whatever the table holds.
 * `cursor` is opaque to callers (base64url of LastEvaluatedKey); check it with isValidTriggerCursor first.
 */
export async function listTriggers(
  opts: TriggerListOptions = { limit: 100 },
): Promise<{ items: Trigger[]; cursor?: string }> {
  const { index, attr, value } = listingIndex(opts);
  const out = await dynamo().send(
    new QueryCommand({
      TableName: config.triggersTable(),
      IndexName: index,
      KeyConditionExpression: '#k = :v',
      ExpressionAttributeNames: { '#k': attr },
      ExpressionAttributeValues: { ':v': value },
      // one more than the page, as for log pages: the last page then has no cursor (no empty page after it)
      Limit: opts.limit + 1,
      ExclusiveStartKey: opts.cursor ? JSON.parse(Buffer.from(opts.cursor, 'base64url').toString('utf8')) : undefined,
    }),
  );
  let items = out.Items ?? [];
  const more = items.length > opts.limit;
  if (more) items = items.slice(0, opts.limit);
  const last = items.at(-1);
  // the index key of the page's last trigger (what LastEvaluatedKey would be had the page stopped there)
  const start = more && last ? { id: last.id, listSort: last.listSort, [attr]: last[attr] } : undefined;
  return {
    items: items.map(stripTriggerKeys),
    cursor: start ? Buffer.from(JSON.stringify(start), 'utf8').toString('base64url') : undefined,
  };
}

/** Trigger list cursors come from users: only the key of the filter's own index, of one of our items. */
export function isValidTriggerCursor(cursor: string, opts: Pick<TriggerListOptions, 'provider' | 'enabled'>): boolean {
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    const { attr, value } = listingIndex(opts);
    if (typeof key !== 'object' || key === null || Array.isArray(key)) return false;
    const names = Object.keys(key).sort();
    const expected = [...new Set(['id', 'listSort', attr])].sort();
    return (
      names.length === expected.length &&
      names.every((n, i) => n === expected[i]) &&
      key[attr] === value &&
      typeof key.id === 'string' &&
      /^[0-9a-f]{24}$/.test(key.id) &&
      typeof key.listSort === 'string' &&
      key.listSort.length <= 64 &&
      key.listSort.endsWith(`#${key.id}`)
    );
  } catch {
    return false;
  }
}

/** Triggers indexed under a repository key (ECR): a query on the sparse GSI, never a scan. */
export async function triggersByRepositoryKey(repositoryKey: string): Promise<Trigger[]> {
  const items: Trigger[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await dynamo().send(
      new QueryCommand({
        TableName: config.triggersTable(),
        IndexName: 'byRepository',
        KeyConditionExpression: 'repositoryKey = :k',
        ExpressionAttributeValues: { ':k': repositoryKey },
        ExclusiveStartKey: start,
      }),
    );
    items.push(...((out.Items ?? []) as Trigger[]));
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
}

// ---------- trigger log ----------

export function newLogId(): string {
  return ulid();
}

export function newLogEntry(
  fields: Omit<LogEntry, 'id' | 'receivedAt' | 'attempts' | 'updatedAt' | 'expiresAt' | 'origin'> & {
    id?: string;
    /** default `webhook` (a sender's request); the admin paths give theirs */
    origin?: Origin;
  },
): LogEntry {
  const now = Date.now();
  return {
    ...fields,
    origin: fields.origin ?? 'webhook',
    // the id's time is receivedAt to the millisecond: the stored item need not carry both (log-item.ts)
    id: fields.id ?? ulid(now),
    receivedAt: new Date(now).toISOString(),
    attempts: [],
    updatedAt: new Date(now).toISOString(),
    expiresAt: epoch(now) + config.logTtlDays() * 86400,
  };
}

export async function putLogEntry(entry: LogEntry): Promise<void> {
  await dynamo().send(new PutCommand({ TableName: config.logsTable(), Item: logItem(entry) }));
}

export async function getLogEntry(triggerId: string, logId: string): Promise<LogEntry | undefined> {
  const out = await dynamo().send(
    new GetCommand({ TableName: config.logsTable(), Key: logKey(triggerId, logId), ConsistentRead: true }),
  );
  return out.Item ? entryFromItem(out.Item) : undefined;
}

/**
 * Writes an entry together with its redelivery claims and further items of the same decision (the deploy state's
 * update or check), atomically. When a claim is already held (and not expired) nothing is written and the first
 * entry's id is returned as `duplicateOf`; when another item's condition failed (the state changed since it was
 * read) nothing is written and `conflict` says the caller must read again.
 */
export async function claimAndWrite(
  entry: LogEntry,
  claims: Array<{ key: string; ttlSeconds: number }>,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  extraItems: any[] = [],
): Promise<
  { ok: true } | { ok: false; duplicateOf: string } | { ok: false; conflict: true; item?: Record<string, unknown> }
> {
  const now = epoch();
  // nothing to claim and nothing else to check: one PutItem is the whole write, at half a transaction's units
  if (!claims.length && !extraItems.length) {
    await putLogEntry(entry);
    return { ok: true };
  }
  try {
    await dynamo().send(
      new TransactWriteCommand({
        TransactItems: [
          ...claims.map(({ key, ttlSeconds }) => ({
            Put: {
              TableName: config.logsTable(),
              Item: { triggerId: entry.triggerId, sk: `dedup#${key}`, logId: entry.id, expiresAt: now + ttlSeconds },
              // TTL deletion is lazy: an expired claim still in the table must not block
              ConditionExpression: 'attribute_not_exists(sk) OR expiresAt < :now',
              ExpressionAttributeValues: { ':now': now },
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
            },
          })),
          { Put: { TableName: config.logsTable(), Item: logItem(entry) } },
          ...extraItems,
        ],
      }),
    );
    return { ok: true };
  } catch (e) {
    if (e instanceof TransactionCanceledException || (e as Error).name === 'TransactionCanceledException') {
      const reasons = (e as TransactionCanceledException).CancellationReasons ?? [];
      const held = reasons.slice(0, claims.length).find((r) => r.Code === 'ConditionalCheckFailed');
      if (held) {
        // the claim holding the key comes back with the failure (ReturnValuesOnConditionCheckFailure)
        return { ok: false, duplicateOf: (held.Item?.logId as { S?: string } | undefined)?.S ?? 'unknown' };
      }
      const failed = reasons.slice(claims.length + 1).find((r) => r.Code === 'ConditionalCheckFailed');
      // the item whose condition failed, as it is now (its ReturnValuesOnConditionCheckFailure)
      if (failed)
        return { ok: false, conflict: true, item: failed.Item ? unmarshall(failed.Item as never) : undefined };
    }
    throw e;
  }
}

/**
 * Reads items of a trigger's partition (the deploy state) together with the redelivery claims, in one consistent
 * BatchGetItem: a re-delivery is known before anything is written, so it costs this read and its `duplicate` entry
 * (one PutItem), never a cancelled transaction. `heldBy` is the entry of the first live claim. Two deliveries racing
 * past this read still meet at claimAndWrite's condition, which stays the guarantee.
 */
export async function getWithClaims(
  triggerId: string,
  sks: string[],
  claims: Array<{ key: string }>,
): Promise<{ items: Map<string, Record<string, unknown>>; heldBy?: string }> {
  const table = config.logsTable();
  let keys: Array<Record<string, unknown>> = [...sks, ...claims.map((c) => `dedup#${c.key}`)].map((sk) => ({
    triggerId,
    sk,
  }));
  const items = new Map<string, Record<string, unknown>>();
  // BatchGetItem may hand keys back unprocessed (throttling): ask again for those
  for (let tries = 0; keys.length; tries++) {
    if (tries > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 25 * 2 ** tries)));
    const out = await dynamo().send(
      new BatchGetCommand({ RequestItems: { [table]: { Keys: keys, ConsistentRead: true } } }),
    );
    for (const item of out.Responses?.[table] ?? []) items.set(item.sk as string, item);
    keys = (out.UnprocessedKeys?.[table]?.Keys ?? []) as Array<Record<string, unknown>>;
    if (tries > 8 && keys.length) throw new Error('DynamoDB kept the deploy state read unprocessed');
  }
  const now = epoch();
  const held = claims
    .map((c) => items.get(`dedup#${c.key}`))
    .find((i) => i !== undefined && typeof i.expiresAt === 'number' && i.expiresAt >= now);
  return { items, heldBy: held ? String(held.logId ?? 'unknown') : undefined };
}

/** Gives the claims back (the event could not be queued, so the sender's retry must not be a duplicate). */
export async function releaseClaims(triggerId: string, logId: string, claims: Array<{ key: string }>): Promise<void> {
  await Promise.all(
    claims.map(({ key }) =>
      dynamo()
        .send(
          new DeleteCommand({
            TableName: config.logsTable(),
            Key: { triggerId, sk: `dedup#${key}` },
            ConditionExpression: 'logId = :l',
            ExpressionAttributeValues: { ':l': logId },
          }),
        )
        .catch((e: Error) => {
          if (e.name !== 'ConditionalCheckFailedException') throw e;
        }),
    ),
  );
}

/**
 * Sets the status (and reason) of an entry, appending an attempt when given. `onlyFrom` makes the
 * change conditional on the current status; returns false when that condition did not hold.
 */
export async function updateLogStatus(
  triggerId: string,
  logId: string,
  change: {
    status: LogStatus;
    reason?: string | null;
    attempt?: Attempt;
    onlyFrom?: LogStatus[];
    supersededBy?: string;
    /** the verification of the attempt at this index, as it is now */
    verification?: { index: number; value: Verification };
  },
): Promise<boolean> {
  const names: Record<string, string> = { '#s': 'status', '#u': 'updatedAt' };
  if (change.reason !== undefined) names['#r'] = 'reason';
  const values: Record<string, unknown> = {
    ':s': change.status,
    ':u': nowIso(),
    ':sk': statusKey(change.status, logId),
  };
  const set = ['#s = :s', '#u = :u', 'statusKey = :sk'];
  const remove: string[] = [];
  if (change.reason) {
    set.push('#r = :r');
    values[':r'] = change.reason;
  } else if (change.reason === null) {
    remove.push('#r');
  }
  if (IN_FLIGHT_STATUSES.includes(change.status)) {
    set.push('inFlight = :if');
    values[':if'] = IN_FLIGHT;
  } else {
    remove.push('inFlight');
  }
  if (change.supersededBy) {
    set.push('supersededBy = :sb');
    values[':sb'] = change.supersededBy;
  }
  if (change.attempt) {
    set.push('attempts = list_append(if_not_exists(attempts, :empty), :a)');
    values[':a'] = [attemptItem(change.attempt)];
    values[':empty'] = [];
  }
  if (change.verification) {
    set.push(`attempts[${Math.floor(change.verification.index)}].verification = :v`);
    values[':v'] = change.verification.value;
  }
  let condition = 'attribute_exists(sk)';
  if (change.onlyFrom) {
    condition += ` AND #s IN (${change.onlyFrom.map((_, i) => `:f${i}`).join(', ')})`;
    change.onlyFrom.forEach((s, i) => (values[`:f${i}`] = s));
  }
  try {
    await dynamo().send(
      new UpdateCommand({
        TableName: config.logsTable(),
        Key: logKey(triggerId, logId),
        UpdateExpression: `SET ${set.join(', ')}${remove.length ? ` REMOVE ${remove.join(', ')}` : ''}`,
        ConditionExpression: condition,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
    return true;
  } catch (e) {
    if ((e as Error).name === 'ConditionalCheckFailedException') return false;
    throw e;
  }
}

/**
 * Claims an entry for a deploy attempt: `queued`/`deploying` -> `deploying`, returning the entry, in one
 * conditional write. When the entry is already finished (a late re-delivery of its message, or it was superseded
 * while its message waited) nothing changes and the entry comes back as `finished`; both are absent when it is gone.
 */
export async function startDeploy(
  triggerId: string,
  logId: string,
): Promise<{ started?: LogEntry; finished?: LogEntry }> {
  try {
    const out = await dynamo().send(
      new UpdateCommand({
        TableName: config.logsTable(),
        Key: logKey(triggerId, logId),
        UpdateExpression: 'SET #s = :d, #u = :u, statusKey = :sk, inFlight = :if REMOVE #r',
        ConditionExpression: 'attribute_exists(sk) AND #s IN (:q, :d)',
        ExpressionAttributeNames: { '#s': 'status', '#u': 'updatedAt', '#r': 'reason' },
        ExpressionAttributeValues: {
          ':d': 'deploying',
          ':q': 'queued',
          ':u': nowIso(),
          ':sk': statusKey('deploying', logId),
          ':if': IN_FLIGHT,
        },
        ReturnValues: 'ALL_NEW',
        // the entry as it is comes back with the failure: no second read to learn why
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    return { started: entryFromItem(out.Attributes!) };
  } catch (e) {
    if ((e as Error).name === 'ConditionalCheckFailedException') {
      const item = (e as { Item?: Record<string, unknown> }).Item;
      return { finished: item ? entryFromItem(unmarshall(item as never)) : undefined };
    }
    throw e;
  }
}

/** Crockford base32 ULID: 10 characters of time, 16 of randomness. */
const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** The smallest and largest ULID of a millisecond range (ULIDs sort by time): a time range is a key range. */
function ulidRange(since?: Date, until?: Date): { from: string; to: string } {
  return {
    from: `${encodeTime(Math.max(0, since?.getTime() ?? 0), 10)}${'0'.repeat(16)}`,
    to: `${encodeTime(Math.min(2 ** 48 - 1, until?.getTime() ?? 2 ** 48 - 1), 10)}${'Z'.repeat(16)}`,
  };
}

/**
 * Newest first. `cursor` is opaque to callers (base64url of DynamoDB's LastEvaluatedKey). With `status` the page is
 * read from the sparse `byStatus` index (only entries of that status are read); `since`/`until` narrow the key range
 * (receivedAt, inclusive, to the millisecond). Either way one Query of at most `limit` items per page.
 */
export async function listLogEntries(
  triggerId: string,
  opts: { limit: number; status?: LogStatus; cursor?: string; since?: Date; until?: Date },
): Promise<{ items: LogEntry[]; cursor?: string }> {
  const { from, to } = ulidRange(opts.since, opts.until);
  const prefix = opts.status ? `${statusPrefix(opts.status)}#` : 'log#';
  const out = await dynamo().send(
    new QueryCommand({
      TableName: config.logsTable(),
      ...(opts.status ? { IndexName: 'byStatus' } : {}),
      KeyConditionExpression: `triggerId = :t AND #k BETWEEN :from AND :to`,
      ExpressionAttributeNames: { '#k': opts.status ? 'statusKey' : 'sk' },
      ExpressionAttributeValues: { ':t': triggerId, ':from': prefix + from, ':to': prefix + to },
      ScanIndexForward: false,
      // one more than the page: the last page then has no cursor (DynamoDB gives one whenever the limit is reached)
      Limit: opts.limit + 1,
      ExclusiveStartKey: opts.cursor ? JSON.parse(Buffer.from(opts.cursor, 'base64url').toString('utf8')) : undefined,
    }),
  );
  let items = (out.Items ?? []) as Array<LogEntry & { sk: string; statusKey?: string }>;
  const more = items.length > opts.limit;
  if (more) items = items.slice(0, opts.limit);
  const last = items.at(-1);
  const start =
    more && last ? { triggerId, sk: last.sk, ...(opts.status ? { statusKey: last.statusKey } : {}) } : undefined;
  if (opts.status && items.length) items = await fullEntries(triggerId, items, opts.status);
  return {
    items: items.map((i) => entryFromItem(i as unknown as Record<string, unknown>)),
    cursor: start ? Buffer.from(JSON.stringify(start), 'utf8').toString('base64url') : undefined,
  };
}

/**
 * `byStatus` projects only the keys (an index write is then 1 unit whatever the entry's size, instead of the whole
 * entry again on every status change): the page's entries come from the table in one BatchGetItem, in the index's
 * order. An entry whose status changed since the index was read (it is eventually consistent) is left out.
 */
async function fullEntries(
  triggerId: string,
  keys: Array<{ sk: string }>,
  status: LogStatus,
): Promise<Array<LogEntry & { sk: string }>> {
  const table = config.logsTable();
  const found = new Map<string, LogEntry & { sk: string }>();
  let pending: Array<Record<string, unknown>> = keys.map((k) => ({ triggerId, sk: k.sk }));
  for (let tries = 0; pending.length; tries++) {
    if (tries > 8) throw new Error('DynamoDB kept the log page unprocessed');
    if (tries > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 25 * 2 ** tries)));
    const out = await dynamo().send(new BatchGetCommand({ RequestItems: { [table]: { Keys: pending } } }));
    for (const item of out.Responses?.[table] ?? []) found.set(item.sk as string, item as LogEntry & { sk: string });
    pending = (out.UnprocessedKeys?.[table]?.Keys ?? []) as Array<Record<string, unknown>>;
  }
  return keys
    .map((k) => found.get(k.sk))
    .filter((e): e is LogEntry & { sk: string } => e !== undefined && e.status === status);
}

/**
 * Cursor strings come from users: refuse anything that is not one of ours (DynamoDB refuses anything else as a
 * 5xx-looking error). Without a status: exactly the table's key (an entry's). With one: the `byStatus` index key
 * too, of that status and the same entry.
 */
export function isValidCursor(cursor: string, triggerId: string, status?: LogStatus): boolean {
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (typeof key !== 'object' || key === null || Array.isArray(key) || key.triggerId !== triggerId) return false;
    if (typeof key.sk !== 'string' || !key.sk.startsWith('log#') || !ULID.test(key.sk.slice(4))) return false;
    if (!status) return Object.keys(key).length === 2;
    return Object.keys(key).length === 3 && key.statusKey === statusKey(status, key.sk.slice(4));
  } catch {
    return false;
  }
}

// ---------- migration ----------

/**
 * Gives items written before the indexes existed their index keys: entries without `statusKey` (they would not show
 * in `?status=` pages) and triggers without the listing keys (they would not show in `GET /admin/triggers`). Run once
 * after deploying (`npx tsx scripts/backfill-indexes.ts`); safe to run again and while webhooks arrive: each update
 * is conditional on the item still lacking the key and on the status it was read with (a concurrent status change
 * sets the key itself). Reads both tables once (a Scan), so it is a migration step, never a request path.
 */
export async function backfillIndexKeys(): Promise<{ entries: number; triggers: number }> {
  let entries = 0;
  let triggers = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const out = await dynamo().send(
      new ScanCommand({
        TableName: config.logsTable(),
        FilterExpression: 'begins_with(sk, :p) AND attribute_not_exists(statusKey)',
        ProjectionExpression: 'triggerId, sk, #s',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':p': 'log#' },
        ExclusiveStartKey: start,
      }),
    );
    for (const item of (out.Items ?? []) as Array<{ triggerId: string; sk: string; status: LogStatus }>) {
      const done = await dynamo()
        .send(
          new UpdateCommand({
            TableName: config.logsTable(),
            Key: { triggerId: item.triggerId, sk: item.sk },
            UpdateExpression: 'SET statusKey = :k',
            ConditionExpression: 'attribute_exists(sk) AND attribute_not_exists(statusKey) AND #s = :s',
            ExpressionAttributeNames: { '#s': 'status' },
            ExpressionAttributeValues: { ':k': statusKey(item.status, item.sk.slice(4)), ':s': item.status },
          }),
        )
        .then(
          () => true,
          (e: Error) => {
            if (e.name === 'ConditionalCheckFailedException') return false; // changed meanwhile: it has its key
            throw e;
          },
        );
      if (done) entries++;
    }
    start = out.LastEvaluatedKey;
  } while (start);
  start = undefined;
  do {
    const out: { Items?: Record<string, unknown>[]; LastEvaluatedKey?: Record<string, unknown> } = await dynamo().send(
      new ScanCommand({
        TableName: config.triggersTable(),
        FilterExpression: 'attribute_not_exists(listSort)',
        ExclusiveStartKey: start,
      }),
    );
    for (const item of (out.Items ?? []) as unknown as Trigger[]) {
      const keys = triggerItem(item);
      const done = await dynamo()
        .send(
          new UpdateCommand({
            TableName: config.triggersTable(),
            Key: { id: item.id },
            UpdateExpression: 'SET listAll = :a, listEnabled = :e, listProviderEnabled = :pe, listSort = :s',
            // a PATCH meanwhile wrote the keys itself
            ConditionExpression: 'attribute_exists(id) AND attribute_not_exists(listSort)',
            ExpressionAttributeValues: {
              ':a': keys.listAll,
              ':e': keys.listEnabled,
              ':pe': keys.listProviderEnabled,
              ':s': keys.listSort,
            },
          }),
        )
        .then(
          () => true,
          (e: Error) => {
            if (e.name === 'ConditionalCheckFailedException') return false;
            throw e;
          },
        );
      if (done) triggers++;
    }
    start = out.LastEvaluatedKey;
  } while (start);
  return { entries, triggers };
}
