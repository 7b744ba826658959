/**
 * The notifier interface. Each notifier type (slack, teams, discord, webhook, eventbridge) is one file exporting
 * a Notifier and its zod schema, registered in ./index.ts (the same pattern as lib/deploy/targets).
 */
import type * as z from 'zod';
import type { Outcome } from './message';

/**
 * Statuses a notifier may listen to (`on`): the outcomes of deploys, which the deployer (and the DLQ consumer)
 * decide and then notify about. Statuses decided while a webhook is answered (untriggered, duplicate, unauthorized,
 * rejected) are not notified: the receiver answers the sender at once and never waits on a notification. They are
 * read in the trigger log (and counted in the webhook metrics).
 */
export const NOTIFY_STATUSES = ['succeeded', 'failed', 'superseded', 'cancelled'] as const;
export type NotifyStatus = (typeof NOTIFY_STATUSES)[number];
export const DEFAULT_ON: NotifyStatus[] = ['succeeded', 'failed'];

export interface SendContext {
  /** ALLOW_PRIVATE_TARGETS: loopback/private destinations allowed (local runs) */
  allowPrivate: boolean;
  /** this attempt's timeout (ms) */
  timeoutMs: number;
}

/** One send attempt's result. `error` never contains the notifier's URL path/query or a signing secret. */
export interface SendResult {
  ok: boolean;
  /** worth one more try (network error, timeout, 5xx, 429) */
  retryable: boolean;
  statusCode?: number;
  error?: string;
}

export interface Notifier<C extends { type: string }> {
  type: C['type'];
  /** validates the notifier config when a trigger is created or changed (and DEFAULT_NOTIFY) */
  schema: z.ZodType<C>;
  /** sends one message; never throws for an expected failure (answers ok:false) */
  send(config: C, outcome: Outcome, ctx: SendContext): Promise<SendResult>;
  /** a copy for admin answers: URL credentials and signing secrets replaced or removed */
  redact(config: C): C;
  /** values that must never appear in errors (URL path, query, secrets): redacted by value */
  secrets(config: C): string[];
}

export const REDACTED = '[redacted]';
