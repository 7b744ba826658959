/* eslint-disable @typescript-eslint/no-explicit-any -- handler answers are JSON */
/**
 * The packaged handlers through webhook -> queue -> deployer -> log, each with its own role's credentials, and the
 * calls outside each role, which must be denied.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ScanCommand, PutItemCommand, DeleteItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeStacksCommand, DeleteStackCommand } from '@aws-sdk/client-cloudformation';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import {
  DeleteMessageCommand,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { clients, REGION } from './aws';
import { invoke, type PackagedFunction } from './packaged';

export interface TargetServer {
  url: string;
  calls: Array<{ method: string; url: string; headers: http.IncomingHttpHeaders; body: string }>;
  close(): Promise<void>;
}

export async function startTargetServer(): Promise<TargetServer> {
  const calls: TargetServer['calls'] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      calls.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"deployed":true}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** An API Gateway HTTP API (payload 2.0) event for a route, as API Gateway would hand it to the function. */
export function httpEvent(
  routeKey: string,
  opts: {
    path: string;
    pathParameters?: Record<string, string>;
    query?: Record<string, string>;
    headers?: Record<string, string>;
    body?: string;
  },
) {
  const [method] = routeKey.split(' ');
  const rawQueryString = new URLSearchParams(opts.query ?? {}).toString();
  return {
    version: '2.0',
    routeKey,
    rawPath: opts.path,
    rawQueryString,
    headers: { 'content-type': 'application/json', 'user-agent': 'test-aws', ...(opts.headers ?? {}) },
    queryStringParameters: opts.query,
    pathParameters: opts.pathParameters,
    requestContext: {
      accountId: '123456789012',
      apiId: 'rehearsal',
      domainName: 'rehearsal.execute-api.us-east-1.amazonaws.com',
      domainPrefix: 'rehearsal',
      http: { method, path: opts.path, protocol: 'HTTP/1.1', sourceIp: '192.0.2.10', userAgent: 'test-aws' },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
    body: opts.body,
    isBase64Encoded: false,
  };
}

/** The handler's answer: status and parsed body; a failed invocation throws with its log. */
export async function call(
  fn: PackagedFunction,
  event: unknown,
): Promise<{ status: number; body: any; output: string }> {
  const r = await invoke(fn, event);
  if (!r.ok) throw new Error(`${fn.name} failed: ${r.error}\n${r.output}`);
  const res = r.result as { statusCode: number; body?: string };
  let body: any = res.body;
  try {
    body = res.body ? JSON.parse(res.body) : undefined;
  } catch {
    // not JSON: kept as text
  }
  return { status: res.statusCode, body, output: r.output };
}

/**
 * The deploy queue's messages as the SQS event source mapping would hand them to the deployer: received with the
 * deployer's own credentials (the mapping uses the function's role), deleted after a batch unless reported failed.
 */
export async function runDeployerOnce(
  endpoint: string,
  deployer: PackagedFunction,
  queueUrl: string,
  queueArn: string,
): Promise<{ handled: number; failures: string[]; output: string }> {
  const sqs = clients(endpoint, deployer.credentials).sqs;
  const deadline = Date.now() + 30_000;
  let messages: any[] = [];
  while (!messages.length && Date.now() < deadline) {
    messages =
      (
        await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: 3,
            WaitTimeSeconds: 2,
            MessageSystemAttributeNames: ['All'],
            MessageAttributeNames: ['All'],
          }),
        )
      ).Messages ?? [];
  }
  if (!messages.length) throw new Error('no message reached the deploy queue');
  const event = {
    Records: messages.map((m) => ({
      messageId: m.MessageId,
      receiptHandle: m.ReceiptHandle,
      body: m.Body,
      attributes: m.Attributes ?? {},
      messageAttributes: Object.fromEntries(
        Object.entries<any>(m.MessageAttributes ?? {}).map(([k, v]) => [
          k,
          { stringValue: v.StringValue, dataType: v.DataType, stringListValues: [], binaryListValues: [] },
        ]),
      ),
      md5OfBody: m.MD5OfBody,
      eventSource: 'aws:sqs',
      eventSourceARN: queueArn,
      awsRegion: REGION,
    })),
  };
  const r = await invoke(deployer, event);
  if (!r.ok) throw new Error(`deployer failed: ${r.error}\n${r.output}`);
  const failures = ((r.result as any)?.batchItemFailures ?? []).map((f: any) => f.itemIdentifier as string);
  for (const m of messages.filter((x) => !failures.includes(x.MessageId))) {
    await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle }));
  }
  return { handled: messages.length, failures, output: r.output };
}

export interface Probe {
  role: string;
  call: string;
  expect: 'allowed' | 'denied';
  run: () => Promise<unknown>;
}

/** Calls made with a role's credentials outside the handlers: each must be allowed or denied as expected. */
export function probes(
  endpoint: string,
  creds: Record<'receiver' | 'deployer' | 'adminTriggers' | 'adminLogs', PackagedFunction['credentials']>,
  names: {
    stack: string;
    stage: string;
    otherStage: string;
    triggersTable: string;
    logsTable: string;
    queueUrl: string;
    dlqUrl: string;
  },
): Probe[] {
  const receiver = clients(endpoint, creds.receiver);
  const deployer = clients(endpoint, creds.deployer);
  const adminTriggers = clients(endpoint, creds.adminTriggers);
  const adminLogs = clients(endpoint, creds.adminLogs);
  const param = (c: typeof receiver, name: string) => () =>
    c.ssm.send(new GetParameterCommand({ Name: name, WithDecryption: true }));
  const secret = (c: typeof receiver, id: string) => () => c.sm.send(new GetSecretValueCommand({ SecretId: id }));
  const { stage, otherStage } = names;
  return [
    {
      role: 'receiver',
      call: 'dynamodb:Scan on the triggers table',
      expect: 'denied',
      run: () => receiver.ddb.send(new ScanCommand({ TableName: names.triggersTable })),
    },
    {
      role: 'receiver',
      call: 'dynamodb:Scan on the logs table',
      expect: 'denied',
      run: () => receiver.ddb.send(new ScanCommand({ TableName: names.logsTable })),
    },
    {
      role: 'receiver',
      call: 'dynamodb:PutItem on the triggers table',
      expect: 'denied',
      run: () =>
        receiver.ddb.send(new PutItemCommand({ TableName: names.triggersTable, Item: { id: { S: 'forged' } } })),
    },
    {
      role: 'receiver',
      call: `ssm:GetParameter on its stage's admin token`,
      expect: 'denied',
      run: param(receiver, `/triggerfish/${stage}/admin-token`),
    },
    {
      role: 'deployer',
      call: `ssm:GetParameter on its stage's admin token`,
      expect: 'denied',
      run: param(deployer, `/triggerfish/${stage}/admin-token`),
    },
    {
      role: 'deployer',
      call: `ssm:GetParameter on stage ${otherStage}'s admin token`,
      expect: 'denied',
      run: param(deployer, `/triggerfish/${otherStage}/admin-token`),
    },
    {
      role: 'deployer',
      call: `secretsmanager:GetSecretValue on its stage's target secret`,
      expect: 'allowed',
      run: secret(deployer, `triggerfish/${stage}/hub-token`),
    },
    {
      role: 'deployer',
      call: `secretsmanager:GetSecretValue on stage ${otherStage}'s target secret`,
      expect: 'denied',
      run: secret(deployer, `triggerfish/${otherStage}/hub-token`),
    },
    {
      role: 'deployer',
      call: `ssm:GetParameter on its stage's target parameter`,
      expect: 'allowed',
      run: param(deployer, `/triggerfish/${stage}/hub-token`),
    },
    {
      role: 'deployer',
      call: `ssm:GetParameter on stage ${otherStage}'s target parameter`,
      expect: 'denied',
      run: param(deployer, `/triggerfish/${otherStage}/hub-token`),
    },
    {
      role: 'deployer',
      call: 'cloudformation:DescribeStacks on its own stack',
      expect: 'denied',
      run: () => deployer.cfn.send(new DescribeStacksCommand({ StackName: names.stack })),
    },
    {
      role: 'deployer',
      call: 'cloudformation:DeleteStack on its own stack',
      expect: 'denied',
      run: () => deployer.cfn.send(new DeleteStackCommand({ StackName: names.stack })),
    },
    {
      role: 'deployer',
      call: 'dynamodb:Scan on the triggers table',
      expect: 'denied',
      run: () => deployer.ddb.send(new ScanCommand({ TableName: names.triggersTable })),
    },
    {
      role: 'deployer',
      call: 'dynamodb:DeleteItem on the logs table',
      expect: 'denied',
      run: () =>
        deployer.ddb.send(
          new DeleteItemCommand({ TableName: names.logsTable, Key: { triggerId: { S: 'x' }, sk: { S: 'y' } } }),
        ),
    },
    {
      role: 'deployer',
      call: 'sqs:SendMessage on the deploy queue',
      expect: 'denied',
      run: () =>
        deployer.sqs.send(
          new SendMessageCommand({
            QueueUrl: names.queueUrl,
            MessageBody: '{}',
            MessageGroupId: 'x',
            MessageDeduplicationId: 'x',
          }),
        ),
    },
    {
      role: 'deployer',
      call: 'sqs:PurgeQueue on the DLQ',
      expect: 'denied',
      run: () => deployer.sqs.send(new PurgeQueueCommand({ QueueUrl: names.dlqUrl })),
    },
    {
      role: 'adminTriggers',
      call: 'dynamodb:Scan on the logs table',
      expect: 'denied',
      run: () => adminTriggers.ddb.send(new ScanCommand({ TableName: names.logsTable })),
    },
    {
      role: 'adminTriggers',
      call: `ssm:GetParameter on stage ${otherStage}'s admin token`,
      expect: 'denied',
      run: param(adminTriggers, `/triggerfish/${otherStage}/admin-token`),
    },
    {
      role: 'adminTriggers',
      call: `secretsmanager:GetSecretValue on its stage's target secret`,
      expect: 'denied',
      run: secret(adminTriggers, `triggerfish/${stage}/hub-token`),
    },
    {
      role: 'adminLogs',
      call: 'dynamodb:PutItem on the triggers table',
      expect: 'denied',
      run: () =>
        adminLogs.ddb.send(new PutItemCommand({ TableName: names.triggersTable, Item: { id: { S: 'forged' } } })),
    },
  ];
}

/** 'allowed', 'denied' (AccessDenied from IAM), or the unexpected error */
export async function outcomeOf(p: Probe): Promise<string> {
  try {
    await p.run();
    return 'allowed';
  } catch (err) {
    const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
    if (e.$metadata?.httpStatusCode === 403 || /AccessDenied|not authorized/i.test(`${e.name} ${e.message}`))
      return 'denied';
    return `error ${e.name}: ${e.message}`;
  }
}
