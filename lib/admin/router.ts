/** Admin API plumbing: bearer auth, JSON bodies, dispatch on API Gateway's routeKey, error answers. */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { ZodError } from 'zod';
import { httpHandler, type HttpHandler } from '../receive/handlers';
import { json, rawBody, zodError, type HttpResult } from '../receive/http';
import { logger } from '../core/logger';
import { isAdmin } from './auth';

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
        return json(401, { message: 'missing or wrong admin token (Authorization: Bearer <token>)' }, { 'www-authenticate': 'Bearer' });
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
      return await route({
        event,
        params: (event.pathParameters ?? {}) as Record<string, string>,
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
