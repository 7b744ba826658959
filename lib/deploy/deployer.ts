/**
 * The deployer: consumes the deploy queue, runs the trigger's target, records every attempt.
 * Failed records are reported as batch item failures so only they are retried; each retry waits
 * longer (the message's visibility timeout doubles). The last allowed attempt marks the entry
 * `failed` and lets the message go to the DLQ, so no entry stays `queued` forever.
 */
import { ChangeMessageVisibilityCommand } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { sqsClient } from '../store/aws';
import { config } from '../core/config';
import { allowedCallback, postCallback, type CallbackOutcome } from './dockerhub-callback';
import { imageRef, parseImageRef, type NormalizedEvent } from '../core/event';
import { logger } from '../core/logger';
import { parseDeployMessage } from '../store/queue';
import * as store from '../store/store';
import { runTarget } from './targets';
import type { Trigger } from '../trigger';

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

  // One conditional write: a message seen again after its deploy finished (deleted late, or the entry
  // expired) finds nothing to start, so nothing is deployed twice.
  const entry = await store.startDeploy(triggerId, logId);
  if (!entry) {
    logger.warn('deploy message for an entry that is finished or gone; skipped', { triggerId, logId });
    return;
  }
  const trigger = await store.getTrigger(triggerId);
  if (!trigger) {
    await store.updateLogStatus(triggerId, logId, { status: 'failed', reason: 'trigger was deleted before the deploy' });
    return;
  }

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
    await answerDockerHub(event, 'success', `deployed by trigger ${trigger.name}`);
    logger.info('deployed', { triggerId, logId, attempt: receiveCount, statusCode: result.statusCode });
    return;
  }
  if (!result.retryable) {
    await store.updateLogStatus(triggerId, logId, {
      status: 'failed',
      reason: `attempt ${receiveCount} failed: ${what}; not retried`,
      attempt,
    });
    await answerDockerHub(event, result.statusCode ? 'failure' : 'error', `deploy failed: ${what}`);
    return;
  }
  if (receiveCount >= maxAttempts) {
    await store.updateLogStatus(triggerId, logId, {
      status: 'failed',
      reason: `attempt ${receiveCount} of ${maxAttempts} failed: ${what}; giving up`,
      attempt,
    });
    await answerDockerHub(event, result.statusCode ? 'failure' : 'error', `deploy failed after ${receiveCount} attempts: ${what}`);
    // Reported as failed and visible again at once: the next receive moves it to the DLQ (receive count over
    // the limit). Left invisible it would hold up every later deploy of this trigger (FIFO group).
    await setVisibility(record.receiptHandle, 0);
    throw new RetryLater(`giving up after ${receiveCount} attempts`);
  }
  const delay = Math.min(MAX_BACKOFF_SECONDS, config.retryBaseSeconds() * 2 ** (receiveCount - 1));
  await store.updateLogStatus(triggerId, logId, {
    status: 'queued',
    reason: `attempt ${receiveCount} of ${maxAttempts} failed: ${what}; retrying in ${delay} s`,
    attempt,
  });
  await setVisibility(record.receiptHandle, delay);
  throw new RetryLater(`attempt ${receiveCount} failed`);
}

/** When this message is received again (a failed attempt's backoff, or at once). */
export async function setVisibility(receiptHandle: string, seconds: number): Promise<void> {
  await sqsClient().send(
    new ChangeMessageVisibilityCommand({
      QueueUrl: config.deployQueueUrl(),
      ReceiptHandle: receiptHandle,
      VisibilityTimeout: Math.floor(seconds),
    }),
  );
}

/** Docker Hub's callback_url, when the push came from Docker Hub with one (and only to Docker Hub). */
async function answerDockerHub(event: NormalizedEvent, state: CallbackOutcome['state'], description: string) {
  if (event.provider !== 'dockerhub' || !config.dockerhubCallbacks()) return;
  const url = allowedCallback(event.callbackUrl, config.dockerhubCallbackExtraHosts());
  if (url) await postCallback(url, { state, description: description.slice(0, 255), context: 'Triggerfish' });
}

/** Kato-style: with an image and a tag rule, a successful deploy advances the tracked image's tag. */
async function advanceTrackedImage(trigger: Trigger, tag?: string, digest?: string): Promise<void> {
  const tracked = trigger.trackedImage ?? trigger.match.image;
  if (!tracked || !trigger.match.tags || (!tag && !digest)) return;
  const ref = parseImageRef(tracked);
  await store.setTrackedImage(trigger.id, imageRef({ registry: ref.registry, repoFullName: ref.repoFullName, tag, digest }));
}
