/**
 * Every Lambda handler is wrapped here: middy + the Powertools logger's Lambda context (each line names its own
 * function and request) + the Powertools metrics flush. Kept apart from lib/receive so the deployer's bundle does
 * not carry the webhook pipeline.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Context } from 'aws-lambda';
import { logger } from './logger';
import { metrics } from './metrics';

/** `context` is optional for callers (tests): middy then passes `{}`. */
export type WrappedHandler<E, R> = (event: E, context?: Context) => Promise<R>;

export function lambdaHandler<E, R>(fn: (event: E, context: Context) => Promise<R>): WrappedHandler<E, R> {
  return middy<E, R>()
    .use(injectLambdaContext(logger))
    .use(logMetrics(metrics))
    .handler((event, context) => fn(event, context)) as unknown as WrappedHandler<E, R>;
}
