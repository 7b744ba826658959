/**
 * The deployer: consumes the deploy queue, runs the trigger's target, records every attempt.
 * Failed records are reported as batch item failures so only they are retried; each retry waits
 * longer (the message's visibility timeout doubles). The last allowed attempt marks the entry
 * `failed` and lets the message go to the DLQ, so no entry stays `queued` forever.
 */
import { ChangeMessageVisibilityCommand } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { sqsClient } from './aws';
import { config } from './config';
import { imageRef, parseImageRef } from './event';
import { logger } from './logger';
import { parseDeployMessage } from './queue';
import * as store from './store';
import { runTarget } from './targets';
import type { Trigger } from './trigger';

/** Thrown to ask for a retry of this record (reported in batchItemFailures). */
export class RetryLater extends Error {}

const MAX_BACKOFF_SECONDS = 900;

export async function deployRecord(record: SQSRecord): Promise<void> {
  let message;
  try {
    message = parseDeployMessage(record.body);
  } catch {
    // Not ours or corrupted: nothing to deploy and nothing to record; retrying cannot help.
    logger.error('dropping malformed deploy message', { messageId: record.messageId });
    return;
  }
  const { triggerId, logId, event } = message;
  const receiveCount = Number(record.attributes?.ApproximateReceiveCount ?? '1');
  const maxAttempts = config.maxReceiveCount();

  const entry = await store.getLogEntry(triggerId, logId);
  if (!entry) {
    logger.warn('deploy message for a log entry that no longer exists', { triggerId, logId });
    return;
  }
  // A message seen again after its deploy finished (e.g. deleted late): never deploy twice.
  if (entry.status === 'succeeded' || entry.status === 'failed') return;

  const trigger = await store.getTrigger(triggerId);
  if (!trigger) {
    await store.updateLogStatus(triggerId, logId, { status: 'failed', reason: 'trigger was deleted before the deploy' });
    return;
  }
  await store.updateLogStatus(triggerId, logId, { status: 'deploying', reason: null });

  const result = await runTarget(trigger.target, {
    triggerId,
    logId,
    event,
    allowPrivateTargets: config.allowPrivateTargets(),
  });
  const attempt: store.Attempt = {
    at: new Date().toISOString(),
    durationMs: result.durationMs,
    statusCode: result.statusCode,
    response: result.response,
    error: result.error,
    details: result.details,
  };
  const what = result.error ?? (result.statusCode ? `HTTP ${result.statusCode}` : 'failed');

  if (result.ok) {
    await store.updateLogStatus(triggerId, logId, { status: 'succeeded', reason: null, attempt });
    await advanceTrackedImage(trigger, event.tag, event.digest);
    logger.info('deployed', { triggerId, logId, attempt: receiveCount, statusCode: result.statusCode });
    return;
  }
  if (!result.retryable) {
    await store.updateLogStatus(triggerId, logId, {
      status: 'failed',
      reason: `attempt ${receiveCount} failed: ${what}; not retried`,
      attempt,
    });
    return;
  }
  if (receiveCount >= maxAttempts) {
    await store.updateLogStatus(triggerId, logId, {
      status: 'failed',
      reason: `attempt ${receiveCount} of ${maxAttempts} failed: ${what}; giving up`,
      attempt,
    });
    // Reported as failed so the message lands in the DLQ, where operators can see every given-up deploy.
    throw new RetryLater(`giving up after ${receiveCount} attempts`);
  }
  const delay = Math.min(MAX_BACKOFF_SECONDS, config.retryBaseSeconds() * 2 ** (receiveCount - 1));
  await store.updateLogStatus(triggerId, logId, {
    status: 'queued',
    reason: `attempt ${receiveCount} of ${maxAttempts} failed: ${what}; retrying in ${delay} s`,
    attempt,
  });
  await sqsClient().send(
    new ChangeMessageVisibilityCommand({
      QueueUrl: config.deployQueueUrl(),
      ReceiptHandle: record.receiptHandle,
      VisibilityTimeout: Math.floor(delay),
    }),
  );
  throw new RetryLater(`attempt ${receiveCount} failed`);
}

/** Kato-style: with an image and a tag rule, a successful deploy advances the tracked image's tag. */
async function advanceTrackedImage(trigger: Trigger, tag?: string, digest?: string): Promise<void> {
  const tracked = trigger.trackedImage ?? trigger.match.image;
  if (!tracked || !trigger.match.tags || (!tag && !digest)) return;
  const ref = parseImageRef(tracked);
  await store.setTrackedImage(trigger.id, imageRef({ registry: ref.registry, repoFullName: ref.repoFullName, tag, digest }));
}
