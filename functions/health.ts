import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

/** Answers once the function runs; locally the gateway serves it only after the whole stack is up. */
export const handler = async (): Promise<APIGatewayProxyStructuredResultV2> => ({
  statusCode: 200,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ status: 'ok' }),
});
