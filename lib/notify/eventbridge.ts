/**
 * `eventbridge` notifier: one PutEvents entry on the account's default event bus, so AWS users can route outcomes
 * anywhere with a rule: `source` "triggerfish", `detail-type` "Deploy Succeeded" / "Deploy Failed" / "Deploy
 * Superseded" / ... (see detailTypeOf), `detail` the same JSON as the signed webhook's body (./message Outcome).
 * The deployer's role needs events:PutEvents on the default bus.
 */
import type { EventBridgeClient, PutEventsCommandInput } from '@aws-sdk/client-eventbridge';
import * as z from 'zod';
import { config as settings } from '../core/config';
import { lazy } from '../core/lazy';
import { onSchema } from './common';
import type { Outcome } from './message';
import type { Notifier } from './types';

export const eventbridgeNotifierSchema = z.strictObject({
  type: z.literal('eventbridge'),
  on: onSchema,
});
export type EventBridgeNotifierConfig = z.infer<typeof eventbridgeNotifierSchema>;

export const EVENT_SOURCE = 'triggerfish';

// the SDK client is loaded on the first EventBridge notification, not in every deployer and DLQ cold start
const eventBridgeSdk = /* @__PURE__ */ lazy(() => import('@aws-sdk/client-eventbridge'));
let client: EventBridgeClient | undefined;
async function eventBridge(): Promise<{
  client: EventBridgeClient;
  sdk: typeof import('@aws-sdk/client-eventbridge');
}> {
  const sdk = await eventBridgeSdk();
  // one attempt per send: index.ts retries every notifier the same way
  client ??= new sdk.EventBridgeClient({ region: settings.region(), maxAttempts: 1 });
  return { client, sdk };
}

/** "Deploy Succeeded", "Deploy Failed", "Deploy Superseded", "Deploy Duplicate", ... */
export function detailTypeOf(status: string): string {
  return `Deploy ${status.charAt(0).toUpperCase()}${status.slice(1)}`;
}

export function putEventsInput(o: Outcome): PutEventsCommandInput {
  return { Entries: [{ Source: EVENT_SOURCE, DetailType: detailTypeOf(o.status), Detail: JSON.stringify(o) }] };
}

const RETRYABLE_CODES = new Set(['ThrottlingException', 'InternalFailure', 'InternalException', 'ServiceUnavailable']);

/** The config as admin answers show it (a function of its own: see ./index.ts `redactors`). */
export function redactEventbridgeNotifier(config: EventBridgeNotifierConfig): EventBridgeNotifierConfig {
  return { ...config };
}

export const eventbridgeNotifier: Notifier<EventBridgeNotifierConfig> = {
  type: 'eventbridge',
  schema: eventbridgeNotifierSchema,

  async send(_config, outcome, ctx) {
    try {
      const { client: eb, sdk } = await eventBridge();
      const out = await eb.send(new sdk.PutEventsCommand(putEventsInput(outcome)), {
        abortSignal: AbortSignal.timeout(ctx.timeoutMs),
      });
      const statusCode = out.$metadata?.httpStatusCode;
      const failed = out.Entries?.find((e) => e.ErrorCode);
      if ((out.FailedEntryCount ?? 0) > 0 || failed) {
        const code = failed?.ErrorCode ?? 'FailedEntry';
        return {
          ok: false,
          retryable: RETRYABLE_CODES.has(code),
          statusCode,
          error: `${code}: ${failed?.ErrorMessage ?? 'entry not put'}`,
        };
      }
      return { ok: true, retryable: false, statusCode };
    } catch (err) {
      const e = err as Error & { $metadata?: { httpStatusCode?: number }; $retryable?: unknown; $fault?: string };
      const statusCode = e.$metadata?.httpStatusCode;
      const retryable =
        Boolean(e.$retryable) ||
        e.$fault === 'server' ||
        statusCode === undefined ||
        statusCode >= 500 ||
        statusCode === 429 ||
        RETRYABLE_CODES.has(e.name);
      return { ok: false, retryable, statusCode, error: `${e.name ?? 'Error'}: ${e.message ?? String(err)}` };
    }
  },

  redact: redactEventbridgeNotifier,
  secrets: () => [],
};
