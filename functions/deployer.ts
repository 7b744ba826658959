import { SqsFifoPartialProcessorAsync, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { deployRecord } from '../lib/deployer';

const processor = new SqsFifoPartialProcessorAsync();

/**
 * Deploy queue consumer. FIFO: after a failure, later records of the same trigger (message group)
 * are not run in this batch, keeping each trigger's deploys in order.
 */
export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
  processPartialResponse(event, deployRecord, processor, {
    context,
    skipGroupOnError: true,
    // answer with batchItemFailures even when every record failed (no invocation error, no noisy alarm)
    throwOnFullBatchFailure: false,
  });
