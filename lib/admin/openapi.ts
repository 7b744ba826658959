/**
 * The admin API as an OpenAPI 3.1 document. Request bodies and query parameters are the zod schemas the handlers
 * validate with, turned into JSON Schema 2020-12 (what OpenAPI 3.1 uses) by zod's own z.toJSONSchema(); only the
 * list of operations (path, method, summary) is a table here. test/unit/openapi.test.ts checks the document with
 * @readme/openapi-parser and that it names every admin route in serverless.yml.
 */
import * as z from 'zod';
import { LOG_STATUSES } from '../store/store';
import { ORIGINS } from '../core/origin';
import { triggerCreateSchema, triggerPatchSchema } from '../trigger';
import { logListQuery } from './logs';
import { matchRequestSchema } from './match-schema';
import { secretPutSchema } from './secrets';
import { LOCAL_SECRET_NAME } from '../store/local-secrets';
import { rollbackRequestSchema } from './state';

const errorSchema = z.object({
  message: z.string(),
  field: z.string().optional().describe('the first bad field, e.g. match.tags.regex'),
});

type Json = Record<string, unknown>;

/** JSON Schema of a zod schema as requests must look (defaults optional), without the $schema line. */
function schemaOf(schema: z.ZodType, io: 'input' | 'output' = 'input'): Json {
  const { $schema: _s, ...rest } = z.toJSONSchema(schema, {
    io,
    unrepresentable: 'any',
    target: 'draft-2020-12',
  }) as Json;
  return rest;
}

/** Query parameters of an object schema, one per property. */
function queryParameters(schema: z.ZodObject): Json[] {
  const js = schemaOf(schema) as { properties: Record<string, Json>; required?: string[] };
  return Object.entries(js.properties).map(([name, s]) => ({
    name,
    in: 'query',
    required: js.required?.includes(name) ?? false,
    schema: s,
  }));
}

const id = {
  name: 'id',
  in: 'path',
  required: true,
  schema: { type: 'string', maxLength: 64 },
  description: 'trigger id',
};
const logId = {
  name: 'logId',
  in: 'path',
  required: true,
  schema: { type: 'string', maxLength: 64 },
  description: 'log entry id',
};
const jsonBody = (ref: string) => ({
  required: true,
  content: { 'application/json': { schema: { $ref: `#/components/schemas/${ref}` } } },
});
const answer = (description: string) => ({
  description,
  content: { 'application/json': { schema: { type: 'object' } } },
});
const errors = {
  '400': {
    description: 'bad input, naming the field',
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
  },
  '401': { description: 'missing or wrong admin token' },
  '404': { description: 'unknown trigger or entry' },
  '409': {
    description:
      'a conflict, named in the answer: a name in use (`field: "name"`), an entry that cannot be redelivered, or (`conflict: "version"`) other writes of the trigger kept winning the race; nothing was written, send it again',
  },
};

const secretName = {
  name: 'name',
  in: 'path',
  required: true,
  schema: { type: 'string', pattern: LOCAL_SECRET_NAME.source },
  description: 'secret name: what a target reference names ({"secretsManager": name} or {"ssmParameter": name})',
};
const LOCAL_ONLY = ' (local stack; on AWS 501 with where to store it: Secrets Manager or SSM under the stage prefix)';

interface Operation {
  method: 'get' | 'post' | 'patch' | 'put' | 'delete';
  path: string;
  summary: string;
  params?: Json[];
  body?: string;
  ok: [string, string];
}

const OPERATIONS: Operation[] = [
  {
    method: 'post',
    path: '/admin/triggers',
    summary: 'Create a trigger (the answer shows its secret and setup once)',
    body: 'TriggerCreate',
    ok: ['201', 'the trigger, its secret and how to set up the sender'],
  },
  {
    method: 'get',
    path: '/admin/triggers',
    summary: 'List triggers (never with secrets)',
    ok: ['200', '{ items: [trigger] }'],
  },
  { method: 'get', path: '/admin/triggers/{id}', summary: 'Read a trigger', params: [id], ok: ['200', 'the trigger'] },
  {
    method: 'patch',
    path: '/admin/triggers/{id}',
    summary: 'Change a trigger',
    params: [id],
    body: 'TriggerPatch',
    ok: ['200', 'the trigger'],
  },
  { method: 'delete', path: '/admin/triggers/{id}', summary: 'Delete a trigger', params: [id], ok: ['204', 'deleted'] },
  {
    method: 'post',
    path: '/admin/triggers/{id}/secret',
    summary: 'Rotate the trigger secret (the previous one stays valid for a grace period)',
    params: [id],
    ok: ['200', 'the trigger with its new secret and setup'],
  },
  {
    method: 'post',
    path: '/admin/triggers/{id}/notify/secret',
    summary: "Rotate the webhook notifiers' signing secrets",
    params: [id],
    ok: ['200', 'the trigger with the new signing secrets'],
  },
  {
    method: 'get',
    path: '/admin/triggers/{id}/setup',
    summary: 'What to paste at the sender: webhook URL, headers, settings, steps',
    params: [id],
    ok: ['200', 'the setup'],
  },
  {
    method: 'post',
    path: '/admin/triggers/{id}/match',
    summary: 'Dry run: the normalized events of a payload and the match result; nothing is stored',
    params: [id],
    body: 'MatchRequest',
    ok: ['200', '{ matched, status, reason?, event, events }'],
  },
  {
    method: 'post',
    path: '/admin/triggers/{id}/test',
    summary:
      "Send a signed sample of the trigger's provider through the real pipeline: when it matches, it is deployed to the trigger's real target (the entry's origin is `test`)",
    params: [id],
    ok: ['202', "the webhook's answer: { test, sample, webhookStatus, log, status, reason? }"],
  },
  {
    method: 'get',
    path: '/admin/triggers/{id}/logs',
    summary: 'The trigger log, newest first',
    params: [id, ...queryParameters(logListQuery)],
    ok: ['200', '{ items: [entry], cursor? }'],
  },
  {
    method: 'get',
    path: '/admin/triggers/{id}/logs/{logId}',
    summary: 'One log entry: event, reason, redacted request, attempts',
    params: [id, logId],
    ok: ['200', 'the entry'],
  },
  {
    method: 'post',
    path: '/admin/triggers/{id}/logs/{logId}/redeliver',
    summary: "Run a finished entry's deploy again, as a new entry",
    params: [id, logId],
    ok: ['202', '{ log, status, redeliveryOf }'],
  },
  {
    method: 'get',
    path: '/admin/triggers/{id}/state',
    summary: 'Per lane: the artifact running now, the good one before it, what is in flight, what a rollback deploys',
    params: [id],
    ok: ['200', '{ triggerId, rollback, lanes: [{ lane, running, previous, inFlight, rollbackTo }] }'],
  },
  {
    method: 'post',
    path: '/admin/triggers/{id}/rollback',
    summary: "Deploy the lane's previous good artifact again now, as a new entry (origin rollback)",
    params: [id],
    body: 'RollbackRequest',
    ok: ['202', '{ log, status, origin }'],
  },
  { method: 'get', path: '/admin/openapi.json', summary: 'This document', ok: ['200', 'OpenAPI 3.1'] },
  {
    method: 'get',
    path: '/admin/secrets',
    summary: `The local secret store's names, never values${LOCAL_ONLY}`,
    ok: ['200', '{ items: [{ name, updatedAt }] }'],
  },
  {
    method: 'put',
    path: '/admin/secrets/{name}',
    summary: `Store or replace a secret; it is never shown again${LOCAL_ONLY}`,
    params: [secretName],
    body: 'SecretPut',
    ok: ['200', '{ name, stored: true }'],
  },
  {
    method: 'delete',
    path: '/admin/secrets/{name}',
    summary: `Delete a secret${LOCAL_ONLY}`,
    params: [secretName],
    ok: ['204', 'deleted'],
  },
];

export function openApiDocument(): Json {
  const paths: Record<string, Json> = {};
  for (const op of OPERATIONS) {
    paths[op.path] ??= {};
    paths[op.path][op.method] = {
      summary: op.summary,
      operationId: `${op.method}${op.path.replace(/[{}]/g, '').replace(/[/.]+(\w)/g, (_m, c: string) => c.toUpperCase())}`,
      ...(op.params ? { parameters: op.params } : {}),
      ...(op.body ? { requestBody: jsonBody(op.body) } : {}),
      responses: { [op.ok[0]]: op.ok[0] === '204' ? { description: op.ok[1] } : answer(op.ok[1]), ...errors },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Triggerfish admin API',
      version: '1',
      description: `Log entry statuses: ${LOG_STATUSES.join(', ')}. Log entry origins: ${ORIGINS.join(', ')}.`,
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    security: [{ adminToken: [] }],
    paths,
    components: {
      securitySchemes: {
        adminToken: { type: 'http', scheme: 'bearer', description: 'Authorization: Bearer <admin token>' },
      },
      schemas: {
        TriggerCreate: schemaOf(triggerCreateSchema),
        TriggerPatch: schemaOf(triggerPatchSchema),
        MatchRequest: schemaOf(matchRequestSchema),
        SecretPut: schemaOf(secretPutSchema),
        RollbackRequest: schemaOf(rollbackRequestSchema),
        Error: schemaOf(errorSchema, 'output'),
      },
    },
  };
}
