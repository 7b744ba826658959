/**
 * The whole local stack as e2e tests get it (startTestStack), with the health and deployer handlers replaced by
 * test handlers so this does not depend on the product's functions.
 */
import net from 'node:net';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { localDynamoClient, localSqsClient } from '../../../lib/local/resources';
import * as deployer from '../../helpers/handlers/sqs-batch';
import { startTestStack, testEndpoints, type TestStack } from '../../helpers/stack';

jest.setTimeout(60_000);

describe('startTestStack', () => {
  let stack: TestStack;
  const before = { ...process.env };

  beforeAll(async () => {
    deployer.reset();
    stack = await startTestStack({
      maxReceiveCount: 2,
      retryBaseSeconds: 1,
      visibilityTimeout: 1,
      functionEnv: { EXTRA_SETTING: 'x' },
      stack: {
        handlers: {
          health: 'test/helpers/handlers/echo.env',
          deployer: 'test/helpers/handlers/sqs-batch.handler',
        },
      },
    });
  });
  afterAll(() => stack?.stop());

  it('serves the serverless.yml routes on a free loopback port', async () => {
    expect(stack.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${stack.url}/health`);
    expect(res.status).toBe(200);
    const missing = await fetch(`${stack.url}/no/such/route`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ message: 'Not Found' });
  });

  it('gives the functions the environment lib/core/config.ts reads', async () => {
    const env = (await (await fetch(`${stack.url}/health`)).json()) as Record<string, string>;
    const ep = testEndpoints()!;
    expect(env).toEqual({
      TRIGGERS_TABLE: stack.resources.tables.TriggersTable.tableName,
      LOGS_TABLE: stack.resources.tables.LogsTable.tableName,
      DEPLOY_QUEUE_URL: stack.resources.queues.DeployQueue.queueUrl,
      PUBLIC_BASE_URL: stack.url,
      ALLOW_PRIVATE_TARGETS: 'true',
      MAX_RECEIVE_COUNT: '2',
      RETRY_BASE_SECONDS: '1',
      DYNAMODB_ENDPOINT: ep.dynamodb,
      SQS_ENDPOINT: ep.sqs,
      TRIGGERFISH_ADMIN_TOKEN: stack.adminToken,
      AWS_REGION: 'us-east-1',
    });
    expect(stack.adminToken.length).toBeGreaterThanOrEqual(32);
    expect(process.env.EXTRA_SETTING).toBe('x');
    expect(process.env.ADMIN_TOKEN_PARAM).toBeUndefined(); // no SSM locally: the token is given directly
    expect(stack.env.TRIGGERS_TABLE).toBe(env.TRIGGERS_TABLE);
  });

  it('creates fresh resources with the overrides', async () => {
    const sqs = localSqsClient(stack.endpoints.sqs);
    try {
      const { Attributes: a = {} } = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: stack.resources.queues.DeployQueue.queueUrl,
          AttributeNames: ['All'],
        }),
      );
      expect(a.VisibilityTimeout).toBe('1');
      expect(JSON.parse(a.RedrivePolicy!).maxReceiveCount).toBe(2);
    } finally {
      sqs.destroy();
    }
  });

  it('runs the deployer on messages sent to DEPLOY_QUEUE_URL', async () => {
    const sqs = localSqsClient(stack.endpoints.sqs);
    try {
      const { MessageId } = await sqs.send(
        new SendMessageCommand({
          QueueUrl: process.env.DEPLOY_QUEUE_URL,
          MessageBody: '{"hello":"deployer"}',
          MessageGroupId: 'g',
          MessageDeduplicationId: 'd1',
        }),
      );
      const deadline = Date.now() + 20_000;
      while (!deployer.records().some((r) => r.messageId === MessageId)) {
        if (Date.now() > deadline) throw new Error('the deployer never saw the message');
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(deployer.records().find((r) => r.messageId === MessageId)?.eventSourceARN).toBe(
        stack.resources.queues.DeployQueue.queueArn,
      );
    } finally {
      sqs.destroy();
    }
  });

  it('stop() closes the gateway, deletes the resources and restores process.env', async () => {
    const table = stack.resources.tables.TriggersTable.tableName;
    const port = stack.port;
    await stack.stop();
    expect(process.env.TRIGGERS_TABLE).toBe(before.TRIGGERS_TABLE);
    expect(process.env.PUBLIC_BASE_URL).toBe(before.PUBLIC_BASE_URL);
    expect(process.env.EXTRA_SETTING).toBe(before.EXTRA_SETTING);
    const refused = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port });
      s.once('connect', () => {
        s.destroy();
        resolve(false);
      });
      s.once('error', () => resolve(true));
    });
    expect(refused).toBe(true);
    const ddb = localDynamoClient(stack.endpoints.dynamodb);
    try {
      await expect(ddb.send(new DescribeTableCommand({ TableName: table }))).rejects.toThrow();
    } finally {
      ddb.destroy();
    }
  });
});
