/**
 * The notifier registry and the one entry point the deployer calls after an outcome is recorded: notifyOutcome.
 * A new notifier type is one new file exporting a Notifier, its zod schema (a z.object with a `type` literal) and
 * its redact function, added to the schemas, `redactors` and `notifiers` below (the type checker refuses a registry
 * that misses one). Redaction has its own list so that what the admin functions use never refers to a notifier's
 * send code: esbuild then leaves the send code and the libraries it loads on first use out of the admin bundles.
 *
 * A notification never fails, delays for long or repeats a deploy: notifyOutcome never throws, sends every
 * notifier in parallel with a short timeout and at most one retry (well under 10 s in all), and records each
 * result in the log entry (`notifications`, lib/store/notifications.ts).
 */
import * as z from 'zod';
import { config } from '../core/config';
import { logger } from '../core/logger';
import { appendNotifications, type NotificationRecord } from '../store/notifications';
import type { LogEntry } from '../store/store';
import type { Trigger } from '../trigger';
import { redactValues } from './common';
import { discordNotifier, discordNotifierSchema, redactDiscordNotifier } from './discord';
import { eventbridgeNotifier, eventbridgeNotifierSchema, redactEventbridgeNotifier } from './eventbridge';
import { outcomeOf, type Outcome } from './message';
import { redactSlackNotifier, slackNotifier, slackNotifierSchema } from './slack';
import { redactTeamsNotifier, teamsNotifier, teamsNotifierSchema } from './teams';
import { restoreRedacted } from '../core/restore-redacted';
import { DEFAULT_ON, REDACTED, type Notifier, type SendResult } from './types';
import {
  newSigningSecret,
  redactWebhookNotifier,
  storedWebhookNotifierSchema,
  webhookNotifier,
  webhookNotifierSchema,
} from './webhook';

export { NOTIFY_STATUSES, DEFAULT_ON, REDACTED, type NotifyStatus } from './types';
export type { Outcome } from './message';
export type { NotificationRecord, NotifiedLogEntry } from '../store/notifications';

/** at most this many notifiers per trigger */
export const MAX_NOTIFIERS = 10;

/** One entry of a trigger's `notify` as the admin API accepts it (create and PATCH). */
export const notifierInputSchema = z.discriminatedUnion('type', [
  slackNotifierSchema,
  teamsNotifierSchema,
  discordNotifierSchema,
  webhookNotifierSchema,
  eventbridgeNotifierSchema,
]);
export const notifyInputSchema = z.array(notifierInputSchema).max(MAX_NOTIFIERS);
export type NotifierInput = z.infer<typeof notifierInputSchema>;

/** As stored on the trigger (webhook notifiers carry their signing secret), and as DEFAULT_NOTIFY gives them. */
export const notifierConfigSchema = z.discriminatedUnion('type', [
  slackNotifierSchema,
  teamsNotifierSchema,
  discordNotifierSchema,
  storedWebhookNotifierSchema,
  eventbridgeNotifierSchema,
]);
export type NotifierConfig = z.infer<typeof notifierConfigSchema>;
export type NotifierType = NotifierConfig['type'];

type NotifierFor<T extends NotifierType> = Notifier<Extract<NotifierConfig, { type: T }>>;

/** Each notifier's redaction, keyed by type (for the admin API; see above why it is not read off `notifiers`). */
const redactors: { [T in NotifierType]: NotifierFor<T>['redact'] } = {
  slack: redactSlackNotifier,
  teams: redactTeamsNotifier,
  discord: redactDiscordNotifier,
  webhook: redactWebhookNotifier,
  eventbridge: redactEventbridgeNotifier,
};

/** Every notifier, keyed by type. */
export const notifiers: { [T in NotifierType]: NotifierFor<T> } = {
  slack: slackNotifier,
  teams: teamsNotifier,
  discord: discordNotifier,
  webhook: webhookNotifier,
  eventbridge: eventbridgeNotifier,
};

function lookup(type: unknown): Notifier<NotifierConfig> | undefined {
  return typeof type === 'string' && Object.prototype.hasOwnProperty.call(notifiers, type)
    ? (notifiers[type as NotifierType] as unknown as Notifier<NotifierConfig>)
    : undefined;
}

// ---------- admin: redaction, secrets ----------

/** A notifier as admin answers show it: URL credentials replaced by REDACTED, signing secrets removed. */
export function redactNotifier(n: NotifierConfig): NotifierConfig {
  const redact =
    typeof n.type === 'string' && Object.prototype.hasOwnProperty.call(redactors, n.type)
      ? (redactors[n.type] as unknown as (c: NotifierConfig) => NotifierConfig)
      : undefined;
  return redact ? redact(n) : ({ type: n.type, on: n.on } as NotifierConfig);
}

export function redactNotify(list: readonly NotifierConfig[] | undefined): NotifierConfig[] | undefined {
  return list?.map(redactNotifier);
}

/** Where a trigger body's `notify` went wrong, e.g. {field: "notify.0.url", message: "..."}. */
export interface NotifyProblem {
  field: string;
  message: string;
}

/**
 * Turns a validated `notify` input into what is stored, given what was stored before (PATCH):
 * - a webhook entry with the same URL as a stored one keeps its signing secret; a new one gets a fresh secret;
 * - a URL sent back as shown by the admin API (with `[redacted]` in it) stands for the stored URL it came from.
 * Returns the list and the secrets generated now (by index), which the answer shows once.
 */
export function prepareNotify(
  input: readonly NotifierInput[],
  previous: readonly NotifierConfig[] = [],
): { ok: true; notify: NotifierConfig[]; newSecrets: Map<number, string> } | { ok: false; problem: NotifyProblem } {
  const unused = [...previous];
  const take = (pred: (p: NotifierConfig) => boolean): NotifierConfig | undefined => {
    const i = unused.findIndex(pred);
    return i < 0 ? undefined : unused.splice(i, 1)[0];
  };
  const notify: NotifierConfig[] = [];
  const newSecrets = new Map<number, string>();
  for (const [i, entry] of input.entries()) {
    if (!('url' in entry)) {
      notify.push(entry);
      continue;
    }
    const sameUrl = (p: NotifierConfig) => p.type === entry.type && 'url' in p && p.url === entry.url;
    const shownUrl = (p: NotifierConfig) =>
      p.type === entry.type && 'url' in p && (redactNotifier(p) as { url: string }).url === entry.url;
    const before = take(sameUrl) ?? (entry.url.includes(REDACTED) ? take(shownUrl) : undefined);
    if (!before && entry.url.includes(REDACTED)) {
      return {
        ok: false,
        problem: {
          field: `notify.${i}.url`,
          message: `invalid notify.${i}.url: ${REDACTED} stands for a stored URL, but no stored ${entry.type} notifier shows this URL; give the full URL`,
        },
      };
    }
    const url =
      before && 'url' in before
        ? (restoreRedacted(entry.url, before.url, (redactNotifier(before) as { url: string }).url).value as string)
        : entry.url;
    if (entry.type === 'webhook') {
      if (before?.type === 'webhook') {
        notify.push({ ...entry, url, secret: before.secret, ...previousSecretOf(before) });
      } else {
        const secret = newSigningSecret();
        newSecrets.set(i, secret);
        notify.push({ ...entry, url, secret });
      }
    } else {
      notify.push({ ...entry, url } as NotifierConfig);
    }
  }
  return { ok: true, notify, newSecrets };
}

function previousSecretOf(n: Extract<NotifierConfig, { type: 'webhook' }>) {
  return n.previousSecret
    ? { previousSecret: n.previousSecret, previousSecretExpiresAt: n.previousSecretExpiresAt }
    : {};
}

/**
 * New signing secrets for every webhook notifier; each previous secret keeps signing (as a second signature)
 * for `graceSeconds`. Returns the list and the new secrets by index.
 */
export function rotateNotifySecrets(
  list: readonly NotifierConfig[],
  graceSeconds: number,
  nowMs = Date.now(),
): { notify: NotifierConfig[]; newSecrets: Map<number, string> } {
  const newSecrets = new Map<number, string>();
  const notify = list.map((n, i) => {
    if (n.type !== 'webhook') return n;
    const secret = newSigningSecret();
    newSecrets.set(i, secret);
    return { ...n, secret, previousSecret: n.secret, previousSecretExpiresAt: Math.floor(nowMs / 1000) + graceSeconds };
  });
  return { notify, newSecrets };
}

/** The redacted list with the secrets generated now shown (`secret`) on their entries: for the one answer that shows them. */
export function showNewSecrets(
  list: readonly NotifierConfig[],
  newSecrets: Map<number, string>,
): Array<NotifierConfig | (NotifierConfig & { secret: string })> {
  return list.map((n, i) => {
    const shown = redactNotifier(n);
    const secret = newSecrets.get(i);
    return secret ? { ...shown, secret } : shown;
  });
}

// ---------- DEFAULT_NOTIFY ----------

let defaultsCache: { raw: string; list: NotifierConfig[] } | undefined;

/**
 * The notifiers every trigger has besides its own: DEFAULT_NOTIFY, a JSON array of notifier entries as in a trigger
 * body; a `webhook` entry there must bring its own `secret` (whsec_..., there is no answer to show a generated one).
 * Parsed and validated once per value; throws naming the bad field when invalid.
 */
export function defaultNotify(raw = config.defaultNotify()): NotifierConfig[] {
  if (defaultsCache?.raw === raw) return defaultsCache.list;
  let list: NotifierConfig[] = [];
  if (raw.trim()) {
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (e) {
      throw new Error(`DEFAULT_NOTIFY is not JSON: ${(e as Error).message}`, { cause: e });
    }
    const parsed = z.array(notifierConfigSchema).max(MAX_NOTIFIERS).safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new Error(
        `DEFAULT_NOTIFY is invalid at ${['DEFAULT_NOTIFY', ...issue.path.map(String)].join('.')}: ${issue.message}`,
      );
    }
    list = parsed.data;
  }
  defaultsCache = { raw, list };
  return list;
}

// ---------- sending ----------

export interface NotifyOptions {
  /** per attempt (default 4 s) */
  timeoutMs?: number;
  /** pause before the one retry (default 500 ms) */
  retryDelayMs?: number;
  /** attempts per notifier (default 2) */
  attempts?: number;
  /** the default notifiers (default: DEFAULT_NOTIFY) */
  defaults?: NotifierConfig[];
}

export const NOTIFY_TIMEOUT_MS = 4000;
export const NOTIFY_RETRY_DELAY_MS = 500;
export const NOTIFY_ATTEMPTS = 2;
const ERROR_LIMIT = 500;

/** The trigger's notifiers and the defaults whose `on` lists this status. */
export function notifiersFor(
  trigger: Pick<Trigger, 'notify'>,
  status: string,
  defaults: readonly NotifierConfig[],
): NotifierConfig[] {
  return [...(trigger.notify ?? []), ...defaults].filter((n) =>
    ((n.on ?? DEFAULT_ON) as readonly string[]).includes(status),
  );
}

/** Sends one notifier with the brief retry; never throws. */
export async function sendOne(
  n: NotifierConfig,
  outcome: Outcome,
  opts: NotifyOptions = {},
): Promise<NotificationRecord> {
  const notifier = lookup(n?.type);
  const type = typeof n?.type === 'string' ? n.type : 'unknown';
  const record = (r: SendResult, attempts: number): NotificationRecord => ({
    type,
    status: outcome.status,
    at: new Date().toISOString(),
    attempts,
    ...(r.statusCode !== undefined ? { statusCode: r.statusCode } : {}),
    ...(r.ok ? {} : { error: clean(r.error ?? 'failed', notifier ? safeSecrets(notifier, n) : []) }),
  });
  if (!notifier)
    return record({ ok: false, retryable: false, error: `unknown notifier type ${JSON.stringify(n?.type)}` }, 0);
  // stored configs are validated again: the rules may have tightened since the trigger was saved
  const parsed = notifier.schema.safeParse(n);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue.path.length ? `${issue.path.join('.')}: ` : '';
    return record({ ok: false, retryable: false, error: `invalid ${type} notifier: ${where}${issue.message}` }, 0);
  }
  const maxAttempts = Math.max(1, opts.attempts ?? NOTIFY_ATTEMPTS);
  const ctx = { allowPrivate: config.allowPrivateTargets(), timeoutMs: opts.timeoutMs ?? NOTIFY_TIMEOUT_MS };
  let last: SendResult = { ok: false, retryable: false, error: 'not sent' };
  let made = 0;
  while (made < maxAttempts) {
    made++;
    try {
      last = await notifier.send(parsed.data, outcome, ctx);
    } catch (err) {
      // notifiers answer ok:false themselves; a throw is a bug, recorded like a network error
      last = { ok: false, retryable: true, error: (err as Error)?.message ?? String(err) };
    }
    if (last.ok || !last.retryable || made === maxAttempts) break;
    await new Promise((r) => setTimeout(r, opts.retryDelayMs ?? NOTIFY_RETRY_DELAY_MS));
  }
  return record(last, made);
}

function safeSecrets(notifier: Notifier<NotifierConfig>, n: NotifierConfig): string[] {
  try {
    return notifier.secrets(n);
  } catch {
    return [];
  }
}

function clean(error: string, secrets: string[]): string {
  const out = redactValues(error, secrets);
  return out.length > ERROR_LIMIT ? `${out.slice(0, ERROR_LIMIT)}…` : out;
}

/** Sends every matching notifier in parallel and answers their records (nothing is stored). Never throws. */
export async function sendNotifications(
  trigger: Trigger,
  entry: LogEntry,
  opts: NotifyOptions = {},
): Promise<NotificationRecord[]> {
  let defaults: NotifierConfig[] = opts.defaults ?? [];
  if (!opts.defaults) {
    try {
      defaults = defaultNotify();
    } catch (err) {
      logger.error('DEFAULT_NOTIFY ignored', { error: (err as Error).message });
    }
  }
  const list = notifiersFor(trigger, entry.status, defaults);
  if (list.length === 0) return [];
  const outcome = outcomeOf(trigger, entry, config.publicBaseUrl());
  return Promise.all(list.map((n) => sendOne(n, outcome, opts)));
}

/**
 * Call after an outcome is recorded (the entry as stored, with its final status and attempts). Sends the trigger's
 * notifiers and the DEFAULT_NOTIFY ones whose `on` includes entry.status, and appends their results to the entry's
 * `notifications`. Never throws; takes at most about 2 × timeout + retry delay (≈ 8.5 s with the defaults).
 */
export async function notifyOutcome(trigger: Trigger, entry: LogEntry, opts: NotifyOptions = {}): Promise<void> {
  try {
    const records = await sendNotifications(trigger, entry, opts);
    for (const r of records) {
      const fields = {
        triggerId: trigger.id,
        logId: entry.id,
        notifier: r.type,
        status: r.status,
        statusCode: r.statusCode,
        attempts: r.attempts,
      };
      if (r.error) logger.warn('notification failed', { ...fields, error: r.error });
      else logger.info('notification sent', fields);
    }
    if (records.length) await appendNotifications(trigger.id, entry.id, records);
  } catch (err) {
    logger.error('notifications not recorded', {
      triggerId: trigger?.id,
      logId: entry?.id,
      error: (err as Error)?.message ?? String(err),
    });
  }
}
