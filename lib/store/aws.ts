/** AWS SDK clients, built once per Lambda container (outside the handler, reused across invocations). */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { config } from '../core/config';

let ddb: DynamoDBDocumentClient | undefined;
let sqs: SQSClient | undefined;

export function dynamo(): DynamoDBDocumentClient {
  ddb ??= DynamoDBDocumentClient.from(
    new DynamoDBClient({ region: config.region(), endpoint: config.dynamodbEndpoint() }),
    { marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: true } },
  );
  return ddb;
}

export function sqsClient(): SQSClient {
  sqs ??= new SQSClient({ region: config.region(), endpoint: config.sqsEndpoint() });
  return sqs;
}
