/**
 * 7. What a webhook costs on AWS, per million: triggered (a GitHub push that matches and is queued), untriggered
 * (a push to a branch no rule names) and duplicate (the same X-GitHub-Delivery again). Measured in this process on
 * the stand-ins, on the function's own clients: the DynamoDB request and capacity units DynamoDB reports
 * (ReturnConsumedCapacity=TOTAL on every call; a cancelled transaction reports none and is counted as the units its
 * items would have cost), SQS requests and message bytes, and the handler's duration (as Lambda would bill it at the
 * function's memory size and architecture from serverless.yml; DynamoDB Local is slower than DynamoDB, so this
 * overstates Lambda time). Priced at bench/prices.ts. Floor: one minimal entry (PutItem) and the event queued
 * (SendMessage), timed here too, plus the API Gateway and Lambda requests every webhook costs.
 * Not counted: the deployer's work after a triggered webhook, CloudWatch Logs ingestion, storage.
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { QUICK, awsEnv, finish, githubPushBody, log, runPart, signGithub, standIns } from './lib/common';
import { median, row, type Row } from './lib/stats';
import { GITHUB_MATCH, makeTrigger } from './lib/triggers';
import { PRICES } from './prices';
import { createResources, loadServerlessConfig, uniqueSuffix } from '../lib/local/resources';

const N = QUICK ? 20 : 60;

type Handler = (event: unknown, context: unknown) => Promise<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/* eslint-disable @typescript-eslint/no-explicit-any */
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
  const resources = await createResources({ dynamodbEndpoint: stand.endpoints.dynamodb, sqsEndpoint: stand.endpoints.sqs, suffix: `bench-cost-${uniqueSuffix()}` });
  Object.assign(process.env, resources.env, {
    DYNAMODB_ENDPOINT: stand.endpoints.dynamodb,
    SQS_ENDPOINT: stand.endpoints.sqs,
    ALLOW_PRIVATE_TARGETS: 'true',
    TRIGGERFISH_ADMIN_TOKEN: 'bench',
    POWERTOOLS_LOG_LEVEL: 'ERROR',
  });
  delete process.env.ADMIN_TOKEN_PARAM;
  const yml = loadServerlessConfig({});
  const memoryMb = Number(yml.functions.hookGithub.memorySize ?? yml.provider.memorySize ?? 1024);
  const arch = String(yml.functions.hookGithub.architecture ?? yml.provider.architecture ?? 'x86_64');
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { dynamo, sqsClient } = require('../lib/store/aws') as typeof import('../lib/store/aws');
  const { putTrigger } = require('../lib/store/store') as typeof import('../lib/store/store');
  const { buildHttpApiEvent, lambdaContext } = require('../lib/local/gateway') as typeof import('../lib/local/gateway');
  const githubHandler = (require('../functions/hooks/github') as { handler: Handler }).handler;
  /* eslint-enable @typescript-eslint/no-require-imports */

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

  const gh = makeTrigger({ name: 'bench-cost', provider: 'github', match: GITHUB_MATCH, target: { type: 'http', url: 'http://127.0.0.1:8080/deploy' } });
  await putTrigger(gh);
  // a fresh context per call: its deadline starts when it is made, as Lambda's does
  const context = () => lambdaContext({ functionName: 'triggerfish-dev-hookGithub', timeout: 10 });
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
    return JSON.parse(res.body).status as string;
  };
  const untriggeredBody = (i: number) => {
    const b = JSON.parse(githubPushBody(i));
    b.ref = 'refs/heads/feature/x';
    return JSON.stringify(b);
  };
  // warm up (JIT, connections), not counted
  for (let i = 0; i < 5; i++) await send(githubPushBody(1_000_000 + i), `warm-${i}`);

  const kinds = {
    triggered: (i: number) => send(githubPushBody(i), `d-${i}`),
    untriggered: (i: number) => send(untriggeredBody(500_000 + i), `u-${i}`),
    // the triggered webhook i again (same delivery id): a re-delivery
    duplicate: (i: number) => send(githubPushBody(i), `d-${i}`),
  };
  const tallies: Record<string, Tally> = { triggered: empty(), untriggered: empty(), duplicate: empty(), floor: empty() };
  const ms: Record<string, number[]> = { triggered: [], untriggered: [], duplicate: [], floor: [] };
  const statuses: Record<string, Record<string, number>> = {};
  const floorOnce = async (i: number) => {
    await dynamo().send(new PutCommand({ TableName: resources.tables.LogsTable.tableName, Item: { triggerId: gh.id, sk: `log#floor-${i}`, status: 'queued', receivedAt: new Date().toISOString() } }));
    await sqsClient().send(new SendMessageCommand({ QueueUrl: resources.queues.DeployQueue.queueUrl, MessageBody: JSON.stringify({ triggerId: gh.id, logId: `floor-${i}` }), MessageGroupId: gh.id, MessageDeduplicationId: `floor-${i}` }));
    return 'floor';
  };
  // alternated: each i runs every kind once (the duplicate after its first delivery)
  for (let i = 0; i < N; i++) {
    for (const [kind, one] of [...Object.entries(kinds), ['floor', floorOnce] as const]) {
      const saved = t;
      t = tallies[kind];
      on = true;
      const a = performance.now();
      const status = await (one as (i: number) => Promise<string>)(i);
      ms[kind].push(performance.now() - a);
      on = false;
      t = saved;
      statuses[kind] = { ...(statuses[kind] ?? {}), [status]: (statuses[kind]?.[status] ?? 0) + 1 };
    }
  }
  log(`webhook-cost: ${JSON.stringify(statuses)}`);

  const gbSecond = arch === 'arm64' ? PRICES.lambdaGbSecondArm64 : PRICES.lambdaGbSecondX86;
  const bill = (kind: string) => {
    const x = tallies[kind];
    const durMs = Math.ceil(median(ms[kind]));
    const parts = {
      httpApi: PRICES.httpApiRequestPerMillion,
      lambdaRequests: PRICES.lambdaRequestPerMillion,
      lambdaDuration: 1e6 * (durMs / 1000) * (memoryMb / 1024) * gbSecond,
      dynamoWrites: (x.wcu / N) * PRICES.dynamoWriteUnitPerMillion,
      dynamoReads: (x.rcu / N) * PRICES.dynamoReadUnitPerMillion,
      sqs: (x.sqsRequests / N) * PRICES.sqsFifoRequestPerMillion,
    };
    const total = Object.values(parts).reduce((a, b) => a + b, 0);
    return {
      total,
      parts,
      perWebhook: { requests: Object.fromEntries(Object.entries(x.requests).map(([k, v]) => [k, v / N])), rcu: x.rcu / N, wcu: x.wcu / N, cancelledTransactions: x.cancelled / N, sqsRequests: x.sqsRequests / N, sqsBytes: x.sqsBytes / N, durationMs: durMs },
    };
  };
  const floor = bill('floor');
  const rows: Row[] = [];
  const details: Record<string, unknown> = { prices: PRICES, memoryMb, arch, floor, statuses };
  for (const kind of ['triggered', 'untriggered', 'duplicate']) {
    const b = bill(kind);
    details[kind] = b;
    const p = b.perWebhook;
    const r2 = (x: number) => Number(x.toFixed(2));
    rows.push(
      row({
        id: `7 bill ${kind}`,
        what: `AWS bill per million ${kind} webhooks (${Object.entries(p.requests).map(([k, v]) => `${r2(v)} ${k}`).join(', ')}; ${r2(p.rcu)} RCU, ${r2(p.wcu)} WCU${p.cancelledTransactions ? `, ${r2(p.cancelledTransactions)} cancelled transaction` : ''}; ${r2(p.sqsRequests)} SQS; ${p.durationMs} ms at ${memoryMb} MB ${arch})`,
        unit: 'USD',
        subject: b.total,
        floor: floor.total,
        limit: 1.5,
        samples: N,
      }),
    );
  }
  await resources.destroy();
  await stand.stop();
  finish('webhook-cost', started, rows, details);
}

runPart(main);
