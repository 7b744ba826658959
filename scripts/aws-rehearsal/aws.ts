/** AWS SDK clients pointed at moto, with the dummy deploy credentials or with one role's STS credentials. */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IAMClient } from '@aws-sdk/client-iam';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { STSClient } from '@aws-sdk/client-sts';
import type { Credentials } from './packaged';

export const REGION = 'us-east-1';
/** what `osls deploy` and the set-up calls use while IAM is not enforced */
export const DEPLOY_CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };

export function clients(endpoint: string, creds?: Credentials) {
  const config = {
    endpoint,
    region: REGION,
    credentials: creds
      ? { accessKeyId: creds.AccessKeyId, secretAccessKey: creds.SecretAccessKey, sessionToken: creds.SessionToken }
      : DEPLOY_CREDENTIALS,
    // a denial is an answer here, not a reason to try again
    maxAttempts: 1,
  };
  return {
    cfn: new CloudFormationClient(config),
    ddb: new DynamoDBClient(config),
    iam: new IAMClient(config),
    lambda: new LambdaClient(config),
    sm: new SecretsManagerClient(config),
    sqs: new SQSClient(config),
    ssm: new SSMClient(config),
    sts: new STSClient(config),
  };
}
export type Clients = ReturnType<typeof clients>;
