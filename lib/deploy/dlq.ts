/**
 * The dead-letter queue consumer: a deploy message lands here when the deployer gave up (its last attempt
 * already marked the entry `failed`) or could not record its outcome at all (a crash, a timeout, storage
 * down). Either way the entry must end `failed` with the last error, never stay `queued` or `deploying`.
 */
import type { SQSRecord } from 'aws-lambda';
import { logger } from '../core/logger';
import { parseDeployMessage } from '../store/queue';
import { notifyOutcome } from '../notify';
import { deploySubject, eventFields, reportOutcome } from './report';
import * as deployState from '../store/deploy-state';
import * as store from '../store/store';

export async function deadLetterRecord(record: SQSRecord): Promise<void> {
  let message;
  try {
    message = parseDeployMessage(record.body);
  } catch {
    logger.error('dropping malformed dead-letter message', { messageId: record.messageId });
    return;
  }
  const { triggerId, logId } = message;
  const entry = await store.getLogEntry(triggerId, logId);
  if (!entry || !['queued', 'deploying'].includes(entry.status)) return;
  const last = entry.attempts.at(-1);
  const lastError = last
    ? (last.error ?? (last.statusCode ? `HTTP ${last.statusCode}` : 'unknown error'))
    : 'no attempt was recorded';
  const receives = record.attributes?.ApproximateReceiveCount;
  const reason = `moved to the dead-letter queue${receives ? ` after ${receives} receives` : ''}; last error: ${lastError}`;
  const marked = await store.updateLogStatus(triggerId, logId, {
    status: 'failed',
    reason,
    onlyFrom: ['queued', 'deploying'],
  });
  const lane = message.lane ?? entry.lane;
  if (lane) await deployState.finishInState(triggerId, lane, logId);
  // one outcome per deploy: an entry the deployer gave up on was reported then, and is `failed` already
  if (!marked) return;
  const trigger = await store.getTrigger(triggerId);
  reportOutcome({
    ...(trigger
      ? deploySubject(trigger, logId, entry.event ?? message.event)
      : { triggerId, logId, ...eventFields(entry.event), provider: entry.provider }),
    status: 'dead-lettered',
    reason,
    attempts: entry.attempts.length,
    receivedAt: entry.receivedAt,
    error: lastError,
  });
  if (trigger) await notifyOutcome(trigger, { ...entry, status: 'failed', reason });
}
