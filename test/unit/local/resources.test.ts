/**
 * resources.ts against the real stand-ins started by global setup: tables and queues exactly as serverless.yml
 * declares them (expectations read from the yml itself, so they follow its changes).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DescribeTableCommand, DescribeTimeToLiveCommand, type KeySchemaElement } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import {
  createResources,
  loadServerlessConfig,
  localDynamoClient,
  localSqsClient,
  uniqueSuffix,
  withSuffix,
  type LocalResources,
} from '../../../lib/local/resources';
import { testEndpoints } from '../../helpers/stack';

const endpoints = testEndpoints();
if (!endpoints) throw new Error('stand-ins not started: run through jest (test/global-setup.ts)');
const ddb = localDynamoClient(endpoints.dynamodb);
const sqs = localSqsClient(endpoints.sqs);
afterAll(() => {
  ddb.destroy();
  sqs.destroy();
});

const yml = loadServerlessConfig();
const defs = yml.resources.Resources as Record<string, any>;
const tableIds = Object.keys(defs).filter((id) => defs[id].Type === 'AWS::DynamoDB::Table');
const queueIds = Object.keys(defs).filter((id) => defs[id].Type === 'AWS::SQS::Queue');
const sortKeys = (ks: KeySchemaElement[] | undefined) =>
  [...(ks ?? [])].sort((a, b) => String(a.KeyType).localeCompare(String(b.KeyType)));

describe('serverless.yml variables', () => {
  it('resolves ${self:...}, ${sls:stage}, ${opt:..., default} and ${env:..., default}; leaves ${AWS::...} alone', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tf-sls-'));
    const file = path.join(dir, 'serverless.yml');
    fs.writeFileSync(
      file,
      [
        'service: svc',
        'custom:',
        '  count: 5',
        '  name: ${self:service}-${sls:stage}',
        '  nested: ${env:TF_UNSET_VAR_X, self:custom.count}',
        'provider:',
        "  stage: ${opt:stage, 'dev'}",
        "  region: ${opt:region, 'eu-west-1'}",
        '  environment:',
        '    COUNT: ${self:custom.count}',
        "    FROM_ENV: ${env:TF_TEST_VAR, 'fallback'}",
        "    DEFAULTED: ${env:TF_UNSET_VAR_Y, 'x, y'}",
        '    NAME: ${self:custom.name}',
        '    NESTED: ${self:custom.nested}',
        '    SUB: arn:aws:ssm:${AWS::Region}:${AWS::AccountId}:parameter/${sls:stage}/t',
      ].join('\n'),
    );
    const c = loadServerlessConfig({ file, stage: 'qa', env: { TF_TEST_VAR: 'from-env' } });
    expect(c.provider.stage).toBe('qa');
    expect(c.provider.region).toBe('us-east-1'); // --region of the local run
    expect(c.provider.environment).toEqual({
      COUNT: 5, // a whole-value variable keeps its type
      FROM_ENV: 'from-env',
      DEFAULTED: 'x, y',
      NAME: 'svc-qa',
      NESTED: 5,
      SUB: 'arn:aws:ssm:${AWS::Region}:${AWS::AccountId}:parameter/qa/t',
    });
    expect(loadServerlessConfig({ file, env: {} }).provider.environment.FROM_ENV).toBe('fallback');
    expect(loadServerlessConfig({ file, custom: { count: 2 } }).provider.environment.COUNT).toBe(2);
    fs.writeFileSync(file, 'service: s\nprovider:\n  x: ${env:TF_SURELY_UNSET_123}\n');
    expect(() => loadServerlessConfig({ file, env: {} })).toThrow(/cannot resolve/);
  });

  it('names: suffix goes before .fifo', () => {
    expect(withSuffix('a-deploy.fifo', 'x1')).toBe('a-deploy-x1.fifo');
    expect(withSuffix('table', 'x1')).toBe('table-x1');
    expect(withSuffix('table')).toBe('table');
    expect(() => withSuffix('t', 'bad/suffix')).toThrow();
  });
});

describe('createResources', () => {
  let r: LocalResources;
  const suffix = uniqueSuffix();
  beforeAll(async () => {
    r = await createResources({ dynamodbEndpoint: endpoints.dynamodb, sqsEndpoint: endpoints.sqs, suffix });
  });
  afterAll(() => r?.destroy());

  it('creates every table and queue of serverless.yml, with the suffix in their names', () => {
    expect(Object.keys(r.tables).sort()).toEqual([...tableIds].sort());
    expect(Object.keys(r.queues).sort()).toEqual([...queueIds].sort());
    expect(tableIds.length).toBeGreaterThan(0);
    expect(queueIds.length).toBeGreaterThan(0);
    for (const t of Object.values(r.tables)) expect(t.tableName).toContain(suffix);
    for (const [id, q] of Object.entries(r.queues)) {
      expect(q.queueName).toContain(suffix);
      if (defs[id].Properties.FifoQueue) expect(q.queueName).toMatch(/\.fifo$/);
    }
  });

  it.each(tableIds)(
    '%s has the key schema, attributes, indexes, billing mode and TTL of serverless.yml',
    async (id) => {
      const p = defs[id].Properties;
      const { Table } = await ddb.send(new DescribeTableCommand({ TableName: r.tables[id].tableName }));
      expect(Table?.TableStatus).toBe('ACTIVE');
      expect(sortKeys(Table?.KeySchema)).toEqual(sortKeys(p.KeySchema));
      const attrs = [...(Table?.AttributeDefinitions ?? [])].sort((a, b) =>
        a.AttributeName!.localeCompare(b.AttributeName!),
      );
      expect(attrs).toEqual([...p.AttributeDefinitions].sort((a, b) => a.AttributeName.localeCompare(b.AttributeName)));
      if (p.BillingMode) expect(Table?.BillingModeSummary?.BillingMode).toBe(p.BillingMode);
      const gsis = (Table?.GlobalSecondaryIndexes ?? []).map((g) => ({
        IndexName: g.IndexName,
        KeySchema: sortKeys(g.KeySchema),
        ProjectionType: g.Projection?.ProjectionType,
      }));
      // DynamoDB does not keep the indexes in the order they were defined
      const byName = (a: { IndexName?: string }, b: { IndexName?: string }) =>
        String(a.IndexName).localeCompare(String(b.IndexName));
      gsis.sort(byName);
      expect(gsis).toEqual(
        (p.GlobalSecondaryIndexes ?? [])
          .map((g: any) => ({
            IndexName: g.IndexName,
            KeySchema: sortKeys(g.KeySchema),
            ProjectionType: g.Projection.ProjectionType,
          }))
          .sort(byName),
      );
      const ttl = await ddb.send(new DescribeTimeToLiveCommand({ TableName: r.tables[id].tableName }));
      if (p.TimeToLiveSpecification?.Enabled) {
        expect(ttl.TimeToLiveDescription).toEqual({
          AttributeName: p.TimeToLiveSpecification.AttributeName,
          TimeToLiveStatus: 'ENABLED',
        });
      } else {
        expect(ttl.TimeToLiveDescription?.TimeToLiveStatus).toBe('DISABLED');
      }
    },
  );

  it('the triggers table has the byRepository index and the logs table the expiresAt TTL (as the code expects)', async () => {
    const triggers = await ddb.send(new DescribeTableCommand({ TableName: r.tables.TriggersTable.tableName }));
    expect(triggers.Table?.GlobalSecondaryIndexes?.map((g) => g.IndexName)).toContain('byRepository');
    const ttl = await ddb.send(new DescribeTimeToLiveCommand({ TableName: r.tables.LogsTable.tableName }));
    expect(ttl.TimeToLiveDescription?.AttributeName).toBe('expiresAt');
  });

  it.each(queueIds)('%s has the FIFO, visibility, retention and redrive settings of serverless.yml', async (id) => {
    const p = defs[id].Properties;
    const { Attributes: a = {} } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: r.queues[id].queueUrl, AttributeNames: ['All'] }),
    );
    expect(a.QueueArn).toBe(r.queues[id].queueArn);
    expect(a.FifoQueue === 'true').toBe(!!p.FifoQueue);
    if (p.VisibilityTimeout !== undefined) expect(a.VisibilityTimeout).toBe(String(p.VisibilityTimeout));
    if (p.MessageRetentionPeriod !== undefined) expect(a.MessageRetentionPeriod).toBe(String(p.MessageRetentionPeriod));
    if (p.RedrivePolicy) {
      const dlqId = p.RedrivePolicy.deadLetterTargetArn['Fn::GetAtt'][0];
      expect(JSON.parse(a.RedrivePolicy!)).toEqual({
        deadLetterTargetArn: r.queues[dlqId].queueArn,
        maxReceiveCount: Number(yml.custom.maxReceiveCount),
      });
    } else {
      expect(a.RedrivePolicy).toBeUndefined();
    }
  });

  it('the deploy queue is FIFO and redrives to the FIFO DLQ', async () => {
    const { Attributes: a = {} } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: r.queues.DeployQueue.queueUrl, AttributeNames: ['All'] }),
    );
    expect(a.FifoQueue).toBe('true');
    expect(JSON.parse(a.RedrivePolicy!).deadLetterTargetArn).toBe(r.queues.DeployDLQ.queueArn);
    expect(r.queues.DeployDLQ.queueName).toMatch(/\.fifo$/);
  });

  it('derives the functions environment from provider.environment', () => {
    expect(r.env.TRIGGERS_TABLE).toBe(r.tables.TriggersTable.tableName);
    expect(r.env.LOGS_TABLE).toBe(r.tables.LogsTable.tableName);
    expect(r.env.DEPLOY_QUEUE_URL).toBe(r.queues.DeployQueue.queueUrl);
    expect(r.env.MAX_RECEIVE_COUNT).toBe(String(yml.custom.maxReceiveCount));
    for (const [k, v] of Object.entries(r.env)) expect({ k, type: typeof v }).toEqual({ k, type: 'string' });
  });
});

describe('createResources with overrides', () => {
  let r: LocalResources;
  beforeAll(async () => {
    r = await createResources({
      dynamodbEndpoint: endpoints.dynamodb,
      sqsEndpoint: endpoints.sqs,
      suffix: uniqueSuffix(),
      overrides: {
        custom: { maxReceiveCount: 2 },
        queues: { DeployQueue: { VisibilityTimeout: 1 } },
        env: { RETRY_BASE_SECONDS: '1' },
      },
    });
  });
  afterAll(() => r?.destroy());

  it('applies maxReceiveCount to the redrive AND to MAX_RECEIVE_COUNT, plus queue and env overrides', async () => {
    const { Attributes: a = {} } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: r.queues.DeployQueue.queueUrl, AttributeNames: ['All'] }),
    );
    expect(a.VisibilityTimeout).toBe('1');
    expect(JSON.parse(a.RedrivePolicy!).maxReceiveCount).toBe(2);
    expect(r.env.MAX_RECEIVE_COUNT).toBe('2');
    expect(r.env.RETRY_BASE_SECONDS).toBe('1');
  });

  it('destroy() deletes the tables and queues', async () => {
    const other = await createResources({
      dynamodbEndpoint: endpoints.dynamodb,
      sqsEndpoint: endpoints.sqs,
      suffix: uniqueSuffix(),
    });
    const table = other.tables.TriggersTable.tableName;
    const queue = other.queues.DeployQueue.queueUrl;
    expect(table).not.toBe(r.tables.TriggersTable.tableName);
    await other.destroy();
    await expect(ddb.send(new DescribeTableCommand({ TableName: table }))).rejects.toThrow(
      /not found|ResourceNotFound|non-existent/i,
    );
    await expect(
      sqs.send(new GetQueueAttributesCommand({ QueueUrl: queue, AttributeNames: ['All'] })),
    ).rejects.toThrow();
  });
});
