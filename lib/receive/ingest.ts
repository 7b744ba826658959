/**
 * The webhook pipeline, the same for every provider:
 * request -> trigger lookup -> verify -> parse/normalize -> dispatch (match, dedup, log, enqueue) -> answer.
 * Every request that reaches a known trigger leaves exactly one log entry. Storage or queue failures
 * answer 503 (the sender retries) and never lose an event silently.
 */
import { createHash } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { ZodError } from 'zod';
import { dispatch, write } from '../match/dispatch';
import type { NormalizedEvent } from '../core/event';
import type { Origin } from '../core/origin';
import { decodeBody } from './body';
import { json, loggedHeaders, lowerHeaders, rawBodyBuffer, rawBodyBytes, zodIssue, type HttpResult } from './http';
import { logger } from '../core/logger';
import { RequestFieldError, type ParseResult, type Provider, type WebhookRequest } from './providers/types';
import { eventProblem, fitEntry, fitEvents, MAX_BODY_BYTES } from './limits';
import { redactBody, redactEntryValues, redactHeaders, redactQuery } from './redact';
import { secretSet, type SecretSet } from '../core/redact-values';
import * as store from '../store/store';
import type { Trigger } from '../trigger';

const TRIGGER_ID = /^[a-f0-9]{24}$/;

/**
 * `origin` is what the caller is: the webhook routes are senders (`webhook`); the admin API's test route runs its
 * sample through here as `test`. Nothing in the request can change it.
 */
export async function handleWebhook(
  provider: Provider,
  event: APIGatewayProxyEventV2,
  origin: Origin = 'webhook',
): Promise<HttpResult> {
  try {
    return await ingest(provider, event, origin);
  } catch (err) {
    // Storage unavailable: 503 makes the sender retry instead of losing the event.
    logger.error('webhook could not be processed', { provider: provider.id, error: (err as Error).message });
    return json(503, { message: 'temporarily unavailable, retry later' });
  }
}

async function ingest(provider: Provider, event: APIGatewayProxyEventV2, origin: Origin): Promise<HttpResult> {
  const triggerId = event.pathParameters?.triggerId ?? '';
  const trigger = TRIGGER_ID.test(triggerId) ? await store.getTrigger(triggerId) : undefined;
  if (!trigger || trigger.provider !== provider.id) return json(404, { message: 'unknown trigger' });

  const headers = lowerHeaders(event.headers);
  const query = (event.queryStringParameters ?? {}) as Record<string, string>;
  const bytes = rawBodyBytes(event);
  const raw = bytes > MAX_BODY_BYTES ? Buffer.alloc(0) : rawBodyBuffer(event);
  const text = raw.toString('utf8');
  // decoded before verify only because the api provider's credential is in the body; a decoding error is
  // answered after the credential check, so a bad body never hides a bad signature
  const decoded = decodeBody(raw, headers['content-type'], { formPayload: provider.formPayload });
  const body = decoded.ok ? decoded.body : undefined;
  const req: WebhookRequest = { headers, query, rawBody: text, rawBytes: raw, body };
  // every secret of the trigger, also an expired previous one: none of them is ever stored
  const secrets = secretSet([trigger.secret, trigger.previousSecret]);
  let request: store.LogEntry['request'];
  // the request part is the same for every entry of this request: redact it once
  const requestRecord = () =>
    (request ??= loggedRequest(provider, event, { headers, query, text, body, bytes }, secrets));
  const entryFor = (fields: Partial<store.LogEntry> & { status: store.LogStatus }) =>
    fitEntry(
      redactEntryValues(
        store.newLogEntry({
          triggerId: trigger.id,
          provider: provider.id,
          origin,
          request: requestRecord(),
          ...fields,
        }),
        secrets,
      ),
    );
  const refuse = async (status: 'rejected' | 'unauthorized', code: number, reason: string, extra: object = {}) => {
    const entry = entryFor({ status, reason });
    await write(entry, trigger);
    const said = entry.reason ?? reason;
    return json(code, {
      message: status === 'unauthorized' ? 'unauthorized' : said,
      reason: said,
      ...extra,
      log: entry.id,
    });
  };

  if (bytes > MAX_BODY_BYTES) return refuse('rejected', 413, `body of ${bytes} bytes is over the 1 MiB limit`);
  const now = new Date();
  let verified;
  try {
    verified = provider.verify(req, acceptedSecrets(trigger, now), now);
  } catch (e) {
    // a malformed credential must not become a 503 (the sender would retry for ever)
    logger.warn('credential check failed on malformed input', { provider: provider.id, error: (e as Error).name });
    verified = { ok: false as const, reason: 'credential could not be checked: malformed request' };
  }
  if (!verified.ok) return refuse('unauthorized', 401, verified.reason);
  if (!decoded.ok) return refuse('rejected', 400, decoded.reason, { field: decoded.field });

  const read = parseForTrigger(provider, req, trigger, 'body');
  if (!read.ok) return refuse('rejected', 400, read.message, { field: read.field });
  const parsed = read.parsed;
  if (parsed.kind === 'ignored') {
    const entry = entryFor({ status: 'untriggered', reason: parsed.reason, event: parsed.event as NormalizedEvent });
    await write(entry, trigger);
    return json(202, { log: entry.id, status: 'untriggered', reason: entry.reason });
  }

  // every name against its length limit and its grammar, once, for every provider
  const problems = parsed.events.map(eventProblem);
  const firstBad = problems.findIndex((p) => p !== undefined);
  if (firstBad >= 0 && !parsed.batch) {
    const problem = problems[firstBad]!;
    return refuse('rejected', 400, problem.message, { field: problem.field });
  }
  // a batching sender: each bad event is one `rejected` entry of its own, the good ones go on, the answer is 2xx
  const rejected: Array<{ log: string; field: string; reason: string }> = [];
  for (const [i, problem] of problems.entries()) {
    if (!problem) continue;
    const bad = parsed.events[i];
    const entry = entryFor({ status: 'rejected', reason: problem.message, event: bad, deliveryId: bad.deliveryId });
    await write(entry, trigger);
    rejected.push({ log: entry.id, field: problem.field, reason: entry.reason ?? problem.message });
  }
  const good = parsed.events.filter((_, i) => problems[i] === undefined);
  if (good.length === 0) {
    const [first] = rejected;
    return json(202, { log: first.log, status: 'rejected', reason: first.reason, field: first.field, rejected });
  }
  const also = rejected.length > 0 ? { rejected } : {};

  // the exact bytes received: a sender without delivery ids re-sends the same bytes
  const bodySha256 = createHash('sha256').update(raw).digest('hex');
  const outcome = await dispatch(trigger, fitEvents(good), entryFor, { bodySha256 });
  switch (outcome.status) {
    case 'triggered':
      return json(202, { log: outcome.log, status: 'triggered', ...also });
    case 'untriggered':
      return json(202, { log: outcome.log, status: 'untriggered', reason: outcome.reason, ...also });
    case 'duplicate':
      // the contract names the first delivery's entry; this request's own entry is `duplicate` in the log
      return json(200, { status: 'duplicate', log: outcome.duplicateOf });
    case 'unqueued':
      return json(503, { message: 'could not queue the deploy, retry later', log: outcome.log });
  }
}

/**
 * The request as the trigger log keeps it: without the headers API Gateway adds, credentials redacted (by name and
 * by the trigger's secrets, `secrets`), the body cut to MAX_LOGGED_BODY. `body` is the decoded body, if it decoded.
 */
export function loggedRequest(
  provider: Provider,
  event: APIGatewayProxyEventV2,
  parts: { headers: Record<string, string>; query: Record<string, string>; text: string; body: unknown; bytes: number },
  secrets: SecretSet,
): NonNullable<store.LogEntry['request']> {
  return {
    method: event.requestContext?.http?.method ?? 'POST',
    path: event.rawPath ?? '',
    query: redactQuery(parts.query, secrets),
    headers: redactHeaders(loggedHeaders(parts.headers, parts.bytes), provider, secrets),
    // an undecodable body is redacted by value only (its fields cannot be found)
    body: redactBody(parts.text, parts.body, provider, secrets),
    bodyBytes: parts.bytes,
  };
}

/**
 * The provider's parse for this trigger, with every way it can refuse the input as a message naming the field
 * (`prefix` is what the caller calls the body: `body` for a webhook, `payload` for the admin API's dry run).
 * Never throws for bad input: whatever made normalization fail is the sender's input, not an outage.
 */
export function parseForTrigger(
  provider: Provider,
  req: WebhookRequest,
  trigger: Trigger,
  prefix: string,
): { ok: true; parsed: ParseResult } | { ok: false; message: string; field: string } {
  try {
    return {
      ok: true,
      parsed: provider.parse(req, {
        trackedImage: trigger.trackedImage ?? trigger.match.image,
        mapping: trigger.mapping,
      }),
    };
  } catch (e) {
    if (e instanceof RequestFieldError) return { ok: false, message: e.message, field: e.field };
    if (e instanceof ZodError) {
      const { message, field } = zodIssue(e, prefix);
      return { ok: false, message, field };
    }
    // e.g. "Invalid time value"
    logger.warn('provider could not normalize the body', { provider: provider.id, error: (e as Error).name });
    return {
      ok: false,
      message: `${prefix} could not be read: ${(e as Error).name}`,
      field: prefix === 'body' ? '(body)' : prefix,
    };
  }
}

/**
 * Secrets a request may present right now (kept here, not in trigger.ts, so that receivers do not bundle the
 * admin-side schemas and every deploy target's SDK): the current one, and the previous during its grace period. */
export function acceptedSecrets(trigger: Trigger, now: Date): string[] {
  const secrets = [trigger.secret];
  if (
    trigger.previousSecret &&
    trigger.previousSecretExpiresAt &&
    trigger.previousSecretExpiresAt * 1000 > now.getTime()
  ) {
    secrets.push(trigger.previousSecret);
  }
  return secrets;
}
