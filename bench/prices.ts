/**
 * Public AWS list prices (USD, us-east-1, on-demand, no free tier) the bill per million webhooks is computed at.
 * Written from the AWS pricing pages as of 2025-01 (DynamoDB on-demand after its November 2024 cut); NOT re-checked
 * online when this file was written (2026-12-01): check https://aws.amazon.com/{dynamodb,sqs,lambda,api-gateway}/pricing/
 * before quoting a figure, and change them here only.
 */
export const PRICES = {
  date: '2025-01 (not re-checked 2026-12-01)',
  region: 'us-east-1',
  /** DynamoDB on-demand: per million write request units / read request units */
  dynamoWriteUnitPerMillion: 0.625,
  dynamoReadUnitPerMillion: 0.125,
  /** SQS FIFO: per million requests (each 64 KB chunk of a payload is one request) */
  sqsFifoRequestPerMillion: 0.5,
  /** Lambda: per million requests, per GB-second on arm64 (Graviton) and x86_64 */
  lambdaRequestPerMillion: 0.2,
  lambdaGbSecondArm64: 0.0000133334,
  lambdaGbSecondX86: 0.0000166667,
  /** API Gateway HTTP API: per million requests (first 300 million a month; each 512 KB is one request) */
  httpApiRequestPerMillion: 1.0,
} as const;
