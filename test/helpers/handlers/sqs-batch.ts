/**
 * Test handler for the local SQS poller (test/unit/local/sqs-poller.test.ts): not part of the product.
 * Body JSON decides: {"fail": true} -> reported in batchItemFailures; {"failUntil": n} -> reported while the
 * record's ApproximateReceiveCount <= n; {"throwUntil": n} -> the handler throws while ApproximateReceiveCount <= n.
 * Every invocation is recorded in `calls`.
 */
import { ChangeMessageVisibilityCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';

export const calls: SQSEvent[] = [];

export function reset(): void {
  calls.length = 0;
}

/** every record seen, in order */
export function records(): SQSEvent['Records'] {
  return calls.flatMap((e) => e.Records);
}

export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  calls.push(event);
  for (const r of event.Records) {
    const body = JSON.parse(r.body) as { throwUntil?: number };
    if (body.throwUntil !== undefined && Number(r.attributes.ApproximateReceiveCount) <= body.throwUntil) {
      throw new Error(`test handler throws for ${r.messageId}`);
    }
  }
  return { batchItemFailures: event.Records.filter(fails).map((r) => ({ itemIdentifier: r.messageId })) };
}

function fails(r: SQSRecord): boolean {
  const body = JSON.parse(r.body) as { fail?: boolean; failUntil?: number };
  return (
    !!body.fail || (body.failUntil !== undefined && Number(r.attributes.ApproximateReceiveCount) <= body.failUntil)
  );
}

/**
 * Like the real deployer's retry: a failed record's visibility timeout is set to 0 (DEPLOY_QUEUE_URL and
 * SQS_ENDPOINT from the environment), so it comes back at once instead of after the queue's timeout.
 */
export async function retryNow(event: SQSEvent): Promise<SQSBatchResponse> {
  calls.push(event);
  const failed = event.Records.filter(fails);
  const sqs = new SQSClient({ region: process.env.AWS_REGION ?? 'us-east-1', endpoint: process.env.SQS_ENDPOINT });
  try {
    for (const r of failed) {
      await sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: process.env.DEPLOY_QUEUE_URL,
          ReceiptHandle: r.receiptHandle,
          VisibilityTimeout: 0,
        }),
      );
    }
  } finally {
    sqs.destroy();
  }
  return { batchItemFailures: failed.map((r) => ({ itemIdentifier: r.messageId })) };
}

/** answers a batchItemFailures entry that is not in the batch: Lambda fails the whole batch */
export async function invalid(event: SQSEvent): Promise<SQSBatchResponse> {
  calls.push(event);
  return { batchItemFailures: [{ itemIdentifier: 'not-in-this-batch' }] };
}

/** takes a moment, then succeeds (stop() must wait for it) */
export async function slow(event: SQSEvent): Promise<SQSBatchResponse> {
  calls.push(event);
  await new Promise((r) => setTimeout(r, 700));
  return { batchItemFailures: [] };
}
