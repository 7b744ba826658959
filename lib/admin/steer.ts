/**
 * Admin API: seeing and steering a trigger without a real webhook.
 * - GET  /admin/triggers/{id}/setup  what to paste at the sender, at any time (the URL with its token where needed);
 * - POST /admin/triggers/{id}/match  a dry run: provider.parse + selectEvent on a pasted payload, nothing written;
 * - POST /admin/triggers/{id}/test   a realistic sample, signed as the sender signs, through the real pipeline;
 * - GET  /admin/openapi.json         the admin API described from the zod schemas (lib/admin/openapi.ts).
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { NormalizedEvent } from '../core/event';
import { lazy } from '../core/lazy';
import { chooseEvent } from '../match/dispatch';
import { decodeBody } from '../receive/body';
import { json, lowerHeaders, zodIssue, type HttpResult } from '../receive/http';
import { handleWebhook, parseForTrigger } from '../receive/ingest';
import * as store from '../store/store';
import type { Provider } from '../receive/providers/types';
import type { Trigger } from '../trigger';
import type { AdminRequest, Routes } from './router';
import { matchRequestSchema } from './match-schema';
import { senderRegistry, senderSetup } from './triggers';

// What only one route needs loads on its first call, not in every cold start of the function: the OpenAPI
// document (built from every schema) and the signed samples (the test route). The webhook pipeline (dry run, test)
// is loaded anyway: the admin router shares lib/receive/handlers with the receivers.
const openapiModule = lazy(() => import('./openapi'));
const samplesModule = lazy(() => import('./samples'));

/** The sender's own steps, in its words: where the values of the setup answer go. */
function steps(
  trigger: Trigger,
  setup: Awaited<ReturnType<typeof senderSetup>>,
  provider: Provider | undefined,
): string[] {
  if (!('webhookUrl' in setup)) return [setup.hint];
  const out = [
    `In ${provider?.title ?? trigger.provider}, add a webhook (notification) with the URL ${setup.webhookUrl}`,
  ];
  for (const [name, value] of Object.entries(setup.headers)) out.push(`Add the header ${name}: ${value}`);
  for (const [name, value] of Object.entries(setup.settings ?? {})) out.push(`Set "${name}" to ${value}`);
  out.push(setup.hint);
  return out;
}

async function setup(req: AdminRequest) {
  const trigger = await store.getTrigger(req.params.id);
  if (!trigger) return json(404, { message: 'unknown trigger' });
  const s = await senderSetup(trigger, req);
  return json(200, {
    id: trigger.id,
    name: trigger.name,
    provider: trigger.provider,
    ...s,
    steps: steps(trigger, s, (await senderRegistry())[trigger.provider]),
  });
}

/** The normalized events of a payload and what the trigger makes of them; reads the trigger, writes nothing. */
async function match(req: AdminRequest) {
  const trigger = await store.getTrigger(req.params.id);
  if (!trigger) return json(404, { message: 'unknown trigger' });
  const parsed = matchRequestSchema.safeParse(req.body ?? {});
  if (!parsed.success) return json(400, zodIssue(parsed.error));
  const provider = (await senderRegistry())[trigger.provider];
  if (!provider) return json(409, { message: `provider ${trigger.provider} has no webhook payload to dry-run` });
  const text = typeof parsed.data.payload === 'string' ? parsed.data.payload : JSON.stringify(parsed.data.payload);
  const headers = lowerHeaders(parsed.data.headers);
  const raw = Buffer.from(text, 'utf8');
  const decoded = decodeBody(raw, headers['content-type'], { formPayload: provider.formPayload });
  if (!decoded.ok) return json(400, { message: decoded.reason, field: 'payload' });
  const read = parseForTrigger(
    provider,
    { headers, query: {}, rawBody: text, rawBytes: raw, body: decoded.body },
    trigger,
    'payload',
  );
  if (!read.ok) return json(400, { message: read.message, field: read.field });
  const result = read.parsed;
  if (result.kind === 'ignored') {
    return json(200, {
      matched: false,
      status: 'untriggered',
      reason: result.reason,
      events: result.event ? [result.event] : [],
    });
  }
  const events: NormalizedEvent[] = result.events;
  // dispatch's own choice and reasons; the deploy state ("already running") is not consulted
  const chosen = chooseEvent(trigger, events);
  const reason = chosen.reason;
  return json(200, {
    matched: !reason,
    status: reason ? 'untriggered' : 'triggered',
    ...(reason ? { reason } : {}),
    event: chosen.event,
    events,
  });
}

/** A request as API Gateway would hand the receiver the sample (so ingest() runs exactly as for a webhook). */
function webhookEvent(
  trigger: Trigger,
  req: AdminRequest,
  body: string,
  headers: Record<string, string>,
  query: Record<string, string>,
): APIGatewayProxyEventV2 {
  const path = `/hooks/${trigger.provider}/${trigger.id}`;
  const qs = new URLSearchParams(query).toString();
  return {
    version: '2.0',
    routeKey: `POST /hooks/${trigger.provider}/{triggerId}`,
    rawPath: path,
    rawQueryString: qs,
    headers,
    queryStringParameters: Object.keys(query).length ? query : undefined,
    pathParameters: { triggerId: trigger.id },
    body,
    isBase64Encoded: false,
    requestContext: {
      ...req.event.requestContext,
      http: { ...req.event.requestContext?.http, method: 'POST', path },
      routeKey: `POST /hooks/${trigger.provider}/{triggerId}`,
    },
  } as APIGatewayProxyEventV2;
}

async function test(req: AdminRequest) {
  const trigger = await store.getTrigger(req.params.id);
  if (!trigger) return json(404, { message: 'unknown trigger' });
  const provider = (await senderRegistry())[trigger.provider];
  const sample = (await samplesModule()).signedSample(trigger.provider, trigger.secret);
  if (!provider || !sample) {
    return json(409, {
      message: `no sample for provider ${trigger.provider}: ${trigger.provider === 'generic' ? 'the body shape is set by your mapping; use the dry run (POST .../match) with your own payload' : 'its events do not arrive as webhooks'}`,
      field: 'provider',
    });
  }
  const headers = { ...sample.headers, 'user-agent': 'Triggerfish-Test/1' };
  // the entry's origin says it is a test (set here, by this route: no request header can claim it)
  const answer: HttpResult = await handleWebhook(
    provider,
    webhookEvent(trigger, req, sample.body, headers, sample.query),
    'test',
  );
  const said = answer.body ? JSON.parse(answer.body) : {};
  return json(answer.statusCode === 503 ? 503 : 202, {
    test: true,
    sample: sample.source,
    webhookStatus: answer.statusCode,
    ...said,
  });
}

async function openapi() {
  return json(200, (await openapiModule()).openApiDocument());
}

export const steerRoutes: Routes = {
  'GET /admin/triggers/{id}/setup': setup,
  'POST /admin/triggers/{id}/match': match,
  'POST /admin/triggers/{id}/test': test,
  'GET /admin/openapi.json': openapi,
};
