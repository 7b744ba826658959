/** HTTP handler wrappers (logger context and metrics flush: lib/core/lambda.ts), so functions/ stay one-liners. */
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import type { HttpResult } from './http';
import { handleWebhook } from './ingest';
import { lambdaHandler } from '../core/lambda';
import { recordWebhook, webhookStatus } from '../core/metrics';
import type { Provider } from './providers/types';

export type HttpHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<HttpResult>;

export function httpHandler(fn: (event: APIGatewayProxyEventV2) => Promise<HttpResult>): HttpHandler {
  return lambdaHandler<APIGatewayProxyEventV2, HttpResult>((event) => fn(event)) as HttpHandler;
}

/** One receiver per provider: the same pipeline, only that provider's code in its bundle. */
export function webhookHandler(provider: Provider): HttpHandler {
  return httpHandler(async (event) => {
    const result = await handleWebhook(provider, event);
    // the Webhooks metric, by provider and answer status
    recordWebhook(provider.id, webhookStatus(result.statusCode, result.body));
    return result;
  });
}
