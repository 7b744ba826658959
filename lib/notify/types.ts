/**
 * The notifier interface. Each notifier type (slack, teams, discord, webhook, eventbridge) is one file exporting
 * a Notifier and its zod schema, registered in ./index.ts (the same pattern as lib/deploy/targets).
 */
import type * as z from 'zod';
import type { Outcome } from './message';

/**
 * Statuses a notifier may listen to (`on`). Kept here rather than read from store.LOG_STATUSES because issue 8
 * adds `duplicate` and `superseded` there; this list already has them. It must stay a superset of LOG_STATUSES.
 */
export const NOTIFY_STATUSES = [
  'untriggered',
  'unauthorized',
  'rejected',
  'duplicate',
  'queued',
  'deploying',
  'succeeded',
  'failed',
  'superseded',
] as const;
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
