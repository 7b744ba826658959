/**
 * 7. What a webhook costs on AWS, per million: triggered (a GitHub push that matches, is queued and deployed),
 * untriggered (a push to a branch no rule names) and duplicate (the same X-GitHub-Delivery again). Measured in this
 * process on the stand-ins, on the functions' own clients:
 * - the DynamoDB request and capacity units DynamoDB reports (ReturnConsumedCapacity=TOTAL on every call);
 * - SQS requests (each 64 KB of a message one more) and message bytes;
 * - each handler's duration, billed as Lambda bills it (rounded up to the ms) at the function's memory size and
 *   architecture from serverless.yml. DynamoDB Local answers slower than DynamoDB, so this overstates Lambda time.
 * The deploy of a triggered webhook is the deployer handler on its SQS message, one message per invocation (what a
 * FIFO queue gives when webhooks do not arrive together; batches of up to 3 share the invocation), against a target
 * on loopback that answers at once (a real target's answer time is billed too), plus the event source mapping's
 * ReceiveMessage and DeleteMessageBatch. Priced at bench/prices.ts.
 * Floor: one minimal entry (PutItem) and the event queued (SendMessage), timed here too, plus the API Gateway and
 * Lambda requests every webhook costs; for a deploy, the entry marked done (UpdateItem) and the target called, plus
 * the invocation and the mapping's two SQS requests.
 * Not counted: CloudWatch Logs ingestion, storage, the mapping's empty polls of an idle queue (a fixed cost per
 * month, not per webhook), notifications.
 * Item sizes: each kind's log entry read back and sized by DynamoDB's rules (lib/store/item-size.ts).
 */
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SQSClient,
  SendMessageCommand,
  type Message,
} from '@aws-sdk/client-sqs';
import { QUICK, awsEnv, finish, githubPushBody, log, runPart, signGithub, standIns } from './lib/common';
import { median, round, row, type Row } from './lib/stats';
import { itemSize } from '../lib/store/item-size';
import { startTarget } from './lib/target';
import { GITHUB_MATCH, makeTrigger } from './lib/triggers';
import { PRICES } from './prices';
import { createResources, loadServerlessConfig, uniqueSuffix } from '../lib/local/resources';

const N = QUICK ? 20 : 60;

type Handler = (event: unknown, context: unknown) => Promise<any>;

interface Tally {
  requests: Record<string, number>;
  rcu: number;
  wcu: number;
  cancelled: number;
  sqsRequests: number;
  sqsBytes: number;
}
const empty = (): Tally => ({ requests: {}, rcu: 0, wcu: 0, cancelled: 0, sqsRequests: 0, sqsBytes: 0 });

async function main() {
  const started = Date.now();
  awsEnv();
  const stand = await standIns();
  const resources = await createResources({
    dynamodbEndpoint: stand.endpoints.dynamodb,
    sqsEndpoint: stand.endpoints.sqs,
    suffix: `bench-cost-${uniqueSuffix()}`,
  });
  Object.assign(process.env, resources.env, {
    DYNAMODB_ENDPOINT: stand.endpoints.dynamodb,
    SQS_ENDPOINT: stand.endpoints.sqs,
    ALLOW_PRIVATE_TARGETS: 'true',
    TRIGGERFISH_ADMIN_TOKEN: 'bench',
    POWERTOOLS_LOG_LEVEL: 'ERROR',
  });
  delete process.env.ADMIN_TOKEN_PARAM;
  const yml = loadServerlessConfig({});
  const sizing = (fn: string) => ({
    memoryMb: Number(yml.functions[fn].memorySize ?? yml.provider.memorySize ?? 1024),
    arch: String(yml.functions[fn].architecture ?? yml.provider.architecture ?? 'x86_64'),
  });
  const hookSize = sizing('hookGithub');
  const deployerSize = sizing('deployer');

  const { dynamo, sqsClient } = require('../lib/store/aws') as typeof import('../lib/store/aws');
  const { putTrigger } = require('../lib/store/store') as typeof import('../lib/store/store');
  const { buildHttpApiEvent, lambdaContext } = require('../lib/local/gateway') as typeof import('../lib/local/gateway');
  const githubHandler = (require('../functions/hooks/github') as { handler: Handler }).handler;
  const deployerHandler = (require('../functions/deployer') as { handler: Handler }).handler;
  const { toSqsRecord } = require('../lib/local/sqs-poller') as typeof import('../lib/local/sqs-poller');

  let t = empty();
  let on = false;
  (dynamo() as any).middlewareStack.add(
    (next: any, context: any) => async (args: any) => {
      if (!on) return next(args);
      const name = String(context.commandName ?? '?').replace(/Command$/, '');
      t.requests[name] = (t.requests[name] ?? 0) + 1;
      args.input.ReturnConsumedCapacity = 'TOTAL';
      try {
        const out = await next(args);
        const cc = out.output?.ConsumedCapacity;
        // TOTAL reports CapacityUnits (table and indexes); reads and writes are told apart by the command
        const reads = ['GetItem', 'BatchGetItem', 'Query', 'Scan', 'TransactGetItems'].includes(name);
        for (const c of Array.isArray(cc) ? cc : cc ? [cc] : []) {
          if (reads) t.rcu += c.CapacityUnits ?? c.ReadCapacityUnits ?? 0;
          else t.wcu += c.CapacityUnits ?? c.WriteCapacityUnits ?? 0;
        }
        return out;
      } catch (e) {
        if ((e as Error).name === 'TransactionCanceledException') {
          t.cancelled++;
          // what its items would have cost: 2 units per item (transactional), 1 KB items at most here
          t.wcu += 2 * (args.input.TransactItems?.length ?? 0);
        }
        throw e;
      }
    },
    { step: 'initialize', name: 'benchCost' },
  );
  (sqsClient() as any).middlewareStack.add(
    (next: any) => async (args: any) => {
      if (on) {
        const bytes = Buffer.byteLength(String(args.input.MessageBody ?? ''));
        t.sqsRequests += Math.max(1, Math.ceil(bytes / 65536));
        t.sqsBytes += bytes;
      }
      return next(args);
    },
    { step: 'initialize', name: 'benchCostSqs' },
  );

  const target = await startTarget();
  const gh = makeTrigger({
    name: 'bench-cost',
    provider: 'github',
    match: GITHUB_MATCH,
    target: { type: 'http', url: `${target.url}/deploy` },
  });
  await putTrigger(gh);
  // a fresh context per call: its deadline starts when it is made, as Lambda's does
  const context = (fn = 'hookGithub', timeout = 10) =>
    lambdaContext({ functionName: `triggerfish-dev-${fn}`, timeout });
  const send = async (body: string, delivery: string) => {
    const event = buildHttpApiEvent({
      method: 'POST',
      url: `/hooks/github/${gh.id}`,
      rawHeaders: Object.entries({
        Host: 'abc.execute-api.us-east-1.amazonaws.com',
        'Content-Type': 'application/json',
        'X-GitHub-Event': 'push',
        'X-GitHub-Delivery': delivery,
        'X-Hub-Signature-256': signGithub(gh.secret, body),
      }).flat(),
      body: Buffer.from(body),
      sourceIp: '192.0.2.1',
      routeKey: 'POST /hooks/github/{triggerId}',
      pathParameters: { triggerId: gh.id },
    });
    const res = await githubHandler(event, context());
    const answer = JSON.parse(res.body) as { status: string; log?: string };
    if (answer.log) lastLog[answer.status] = answer.log;
    return answer.status;
  };
  /** the newest log id answered per status (to size the entries) */
  const lastLog: Record<string, string> = {};
  const untriggeredBody = (i: number) => {
    const b = JSON.parse(githubPushBody(i));
    b.ref = 'refs/heads/feature/x';
    return JSON.stringify(b);
  };
  // warm up (JIT, connections), not counted
  for (let i = 0; i < 5; i++) await send(githubPushBody(1_000_000 + i), `warm-${i}`);

  const kinds = {
    // i from 1: GitHub's `after` of all zeros (i = 0) is a branch deletion
    triggered: (i: number) => send(githubPushBody(i), `d-${i}`),
    untriggered: (i: number) => send(untriggeredBody(500_000 + i), `u-${i}`),
    // the triggered webhook i again (same delivery id): a re-delivery
    duplicate: (i: number) => send(githubPushBody(i), `d-${i}`),
  };
  const KINDS = ['triggered', 'untriggered', 'duplicate', 'floor', 'deploy', 'deployFloor'];
  const tallies: Record<string, Tally> = Object.fromEntries(KINDS.map((k) => [k, empty()]));
  const ms: Record<string, number[]> = Object.fromEntries(KINDS.map((k) => [k, []]));
  const statuses: Record<string, Record<string, number>> = {};
  const logsTable = resources.tables.LogsTable.tableName;
  const floorOnce = async (i: number) => {
    await dynamo().send(
      new PutCommand({
        TableName: logsTable,
        Item: { triggerId: gh.id, sk: `log#floor-${i}`, status: 'queued', receivedAt: new Date().toISOString() },
      }),
    );
    await sqsClient().send(
      new SendMessageCommand({
        QueueUrl: resources.queues.DeployQueue.queueUrl,
        MessageBody: JSON.stringify({ triggerId: gh.id, logId: `floor-${i}` }),
        MessageGroupId: gh.id,
        MessageDeduplicationId: `floor-${i}`,
      }),
    );
    return 'floor';
  };
  const counted = async (kind: string, one: () => Promise<string>) => {
    const saved = t;
    t = tallies[kind];
    on = true;
    const a = performance.now();
    const status = await one();
    ms[kind].push(performance.now() - a);
    on = false;
    t = saved;
    statuses[kind] = { ...(statuses[kind] ?? {}), [status]: (statuses[kind]?.[status] ?? 0) + 1 };
  };
  // the deploys: the queue holds triggered and floor messages in the order sent (one group), so these alternate too.
  // Each message is one invocation, as the event source mapping gives it: its ReceiveMessage and DeleteMessageBatch
  // are added to the kind's SQS requests.
  const queueUrl = resources.queues.DeployQueue.queueUrl;
  const deployFloor = async (m: Message) => {
    const { logId } = JSON.parse(m.Body ?? '{}') as { logId: string };
    await fetch(`${target.url}/deploy`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ log: logId }),
    }).then((r) => r.text());
    await dynamo().send(
      new UpdateCommand({
        TableName: logsTable,
        Key: { triggerId: gh.id, sk: `log#${logId}` },
        UpdateExpression: 'SET #s = :s',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':s': 'succeeded' },
      }),
    );
    return 'succeeded';
  };
  const deployOnce = async (m: Message) => {
    const res = await deployerHandler(
      { Records: [toSqsRecord(m, resources.queues.DeployQueue.queueArn, 'us-east-1')] },
      context('deployer', 300),
    );
    return res?.batchItemFailures?.length ? 'batch item failure' : 'processed';
  };
  const drain = async (expected: number, counting = true) => {
    for (let got = 0, idle = 0; got < expected && idle < (counting ? 10 : 2);) {
      const out = await esm.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 1,
          WaitTimeSeconds: 1,
          MessageSystemAttributeNames: ['All'],
        }),
      );
      const m = out.Messages?.[0];
      if (!m) {
        idle++;
        continue;
      }
      const floor = (JSON.parse(m.Body ?? '{}') as { logId?: string }).logId?.startsWith('floor-');
      const kind = floor ? 'deployFloor' : 'deploy';
      if (counting) {
        await counted(kind, () => (floor ? deployFloor(m) : deployOnce(m)));
        tallies[kind].sqsRequests += 2;
      } else await deployOnce(m);
      await esm.send(
        new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: [{ Id: '0', ReceiptHandle: m.ReceiptHandle! }] }),
      );
      got++;
    }
  };
  const esm = new SQSClient({ region: 'us-east-1', endpoint: stand.endpoints.sqs });
  // alternated: each i runs every kind once (the duplicate after its first delivery), then its two deploys
  await drain(Infinity, false); // the warm-up's deploys, not counted
  for (let i = 1; i <= N; i++) {
    for (const [kind, one] of [...Object.entries(kinds), ['floor', floorOnce] as const]) {
      await counted(kind, () => (one as (i: number) => Promise<string>)(i));
    }
    await drain(2);
  }
  log(`webhook-cost: ${JSON.stringify(statuses)}`);
  if (ms.deploy.length !== N || ms.deployFloor.length !== N)
    throw new Error(`deploys measured: ${ms.deploy.length} and ${ms.deployFloor.length} floor, of ${N}`);
  if (target.calls.length < 2 * N)
    throw new Error(`the target was called ${target.calls.length} times for ${2 * N} deploys`);

  // the entries as stored, sized by DynamoDB's rules
  const sizeOf = async (logId: string | undefined) => {
    if (!logId) return undefined;
    const out = await dynamo().send(
      new GetCommand({ TableName: logsTable, Key: { triggerId: gh.id, sk: `log#${logId}` } }),
    );
    return out.Item ? itemSize(out.Item) : undefined;
  };
  const entryBytes: Record<string, number | undefined> = {
    triggered: await sizeOf(lastLog.triggered),
    untriggered: await sizeOf(lastLog.untriggered),
    duplicate: await sizeOf(lastLog.duplicate),
    floor: await sizeOf(`floor-${N - 1}`),
  };

  /** per webhook (per message for a deploy), in USD per million; `http`: whether API Gateway received it */
  const bill = (kind: string, size: { memoryMb: number; arch: string }, http: boolean) => {
    const x = tallies[kind];
    const n = ms[kind].length;
    const durMs = Math.ceil(median(ms[kind]));
    const gbSecond = size.arch === 'arm64' ? PRICES.lambdaGbSecondArm64 : PRICES.lambdaGbSecondX86;
    const parts = {
      httpApi: http ? PRICES.httpApiRequestPerMillion : 0,
      lambdaRequests: PRICES.lambdaRequestPerMillion,
      lambdaDuration: 1e6 * (durMs / 1000) * (size.memoryMb / 1024) * gbSecond,
      dynamoWrites: (x.wcu / n) * PRICES.dynamoWriteUnitPerMillion,
      dynamoReads: (x.rcu / n) * PRICES.dynamoReadUnitPerMillion,
      sqs: (x.sqsRequests / n) * PRICES.sqsFifoRequestPerMillion,
    };
    const total = Object.values(parts).reduce((a, b) => a + b, 0);
    return {
      total,
      parts: Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, round(v, 3)])),
      per: {
        requests: Object.fromEntries(Object.entries(x.requests).map(([k, v]) => [k, round(v / n)])),
        rcu: round(x.rcu / n),
        wcu: round(x.wcu / n),
        cancelledTransactions: x.cancelled / n,
        sqsRequests: round(x.sqsRequests / n),
        sqsBytes: Math.round(x.sqsBytes / n),
        durationMs: durMs,
        ...size,
      },
    };
  };
  type Bill = ReturnType<typeof bill>;
  const describe = (b: Bill) =>
    `${Object.entries(b.per.requests)
      .map(([k, v]) => `${v} ${k}`)
      .join(
        ', ',
      )}; ${b.per.rcu} RCU, ${b.per.wcu} WCU${b.per.cancelledTransactions ? `, ${b.per.cancelledTransactions} cancelled transaction` : ''}; ${b.per.sqsRequests} SQS; ${b.per.durationMs} ms at ${b.per.memoryMb} MB ${b.per.arch}`;
  const floor = bill('floor', hookSize, true);
  const deployFloorBill = bill('deployFloor', deployerSize, false);
  const deploy = bill('deploy', deployerSize, false);
  const rows: Row[] = [];
  const details: Record<string, unknown> = {
    prices: PRICES,
    floor,
    deployFloor: deployFloorBill,
    deploy,
    statuses,
    entryBytes,
  };
  const kb = (bytes: number | undefined) => (bytes === undefined ? '?' : `${(bytes / 1024).toFixed(1)} KB`);
  for (const kind of ['triggered', 'untriggered', 'duplicate']) {
    const b = bill(kind, hookSize, true);
    details[kind] = b;
    const withDeploy = kind === 'triggered';
    rows.push(
      row({
        id: `7 bill ${kind}`,
        what: withDeploy
          ? `AWS bill per million triggered webhooks, with their deploys: webhook $${b.total.toFixed(2)} (${describe(b)}; entry ${kb(entryBytes[kind])}) + deploy $${deploy.total.toFixed(2)} (${describe(deploy)}); floor $${floor.total.toFixed(2)} + $${deployFloorBill.total.toFixed(2)}`
          : `AWS bill per million ${kind} webhooks (${describe(b)}; entry ${kb(entryBytes[kind])})`,
        unit: 'USD',
        subject: withDeploy ? b.total + deploy.total : b.total,
        floor: withDeploy ? floor.total + deployFloorBill.total : floor.total,
        limit: 1.5,
        samples: N,
      }),
    );
  }
  await target.close();
  await resources.destroy();
  await stand.stop();
  finish('webhook-cost', started, rows, details);
}

runPart(main);
