/**
 * CloudWatch metrics as Powertools embedded metric format (EMF): JSON lines on stdout that CloudWatch Logs turns
 * into metrics, so recording one costs no API call on the hot path.
 *
 * Dimensions stay low-cardinality: service, provider, targetType, status/outcome, never trigger or log ids (those
 * are in the log line next to it). Each data point is published at once in its own EMF line, because one EMF line
 * has one value per dimension and one deployer batch holds deploys of different target types and outcomes; the
 * `logMetrics` middleware (lib/receive/handlers.ts) flushes whatever a throwing handler left behind.
 *
 * Namespace: POWERTOOLS_METRICS_NAMESPACE (serverless.yml `custom.metricsNamespace`), default `Triggerfish`.
 * Off with POWERTOOLS_METRICS_DISABLED=true (the local stack's default, so the console is not flooded).
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logger } from './logger';

export const METRICS_NAMESPACE = 'Triggerfish';

/** Metric names: the dashboard and alarms in serverless.yml use these. */
export const MetricName = {
  /** every webhook or ECR event answered; dimensions provider, status (the answer) */
  Webhooks: 'Webhooks',
  /** every deploy attempt; dimensions targetType, outcome (succeeded | retry | failed) */
  DeployAttempts: 'DeployAttempts',
  /** time one attempt took at the target, ms; same dimensions as DeployAttempts */
  DeployDuration: 'DeployDuration',
  /** every final deploy outcome; dimensions targetType, status */
  Deploys: 'Deploys',
  /** final outcomes that are failures (failed, given-up, dead-lettered, refused, unqueued); dimension service only: the alarm's metric */
  DeploysFailed: 'DeploysFailed',
  /** webhook received -> final outcome, ms; dimensions targetType, status */
  DeployLatency: 'DeployLatency',
} as const;

/**
 * Powertools Metrics reports its own problems (e.g. "No application metrics to publish" when a handler recorded
 * none: everything here is published as it happens, so the middleware's flush usually finds nothing) through this
 * logger: warnings as debug lines, so they do not flood CloudWatch, errors as errors.
 */
const diagnostics = {
  debug: (...args: unknown[]) => logger.debug(String(args[0]), { source: 'metrics' }),
  info: (...args: unknown[]) => logger.debug(String(args[0]), { source: 'metrics' }),
  warn: (...args: unknown[]) => logger.debug(String(args[0]), { source: 'metrics' }),
  error: (...args: unknown[]) => logger.error(String(args[0]), { source: 'metrics' }),
};

export function createMetrics(): Metrics {
  return new Metrics({
    namespace: process.env.POWERTOOLS_METRICS_NAMESPACE || METRICS_NAMESPACE,
    serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'triggerfish',
    logger: diagnostics,
  });
}

export const metrics = createMetrics();

export type MetricValue = [name: string, unit: (typeof MetricUnit)[keyof typeof MetricUnit], value: number];

/**
 * Publishes the values now, in one EMF line with `dimensions` (plus `service`). `alsoBy` adds coarser dimension
 * sets of the same values, e.g. by status alone across every target type.
 */
export function recordMetrics(
  dimensions: Record<string, string>,
  values: MetricValue[],
  alsoBy: Record<string, string>[] = [],
): void {
  try {
    for (const [name, value] of Object.entries(dimensions)) metrics.addDimension(name, value);
    for (const set of alsoBy) metrics.addDimensions(set);
    for (const [name, unit, value] of values) {
      if (Number.isFinite(value)) metrics.addMetric(name, unit, value);
    }
    metrics.publishStoredMetrics();
  } catch (err) {
    // a metric must never fail a webhook or a deploy
    logger.warn('metrics not recorded', { error: (err as Error).message });
    metrics.clearMetrics();
    metrics.clearDimensions();
  }
}

/** Answer statuses of the webhook metric, from the HTTP answer. */
export type WebhookStatus =
  | 'triggered'
  | 'untriggered'
  | 'duplicate'
  | 'unauthorized'
  | 'rejected'
  | 'unknown-trigger'
  | 'unavailable'
  | 'ignored'
  | 'other';

export function recordWebhook(provider: string, status: WebhookStatus): void {
  recordMetrics({ provider, status }, [[MetricName.Webhooks, MetricUnit.Count, 1]], [{ status }]);
}

/** What a webhook answer says, for the metric: the body's status for 2xx, the HTTP code's meaning otherwise. */
export function webhookStatus(statusCode: number | undefined, body: string | undefined): WebhookStatus {
  if (statusCode !== undefined && statusCode >= 200 && statusCode < 300) {
    try {
      const status = (JSON.parse(body ?? '{}') as { status?: unknown }).status;
      if (status === 'triggered' || status === 'untriggered' || status === 'duplicate') return status;
    } catch {
      // not JSON: counted as other
    }
    return 'other';
  }
  switch (statusCode) {
    case 400:
    case 413:
      return 'rejected';
    case 401:
      return 'unauthorized';
    case 404:
      return 'unknown-trigger';
    case 503:
      return 'unavailable';
    default:
      return 'other';
  }
}

export { MetricUnit };
