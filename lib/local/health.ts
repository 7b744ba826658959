/**
 * GET /health of the local stack: 200 only while DynamoDB Local and the SQS stand-in both answer; otherwise 503
 * naming what is down (a stand-in being restarted, or one that does not answer within a second). On AWS the
 * managed services have their own health; functions/health.ts stays the plain "the function runs" answer there.
 */
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { LambdaHandler } from './gateway';

export interface DependencyStatus {
  dynamodb: boolean;
  sqs: boolean;
}

const NAMES: Record<keyof DependencyStatus, string> = { dynamodb: 'DynamoDB Local', sqs: 'the SQS stand-in (fauxqs)' };

export function localHealthHandler(dependencies: () => Promise<DependencyStatus>): LambdaHandler {
  return async (): Promise<APIGatewayProxyStructuredResultV2> => {
    const status = await dependencies();
    const down = (Object.keys(status) as (keyof DependencyStatus)[]).filter((k) => !status[k]);
    const body = down.length
      ? {
          status: 'unavailable',
          down,
          message: `${down.map((d) => NAMES[d]).join(' and ')} ${down.length > 1 ? 'are' : 'is'} down; restarting`,
        }
      : { status: 'ok' };
    return {
      statusCode: down.length ? 503 : 200,
      headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
      body: JSON.stringify(body),
    };
  };
}
