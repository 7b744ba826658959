/* eslint-disable @typescript-eslint/no-explicit-any -- a resolved serverless.yml and Lambda events are untyped here */
/**
 * A local stand-in for Lambda's SQS event source mapping: long-polls the queue, invokes the function with an
 * SQSEvent shaped like Lambda's, and deletes the messages that succeeded. With ReportBatchItemFailures, records
 * listed in batchItemFailures are left on the queue; if the handler throws (or times out, or answers an invalid
 * batchItemFailures), nothing is deleted. Messages left on the queue come back after their visibility timeout
 * (which the handler may change) and the queue's RedrivePolicy moves them to the DLQ: that is the SQS stand-in's
 * job, as it is SQS's on AWS. (serverless-offline-sqs deletes whole batches regardless, hence this poller.)
 *
 * One batch at a time.
 */
import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SQSClient,
  type Message,
  type MessageAttributeValue,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSMessageAttributes, SQSRecord } from 'aws-lambda';
import {
  invokeHandler,
  lambdaContext,
  lambdaFunctionName,
  lambdaFunctionOf,
  loadHandler,
  type LambdaFunction,
} from './gateway';
import { PROJECT_ROOT } from './paths';

export interface SqsFunction extends LambdaFunction {
  /** logical id of the queue in serverless.yml resources (from the event's `arn: Fn::GetAtt [X, Arn]`), or undefined */
  queueLogicalId?: string;
  /** the event's arn when given as a plain string */
  queueArn?: string;
  /** default 10 */
  batchSize?: number;
  functionResponseType?: string;
}

/** Functions with an `sqs` event in a resolved serverless.yml, one entry per event. */
export function sqsFunctionsFromServerless(config: any): SqsFunction[] {
  const out: SqsFunction[] = [];
  for (const [name, fn] of Object.entries<any>(config.functions ?? {})) {
    for (const ev of fn?.events ?? []) {
      const sqs = ev?.sqs;
      if (sqs === undefined) continue;
      const spec = typeof sqs === 'string' ? { arn: sqs } : sqs;
      if (spec.enabled === false) continue;
      const arn = spec.arn;
      const getAtt = arn?.['Fn::GetAtt'];
      const logicalId = Array.isArray(getAtt)
        ? getAtt[0]
        : typeof getAtt === 'string'
          ? getAtt.split('.')[0]
          : arn?.Ref;
      out.push({
        ...lambdaFunctionOf(config, name),
        queueLogicalId: logicalId,
        queueArn: typeof arn === 'string' ? arn : undefined,
        batchSize: Number(spec.batchSize ?? 10),
        functionResponseType: spec.functionResponseType,
      });
    }
  }
  return out;
}

export interface BatchReport {
  event: SQSEvent;
  /** messageIds deleted from the queue */
  deleted: string[];
  /** messageIds left on the queue (reported failures, or the whole batch on error) */
  failed: string[];
  result?: unknown;
  error?: unknown;
}

export interface SqsPollerOptions {
  queueUrl: string;
  queueArn: string;
  fn: SqsFunction;
  /** SQS endpoint (the stand-in); ignored when `client` is given */
  sqsEndpoint?: string;
  client?: SQSClient;
  region?: string;
  projectRoot?: string;
  service?: string;
  stage?: string;
  /** long-poll wait per ReceiveMessage (default 1 s, so stop() is quick) */
  waitTimeSeconds?: number;
  /** handler errors, receive/delete errors (default: console.error) */
  onError?: (err: unknown, where: string) => void;
  /** after each batch (tests, logs) */
  onBatch?: (report: BatchReport) => void;
}

export interface SqsPoller {
  /** stops polling, aborts the pending ReceiveMessage, waits for the in-flight batch */
  stop(): Promise<void>;
}

function lambdaMessageAttributes(attrs: Record<string, MessageAttributeValue> | undefined): SQSMessageAttributes {
  const out: SQSMessageAttributes = {};
  for (const [name, a] of Object.entries(attrs ?? {})) {
    out[name] = {
      ...(a.StringValue !== undefined ? { stringValue: a.StringValue } : {}),
      ...(a.BinaryValue !== undefined ? { binaryValue: Buffer.from(a.BinaryValue).toString('base64') } : {}),
      stringListValues: a.StringListValues ?? [],
      binaryListValues: (a.BinaryListValues ?? []).map((b) => Buffer.from(b).toString('base64')),
      dataType: a.DataType ?? 'String',
    };
  }
  return out;
}

/** An SQSRecord as Lambda's event source mapping builds it from a received message. */
export function toSqsRecord(m: Message, queueArn: string, region: string): SQSRecord {
  const a = m.Attributes ?? {};
  const attributes: SQSRecord['attributes'] = {
    ApproximateReceiveCount: a.ApproximateReceiveCount ?? '1',
    SentTimestamp: a.SentTimestamp ?? String(Date.now()),
    SenderId: a.SenderId ?? '000000000000',
    ApproximateFirstReceiveTimestamp: a.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
  };
  for (const k of [
    'SequenceNumber',
    'MessageGroupId',
    'MessageDeduplicationId',
    'AWSTraceHeader',
    'DeadLetterQueueSourceArn',
  ] as const) {
    if (a[k] !== undefined) attributes[k] = a[k];
  }
  return {
    messageId: m.MessageId!,
    receiptHandle: m.ReceiptHandle!,
    body: m.Body ?? '',
    attributes,
    messageAttributes: lambdaMessageAttributes(m.MessageAttributes),
    md5OfBody: m.MD5OfBody ?? '',
    ...(m.MD5OfMessageAttributes ? { md5OfMessageAttributes: m.MD5OfMessageAttributes } : {}),
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

/**
 * Which records failed, per Lambda's rules for ReportBatchItemFailures: null/empty response or list = all
 * succeeded; an itemIdentifier that is missing, empty or not in the batch = the whole batch failed.
 */
export function failedMessageIds(result: unknown, event: SQSEvent): { failed: string[]; invalid?: string } {
  if (result === undefined || result === null || typeof result !== 'object') return { failed: [] };
  const list = (result as Partial<SQSBatchResponse>).batchItemFailures;
  if (list === undefined || list === null) return { failed: [] };
  const all = event.Records.map((r) => r.messageId);
  if (!Array.isArray(list)) return { failed: all, invalid: 'batchItemFailures is not a list' };
  const failed = new Set<string>();
  for (const item of list) {
    const id = (item as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== 'string' || id === '' || !all.includes(id)) {
      return { failed: all, invalid: `invalid itemIdentifier ${JSON.stringify(id)}` };
    }
    failed.add(id);
  }
  return { failed: all.filter((id) => failed.has(id)) };
}

export function startSqsPoller(opts: SqsPollerOptions): SqsPoller {
  const region = opts.region ?? process.env.AWS_REGION ?? 'us-east-1';
  const ownClient = !opts.client;
  const client = opts.client ?? new SQSClient({ region, endpoint: opts.sqsEndpoint });
  const batchSize = Math.max(1, Math.min(10, opts.fn.batchSize ?? 10));
  const reportFailures = opts.fn.functionResponseType === 'ReportBatchItemFailures';
  const timeout = opts.fn.timeout ?? 6;
  const functionName = lambdaFunctionName(opts.service ?? 'triggerfish', opts.stage ?? 'local', opts.fn.name);
  const onError =
    opts.onError ?? ((err: unknown, where: string) => console.error(`[sqs-poller] ${functionName} ${where}:`, err));
  let stopped = false;
  let receiveFailing = false;
  let abort = new AbortController();

  async function processBatch(messages: Message[]): Promise<void> {
    const event: SQSEvent = { Records: messages.map((m) => toSqsRecord(m, opts.queueArn, region)) };
    const all = event.Records.map((r) => r.messageId);
    let failed: string[] = all;
    let result: unknown;
    let error: unknown;
    try {
      const fn = loadHandler(opts.fn.handler, opts.projectRoot ?? PROJECT_ROOT);
      const context = lambdaContext({ functionName, timeout, memorySize: opts.fn.memorySize, region });
      result = await invokeHandler(fn, event, context, timeout);
      if (reportFailures) {
        const r = failedMessageIds(result, event);
        failed = r.failed;
        if (r.invalid) onError(new Error(`${r.invalid}: the whole batch counts as failed`), 'batchItemFailures');
      } else {
        failed = [];
      }
    } catch (err) {
      error = err;
      onError(err, 'handler');
    }
    const toDelete = event.Records.filter((r) => !failed.includes(r.messageId));
    const deleted: string[] = [];
    for (let i = 0; i < toDelete.length; i += 10) {
      const chunk = toDelete.slice(i, i + 10);
      try {
        const res = await client.send(
          new DeleteMessageBatchCommand({
            QueueUrl: opts.queueUrl,
            Entries: chunk.map((r, j) => ({ Id: String(j), ReceiptHandle: r.receiptHandle })),
          }),
        );
        for (const f of res.Failed ?? []) onError(new Error(`${f.Code}: ${f.Message}`), 'DeleteMessageBatch');
        const failedIdx = new Set((res.Failed ?? []).map((f) => f.Id));
        chunk.forEach((r, j) => !failedIdx.has(String(j)) && deleted.push(r.messageId));
      } catch (err) {
        onError(err, 'DeleteMessageBatch');
      }
    }
    opts.onBatch?.({ event, deleted, failed, result, error });
  }

  const loop = (async () => {
    while (!stopped) {
      let messages: Message[];
      try {
        const res = await client.send(
          new ReceiveMessageCommand({
            QueueUrl: opts.queueUrl,
            MaxNumberOfMessages: batchSize,
            WaitTimeSeconds: opts.waitTimeSeconds ?? 1,
            AttributeNames: ['All'],
            MessageSystemAttributeNames: ['All'],
            MessageAttributeNames: ['All'],
          }),
          { abortSignal: abort.signal },
        );
        messages = res.Messages ?? [];
      } catch (err) {
        if (stopped) break;
        // the queue is away (a stand-in restarting): say so once per outage, keep trying every second
        if (!receiveFailing) onError(err, 'ReceiveMessage (retrying every second until the queue answers)');
        receiveFailing = true;
        await new Promise((r) => setTimeout(r, 1000));
        continue;
      }
      receiveFailing = false;
      if (stopped) break; // received while stopping: they come back after their visibility timeout
      if (messages.length) await processBatch(messages);
    }
  })();

  let stopping: Promise<void> | undefined;
  return {
    stop: () =>
      (stopping ??= (async () => {
        stopped = true;
        abort.abort();
        abort = new AbortController();
        await loop;
        if (ownClient) client.destroy();
      })()),
  };
}
