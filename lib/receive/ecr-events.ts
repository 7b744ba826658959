/**
 * Amazon ECR pushes arrive as EventBridge events, not webhooks: there is no trigger id, so the triggers
 * are found by repository through the `byRepository` index (one query, whatever the number of triggers),
 * and one event can fire several triggers. Each trigger gets one log entry, as for a webhook.
 */
import type { EventBridgeEvent } from 'aws-lambda';
import { ZodError } from 'zod';
import { dispatch } from '../match/dispatch';
import { logger } from '../core/logger';
import { ecrRepositoryKey, normalizeEcrEvent } from './providers/ecr';
import { checkEventLimits, fitEntry } from './limits';
import { redactBody } from './redact';
import * as store from '../store/store';

export interface EcrSummary {
  ignored?: string;
  outcomes: Array<{ triggerId: string; status: string; log: string }>;
}

export async function handleEcrEvent(event: EventBridgeEvent<string, unknown>): Promise<EcrSummary> {
  let parsed;
  try {
    parsed = normalizeEcrEvent(event);
  } catch (e) {
    if (!(e instanceof ZodError)) throw e;
    // a retry cannot fix a malformed event: log it and drop it
    const issue = e.issues[0];
    logger.warn('malformed ECR event', { field: issue?.path.join('.'), error: issue?.message });
    return { ignored: `malformed event: ${issue?.path.join('.')}: ${issue?.message}`, outcomes: [] };
  }
  if (parsed.kind === 'ignored') {
    logger.info('ECR event ignored', { reason: parsed.reason });
    return { ignored: parsed.reason, outcomes: [] };
  }
  const tooLong = checkEventLimits(parsed.events);
  if (tooLong) {
    // no trigger can be told apart by a name no registry allows: drop it like a malformed event
    logger.warn('malformed ECR event', { field: tooLong.field, error: tooLong.message });
    return { ignored: `malformed event: ${tooLong.message}`, outcomes: [] };
  }
  const body = JSON.stringify(event);
  const outcomes: EcrSummary['outcomes'] = [];
  for (const ecrEvent of parsed.events) {
    const triggers = await store.triggersByRepositoryKey(ecrRepositoryKey(ecrEvent.repoFullName));
    for (const trigger of triggers.filter((t) => t.provider === 'ecr')) {
      const stored = redactBody(body, event, undefined, [trigger.secret, trigger.previousSecret]);
      const outcome = await dispatch(trigger, [ecrEvent], (fields) =>
        fitEntry(
          store.newLogEntry({
            triggerId: trigger.id,
            provider: 'ecr',
            request: { method: 'EVENT', path: 'aws.ecr', headers: {}, body: stored, bodyBytes: Buffer.byteLength(body) },
            ...fields,
          }),
        ),
      );
      outcomes.push({ triggerId: trigger.id, status: outcome.status, log: outcome.log });
    }
  }
  if (outcomes.some((o) => o.status === 'unqueued')) {
    // Lambda retries the async invocation; triggers already queued answer `duplicate` (same event id).
    throw new Error('some deploys could not be queued; retrying the event');
  }
  return { outcomes };
}
