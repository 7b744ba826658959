/** Lambda handler wrappers: middy + Powertools logger context, so functions/ stay one-liners. */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import type { HttpResult } from './http';
import { handleWebhook } from './ingest';
import { logger } from '../core/logger';
import type { Provider } from './providers/types';

export type HttpHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<HttpResult>;

export function httpHandler(fn: (event: APIGatewayProxyEventV2) => Promise<HttpResult>): HttpHandler {
  return middy<APIGatewayProxyEventV2, HttpResult>()
    .use(injectLambdaContext(logger))
    .handler((event) => fn(event)) as unknown as HttpHandler;
}

/** One receiver per provider: the same pipeline, only that provider's code in its bundle. */
export function webhookHandler(provider: Provider): HttpHandler {
  return httpHandler((event) => handleWebhook(provider, event));
}
