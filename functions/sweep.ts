import { config } from '../lib/core/config';
import { lambdaHandler } from '../lib/core/lambda';
import { reconcileInFlight, type ReconcileReport } from '../lib/deploy/reconcile';

/**
 * Scheduled sweep (EventBridge, serverless.yml `sweep`): queues again the deploys whose entry is still `queued` or
 * `deploying` long after the queue could still hold their message (its retention plus every retry), e.g. a message
 * that expired while the deployer was broken. Normally it finds nothing: retries and the DLQ end every entry.
 */
export const handler = lambdaHandler(async (): Promise<ReconcileReport> => {
  const before = new Date(Date.now() - config.sweepStuckAfterSeconds() * 1000).toISOString();
  return reconcileInFlight({
    cause: 'the sweep found it stuck in flight past the queue retention',
    updatedBefore: before,
    limit: 500,
  });
});
