/**
 * The webhook pipeline, the same for every provider:
 * request -> trigger lookup -> verify -> parse/normalize -> match -> dedup + log -> enqueue -> answer.
 * Every request that reaches a known trigger leaves exactly one log entry. Storage or queue failures
 * answer 503 (the sender retries) and never lose an event silently.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { ZodError } from 'zod';
import { dedupKeys, messageDeduplicationId } from './dedup';
import type { NormalizedEvent } from './event';
import { json, lowerHeaders, rawBody, rawBodyBytes, zodError, type HttpResult } from './http';
import { logger } from './logger';
import { selectEvent } from './matcher';
import type { Provider, WebhookRequest } from './providers/types';
import { enqueueDeploy } from './queue';
import { redactBody, redactHeaders, redactQuery } from './redact';
import * as store from './store';
import { acceptedSecrets, type Trigger } from './trigger';

export const MAX_BODY_BYTES = 1024 * 1024;

export async function handleWebhook(provider: Provider, event: APIGatewayProxyEventV2): Promise<HttpResult> {
  try {
    return await ingest(provider, event);
  } catch (err) {
    // Storage or queue unavailable: 503 makes the sender retry instead of losing the event.
    logger.error('webhook could not be processed', { provider: provider.id, error: (err as Error).message });
    return json(503, { message: 'temporarily unavailable, retry later' });
  }
}

async function ingest(provider: Provider, event: APIGatewayProxyEventV2): Promise<HttpResult> {
  const triggerId = event.pathParameters?.triggerId ?? '';
  const trigger = /^[a-f0-9]{24}$/.test(triggerId) ? await store.getTrigger(triggerId) : undefined;
  if (!trigger || trigger.provider !== provider.id) return json(404, { message: 'unknown trigger' });

  const headers = lowerHeaders(event.headers);
  const query = (event.queryStringParameters ?? {}) as Record<string, string>;
  const bytes = rawBodyBytes(event);
  const text = bytes > MAX_BODY_BYTES ? '' : rawBody(event);
  let body: unknown;
  let jsonError: string | undefined;
  if (text.trim()) {
    try {
      body = JSON.parse(text);
    } catch (e) {
      jsonError = (e as Error).message;
    }
  }
  const req: WebhookRequest = { headers, query, rawBody: text, body };

  const record = (fields: Partial<store.LogEntry> & { status: store.LogStatus }) =>
    store.newLogEntry({
      triggerId: trigger.id,
      provider: provider.id,
      request: {
        method: event.requestContext?.http?.method ?? 'POST',
        path: event.rawPath ?? '',
        query: redactQuery(query),
        headers: redactHeaders(headers, provider),
        body: redactBody(text, body, provider),
        bodyBytes: bytes,
      },
      ...fields,
    });
  const answerWith = async (entry: store.LogEntry, result: HttpResult) => {
    await store.putLogEntry(entry);
    logger.info('webhook', { triggerId: trigger.id, provider: provider.id, logId: entry.id, status: entry.status, reason: entry.reason });
    return result;
  };

  if (bytes > MAX_BODY_BYTES) {
    const entry = record({ status: 'rejected', reason: `body of ${bytes} bytes is over the 1 MiB limit` });
    return answerWith(entry, json(413, { message: entry.reason, log: entry.id }));
  }

  const verified = provider.verify(req, acceptedSecrets(trigger, new Date()), new Date());
  if (!verified.ok) {
    const entry = record({ status: 'unauthorized', reason: verified.reason });
    return answerWith(entry, json(401, { message: 'unauthorized', reason: verified.reason, log: entry.id }));
  }
  if (jsonError !== undefined || body === undefined) {
    const reason = jsonError ? `body is not valid JSON: ${jsonError}` : 'body is empty';
    const entry = record({ status: 'rejected', reason });
    return answerWith(entry, json(400, { message: reason, field: '(body)', log: entry.id }));
  }

  let parsed;
  try {
    parsed = provider.parse(req, { trackedImage: trigger.trackedImage ?? trigger.match.image });
  } catch (e) {
    if (!(e instanceof ZodError)) throw e;
    const answer = zodError(e, 'body');
    const { message, field } = JSON.parse(answer.body as string) as { message: string; field: string };
    const entry = record({ status: 'rejected', reason: message });
    return answerWith(entry, json(400, { message, field, log: entry.id }));
  }

  if (parsed.kind === 'ignored') {
    const entry = record({ status: 'untriggered', reason: parsed.reason, event: parsed.event as NormalizedEvent });
    return answerWith(entry, json(202, { log: entry.id, status: 'untriggered', reason: parsed.reason }));
  }

  const { event: chosen, result } = selectEvent(trigger.match, parsed.events, {
    trackedImage: trigger.trackedImage ?? trigger.match.image,
  });
  const base = { event: chosen, deliveryId: chosen.deliveryId };
  if (!trigger.enabled) {
    const entry = record({ ...base, status: 'untriggered', reason: 'trigger disabled' });
    return answerWith(entry, json(202, { log: entry.id, status: 'untriggered', reason: entry.reason }));
  }
  if (!result.matched) {
    const entry = record({ ...base, status: 'untriggered', reason: result.reason });
    return answerWith(entry, json(202, { log: entry.id, status: 'untriggered', reason: result.reason }));
  }

  return queue(trigger, record({ ...base, status: 'queued' }), chosen, answerWith, record);
}

async function queue(
  trigger: Trigger,
  entry: store.LogEntry,
  chosen: NormalizedEvent,
  answerWith: (entry: store.LogEntry, result: HttpResult) => Promise<HttpResult>,
  record: (fields: Partial<store.LogEntry> & { status: store.LogStatus }) => store.LogEntry,
): Promise<HttpResult> {
  const keys = dedupKeys(chosen);
  const claim = await store.claimAndQueue(entry, keys);
  if (!claim.ok) {
    const dup = record({
      event: chosen,
      deliveryId: chosen.deliveryId,
      status: 'untriggered',
      reason: `duplicate of ${claim.duplicateOf}`,
      duplicateOf: claim.duplicateOf,
    });
    return answerWith(dup, json(200, { status: 'duplicate', log: claim.duplicateOf }));
  }
  try {
    await enqueueDeploy({ triggerId: trigger.id, logId: entry.id, event: chosen }, messageDeduplicationId(trigger.id, keys, entry.id));
  } catch (err) {
    logger.error('deploy could not be queued', { triggerId: trigger.id, logId: entry.id, error: (err as Error).message });
    await store.releaseClaims(trigger.id, entry.id, keys);
    await store.updateLogStatus(trigger.id, entry.id, { status: 'failed', reason: 'could not be queued; the sender was asked to retry (503)' });
    return json(503, { message: 'could not queue the deploy, retry later', log: entry.id });
  }
  logger.info('webhook', { triggerId: trigger.id, logId: entry.id, status: 'queued' });
  return json(202, { log: entry.id, status: 'triggered' });
}
