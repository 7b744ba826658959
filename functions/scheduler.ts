import { lambdaHandler } from '../lib/core/lambda';
import { scheduledBatch } from '../lib/schedule/run';

/** The scheduler's queue consumer (SQS standard, ReportBatchItemFailures): due jobs such as verification polls. */
export const handler = lambdaHandler(scheduledBatch);
