/**
 * The local SQS event source against the real SQS stand-in: partial batch failures, redelivery with a growing
 * ApproximateReceiveCount, and the queue's redrive to the DLQ after maxReceiveCount receives.
 * Queue settings come from serverless.yml with a 1 s visibility timeout and maxReceiveCount 2 to keep it short.
 */
import {
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
} from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { createResources, localSqsClient, uniqueSuffix, type LocalResources } from '../../../lib/local/resources';
import {
  failedMessageIds,
  sqsFunctionsFromServerless,
  startSqsPoller,
  toSqsRecord,
  type BatchReport,
  type SqsPoller,
} from '../../../lib/local/sqs-poller';
import * as testHandler from '../../helpers/handlers/sqs-batch';
import { testEndpoints } from '../../helpers/stack';

jest.setTimeout(60_000);

const endpoints = testEndpoints();
if (!endpoints) throw new Error('stand-ins not started: run through jest (test/global-setup.ts)');
const sqs = localSqsClient(endpoints.sqs);
afterAll(() => sqs.destroy());

/** polls `check` until it returns a value (no timing assertions: just a generous deadline) */
async function eventually<T>(
  check: () => T | undefined | Promise<T | undefined>,
  what: string,
  ms = 30_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function queueCounts(url: string): Promise<{ visible: number; inFlight: number; delayed: number }> {
  const { Attributes: a = {} } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }),
  );
  return {
    visible: Number(a.ApproximateNumberOfMessages),
    inFlight: Number(a.ApproximateNumberOfMessagesNotVisible),
    delayed: Number(a.ApproximateNumberOfMessagesDelayed ?? 0),
  };
}

const deployer = () => {
  const fn = sqsFunctionsFromServerless(require('../../../lib/local/resources').loadServerlessConfig()).find(
    (f) => f.name === 'deployer',
  );
  if (!fn) throw new Error('serverless.yml has no deployer function with an sqs event');
  return fn;
};

describe('serverless.yml sqs event', () => {
  it('the deployer consumes DeployQueue with ReportBatchItemFailures', () => {
    const fn = deployer();
    expect(fn.queueLogicalId).toBe('DeployQueue');
    expect(fn.functionResponseType).toBe('ReportBatchItemFailures');
    expect(fn.batchSize).toBeGreaterThanOrEqual(1);
    expect(fn.handler).toBe('functions/deployer.handler');
  });
});

describe('local SQS poller (Lambda event source mapping)', () => {
  let r: LocalResources;
  let poller: SqsPoller | undefined;
  const reports: BatchReport[] = [];
  const errors: { err: unknown; where: string }[] = [];

  beforeEach(async () => {
    testHandler.reset();
    reports.length = 0;
    errors.length = 0;
    r = await createResources({
      dynamodbEndpoint: endpoints.dynamodb,
      sqsEndpoint: endpoints.sqs,
      suffix: uniqueSuffix(),
      overrides: { custom: { maxReceiveCount: 2 }, queues: { DeployQueue: { VisibilityTimeout: 1 } } },
    });
  });
  afterEach(async () => {
    await poller?.stop();
    poller = undefined;
    await r?.destroy();
  });

  function start(handler = 'test/helpers/handlers/sqs-batch.handler') {
    poller = startSqsPoller({
      queueUrl: r.queues.DeployQueue.queueUrl,
      queueArn: r.queues.DeployQueue.queueArn,
      fn: { ...deployer(), handler },
      sqsEndpoint: endpoints!.sqs,
      onBatch: (b) => reports.push(b),
      onError: (err, where) => errors.push({ err, where }),
    });
  }

  async function send(body: object, group: string, attrs = false): Promise<string> {
    const res = await sqs.send(
      new SendMessageCommand({
        QueueUrl: r.queues.DeployQueue.queueUrl,
        MessageBody: JSON.stringify(body),
        MessageGroupId: group,
        MessageDeduplicationId: `${group}-${Math.random()}`,
        ...(attrs
          ? {
              MessageAttributes: {
                kind: { DataType: 'String', StringValue: 'deploy' },
                blob: { DataType: 'Binary', BinaryValue: Buffer.from([1, 2, 3]) },
              },
            }
          : {}),
      }),
    );
    return res.MessageId!;
  }

  const seen = (id: string) => testHandler.records().filter((rec) => rec.messageId === id);

  it('deletes succeeded records, redelivers the reported failure, and the queue redrives it to the DLQ', async () => {
    const good = await send({ n: 1 }, 'trigger-a', true);
    const bad = await send({ n: 2, fail: true }, 'trigger-b');
    start();

    // the failed message reaches the DLQ after maxReceiveCount (2) receives
    const dlqMessage = await eventually<Message>(async () => {
      const res = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: r.queues.DeployDLQ.queueUrl,
          WaitTimeSeconds: 1,
          MessageSystemAttributeNames: ['All'],
        }),
      );
      return res.Messages?.[0];
    }, 'the failed message in the DLQ');
    expect(dlqMessage.MessageId).toBe(bad);
    expect(JSON.parse(dlqMessage.Body!)).toEqual({ n: 2, fail: true });
    expect(dlqMessage.Attributes?.MessageGroupId).toBe('trigger-b');

    // the good one: invoked once, deleted
    expect(seen(good).map((x) => x.attributes.ApproximateReceiveCount)).toEqual(['1']);
    // the bad one: invoked on receive 1 and 2, then no more (it went to the DLQ instead of a 3rd delivery)
    expect(seen(bad).map((x) => x.attributes.ApproximateReceiveCount)).toEqual(['1', '2']);
    expect(reports.flatMap((b) => b.deleted)).toEqual([good]);
    expect(reports.flatMap((b) => b.failed)).toEqual([bad, bad]);
    expect(await queueCounts(r.queues.DeployQueue.queueUrl)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
    expect(errors).toEqual([]);
  });

  it('builds records shaped like Lambda SQS events', async () => {
    const id = await send({ n: 3 }, 'trigger-c', true);
    start();
    const rec = await eventually<SQSRecord>(() => seen(id)[0], 'the record');
    expect(rec).toEqual({
      messageId: id,
      receiptHandle: expect.any(String),
      body: '{"n":3}',
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: expect.stringMatching(/^\d{13}$/),
        SenderId: expect.any(String),
        ApproximateFirstReceiveTimestamp: expect.stringMatching(/^\d{13}$/),
        MessageGroupId: 'trigger-c',
        MessageDeduplicationId: expect.stringMatching(/^trigger-c-/),
        SequenceNumber: expect.stringMatching(/^\d+$/),
      },
      messageAttributes: {
        kind: { stringValue: 'deploy', stringListValues: [], binaryListValues: [], dataType: 'String' },
        blob: {
          binaryValue: Buffer.from([1, 2, 3]).toString('base64'),
          stringListValues: [],
          binaryListValues: [],
          dataType: 'Binary',
        },
      },
      md5OfBody: expect.stringMatching(/^[0-9a-f]{32}$/),
      md5OfMessageAttributes: expect.stringMatching(/^[0-9a-f]{32}$/),
      eventSource: 'aws:sqs',
      eventSourceARN: r.queues.DeployQueue.queueArn,
      awsRegion: 'us-east-1',
    });
    await eventually(() => (reports.some((b) => b.deleted.includes(id)) ? true : undefined), 'the delete');
  });

  it('deletes nothing when the handler throws: the message comes back and succeeds later', async () => {
    const id = await send({ n: 4, throwUntil: 1 }, 'trigger-d');
    start();
    await eventually(
      () => (reports.some((b) => b.deleted.includes(id)) ? true : undefined),
      'the second, successful delivery',
    );
    expect(seen(id).map((x) => x.attributes.ApproximateReceiveCount)).toEqual(['1', '2']);
    expect(reports[0].failed).toContain(id);
    expect(String(reports[0].error)).toContain('test handler throws');
    expect(errors.map((e) => e.where)).toEqual(['handler']);
    expect(await queueCounts(r.queues.DeployQueue.queueUrl)).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  });

  it('an itemIdentifier not in the batch fails the whole batch (as Lambda does)', async () => {
    const id = await send({ n: 5 }, 'trigger-e');
    start('test/helpers/handlers/sqs-batch.invalid');
    await eventually(() => (seen(id).length >= 2 ? true : undefined), 'a redelivery');
    expect(
      seen(id)
        .map((x) => x.attributes.ApproximateReceiveCount)
        .slice(0, 2),
    ).toEqual(['1', '2']);
    expect(reports.flatMap((b) => b.deleted)).toEqual([]);
    expect(errors[0].where).toBe('batchItemFailures');
  });

  it('FIFO: a redelivered message keeps its place; the next one of its group waits for it', async () => {
    const first = await send({ n: 7, failUntil: 1 }, 'trigger-g');
    const second = await send({ n: 8 }, 'trigger-g');
    start();
    await eventually(() => (reports.some((b) => b.deleted.includes(second)) ? true : undefined), 'both to be done');
    const order = testHandler
      .records()
      .map((x) => [x.messageId === first ? 'first' : 'second', x.attributes.ApproximateReceiveCount]);
    expect(order).toEqual([
      ['first', '1'],
      ['first', '2'],
      ['second', '1'],
    ]);
    expect(seen(first)[0].attributes.SequenceNumber! < seen(second)[0].attributes.SequenceNumber!).toBe(true);
  });

  it('stop() waits for the in-flight batch, then polls no more', async () => {
    const id = await send({ n: 6 }, 'trigger-f');
    start('test/helpers/handlers/sqs-batch.slow');
    await eventually(() => (seen(id).length ? true : undefined), 'the batch to start');
    await poller!.stop();
    // the batch that was running when stop() was called has finished and been deleted
    expect(reports.map((b) => b.deleted)).toEqual([[id]]);
    const later = await send({ n: 7 }, 'trigger-f');
    await new Promise((res) => setTimeout(res, 1500));
    expect(seen(later)).toEqual([]);
    expect(await queueCounts(r.queues.DeployQueue.queueUrl)).toMatchObject({ visible: 1, inFlight: 0 });
  });
});

describe('visibility changes made by the handler', () => {
  let r: LocalResources;
  let poller: SqsPoller | undefined;
  const saved = { url: process.env.DEPLOY_QUEUE_URL, endpoint: process.env.SQS_ENDPOINT };
  beforeAll(async () => {
    testHandler.reset();
    // a long queue visibility timeout: only the handler's ChangeMessageVisibility(0) can bring the message back soon
    r = await createResources({
      dynamodbEndpoint: endpoints.dynamodb,
      sqsEndpoint: endpoints.sqs,
      suffix: uniqueSuffix(),
      overrides: { queues: { DeployQueue: { VisibilityTimeout: 300 } } },
    });
    process.env.DEPLOY_QUEUE_URL = r.queues.DeployQueue.queueUrl;
    process.env.SQS_ENDPOINT = endpoints.sqs;
  });
  afterAll(async () => {
    await poller?.stop();
    await r?.destroy();
    process.env.DEPLOY_QUEUE_URL = saved.url;
    process.env.SQS_ENDPOINT = saved.endpoint;
  });

  it('a failed message whose visibility the handler sets to 0 is redelivered at once', async () => {
    const { MessageId } = await sqs.send(
      new SendMessageCommand({
        QueueUrl: r.queues.DeployQueue.queueUrl,
        MessageBody: JSON.stringify({ failUntil: 2 }),
        MessageGroupId: 'g',
        MessageDeduplicationId: 'v1',
      }),
    );
    const reports: BatchReport[] = [];
    poller = startSqsPoller({
      queueUrl: r.queues.DeployQueue.queueUrl,
      queueArn: r.queues.DeployQueue.queueArn,
      fn: { ...deployer(), handler: 'test/helpers/handlers/sqs-batch.retryNow' },
      sqsEndpoint: endpoints!.sqs,
      onBatch: (b) => reports.push(b),
    });
    await eventually(
      () => (reports.some((b) => b.deleted.includes(MessageId!)) ? true : undefined),
      'the third, successful delivery',
      20_000,
    );
    expect(testHandler.records().map((x) => x.attributes.ApproximateReceiveCount)).toEqual(['1', '2', '3']);
  });
});

describe('batch response rules', () => {
  const event: SQSEvent = {
    Records: ['a', 'b', 'c'].map((id) =>
      toSqsRecord({ MessageId: id, ReceiptHandle: `rh-${id}`, Body: '' }, 'arn:q', 'us-east-1'),
    ),
  };
  it.each([
    ['undefined', undefined, []],
    ['null', null, []],
    ['empty object', {}, []],
    ['null list', { batchItemFailures: null }, []],
    ['empty list', { batchItemFailures: [] }, []],
    ['one failure', { batchItemFailures: [{ itemIdentifier: 'b' }] }, ['b']],
    [
      'two failures, batch order',
      { batchItemFailures: [{ itemIdentifier: 'c' }, { itemIdentifier: 'a' }] },
      ['a', 'c'],
    ],
    ['unknown id -> all', { batchItemFailures: [{ itemIdentifier: 'zzz' }] }, ['a', 'b', 'c']],
    ['empty id -> all', { batchItemFailures: [{ itemIdentifier: '' }] }, ['a', 'b', 'c']],
    ['bad key -> all', { batchItemFailures: [{ id: 'a' }] }, ['a', 'b', 'c']],
    ['not a list -> all', { batchItemFailures: 'a' }, ['a', 'b', 'c']],
  ])('%s', (_name, result, expected) => {
    expect(failedMessageIds(result, event).failed).toEqual(expected);
  });
});
