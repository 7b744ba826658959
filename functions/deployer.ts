import { SqsFifoPartialProcessorAsync, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { deployRecord, setVisibility } from '../lib/deploy/deployer';
import { lambdaHandler } from '../lib/core/lambda';

const processor = new SqsFifoPartialProcessorAsync();

/**
 * Deploy queue consumer. FIFO: after a failure, later records of the same trigger (message group) are
 * not run in this batch, keeping each trigger's deploys in order. Those skipped records are made visible
 * again at once: left in flight for the queue's visibility timeout they would hold the group up for minutes.
 */
export const handler = lambdaHandler(async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
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
});
