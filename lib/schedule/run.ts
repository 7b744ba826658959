/**
 * The scheduler's consumer: runs each job of ScheduleQueue (lib/store/schedule.ts) when it is due. A capability
 * on top of the stages (like the admin API): a verification poll (lib/deploy/verify) may end in a rollback, which
 * is queued as any deploy is (lib/match/rollback.ts).
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { logger } from '../core/logger';
import { verifyStep } from '../deploy/verify/phase';
import { rollbackAfterFailure } from '../match/rollback';
import { parseScheduledMessage, scheduleJob, type ScheduledJob } from '../store/schedule';

const processor = new BatchProcessor(EventType.SQS);

/** A job that throws is retried by SQS (visibility timeout), up to the queue's redrive limit. */
export async function runScheduledRecord(record: SQSRecord): Promise<void> {
  let message;
  try {
    message = parseScheduledMessage(record.body);
  } catch {
    logger.error('dropping malformed scheduled job', { messageId: record.messageId });
    return;
  }
  const due = new Date(message.dueAt);
  // SQS delays at most 15 minutes: a job due later hops until it is due
  if (due.getTime() - Date.now() > 1000) return scheduleJob(message.job, due);
  await runJob(message.job);
}

export async function runJob(job: ScheduledJob): Promise<void> {
  switch (job.kind) {
    case 'verify': {
      const step = await verifyStep(job.triggerId, job.logId);
      if (step.verdict !== 'failed') return;
      // the verdict is written: a retry of this job would find nothing to decide, so a rollback that could not be
      // queued is logged (the admin's rollback route is the way to run it) rather than thrown
      const rollback = await rollbackAfterFailure(step.trigger, step.entry).catch((err: unknown) => {
        logger.error('rollback after a failed verification could not be queued', {
          triggerId: job.triggerId,
          logId: job.logId,
          error: (err as Error).message,
        });
        return undefined;
      });
      if (rollback)
        logger.info('rollback after a failed verification', {
          triggerId: job.triggerId,
          logId: job.logId,
          status: rollback.status,
          log: 'log' in rollback ? rollback.log : undefined,
          reason: 'reason' in rollback ? rollback.reason : undefined,
        });
      return;
    }
  }
}

export const scheduledBatch = (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
  processPartialResponse(event, runScheduledRecord, processor, { context, throwOnFullBatchFailure: false });
