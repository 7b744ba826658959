/**
 * Entries that wait for or are in a deploy (`queued`, `deploying`), found through the logs table's sparse GSI
 * `inFlightByReceipt` (serverless.yml): only such entries carry its key (store.ts sets and removes it with the
 * status), so the Query reads exactly them, oldest first (its sort key is the entry's, a ULID: the time of receipt,
 * which unlike `updatedAt` never changes while the entry is in flight, so its deploy and retries write no index):
 * no scan of the whole log, however long it grows. The index is eventually consistent and KEYS_ONLY: each hit is
 * read again (consistently) before it is acted on.
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { encodeTime } from 'ulid';
import { config } from '../core/config';
import { dynamo } from './aws';
import { stateOfItem, type DeployState } from './deploy-state';
import { IN_FLIGHT, getLogEntry, type LogEntry } from './store';

export interface InFlightKey {
  triggerId: string;
  logId: string;
}

/**
 * Keys of in-flight entries received before `receivedBefore` (ISO time; default: any), oldest first. An entry last
 * changed before a time was received before it too: inFlightEntries narrows these down by `updatedAt`.
 */
export async function inFlightKeys(opts: { receivedBefore?: string; limit?: number } = {}): Promise<InFlightKey[]> {
  const keys: InFlightKey[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await dynamo().send(
      new QueryCommand({
        TableName: config.logsTable(),
        IndexName: 'inFlightByReceipt',
        KeyConditionExpression: opts.receivedBefore ? 'inFlight = :p AND sk < :before' : 'inFlight = :p',
        ExpressionAttributeValues: {
          ':p': IN_FLIGHT,
          // the smallest entry key of that millisecond (a ULID starts with its time)
          ...(opts.receivedBefore ? { ':before': `log#${encodeTime(Date.parse(opts.receivedBefore), 10)}` } : {}),
        },
        ExclusiveStartKey: start,
        ...(opts.limit ? { Limit: opts.limit - keys.length } : {}),
      }),
    );
    for (const item of out.Items ?? []) {
      const sk = String(item.sk);
      if (!sk.startsWith('log#')) continue;
      keys.push({ triggerId: String(item.triggerId), logId: sk.slice('log#'.length) });
    }
    start = out.LastEvaluatedKey;
  } while (start && (!opts.limit || keys.length < opts.limit));
  return keys;
}

/**
 * The in-flight entries last changed before `updatedBefore` (default: any), read consistently; ones that finished
 * meanwhile are left out. `limit` bounds the keys read.
 */
export async function inFlightEntries(opts: { updatedBefore?: string; limit?: number } = {}): Promise<LogEntry[]> {
  const entries: LogEntry[] = [];
  for (const key of await inFlightKeys({ receivedBefore: opts.updatedBefore, limit: opts.limit })) {
    const entry = await getLogEntry(key.triggerId, key.logId);
    if (!entry || (entry.status !== 'queued' && entry.status !== 'deploying')) continue;
    if (opts.updatedBefore && entry.updatedAt >= opts.updatedBefore) continue; // retried lately: not stuck
    entries.push(entry);
  }
  return entries;
}

/** The deploy states of a trigger (one per lane; lib/store/deploy-state.ts): a key-range Query, never a scan. */
export async function laneStates(triggerId: string): Promise<Array<{ lane: string; state: DeployState }>> {
  const out: Array<{ lane: string; state: DeployState }> = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await dynamo().send(
      new QueryCommand({
        TableName: config.logsTable(),
        KeyConditionExpression: 'triggerId = :t AND begins_with(sk, :p)',
        ExpressionAttributeValues: { ':t': triggerId, ':p': 'state#' },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    for (const item of page.Items ?? []) {
      out.push({ lane: String(item.sk).slice('state#'.length), state: stateOfItem(item) });
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return out;
}
