/** Admin API plumbing: bearer auth, JSON bodies, dispatch on API Gateway's routeKey, error answers. */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { ZodError } from 'zod';
import { httpHandler, type HttpHandler } from '../receive/handlers';
import { json, rawBody, zodError, type HttpResult } from '../receive/http';
import { logger } from '../core/logger';
import { jsonDepth } from '../receive/redact';
import { isAdmin } from './auth';

/** Longest path id: trigger ids are 24 hex characters, log ids 26 (ULID); DynamoDB keys end at 1-2 KB. */
export const MAX_ID_LENGTH = 64;
/** Deepest admin JSON body: DynamoDB stores at most 32 levels, and deeper would only strain the validators. */
export const MAX_BODY_DEPTH = 32;

export interface AdminRequest {
  event: APIGatewayProxyEventV2;
  params: Record<string, string>;
  query: Record<string, string>;
  body: unknown;
}
export type Routes = Record<string, (req: AdminRequest) => Promise<HttpResult>>;

export function adminHandler(routes: Routes): HttpHandler {
  return httpHandler(async (event) => {
    try {
      if (!(await isAdmin(event))) {
        return json(
          401,
          { message: 'missing or wrong admin token (Authorization: Bearer <token>)' },
          { 'www-authenticate': 'Bearer' },
        );
      }
      const route = routes[event.routeKey];
      if (!route) return json(404, { message: 'Not Found' });
      const text = rawBody(event);
      let body: unknown;
      if (text.trim()) {
        try {
          body = JSON.parse(text);
        } catch (e) {
          return json(400, { message: `body is not valid JSON: ${(e as Error).message}`, field: '(body)' });
        }
      }
      if (body !== undefined && jsonDepth(body, MAX_BODY_DEPTH) > MAX_BODY_DEPTH) {
        return json(400, { message: `invalid (body): nested deeper than ${MAX_BODY_DEPTH} levels`, field: '(body)' });
      }
      const params = (event.pathParameters ?? {}) as Record<string, string>;
      for (const [name, value] of Object.entries(params)) {
        if (typeof value === 'string' && value.length > MAX_ID_LENGTH) {
          return json(400, { message: `invalid ${name}: longer than ${MAX_ID_LENGTH} characters`, field: name });
        }
      }
      return await route({
        event,
        params,
        query: (event.queryStringParameters ?? {}) as Record<string, string>,
        body,
      });
    } catch (err) {
      if (err instanceof ZodError) return zodError(err);
      logger.error('admin request failed', { routeKey: event.routeKey, error: (err as Error).message });
      return json(503, { message: 'temporarily unavailable, retry later' });
    }
  });
}
