/** The deploy queue's batch: the Powertools FIFO batch processor around deployRecord (lib/deploy/deployer.ts). */
import { SqsFifoPartialProcessorAsync, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { setVisibility } from '../store/queue';
import { deployRecord } from './deployer';

const processor = new SqsFifoPartialProcessorAsync();

/**
 * Deploy queue consumer. FIFO: after a failure, later records of the same trigger (message group) are
 * not run in this batch, keeping each trigger's deploys in order. Those skipped records are made visible
 * again at once: left in flight for the queue's visibility timeout they would hold the group up for minutes.
 */
export async function deployBatch(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  const attempted = new Set<string>();
  const response = await processPartialResponse(
    event,
    (record: SQSRecord) => {
      attempted.add(record.messageId);
      return deployRecord(record);
    },
    processor,
    {
      context,
      skipGroupOnError: true,
      // answer with batchItemFailures even when every record failed (no invocation error, no noisy alarm)
      throwOnFullBatchFailure: false,
    },
  );
  const skipped = event.Records.filter(
    (r) => !attempted.has(r.messageId) && response.batchItemFailures.some((f) => f.itemIdentifier === r.messageId),
  );
  await Promise.all(skipped.map((r) => setVisibility(r.receiptHandle, 0).catch(() => undefined)));
  return response;
}
