/**
 * The one place that turns a deploy attempt or a final deploy outcome into a log line and metrics.
 *
 * Only the fields below are logged: ids, names, provider, image or commit, target type, counts, durations, the
 * target's status code and error. Never a secret, a credential, a target config or a request body; the error is
 * already redacted by the targets and is cut to MAX_ERROR_CHARS here.
 *
 * Levels: an attempt is INFO when it succeeded, WARN when it will be retried, ERROR when it failed for good; an
 * outcome is INFO for succeeded/superseded and ERROR for every failure.
 */
import type { NormalizedEvent } from '../core/event';
import { logger } from '../core/logger';
import { MetricName, MetricUnit, recordMetrics, type MetricValue } from '../core/metrics';

export const MAX_ERROR_CHARS = 500;

/** Who and what a deploy is about: the same fields on every attempt and outcome line. */
export interface DeploySubject {
  triggerId: string;
  triggerName?: string;
  logId: string;
  provider: string;
  /** image reference (registry events) */
  image?: string;
  /** commit id (code-host events) */
  commit?: string;
  /** the trigger's target type: http, kubernetes, ecs, lambda, codebuild */
  targetType?: string;
}

/** `superseded`: the attempt failed and is not retried because a newer event of its lane replaces it. */
export type AttemptOutcome = 'succeeded' | 'retry' | 'superseded' | 'failed';

export interface AttemptReport extends DeploySubject {
  targetType: string;
  /** 1-based; SQS ApproximateReceiveCount */
  attempt: number;
  maxAttempts: number;
  durationMs: number;
  statusCode?: number;
  error?: string;
  outcome: AttemptOutcome;
  /** for `retry`: when the next attempt runs */
  retryInSeconds?: number;
}

/**
 * Final outcomes. Failures: `failed` (not retryable), `given-up` (last attempt failed), `dead-lettered` (the DLQ
 * consumer marked it failed), `refused` (the target URL was refused before sending), `unqueued` (the deploy queue
 * refused the message; the sender was asked to retry).
 */
export type OutcomeStatus =
  'succeeded' | 'superseded' | 'cancelled' | 'failed' | 'given-up' | 'dead-lettered' | 'refused' | 'unqueued';
export const FAILURE_STATUSES: readonly OutcomeStatus[] = [
  'failed',
  'given-up',
  'dead-lettered',
  'refused',
  'unqueued',
];

export interface OutcomeReport extends DeploySubject {
  status: OutcomeStatus;
  /** the reason written to the log entry */
  reason?: string | null;
  /** attempts made (0 when none was) */
  attempts: number;
  /** webhook received -> now; computed from receivedAt when not given */
  latencyMs?: number;
  /** the log entry's receivedAt (ISO), used for latencyMs */
  receivedAt?: string;
  /** time spent at the target over all attempts */
  durationMs?: number;
  /** the last error (cut to MAX_ERROR_CHARS) */
  error?: string;
}

/** The subject of every line about one deploy: `deploySubject(trigger, logId, event)`. */
export function deploySubject(
  trigger: { id: string; name?: string; target?: { type: string } },
  logId: string,
  event: Pick<NormalizedEvent, 'provider' | 'image' | 'commit'>,
): DeploySubject & { targetType: string } {
  return {
    triggerId: trigger.id,
    triggerName: trigger.name,
    logId,
    provider: event.provider,
    image: event.image,
    commit: event.commit?.id,
    targetType: trigger.target?.type ?? 'unknown',
  };
}

/** A failed attempt's final status: `refused` when the outbound URL rules refused the target before sending. */
export function failureStatus(error: string | undefined, gaveUp: boolean): 'refused' | 'failed' | 'given-up' {
  // the target's URL rules refused the send, or the stored config no longer passes them (lib/deploy/targets/index.ts)
  if (error?.startsWith('URL refused') || /^invalid \S+ target: /.test(error ?? '')) return 'refused';
  return gaveUp ? 'given-up' : 'failed';
}

/** provider, image and commit of a normalized event, for DeploySubject. */
export function eventFields(event: Pick<NormalizedEvent, 'provider' | 'image' | 'commit'> | undefined): {
  provider?: string;
  image?: string;
  commit?: string;
} {
  if (!event) return {};
  return { provider: event.provider, image: event.image, commit: event.commit?.id };
}

/**
 * The fields of a `trigger log` line (lib/match/dispatch.ts): one per webhook or ECR event, whatever its status.
 * `logger.info('trigger log', logEntryFields(entry, trigger))`.
 */
export function logEntryFields(
  entry: { id: string; triggerId: string; provider: string; status: string; reason?: string; event?: NormalizedEvent },
  trigger?: { name?: string },
): Record<string, string | undefined> {
  const ev = eventFields(entry.event);
  return {
    triggerId: entry.triggerId,
    triggerName: trigger?.name,
    logId: entry.id,
    provider: entry.provider,
    image: ev.image,
    commit: ev.commit,
    status: entry.status,
    reason: entry.reason,
  };
}

export function reportAttempt(r: AttemptReport): void {
  const fields = {
    ...subject(r),
    targetType: r.targetType,
    attempt: r.attempt,
    maxAttempts: r.maxAttempts,
    durationMs: Math.round(r.durationMs),
    statusCode: r.statusCode,
    outcome: r.outcome,
    retryInSeconds: r.outcome === 'retry' ? r.retryInSeconds : undefined,
    error: cut(r.error),
  };
  if (r.outcome === 'succeeded') logger.info('deploy attempt', fields);
  else if (r.outcome === 'retry' || r.outcome === 'superseded') logger.warn('deploy attempt', fields);
  else logger.error('deploy attempt', fields);
  recordMetrics(
    { targetType: r.targetType, outcome: r.outcome },
    [
      [MetricName.DeployAttempts, MetricUnit.Count, 1],
      [MetricName.DeployDuration, MetricUnit.Milliseconds, Math.round(r.durationMs)],
    ],
    [{ outcome: r.outcome }],
  );
}

export function reportOutcome(r: OutcomeReport, now: Date = new Date()): void {
  const latencyMs = r.latencyMs ?? (r.receivedAt ? Math.max(0, now.getTime() - Date.parse(r.receivedAt)) : undefined);
  const fields = {
    ...subject(r),
    targetType: r.targetType,
    status: r.status,
    reason: r.reason ?? undefined,
    attempts: r.attempts,
    durationMs: r.durationMs !== undefined ? Math.round(r.durationMs) : undefined,
    latencyMs: latencyMs !== undefined && Number.isFinite(latencyMs) ? Math.round(latencyMs) : undefined,
    error: cut(r.error),
  };
  const failure = FAILURE_STATUSES.includes(r.status);
  if (failure) logger.error('deploy outcome', fields);
  else logger.info('deploy outcome', fields);

  const targetType = r.targetType ?? 'unknown';
  const values: MetricValue[] = [[MetricName.Deploys, MetricUnit.Count, 1]];
  if (fields.latencyMs !== undefined)
    values.push([MetricName.DeployLatency, MetricUnit.Milliseconds, fields.latencyMs]);
  recordMetrics({ targetType, status: r.status }, values, [{ status: r.status }]);
  // its own line with `service` as the only dimension: what the failed-deploys alarm watches
  if (failure) recordMetrics({}, [[MetricName.DeploysFailed, MetricUnit.Count, 1]]);
}

function subject(r: DeploySubject) {
  return {
    triggerId: r.triggerId,
    triggerName: r.triggerName,
    logId: r.logId,
    provider: r.provider,
    image: r.image,
    commit: r.commit,
  };
}

function cut(error: string | undefined): string | undefined {
  if (error === undefined || error === null) return undefined;
  const s = String(error);
  return s.length > MAX_ERROR_CHARS ? `${s.slice(0, MAX_ERROR_CHARS - 1)}…` : s;
}
