/**
 * Public AWS list prices (USD, us-east-1, on-demand, no free tier) the bill per million webhooks is computed at, in
 * this one file. Checked 2026-12-02 against what could be reached from here (the AWS pages themselves could not be
 * fetched; each figure was found in at least two independent copies of them):
 * - DynamoDB on-demand $0.625 / million write request units, $0.125 / million read request units (the November 2024
 *   price, half the earlier $1.25 / $0.25): aws.amazon.com/dynamodb/pricing/on-demand/ as quoted by airbyte.com
 *   (July 2025) and infratally.com (2025); an eventually consistent read of up to 4 KB is half a unit.
 * - SQS FIFO $0.50 / million requests, each 64 KB of a payload one request: aws.amazon.com/sqs/pricing/ as quoted by
 *   cloudburn.io (March 2026) and factualminds.com (June 2026); the 2016 FIFO launch announcement gives the same.
 * - Lambda $0.20 / million requests (api-evangelist's transcription of aws.amazon.com/lambda/pricing/, 2026-09-20),
 *   $0.0000166667 / GB-second x86_64 and $0.0000133334 arm64 (artillery's Lambda price table).
 * - API Gateway HTTP API $1.00 / million requests for the first 300 million a month, each 512 KB one request
 *   (api-evangelist's transcription of aws.amazon.com/api-gateway/pricing/, 2026-09-20).
 * Check https://aws.amazon.com/{dynamodb,sqs,lambda,api-gateway}/pricing/ before quoting a figure; change them here.
 */
export const PRICES = {
  date: '2026-12-02 (from copies of the AWS pricing pages, see bench/prices.ts)',
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
