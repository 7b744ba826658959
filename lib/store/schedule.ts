/**
 * The scheduler: work due at a later time, as messages of a standard SQS queue (ScheduleQueue) with a per-message
 * delay. A FIFO queue takes no per-message delay, and a job waiting there would hold back its group; here a waiting
 * job holds back nothing and costs nothing while it waits. SQS delays at most 15 minutes: a job due later is sent
 * with the longest delay and sent again on receipt until it is due (`dueAt` travels with it). Delivery is at least
 * once: every job must be safe to run twice (its state lives in DynamoDB, the message is only the wake-up call), and
 * the sweep (lib/deploy/reconcile.ts) schedules again a job whose message was lost.
 *
 * One consumer (functions/scheduler.ts -> lib/schedule/run.ts) runs each kind of job. Today: `verify` (one
 * verification poll of a deploy). The poller, waiting promotions and the sweep are meant to become kinds too.
 */
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { config } from '../core/config';
import { sqsClient } from './aws';

/** The longest per-message delay SQS takes. */
export const MAX_DELAY_SECONDS = 900;

export type ScheduledJob = { kind: 'verify'; triggerId: string; logId: string };

/** The next verification poll of a deploy (lib/deploy/verify/phase.ts). */
export const verifyJob = (triggerId: string, logId: string): ScheduledJob => ({ kind: 'verify', triggerId, logId });

export interface ScheduledMessage {
  job: ScheduledJob;
  /** ISO time the job is due */
  dueAt: string;
}

/** Runs `job` once `dueAt` (a Date) is reached, or `seconds` from now (a number). */
export async function scheduleJob(job: ScheduledJob, when: number | Date): Promise<void> {
  const dueAt = typeof when === 'number' ? new Date(Date.now() + when * 1000) : when;
  const delay = Math.min(MAX_DELAY_SECONDS, Math.max(0, Math.ceil((dueAt.getTime() - Date.now()) / 1000)));
  const message: ScheduledMessage = { job, dueAt: dueAt.toISOString() };
  await sqsClient().send(
    new SendMessageCommand({
      QueueUrl: config.scheduleQueueUrl(),
      MessageBody: JSON.stringify(message),
      DelaySeconds: delay,
    }),
  );
}

export function parseScheduledMessage(body: string): ScheduledMessage {
  const m = JSON.parse(body) as ScheduledMessage;
  const job = m?.job as Partial<ScheduledJob> | undefined;
  if (
    !job ||
    job.kind !== 'verify' ||
    typeof job.triggerId !== 'string' ||
    typeof job.logId !== 'string' ||
    typeof m.dueAt !== 'string' ||
    Number.isNaN(Date.parse(m.dueAt))
  )
    throw new Error('malformed scheduled job');
  return m;
}
