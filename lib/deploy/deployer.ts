/**
 * The deployer: consumes the deploy queue, runs the trigger's target, records every attempt.
 * Failed records are reported as batch item failures so only they are retried; each retry waits
 * longer (the message's visibility timeout doubles). The last allowed attempt marks the entry
 * `failed` and lets the message go to the DLQ, so no entry stays `queued` forever.
 *
 * Deploys of one trigger run one at a time (one FIFO group per trigger), but a deploy waiting for its retry never
 * holds back a newer event of its lane: it remembers its receipt handle in the deploy state so that dispatch can
 * end the wait, and it checks for a newer event itself before waiting, ending `superseded` when there is one.
 */
import type { SQSRecord } from 'aws-lambda';
import { config } from '../core/config';
import { fitAttempt } from '../core/truncate';
import { logger } from '../core/logger';
import * as deployState from '../store/deploy-state';
import { parseDeployMessage, setVisibility } from '../store/queue';
import * as store from '../store/store';
import type { Trigger } from '../trigger';
import { notifyOutcome } from '../notify';
import { deploySubject, eventFields, failureStatus, reportAttempt, reportOutcome, type OutcomeStatus } from './report';
import { advanceTrackedImage, answerDockerHub, describeEvent, succeededReason } from './outcome';
import { runTarget } from './targets';
import { newVerification, scheduleFirstPoll, verificationPlan } from './verify/phase';

/** Thrown to ask for a retry of this record (reported in batchItemFailures). */
export class RetryLater extends Error {}

const MAX_BACKOFF_SECONDS = 900;

export async function deployRecord(record: SQSRecord): Promise<void> {
  let message;
  try {
    message = parseDeployMessage(record.body);
  } catch {
    // Not ours or corrupted: nothing to deploy and nothing to record; retrying cannot help.
    logger.error('dropping malformed deploy message', { messageId: record.messageId });
    return;
  }
  const { triggerId, logId, event } = message;
  const receiveCount = Number(record.attributes?.ApproximateReceiveCount ?? '1');
  const maxAttempts = config.maxReceiveCount();

  // One conditional write: a message seen again after its deploy finished (deleted late, superseded, or the entry
  // expired) finds nothing to start, so nothing is deployed twice. The trigger is read at the same time (one round
  // trip less per deploy; wasted only on a message that finds nothing to start).
  const [{ started: entry, finished }, trigger] = await Promise.all([
    store.startDeploy(triggerId, logId),
    store.getTrigger(triggerId),
  ]);
  if (!entry) {
    logger.info('deploy message for an entry that is finished, superseded or gone; skipped', {
      triggerId,
      logId,
      status: finished?.status,
    });
    // superseded while its message waited (by dispatch): this receipt is the deployer's one chance to say so
    if (finished?.status === 'superseded' && !finished.notifications?.some((n) => n.status === 'superseded')) {
      if (trigger) {
        reportOutcome({
          ...deploySubject(trigger, logId, event),
          status: 'superseded',
          reason: finished.reason,
          attempts: finished.attempts.length,
          receivedAt: finished.receivedAt,
        });
        await notifyOutcome(trigger, finished);
      }
    }
    return;
  }
  /** The entry as just recorded: what notifications describe. */
  const recorded = (status: store.LogStatus, reason: string | undefined, attempt?: store.Attempt): store.LogEntry => ({
    ...entry,
    status,
    reason,
    attempts: attempt ? [...entry.attempts, attempt] : entry.attempts,
  });
  const lane = message.lane ?? entry.lane;
  if (!trigger) {
    const reason = 'trigger was deleted before the deploy';
    await store.updateLogStatus(triggerId, logId, { status: 'failed', reason });
    if (lane) await deployState.finishInState(triggerId, lane, logId);
    reportOutcome({
      triggerId,
      logId,
      ...eventFields(event),
      provider: event.provider,
      status: 'failed',
      reason,
      attempts: 0,
      receivedAt: entry.receivedAt,
    });
    return;
  }

  // disabled while the event waited (queued, or for a retry): no further attempt, whatever is waiting
  if (trigger.enabled === false) {
    const reason = 'trigger disabled';
    await Promise.all([
      store.updateLogStatus(triggerId, logId, { status: 'cancelled', reason }),
      lane ? deployState.finishInState(triggerId, lane, logId) : undefined,
    ]);
    reportOutcome({
      ...deploySubject(trigger, logId, event),
      status: 'cancelled',
      reason,
      attempts: entry.attempts.length,
      receivedAt: entry.receivedAt,
    });
    await notifyOutcome(trigger, recorded('cancelled', reason));
    return;
  }

  const result = await runTarget(trigger.target, {
    triggerId,
    triggerName: trigger.name,
    logId,
    event,
    allowPrivateTargets: config.allowPrivateTargets(),
  });
  // cut so that the entry keeps fitting a DynamoDB item whatever a target answers
  const attempt: store.Attempt = fitAttempt({
    at: new Date().toISOString(),
    durationMs: result.durationMs,
    statusCode: result.statusCode,
    response: result.response,
    error: result.error,
    details: result.details,
  });
  const what = result.error ?? (result.statusCode ? `HTTP ${result.statusCode}` : 'failed');
  const subject = deploySubject(trigger, logId, { ...event, image: describeEvent(event) });
  const attemptFields = {
    ...subject,
    attempt: receiveCount,
    maxAttempts,
    durationMs: result.durationMs,
    statusCode: result.statusCode,
  };
  const totalMs = [...entry.attempts, attempt].reduce((sum, a) => sum + (a.durationMs ?? 0), 0);
  /** One outcome line (and metrics), then the notifications of the entry as just recorded. */
  const finish = async (status: store.LogStatus, reported: OutcomeStatus, reason?: string) => {
    reportOutcome({
      ...subject,
      status: reported,
      reason,
      attempts: entry.attempts.length + 1,
      receivedAt: entry.receivedAt,
      durationMs: totalMs,
      error: result.ok ? undefined : what,
    });
    await notifyOutcome(trigger, recorded(status, reason, attempt));
  };

  const plan = result.ok ? verificationPlan(trigger.target) : undefined;
  if (plan) {
    // accepted, not yet succeeded: the verification phase (./verify/phase.ts) decides, outside this invocation and
    // its FIFO group; the entry stays `deploying` and the lane in flight until it does
    const verifying = { ...attempt, verification: newVerification(plan) };
    await store.updateLogStatus(triggerId, logId, {
      status: 'deploying',
      reason: `accepted by the target; verifying (${plan.checks.join(' + ')}, timeout ${plan.timeoutSeconds} s)`,
      attempt: verifying,
      onlyFrom: ['deploying'],
    });
    await scheduleFirstPoll(triggerId, logId);
    reportAttempt({ ...attemptFields, outcome: 'succeeded' });
    return;
  }
  if (result.ok) {
    // the lane's current becomes `previous` when this replaces another artifact: read it first
    const before = lane ? await deployState.getDeployState(triggerId, lane) : undefined;
    // three independent writes (the entry, the lane's state, the tracked image) at once: one round trip, not three
    await Promise.all([
      store.updateLogStatus(triggerId, logId, { status: 'succeeded', reason: succeededReason(entry), attempt }),
      lane
        ? deployState.finishInState(triggerId, lane, logId, deployState.refOf(event, logId, attempt.at), before)
        : undefined,
      advanceTrackedImage(trigger, event.tag, event.digest),
    ]);
    await answerDockerHub(event, 'success', `deployed by trigger ${trigger.name}`);
    reportAttempt({ ...attemptFields, outcome: 'succeeded' });
    await finish('succeeded', 'succeeded');
    return;
  }
  if (!result.retryable || receiveCount >= maxAttempts) {
    const reason = result.retryable
      ? `attempt ${receiveCount} of ${maxAttempts} failed: ${what}; giving up`
      : `attempt ${receiveCount} failed: ${what}; not retried`;
    await Promise.all([
      store.updateLogStatus(triggerId, logId, { status: 'failed', reason, attempt }),
      lane ? deployState.finishInState(triggerId, lane, logId) : undefined,
    ]);
    await answerDockerHub(event, result.statusCode ? 'failure' : 'error', `deploy failed: ${what}`);
    reportAttempt({ ...attemptFields, outcome: 'failed', error: what });
    await finish('failed', failureStatus(result.error, result.retryable), reason);
    if (!result.retryable) return;
    // Reported as failed and visible again at once: the next receive moves it to the DLQ (receive count over
    // the limit). Left invisible it would hold up every later deploy of this trigger (FIFO group).
    await setVisibility(record.receiptHandle, 0);
    throw new RetryLater(`giving up after ${receiveCount} attempts`);
  }

  const queueAll = trigger.queue === 'all';
  // A newer event of the lane is queued already: it replaces this one instead of waiting behind its retry.
  if (lane && !queueAll && !(await deployState.rememberRetry(triggerId, lane, logId, record.receiptHandle))) {
    reportAttempt({ ...attemptFields, outcome: 'superseded', error: what });
    await finish('superseded', 'superseded', await supersededWhileRetrying(trigger, lane, logId, attempt, what));
    return;
  }
  const delay = Math.min(MAX_BACKOFF_SECONDS, config.retryBaseSeconds() * 2 ** (receiveCount - 1));
  await store.updateLogStatus(triggerId, logId, {
    status: 'queued',
    reason: `attempt ${receiveCount} of ${maxAttempts} failed: ${what}; retrying in ${delay} s`,
    attempt,
  });
  await setVisibility(record.receiptHandle, delay);
  reportAttempt({ ...attemptFields, outcome: 'retry', error: what, retryInSeconds: delay });
  // A newer event may have been queued between remembering the handle and the wait starting; then dispatch could
  // not end the wait, so end it here: the message is deleted and the newer deploy runs next.
  if (lane && !queueAll) {
    const state = await deployState.getDeployState(triggerId, lane);
    if (state.latest && state.latest.logId !== logId) {
      const reason = `superseded by ${state.latest.logId}, a newer event of the same lane, while waiting to retry`;
      const ended = await store.updateLogStatus(triggerId, logId, {
        status: 'superseded',
        reason,
        supersededBy: state.latest.logId,
        onlyFrom: ['queued'],
      });
      // when dispatch superseded it first, this message is deleted now, so nobody else will tell: tell here
      await finish(
        'superseded',
        'superseded',
        ended ? reason : `superseded by ${state.latest.logId}, a newer event of the same lane`,
      );
      return;
    }
  }
  throw new RetryLater(`attempt ${receiveCount} failed`);
}

async function supersededWhileRetrying(
  trigger: Trigger,
  lane: string,
  logId: string,
  attempt: store.Attempt,
  what: string,
): Promise<string> {
  const state = await deployState.getDeployState(trigger.id, lane);
  const newer = state.latest?.logId ?? 'a newer event';
  const reason = `attempt failed: ${what}; not retried: superseded by ${newer}, a newer event of the same lane`;
  await store.updateLogStatus(trigger.id, logId, {
    status: 'superseded',
    reason,
    supersededBy: state.latest?.logId,
    attempt,
    onlyFrom: ['deploying'],
  });
  return reason;
}
