import { lambdaHandler } from '../lib/core/lambda';
import { deployBatch } from '../lib/deploy/batch';

/** The deploy queue consumer (SQS FIFO, ReportBatchItemFailures). */
export const handler = lambdaHandler(deployBatch);
