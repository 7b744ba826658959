/**
 * Test handler for the local SQS poller (test/unit/local/sqs-poller.test.ts): not part of the product.
 * Body JSON decides: {"fail": true} -> reported in batchItemFailures; {"throwUntil": n} -> the handler throws
 * while the record's ApproximateReceiveCount <= n. Every invocation is recorded in `calls`.
 */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';

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
  return {
    batchItemFailures: event.Records.filter((r) => (JSON.parse(r.body) as { fail?: boolean }).fail).map((r) => ({
      itemIdentifier: r.messageId,
    })),
  };
}

/** answers a batchItemFailures entry that is not in the batch: Lambda fails the whole batch */
export async function invalid(event: SQSEvent): Promise<SQSBatchResponse> {
  calls.push(event);
  return { batchItemFailures: [{ itemIdentifier: 'not-in-this-batch' }] };
}
