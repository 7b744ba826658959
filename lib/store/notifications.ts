/**
 * The results of an outcome's notifications, recorded in its trigger log entry as `notifications` (a list appended
 * to, one item per notifier and outcome). Kept apart from store.ts, which issue 8 rewrites; the field is declared
 * here (NotifiedLogEntry) rather than on store.LogEntry.
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { config } from '../core/config';
import { dynamo } from './aws';
import type { LogEntry } from './store';

export interface NotificationRecord {
  /** notifier type: slack, teams, discord, webhook, eventbridge */
  type: string;
  /** the entry status that was announced */
  status: string;
  /** when the last attempt finished (ISO 8601) */
  at: string;
  /** the last HTTP status answered, if any */
  statusCode?: number;
  /** why it failed; absent when delivered. Never the notifier's URL or a signing secret */
  error?: string;
  /** send attempts made (1 or 2) */
  attempts: number;
}

/** A log entry as the admin API shows it once notifications were sent. */
export type NotifiedLogEntry = LogEntry & { notifications?: NotificationRecord[] };

/**
 * Appends records to the entry `{triggerId, sk: "log#<logId>"}`. False when the entry is gone (expired or its
 * trigger deleted): nothing is created then.
 */
export async function appendNotifications(
  triggerId: string,
  logId: string,
  records: NotificationRecord[],
): Promise<boolean> {
  if (records.length === 0) return true;
  try {
    await dynamo().send(
      new UpdateCommand({
        TableName: config.logsTable(),
        Key: { triggerId, sk: `log#${logId}` },
        UpdateExpression: 'SET #n = list_append(if_not_exists(#n, :empty), :n)',
        ConditionExpression: 'attribute_exists(sk)',
        ExpressionAttributeNames: { '#n': 'notifications' },
        ExpressionAttributeValues: { ':n': records, ':empty': [] },
      }),
    );
    return true;
  } catch (e) {
    if ((e as Error).name === 'ConditionalCheckFailedException') return false;
    throw e;
  }
}
