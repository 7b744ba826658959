/**
 * The floors for the local stack: the least a webhook receiver and a deployer must do, written straight against
 * the raw SDK clients (no document client, no schemas, no logging, no middleware), on the same stand-ins, tables
 * and queue kind.
 *
 * - receiver: a node:http server on loopback. Per webhook: GetItem (trigger), check the token, JSON.parse, one
 *   consistent BatchGetItem of the lane's deploy state and the dedup claim (a decision on the state is what issue 8
 *   asks of every receiver: without it no "already running", no rollback, no superseding), TransactWriteItems (dedup
 *   claim + log entry + the state's `latest`, if unchanged since the read; on a conflict read again), SendMessage
 *   (FIFO, the trigger as group), answer 202.
 * - consumer: one batch (up to 5) at a time like the local SQS poller; per message a conditional UpdateItem claiming
 *   the entry (queued -> deploying: a redelivered message never deploys twice), GetItem (trigger), POST to the
 *   target, UpdateItem (result), then DeleteMessageBatch.
 */
import { randomUUID, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  BatchGetItemCommand,
  DynamoDBClient,
  GetItemCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { CallCounter } from './aws-count';

export interface FloorOptions {
  dynamodbEndpoint: string;
  sqsEndpoint: string;
  triggersTable: string;
  logsTable: string;
  queueUrl: string;
  /** counts and times the floor's AWS calls */
  meter?: CallCounter;
}

export async function startFloorReceiver(o: FloorOptions): Promise<{ url: string; close: () => Promise<void> }> {
  const ddb = new DynamoDBClient({ region: 'us-east-1', endpoint: o.dynamodbEndpoint });
  const sqs = new SQSClient({ region: 'us-east-1', endpoint: o.sqsEndpoint });
  o.meter?.attach(ddb as never, sqs as never);
  const answer = (res: http.ServerResponse, status: number, body: object) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const url = new URL(req.url ?? '/', 'http://x');
        const triggerId = url.pathname.split('/')[3] ?? '';
        const got = await ddb.send(new GetItemCommand({ TableName: o.triggersTable, Key: { id: { S: triggerId } } }));
        const secret = got.Item?.secret?.S;
        const token = url.searchParams.get('token') ?? '';
        if (!secret || token.length !== secret.length || !timingSafeEqual(Buffer.from(token), Buffer.from(secret))) {
          return answer(res, 401, { message: 'unauthorized' });
        }
        const body = JSON.parse(text) as {
          push_data?: { tag?: string; pushed_at?: number };
          repository?: { repo_name?: string };
        };
        const logId = randomUUID();
        const now = Math.floor(Date.now() / 1000);
        const dedup = `content:${body.repository?.repo_name}:${body.push_data?.tag}:${body.push_data?.pushed_at}`;
        const stateSk = `fstate#${body.repository?.repo_name}`;
        for (let tries = 0; ; tries++) {
          const read = await ddb.send(
            new BatchGetItemCommand({
              RequestItems: {
                [o.logsTable]: {
                  Keys: [stateSk, `dedup#${dedup}`].map((sk) => ({ triggerId: { S: triggerId }, sk: { S: sk } })),
                  ConsistentRead: true,
                },
              },
            }),
          );
          const items = read.Responses?.[o.logsTable] ?? [];
          if (items.some((i) => i.sk?.S === `dedup#${dedup}`)) return answer(res, 200, { status: 'duplicate' });
          const latest = items.find((i) => i.sk?.S === stateSk)?.latest?.S;
          try {
            await write(latest);
            break;
          } catch (e) {
            if ((e as Error).name !== 'TransactionCanceledException' || tries > 10) throw e;
          }
        }
        async function write(latest: string | undefined) {
          const stateValues: Record<string, AttributeValue> = {
            ':l': { S: logId },
            ...(latest ? { ':prev': { S: latest } } : {}),
          };
          await ddb.send(
            new TransactWriteItemsCommand({
              TransactItems: [
                {
                  Update: {
                    TableName: o.logsTable,
                    Key: { triggerId: { S: triggerId }, sk: { S: stateSk } },
                    UpdateExpression: 'SET latest = :l',
                    ConditionExpression: latest ? 'latest = :prev' : 'attribute_not_exists(latest)',
                    ExpressionAttributeValues: stateValues,
                  },
                },
                {
                  Put: {
                    TableName: o.logsTable,
                    Item: {
                      triggerId: { S: triggerId },
                      sk: { S: `dedup#${dedup}` },
                      logId: { S: logId },
                      expiresAt: { N: String(now + 86400) },
                    },
                    ConditionExpression: 'attribute_not_exists(sk)',
                  },
                },
                {
                  Put: {
                    TableName: o.logsTable,
                    Item: {
                      triggerId: { S: triggerId },
                      sk: { S: `flog#${logId}` },
                      id: { S: logId },
                      status: { S: 'queued' },
                      receivedAt: { S: new Date().toISOString() },
                      body: { S: text },
                      expiresAt: { N: String(now + 30 * 86400) },
                    },
                  },
                },
              ],
            }),
          );
        }
        await sqs.send(
          new SendMessageCommand({
            QueueUrl: o.queueUrl,
            MessageBody: JSON.stringify({ triggerId, logId, tag: body.push_data?.tag }),
            MessageGroupId: triggerId,
            MessageDeduplicationId: logId,
          }),
        );
        answer(res, 202, { log: logId, status: 'triggered' });
      })().catch((err: Error) => answer(res, 503, { message: err.message }));
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      });
      ddb.destroy();
      sqs.destroy();
    },
  };
}

/** POST with a fresh connection (as the deployer's http target does: agent false). */
function post(url: string, body: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

export function startFloorConsumer(o: FloorOptions & { targetUrl: (triggerId: string) => string }): {
  stop: () => Promise<void>;
} {
  const ddb = new DynamoDBClient({ region: 'us-east-1', endpoint: o.dynamodbEndpoint });
  const sqs = new SQSClient({ region: 'us-east-1', endpoint: o.sqsEndpoint });
  // the consumer's DynamoDB calls are the deployer's; its ReceiveMessage/DeleteMessageBatch are the event source's
  o.meter?.attach(ddb as never);
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const got = await sqs
        .send(new ReceiveMessageCommand({ QueueUrl: o.queueUrl, MaxNumberOfMessages: 5, WaitTimeSeconds: 1 }))
        .catch(() => ({ Messages: [] }));
      const messages = got.Messages ?? [];
      if (!messages.length) continue;
      for (const m of messages) {
        const { triggerId, logId, tag } = JSON.parse(m.Body ?? '{}') as {
          triggerId: string;
          logId: string;
          tag?: string;
        };
        const key = { triggerId: { S: triggerId }, sk: { S: `flog#${logId}` } };
        const claimed = await ddb
          .send(
            new UpdateItemCommand({
              TableName: o.logsTable,
              Key: key,
              UpdateExpression: 'SET #s = :d',
              ConditionExpression: '#s = :q',
              ExpressionAttributeNames: { '#s': 'status' },
              ExpressionAttributeValues: { ':d': { S: 'deploying' }, ':q': { S: 'queued' } },
            }),
          )
          .then(
            () => true,
            (e: Error) => {
              if (e.name === 'ConditionalCheckFailedException') return false;
              throw e;
            },
          );
        if (!claimed) continue;
        const t = await ddb.send(new GetItemCommand({ TableName: o.triggersTable, Key: { id: { S: triggerId } } }));
        if (!t.Item) continue;
        const status = await post(o.targetUrl(triggerId), JSON.stringify({ log: logId, tag }));
        await ddb.send(
          new UpdateItemCommand({
            TableName: o.logsTable,
            Key: key,
            UpdateExpression: 'SET #s = :s',
            ExpressionAttributeNames: { '#s': 'status' },
            ExpressionAttributeValues: { ':s': { S: status >= 200 && status < 300 ? 'succeeded' : 'failed' } },
          }),
        );
      }
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: o.queueUrl,
          Entries: messages.map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle! })),
        }),
      );
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
      ddb.destroy();
      sqs.destroy();
    },
  };
}
