/**
 * The verification phase: after a target accepted a change, the deploy is `succeeded` only once the change runs.
 *
 * The deployer cannot wait for that (one invocation lasts at most 300 s, runs batches, and the trigger's FIFO group
 * would hold every lane meanwhile). So an accepted attempt that has something to verify ends its deploy message, and
 * its entry stays `deploying` with `attempts[-1].verification`; the scheduler (lib/store/schedule.ts) runs one poll
 * every VERIFY_POLL_SECONDS until a verdict or the deadline. The entry in DynamoDB is the state, the scheduled
 * message only the wake-up call: a poll that runs twice, or late, decides nothing twice (conditional writes), and a
 * lost message is scheduled again by the sweep / the local stack's start (lib/deploy/reconcile.ts).
 *
 * What is checked: the target's own status (`DeployTarget.verify`: kubernetes rollout status, ecs steady state),
 * then `verify.http` (any target). `verify: false` turns it off: accepted is succeeded, as before.
 * A verdict: `succeeded` (the lane's `current` moves, the tracked image advances), `failed` (`current` stays what
 * ran before), or `superseded` (a newer event of the lane is queued: it replaces this one).
 */
import { config } from '../../core/config';
import { logger } from '../../core/logger';
import * as deployState from '../../store/deploy-state';
import { scheduleJob, verifyJob } from '../../store/schedule';
import * as store from '../../store/store';
import type { Trigger } from '../../trigger';
import { notifyOutcome } from '../../notify';
import { advanceTrackedImage, answerDockerHub, describeEvent, succeededReason } from '../outcome';
import { deploySubject, reportOutcome } from '../report';
import { targets, type TargetConfig } from '../targets';
import type { DeployTarget, VerifyPoll } from '../targets/types';
import { pollVersionUrl } from './http';
import { durationSeconds, VERIFY_DEFAULT_SECONDS } from './schema';

export interface VerificationPlan {
  timeoutSeconds: number;
  checks: Array<'target' | 'http'>;
}

function targetOf(target: TargetConfig): DeployTarget<TargetConfig> | undefined {
  return Object.prototype.hasOwnProperty.call(targets, target.type)
    ? (targets[target.type] as unknown as DeployTarget<TargetConfig>)
    : undefined;
}

/** What a target's accepted attempt still has to show, or undefined when accepted is succeeded. */
export function verificationPlan(target: TargetConfig): VerificationPlan | undefined {
  const verify = target.verify;
  if (verify === false) return undefined;
  const checks: VerificationPlan['checks'] = [];
  // a CronJob has no rollout (its next Job runs the new image); ecs with waitForSteadyState waited in the attempt
  const ownCheck =
    !!targetOf(target)?.verify &&
    !(target.type === 'kubernetes' && target.kind === 'CronJob') &&
    !(target.type === 'ecs' && target.waitForSteadyState);
  if (ownCheck) checks.push('target');
  if (verify?.http) checks.push('http');
  if (!checks.length) return undefined;
  const timeoutSeconds = (verify?.timeout && durationSeconds(verify.timeout)) || VERIFY_DEFAULT_SECONDS;
  return { timeoutSeconds, checks };
}

/** The verification an accepted attempt starts with (stored in the attempt). */
export function newVerification(plan: VerificationPlan, now = new Date()): store.Verification {
  return {
    startedAt: now.toISOString(),
    deadline: new Date(now.getTime() + plan.timeoutSeconds * 1000).toISOString(),
    timeoutSeconds: plan.timeoutSeconds,
    checks: plan.checks,
    polls: [],
    pollCount: 0,
  };
}

/** Schedules the first poll of a verification the deployer just stored. */
export async function scheduleFirstPoll(triggerId: string, logId: string): Promise<void> {
  await scheduleJob(verifyJob(triggerId, logId), config.verifyPollSeconds());
}

/** What one step decided, for the caller (lib/schedule) that may roll back. */
export type StepOutcome =
  | { verdict: 'none' }
  | { verdict: 'waiting' }
  | { verdict: 'succeeded' | 'superseded'; trigger: Trigger; entry: store.LogEntry }
  | { verdict: 'failed'; trigger: Trigger; entry: store.LogEntry; lane?: string };

/** One verification poll of an entry, and its verdict when there is one. Safe to run twice or late. */
export async function verifyStep(triggerId: string, logId: string, now = () => new Date()): Promise<StepOutcome> {
  const [entry, trigger] = await Promise.all([store.getLogEntry(triggerId, logId), store.getTrigger(triggerId)]);
  const index = (entry?.attempts.length ?? 0) - 1;
  const verification = entry?.attempts[index]?.verification;
  if (!entry || entry.status !== 'deploying' || !verification || verification.result) return { verdict: 'none' };
  const lane = entry.lane;
  const event = entry.event!;
  const v: store.Verification = { ...verification, polls: [...verification.polls] };

  const decide = async (
    status: 'succeeded' | 'failed' | 'superseded',
    reason: string | null,
    extra: { supersededBy?: string } = {},
  ): Promise<boolean> => {
    v.result = status;
    return store.updateLogStatus(triggerId, logId, {
      status,
      reason,
      ...extra,
      verification: { index, value: v },
      onlyFrom: ['deploying'],
    });
  };

  if (!trigger) {
    const reason = 'trigger was deleted during the verification';
    if (await decide('failed', reason)) {
      if (lane) await deployState.finishInState(triggerId, lane, logId);
      reportOutcome({ triggerId, logId, provider: entry.provider, status: 'failed', reason, attempts: index + 1 });
    }
    return { verdict: 'none' };
  }

  const state = lane ? await deployState.getDeployState(triggerId, lane) : undefined;
  if (state?.latest && state.latest.logId > logId) {
    const newer = state.latest.logId;
    const reason = `superseded by ${newer}, a newer event of the same lane, during the verification`;
    if (!(await decide('superseded', reason, { supersededBy: newer }))) return { verdict: 'none' };
    await deployState.finishInState(triggerId, lane!, logId);
    const ended = { ...entry, status: 'superseded' as const, reason, supersededBy: newer };
    await finish(trigger, ended, 'superseded', reason);
    return { verdict: 'superseded', trigger, entry: ended };
  }

  const poll = await pollOnce(trigger.target, entry, v);
  const at = now();
  v.pollCount += 1;
  v.polls.push({ at: at.toISOString(), message: poll.message, ...(poll.done ? { ok: poll.ok } : {}) });
  if (v.polls.length > store.MAX_VERIFICATION_POLLS) v.polls.splice(0, v.polls.length - store.MAX_VERIFICATION_POLLS);

  if (poll.done && poll.ok) {
    if (!(await decide('succeeded', succeededReason(entry)))) return { verdict: 'none' };
    const ref = deployState.refOf(event, logId, at.toISOString());
    await Promise.all([
      lane ? deployState.finishInState(triggerId, lane, logId, ref, state) : undefined,
      advanceTrackedImage(trigger, event.tag, event.digest),
    ]);
    await answerDockerHub(event, 'success', `deployed and verified by trigger ${trigger.name}`);
    const ended = { ...entry, status: 'succeeded' as const, reason: succeededReason(entry) ?? undefined };
    await finish(trigger, ended, 'succeeded');
    return { verdict: 'succeeded', trigger, entry: ended };
  }
  const timedOut = !poll.done && at.getTime() >= Date.parse(v.deadline);
  if (poll.done || timedOut) {
    const failure = timedOut
      ? `verification failed: timeout after ${v.timeoutSeconds} s: ${poll.message}`
      : `verification failed: ${poll.message}`;
    const reason = entry.rollbackOf ? `rollback of ${entry.rollbackOf}: ${failure}` : failure;
    if (!(await decide('failed', reason))) return { verdict: 'none' };
    if (lane) await deployState.finishInState(triggerId, lane, logId);
    await answerDockerHub(event, 'failure', reason);
    const ended = { ...entry, status: 'failed' as const, reason };
    await finish(trigger, ended, 'failed', reason);
    return { verdict: 'failed', trigger, entry: ended, lane };
  }
  // not yet: record this poll and look again later (the deadline bounds the wait)
  const written = await store.updateLogStatus(triggerId, logId, {
    status: 'deploying',
    reason: `verifying (${v.pollCount} poll${v.pollCount === 1 ? '' : 's'}, until ${v.deadline}): ${poll.message}`,
    verification: { index, value: v },
    onlyFrom: ['deploying'],
  });
  if (!written) return { verdict: 'none' };
  const next = Math.min(config.verifyPollSeconds(), Math.max(0, (Date.parse(v.deadline) - Date.now()) / 1000));
  await scheduleJob(verifyJob(triggerId, logId), next);
  return { verdict: 'waiting' };
}

/** The checks still open, in order: the target's own, then verify.http. The first one not passed answers. */
async function pollOnce(target: TargetConfig, entry: store.LogEntry, v: store.Verification): Promise<VerifyPoll> {
  const ctx = {
    triggerId: entry.triggerId,
    logId: entry.id,
    event: entry.event!,
    details: entry.attempts.at(-1)?.details,
    allowPrivateTargets: config.allowPrivateTargets(),
  };
  try {
    if (v.checks.includes('target') && !v.targetOk) {
      const own = await targetOf(target)!.verify!(target, ctx);
      if (!own.done || !own.ok || !v.checks.includes('http')) return own;
      v.targetOk = true;
    }
    const http = target.verify ? target.verify.http : undefined;
    if (!http) return { done: true, ok: true, message: 'nothing left to check' };
    return await pollVersionUrl(http, entry.event!, ctx.allowPrivateTargets);
  } catch (err) {
    // a check that throws could not look: try again at the next poll (the deadline bounds it)
    logger.warn('verification poll failed', { logId: entry.id, error: (err as Error).message });
    return { done: false, message: `the check failed: ${(err as Error).message}` };
  }
}

async function finish(
  trigger: Trigger,
  entry: store.LogEntry,
  status: 'succeeded' | 'failed' | 'superseded',
  reason?: string,
): Promise<void> {
  reportOutcome({
    ...deploySubject(trigger, entry.id, { ...entry.event!, image: describeEvent(entry.event!) }),
    status,
    reason,
    attempts: entry.attempts.length,
    receivedAt: entry.receivedAt,
  });
  await notifyOutcome(trigger, entry);
}
