import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { deadLetterRecord } from '../lib/deploy/dlq';
import { lambdaHandler } from '../lib/core/lambda';

const processor = new BatchProcessor(EventType.SQS);

/** Dead-letter queue consumer: marks given-up deploys `failed` with their last error. */
export const handler = lambdaHandler(async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
  processPartialResponse(event, deadLetterRecord, processor, { context, throwOnFullBatchFailure: false }),
);
