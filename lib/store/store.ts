/**
 * DynamoDB persistence: triggers, trigger log entries and delivery dedup claims.
 *
 * Tables (see serverless.yml):
 * - triggers: pk `id`. Sparse GSI `byRepository` on `repositoryKey` for senders without a trigger id (ECR).
 * - logs: pk `triggerId`, sk `log#<logId>` for entries (logId is a ULID, so sk order is time order) and
 *   `dedup#<key>` for dedup claims. Both carry `expiresAt` (epoch seconds) for DynamoDB TTL.
 *   Entries waiting for or in a deploy (`queued`, `deploying`) also carry `inFlight`, the key of the sparse GSI
 *   `inFlight` (with `updatedAt`), so stuck ones are found without a scan (lib/store/in-flight.ts).
 */
import { randomBytes } from 'node:crypto';
import {
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
import { ulid } from 'ulid';
import { dynamo } from './aws';
import { config } from '../core/config';
import type { NormalizedEvent } from '../core/event';
import type { Trigger } from '../trigger';
import type { NotificationRecord } from './notifications';

export const LOG_STATUSES = [
  'untriggered',
  'unauthorized',
  'rejected',
  'duplicate',
  'queued',
  'deploying',
  'succeeded',
  'failed',
  'superseded',
] as const;
export type LogStatus = (typeof LOG_STATUSES)[number];

export interface Attempt {
  at: string;
  durationMs: number;
  statusCode?: number;
  response?: string;
  error?: string;
  details?: Record<string, unknown>;
}

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
  /** the deploy-state lane of the event (lib/match/identity.ts); set on entries that were queued */
  lane?: string;
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
function stripKeys<T extends object>(item: T & { sk?: string; inFlight?: string }): T {
  const { sk: _sk, inFlight: _inFlight, ...rest } = item;
  return rest as T;
}

/** The value of the `inFlight` index key: one constant, so one Query lists them all (they are few at any time). */
export const IN_FLIGHT = 'pending';
const IN_FLIGHT_STATUSES: readonly LogStatus[] = ['queued', 'deploying'];
const inFlightAttr = (status: LogStatus) => (IN_FLIGHT_STATUSES.includes(status) ? { inFlight: IN_FLIGHT } : {});

// ---------- triggers ----------

export function newTriggerId(): string {
  // unguessable: the id is part of every webhook URL
  return randomBytes(12).toString('hex');
}

export async function getTrigger(id: string): Promise<Trigger | undefined> {
  const out = await dynamo().send(new GetCommand({ TableName: config.triggersTable(), Key: { id } }));
  return out.Item as Trigger | undefined;
}

export async function putTrigger(trigger: Trigger): Promise<void> {
  await dynamo().send(
    new PutCommand({
      TableName: config.triggersTable(),
      Item: trigger,
      ConditionExpression: 'attribute_not_exists(id)',
    }),
  );
}

/** Replaces a trigger that must still exist (admin PATCH, rotation). */
export async function replaceTrigger(trigger: Trigger): Promise<boolean> {
  try {
    await dynamo().send(
      new PutCommand({
        TableName: config.triggersTable(),
        Item: trigger,
        ConditionExpression: 'attribute_exists(id)',
      }),
    );
    return true;
  } catch (e) {
    if ((e as Error).name === 'ConditionalCheckFailedException') return false;
    throw e;
  }
}

export async function deleteTrigger(id: string): Promise<boolean> {
  const out = await dynamo().send(
    new DeleteCommand({ TableName: config.triggersTable(), Key: { id }, ReturnValues: 'ALL_OLD' }),
  );
  return out.Attributes !== undefined;
}

/** All triggers (admin listing). Triggers are few; a paginated scan is fine off the webhook path. */
export async function listTriggers(): Promise<Trigger[]> {
  const items: Trigger[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await dynamo().send(
      new ScanCommand({ TableName: config.triggersTable(), ExclusiveStartKey: start }),
    );
    items.push(...((out.Items ?? []) as Trigger[]));
    start = out.LastEvaluatedKey;
  } while (start);
  return items.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
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

/** After a successful deploy the trigger tracks the deployed image (Kato-style upgrade). */
export async function setTrackedImage(triggerId: string, image: string): Promise<void> {
  await dynamo().send(
    new UpdateCommand({
      TableName: config.triggersTable(),
      Key: { id: triggerId },
      UpdateExpression: 'SET trackedImage = :i',
      ConditionExpression: 'attribute_exists(id)',
      ExpressionAttributeValues: { ':i': image },
    }),
  ).catch((e: Error) => {
    if (e.name !== 'ConditionalCheckFailedException') throw e; // trigger deleted meanwhile: nothing to track
  });
}

// ---------- trigger log ----------

export function newLogId(): string {
  return ulid();
}

export function newLogEntry(
  fields: Omit<LogEntry, 'id' | 'receivedAt' | 'attempts' | 'updatedAt' | 'expiresAt'> & { id?: string },
): LogEntry {
  const now = Date.now();
  return {
    ...fields,
    id: fields.id ?? newLogId(),
    receivedAt: new Date(now).toISOString(),
    attempts: [],
    updatedAt: new Date(now).toISOString(),
    expiresAt: epoch(now) + config.logTtlDays() * 86400,
  };
}

export async function putLogEntry(entry: LogEntry): Promise<void> {
  await dynamo().send(
    new PutCommand({ TableName: config.logsTable(), Item: { ...entry, ...logKey(entry.triggerId, entry.id), ...inFlightAttr(entry.status) } }),
  );
}

export async function getLogEntry(triggerId: string, logId: string): Promise<LogEntry | undefined> {
  const out = await dynamo().send(
    new GetCommand({ TableName: config.logsTable(), Key: logKey(triggerId, logId), ConsistentRead: true }),
  );
  return out.Item ? stripKeys<LogEntry>(out.Item as LogEntry & { sk: string }) : undefined;
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
): Promise<{ ok: true } | { ok: false; duplicateOf: string } | { ok: false; conflict: true }> {
  const now = epoch();
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
          { Put: { TableName: config.logsTable(), Item: { ...entry, ...logKey(entry.triggerId, entry.id), ...inFlightAttr(entry.status) } } },
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
      if (reasons.slice(claims.length).some((r) => r.Code === 'ConditionalCheckFailed')) return { ok: false, conflict: true };
    }
    throw e;
  }
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
  change: { status: LogStatus; reason?: string | null; attempt?: Attempt; onlyFrom?: LogStatus[]; supersededBy?: string },
): Promise<boolean> {
  const names: Record<string, string> = { '#s': 'status', '#u': 'updatedAt' };
  if (change.reason !== undefined) names['#r'] = 'reason';
  const values: Record<string, unknown> = { ':s': change.status, ':u': nowIso() };
  const set = ['#s = :s', '#u = :u'];
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
    values[':a'] = [change.attempt];
    values[':empty'] = [];
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
        UpdateExpression: 'SET #s = :d, #u = :u, inFlight = :if REMOVE #r',
        ConditionExpression: 'attribute_exists(sk) AND #s IN (:q, :d)',
        ExpressionAttributeNames: { '#s': 'status', '#u': 'updatedAt', '#r': 'reason' },
        ExpressionAttributeValues: { ':d': 'deploying', ':q': 'queued', ':u': nowIso(), ':if': IN_FLIGHT },
        ReturnValues: 'ALL_NEW',
        // the entry as it is comes back with the failure: no second read to learn why
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    return { started: stripKeys<LogEntry>(out.Attributes as LogEntry & { sk: string }) };
  } catch (e) {
    if ((e as Error).name === 'ConditionalCheckFailedException') {
      const item = (e as { Item?: Record<string, unknown> }).Item;
      return { finished: item ? stripKeys<LogEntry>(unmarshall(item as never) as LogEntry & { sk: string }) : undefined };
    }
    throw e;
  }
}

/** Newest first. `cursor` is opaque to callers (base64url of DynamoDB's LastEvaluatedKey). */
export async function listLogEntries(
  triggerId: string,
  opts: { limit: number; status?: LogStatus; cursor?: string },
): Promise<{ items: LogEntry[]; cursor?: string }> {
  const items: LogEntry[] = [];
  let start: Record<string, unknown> | undefined = opts.cursor
    ? JSON.parse(Buffer.from(opts.cursor, 'base64url').toString('utf8'))
    : undefined;
  // A status filter is applied after the read, so keep reading pages until the page is full.
  do {
    const out = await dynamo().send(
      new QueryCommand({
        TableName: config.logsTable(),
        KeyConditionExpression: 'triggerId = :t AND begins_with(sk, :p)',
        ExpressionAttributeValues: { ':t': triggerId, ':p': 'log#', ...(opts.status ? { ':s': opts.status } : {}) },
        ...(opts.status ? { FilterExpression: '#s = :s', ExpressionAttributeNames: { '#s': 'status' } } : {}),
        ScanIndexForward: false,
        Limit: opts.limit - items.length,
        ExclusiveStartKey: start,
      }),
    );
    items.push(...((out.Items ?? []) as Array<LogEntry & { sk: string }>).map((i) => stripKeys<LogEntry>(i)));
    start = out.LastEvaluatedKey;
  } while (start && items.length < opts.limit);
  return {
    items,
    cursor: start ? Buffer.from(JSON.stringify(start), 'utf8').toString('base64url') : undefined,
  };
}

/** Cursor strings come from users: refuse anything that is not one of ours. */
export function isValidCursor(cursor: string, triggerId: string): boolean {
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    // exactly the two key attributes, an entry's sort key (DynamoDB refuses anything else as a 5xx-looking error)
    return (
      typeof key === 'object' &&
      key !== null &&
      !Array.isArray(key) &&
      Object.keys(key).length === 2 &&
      key.triggerId === triggerId &&
      typeof key.sk === 'string' &&
      /^log#[0-9A-HJKMNP-TV-Z]{26}$/.test(key.sk)
    );
  } catch {
    return false;
  }
}
