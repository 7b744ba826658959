/** The deploy queue (SQS FIFO). One message per queued entry; the message group is the trigger. */
import { ChangeMessageVisibilityCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { config } from '../core/config';
import type { NormalizedEvent } from '../core/event';
import { logger } from '../core/logger';
import { sqsClient } from './aws';

export interface DeployMessage {
  triggerId: string;
  logId: string;
  event: NormalizedEvent;
  /** the deploy-state lane (lib/match/identity.ts); absent on messages queued before lanes existed */
  lane?: string;
}

export async function enqueueDeploy(message: DeployMessage, deduplicationId: string): Promise<void> {
  await sqsClient().send(
    new SendMessageCommand({
      QueueUrl: config.deployQueueUrl(),
      MessageBody: JSON.stringify(message),
      // deploys of one trigger run strictly in order, never two at once
      MessageGroupId: message.triggerId,
      MessageDeduplicationId: deduplicationId,
    }),
  );
}

export function parseDeployMessage(body: string): DeployMessage {
  const m = JSON.parse(body) as DeployMessage;
  if (!m || typeof m.triggerId !== 'string' || typeof m.logId !== 'string' || typeof m.event !== 'object') {
    throw new Error('malformed deploy message');
  }
  return m;
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

/**
 * Makes a message that waits for its retry visible at once (it was superseded: the deployer drops it on receipt and
 * the FIFO group moves on). Best effort: a handle that is no longer valid means the message moved on already.
 */
export async function releaseRetryWait(receiptHandle: string): Promise<void> {
  try {
    await setVisibility(receiptHandle, 0);
  } catch (e) {
    logger.debug('retry wait already over', { error: (e as Error).message });
  }
}
