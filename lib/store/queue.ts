/** The deploy queue (SQS FIFO). One message per triggered event; the message group is the trigger. */
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { sqsClient } from './aws';
import { config } from '../core/config';
import type { NormalizedEvent } from '../core/event';

export interface DeployMessage {
  triggerId: string;
  logId: string;
  event: NormalizedEvent;
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
