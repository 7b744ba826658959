/**
 * Amazon ECR pushes arrive as EventBridge events, not webhooks: there is no trigger id, so the triggers
 * are found by repository through the `byRepository` index (one query, whatever the number of triggers),
 * and one event can fire several triggers. Each trigger gets one log entry, as for a webhook.
 */
import type { EventBridgeEvent } from 'aws-lambda';
import { ZodError } from 'zod';
import { dispatch, write, type EntryFactory } from '../match/dispatch';
import { logger } from '../core/logger';
import { recordWebhook } from '../core/metrics';
import { ecrRepositoryKey, normalizeEcrEvent } from './providers/ecr';
import { checkEventLimits, fitEntry } from './limits';
import { eventNameProblem } from '../core/artifact-names';
import { redactBody } from './redact';
import * as store from '../store/store';

/** event fields that name the repository: over their limit, no trigger can be looked up */
const REPOSITORY_FIELDS = new Set(['event.repository', 'event.repoFullName', 'event.namespace', 'event.registry']);

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
    recordWebhook('ecr', 'rejected');
    return { ignored: `malformed event: ${issue?.path.join('.')}: ${issue?.message}`, outcomes: [] };
  }
  if (parsed.kind === 'ignored') {
    logger.info('ECR event ignored', { reason: parsed.reason });
    recordWebhook('ecr', 'ignored');
    return { ignored: parsed.reason, outcomes: [] };
  }
  const body = JSON.stringify(event);
  const outcomes: EcrSummary['outcomes'] = [];
  let ignored: string | undefined;
  for (const ecrEvent of parsed.events) {
    const tooLong = checkEventLimits([ecrEvent]);
    const problem = tooLong ?? eventNameProblem(ecrEvent);
    if (tooLong && REPOSITORY_FIELDS.has(tooLong.field)) {
      // no registry allows such a name, and it cannot be looked up (index keys end at 2 KB): drop it, logged
      logger.warn('malformed ECR event', { field: tooLong.field, error: tooLong.message });
      ignored = `malformed event: ${tooLong.message}`;
      continue;
    }
    const triggers = await store.triggersByRepositoryKey(ecrRepositoryKey(ecrEvent.repoFullName));
    for (const trigger of triggers.filter((t) => t.provider === 'ecr')) {
      const stored = redactBody(body, event, undefined, [trigger.secret, trigger.previousSecret]);
      const entryFor: EntryFactory = (fields) =>
        fitEntry(
          store.newLogEntry({
            triggerId: trigger.id,
            provider: 'ecr',
            origin: 'webhook',
            request: {
              method: 'EVENT',
              path: 'aws.ecr',
              headers: {},
              body: stored,
              bodyBytes: Buffer.byteLength(body),
            },
            ...fields,
          }),
        );
      if (problem) {
        // a field longer than ECR allows (a tag over 128), or a name off its grammar: one `rejected` entry per
        // trigger, as a webhook gets
        const entry = entryFor({ status: 'rejected', reason: problem.message });
        await write(entry);
        outcomes.push({ triggerId: trigger.id, status: 'rejected', log: entry.id });
        continue;
      }
      const outcome = await dispatch(trigger, [ecrEvent], entryFor);
      outcomes.push({ triggerId: trigger.id, status: outcome.status, log: outcome.log });
      // the Webhooks metric, one per trigger the event reached (as one webhook reaches one trigger)
      recordWebhook('ecr', outcome.status === 'unqueued' ? 'unavailable' : outcome.status);
    }
  }
  if (outcomes.some((o) => o.status === 'unqueued')) {
    // Lambda retries the async invocation; triggers already queued answer `duplicate` (same event id).
    throw new Error('some deploys could not be queued; retrying the event');
  }
  return ignored ? { ignored, outcomes } : { outcomes };
}
