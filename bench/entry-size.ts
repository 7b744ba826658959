/**
 * What a trigger log entry costs to store: the real webhook handlers (GitHub push, Docker Hub push; from the test
 * fixtures, with the headers those senders send and API Gateway adds) run on the stand-ins, and every item the
 * request wrote (the entry, the redelivery claim, the deploy state) is read back raw and sized by DynamoDB's rules
 * (lib/store/item-size.ts), per attribute. Triggered ones then run through the real deployer against a local
 * HTTP target, and the entry is sized again (after success). Also the CPU of packing an entry (logItem) and of
 * reading it back. Run on its own: `npx tsx bench/entry-size.ts [out.json]` (not a part of `npm run bench`).
 */
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { awsEnv, fixture, log, signGithub, standIns } from './lib/common';
import { makeTrigger } from './lib/triggers';
import { createResources, uniqueSuffix } from '../lib/local/resources';
import { attributeSizes, itemSize } from '../lib/store/item-size';

type Handler = (event: unknown, context: unknown) => Promise<any>;

async function main() {
  awsEnv();
  const stand = await standIns();
  const resources = await createResources({
    dynamodbEndpoint: stand.endpoints.dynamodb,
    sqsEndpoint: stand.endpoints.sqs,
    suffix: `bench-size-${uniqueSuffix()}`,
  });
  Object.assign(process.env, resources.env, {
    DYNAMODB_ENDPOINT: stand.endpoints.dynamodb,
    SQS_ENDPOINT: stand.endpoints.sqs,
    ALLOW_PRIVATE_TARGETS: 'true',
    POWERTOOLS_LOG_LEVEL: 'ERROR',
  });
  const target = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'deployed', revision: 42 }));
    });
  });
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  const targetUrl = `http://127.0.0.1:${(target.address() as AddressInfo).port}/deploy`;

  const { dynamo, sqsClient } = require('../lib/store/aws') as typeof import('../lib/store/aws');
  const store = require('../lib/store/store') as typeof import('../lib/store/store');
  const { buildHttpApiEvent, lambdaContext } = require('../lib/local/gateway') as typeof import('../lib/local/gateway');
  const { toSqsRecord } = require('../lib/local/sqs-poller') as typeof import('../lib/local/sqs-poller');
  const handlers: Record<string, Handler> = {
    github: (require('../functions/hooks/github') as { handler: Handler }).handler,
    dockerhub: (require('../functions/hooks/dockerhub') as { handler: Handler }).handler,
  };
  const deployer = (require('../functions/deployer') as { handler: Handler }).handler;

  const table = resources.tables.LogsTable.tableName;
  const partition = async (triggerId: string) => {
    const out = await dynamo().send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'triggerId = :t',
        ExpressionAttributeValues: { ':t': { S: triggerId } },
        ConsistentRead: true,
      }),
    );
    return (out.Items ?? []).map((i) => unmarshall(i) as Record<string, unknown>);
  };
  const describe = (item: Record<string, unknown>) => ({
    bytes: itemSize(item),
    wcu: Math.ceil(itemSize(item) / 1024),
    attributes: attributeSizes(item),
  });

  const githubBody = fixture('github/push-octokit-with-new-branch.json');
  // the deployer would answer Docker Hub's callback on the internet: the triggered case has none (the bench does so too)
  const dockerhubFull = fixture('dockerhub/push-docs-example.json');
  const dockerhubNoCallback = (() => {
    const b = JSON.parse(dockerhubFull);
    delete b.callback_url;
    return JSON.stringify(b, null, 2);
  })();
  const cases = [
    { name: 'github untriggered', provider: 'github', body: githubBody, match: { branches: ['does-not-exist'] } },
    { name: 'github triggered', provider: 'github', body: githubBody, match: {} },
    {
      name: 'dockerhub untriggered',
      provider: 'dockerhub',
      body: dockerhubFull,
      match: { tags: { list: ['does-not-exist'] } },
    },
    { name: 'dockerhub triggered (no callback_url)', provider: 'dockerhub', body: dockerhubNoCallback, match: {} },
  ];
  const results: Record<string, unknown> = {};
  let n = 0;
  for (const c of cases) {
    const trigger = makeTrigger({
      name: `size-${n++}`,
      provider: c.provider,
      match: c.match,
      target: { type: 'http', url: targetUrl },
    });
    await store.putTrigger(trigger);
    const headers: Record<string, string> =
      c.provider === 'github'
        ? {
            Host: 'abc123.execute-api.us-east-1.amazonaws.com',
            'User-Agent': 'GitHub-Hookshot/4d7fd9c',
            Accept: '*/*',
            'Content-Type': 'application/json',
            'Content-Length': String(Buffer.byteLength(c.body)),
            'X-GitHub-Event': 'push',
            'X-GitHub-Delivery': 'c627fc10-9e0f-11ec-8eca-c44f41fb12a5',
            'X-GitHub-Hook-ID': '346794341',
            'X-GitHub-Hook-Installation-Target-ID': '101108497',
            'X-GitHub-Hook-Installation-Target-Type': 'repository',
            'X-Hub-Signature': 'sha1=ed6335bd68ef13829c34d21e249d011c02ff1045',
            'X-Hub-Signature-256': signGithub(trigger.secret, c.body),
          }
        : {
            Host: 'abc123.execute-api.us-east-1.amazonaws.com',
            'User-Agent': 'Go-http-client/1.1',
            'Content-Type': 'application/json',
            'Content-Length': String(Buffer.byteLength(c.body)),
            'Accept-Encoding': 'gzip',
          };
    const url =
      c.provider === 'github'
        ? `/hooks/github/${trigger.id}`
        : `/hooks/dockerhub/${trigger.id}?token=${trigger.secret}`;
    const event = buildHttpApiEvent({
      method: 'POST',
      url,
      rawHeaders: Object.entries(headers).flat(),
      body: Buffer.from(c.body),
      sourceIp: '192.30.252.1',
      routeKey: `POST /hooks/${c.provider}/{triggerId}`,
      pathParameters: { triggerId: trigger.id },
    });
    const res = await handlers[c.provider](event, lambdaContext({ functionName: `hook-${c.provider}`, timeout: 10 }));
    const answer = JSON.parse(res.body);
    const items = await partition(trigger.id);
    const entry = items.find((i) => String(i.sk).startsWith('log#'))!;
    const out: Record<string, unknown> = {
      answer,
      entry: describe(entry),
      others: Object.fromEntries(
        items.filter((i) => i !== entry).map((i) => [String(i.sk).split('#')[0], describe(i)]),
      ),
    };
    if (answer.status === 'triggered') {
      const got = await sqsClient().send(
        new ReceiveMessageCommand({
          QueueUrl: resources.queues.DeployQueue.queueUrl,
          MaxNumberOfMessages: 1,
          WaitTimeSeconds: 2,
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
      );
      const m = got.Messages![0];
      const record = toSqsRecord(m, 'arn:aws:sqs:us-east-1:000000000000:deploy.fifo', 'us-east-1');
      await deployer({ Records: [record] }, lambdaContext({ functionName: 'deployer', timeout: 60 }));
      const after = await partition(trigger.id);
      const done = after.find((i) => String(i.sk).startsWith('log#'))!;
      out.afterSuccess = {
        status: done.status,
        entry: describe(done),
        others: Object.fromEntries(
          after.filter((i) => i !== done).map((i) => [String(i.sk).split('#')[0], describe(i)]),
        ),
      };
    }
    results[c.name] = out;

    // CPU of packing (logItem: what every webhook pays) and of reading back (what a log page pays per entry), median
    // of many, on the entry as it was created (as read back, without what the deployer added)
    const shown = await store.getLogEntry(trigger.id, String(entry.sk).slice(4));
    if (process.env.ENTRY_SIZE_DUMP) out.shown = shown;
    const created = {
      ...shown!,
      status: (answer.status === 'triggered' ? 'queued' : answer.status) as never,
      attempts: [],
      updatedAt: shown!.receivedAt,
    };
    const item = store.logItem(created);
    const median = (f: () => void, rounds = 400) => {
      const ms: number[] = [];
      for (let i = 0; i < rounds; i++) {
        const a = performance.now();
        f();
        ms.push(performance.now() - a);
      }
      return Number(ms.sort((a, b) => a - b)[rounds >> 1].toFixed(4));
    };
    out.packMsMedian = median(() => store.logItem(created));

    const { entryFromItem } = require('../lib/store/log-item') as typeof import('../lib/store/log-item');
    out.readMsMedian = median(() => entryFromItem(item));
    log(`${c.name}: ${JSON.stringify(answer)} entry ${itemSize(entry)} B`);
  }
  // the handlers' log lines go to stdout: the result goes to a file when one is named
  const text = JSON.stringify(results, null, 2) + '\n';
  if (process.argv[2]) writeFileSync(process.argv[2], text);
  else process.stdout.write(text);
  target.close();
  await resources.destroy();
  await stand.stop();
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`${(e as Error).stack}\n`);
    process.exit(1);
  },
);
