/** Test handlers for the local gateway (test/unit/local/gateway.test.ts): not part of the product. */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';

/** 201 with the event and a few context fields as JSON, a custom header and a cookie */
export async function handler(
  event: APIGatewayProxyEventV2,
  context: Context,
): Promise<APIGatewayProxyStructuredResultV2> {
  return {
    statusCode: 201,
    headers: { 'Content-Type': 'application/json', 'X-Echo': 'yes', 'X-Number': 7 as unknown as string },
    cookies: ['session=abc; Path=/', 'theme=dark'],
    body: JSON.stringify({
      event,
      context: {
        functionName: context.functionName,
        awsRequestId: context.awsRequestId,
        remaining: context.getRemainingTimeInMillis(),
        invokedFunctionArn: context.invokedFunctionArn,
      },
    }),
  };
}

/** a plain object: API Gateway answers 200 application/json with it as the body */
export async function plain(): Promise<unknown> {
  return { hello: 'world' };
}

/** a string: the body as is */
export async function text(): Promise<unknown> {
  return 'just text';
}

export async function binary(): Promise<APIGatewayProxyStructuredResultV2> {
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/octet-stream' },
    body: Buffer.from([0, 1, 2, 255]).toString('base64'),
    isBase64Encoded: true,
  };
}

export function callbackStyle(
  _event: unknown,
  _context: Context,
  callback: (err: unknown, res?: unknown) => void,
): void {
  setImmediate(() => callback(null, { statusCode: 202, body: 'via callback' }));
}

export async function throws(): Promise<never> {
  throw new Error('boom from test handler');
}

/** body must be a string: API Gateway rejects this */
export async function malformed(): Promise<unknown> {
  return { statusCode: 200, body: { not: 'a string' } };
}

export async function slow(): Promise<unknown> {
  await new Promise((r) => setTimeout(r, 3000).unref());
  return { statusCode: 200, body: 'too late' };
}

export async function health(): Promise<APIGatewayProxyStructuredResultV2> {
  return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ status: 'ok' }) };
}

/** what the stack set in process.env, as the functions see it */
export async function env(): Promise<unknown> {
  const keys = [
    'TRIGGERS_TABLE',
    'LOGS_TABLE',
    'DEPLOY_QUEUE_URL',
    'PUBLIC_BASE_URL',
    'ALLOW_PRIVATE_TARGETS',
    'MAX_RECEIVE_COUNT',
    'RETRY_BASE_SECONDS',
    'DYNAMODB_ENDPOINT',
    'SQS_ENDPOINT',
    'TRIGGERFISH_ADMIN_TOKEN',
    'AWS_REGION',
  ];
  return Object.fromEntries(keys.map((k) => [k, process.env[k]]));
}
