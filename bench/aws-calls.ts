/**
 * 2. AWS calls per webhook, counted at the SDK (a middleware on the functions' own clients), on the ingest path
 * (GitHub, Docker Hub, ECR through EventBridge) and in the deployer, with 10, 1,000 and 100,000 triggers stored
 * in DynamoDB Local. The count must not grow with the number of triggers.
 *
 * The handlers are called in this process as Lambda would call them (functions/*.handler), against the stand-ins.
 * The deployer gets the messages the webhooks queued, in batches of up to 5 (serverless.yml batchSize), as the SQS
 * event source would hand them over; deleting them is the event source's job (not counted, as on AWS).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import { CallCounter, perUnit, type Counts } from './lib/aws-count';
import {
  QUICK,
  awsEnv,
  dockerhubBody,
  ecrEvent,
  finish,
  githubPushBody,
  log,
  putAll,
  runPart,
  signGithub,
  standIns,
} from './lib/common';
import { row, type Row } from './lib/stats';
import { startTarget } from './lib/target';
import { DOCKERHUB_MATCH, GITHUB_MATCH, makeTrigger } from './lib/triggers';
import { createResources, uniqueSuffix } from '../lib/local/resources';

const TIERS = QUICK ? [10, 1000] : [10, 1000, 100_000];
const PER_KIND = QUICK ? 5 : 20;

/** What each path needs at least (the floor): see the notes in the rows. */
// ingest: the deploy state is read (with the claims) and written in the transaction: 4 calls since issue 8
const FLOOR = { ingest: 4, ecr: 4, deployer: 3 };

type Handler = (event: unknown, context: unknown) => Promise<any>;

async function main() {
  const started = Date.now();
  awsEnv();
  const stand = await standIns();
  const resources = await createResources({
    dynamodbEndpoint: stand.endpoints.dynamodb,
    sqsEndpoint: stand.endpoints.sqs,
    suffix: `bench-calls-${uniqueSuffix()}`,
  });
  const target = await startTarget();
  const anomalies: string[] = [];
  try {
    Object.assign(process.env, resources.env, {
      DYNAMODB_ENDPOINT: stand.endpoints.dynamodb,
      SQS_ENDPOINT: stand.endpoints.sqs,
      ALLOW_PRIVATE_TARGETS: 'true',
      TRIGGERFISH_ADMIN_TOKEN: 'bench',
    });
    delete process.env.ADMIN_TOKEN_PARAM;

    const { dynamo, sqsClient } = require('../lib/store/aws') as typeof import('../lib/store/aws');
    const { putTrigger } = require('../lib/store/store') as typeof import('../lib/store/store');
    const { buildHttpApiEvent, lambdaContext } =
      require('../lib/local/gateway') as typeof import('../lib/local/gateway');
    const { toSqsRecord } = require('../lib/local/sqs-poller') as typeof import('../lib/local/sqs-poller');
    const githubHandler = (require('../functions/hooks/github') as { handler: Handler }).handler;
    const dockerhubHandler = (require('../functions/hooks/dockerhub') as { handler: Handler }).handler;
    const ecrHandler = (require('../functions/ecr') as { handler: Handler }).handler;
    const deployerHandler = (require('../functions/deployer') as { handler: Handler }).handler;

    const counter = new CallCounter();
    counter.attach(dynamo() as never, sqsClient() as never);
    counter.on = false;

    // the triggers the webhooks are for
    const targetConfig = {
      type: 'http',
      url: `${target.url}/deploy/{{triggerId}}`,
      body: { log: '{{logId}}', tag: '{{tag}}' },
    };
    // `queue: all`: every event deploys, so the deployer's row counts deploys (with the default the webhooks queued
    // here before any deploy would each supersede the one before, and the deployer would mostly skip them)
    const gh = makeTrigger({
      name: 'bench-gh',
      provider: 'github',
      match: GITHUB_MATCH,
      target: targetConfig,
      queue: 'all',
    });
    const dh = makeTrigger({
      name: 'bench-dh',
      provider: 'dockerhub',
      match: DOCKERHUB_MATCH,
      target: targetConfig,
      queue: 'all',
    });
    const ecr = makeTrigger({
      name: 'bench-ecr',
      provider: 'ecr',
      match: { namespace: 'bench', repository: 'app' },
      target: targetConfig,
      queue: 'all',
    });
    for (const t of [gh, dh, ecr]) await putTrigger(t);

    // filler triggers: written straight into the table (BatchWriteItem, parallel), shaped as the admin API shapes them
    const raw = new DynamoDBClient({ region: 'us-east-1', endpoint: stand.endpoints.dynamodb, maxAttempts: 10 });
    const table = resources.tables.TriggersTable.tableName;
    const templates = {
      github: makeTrigger({ name: 'filler', provider: 'github', match: GITHUB_MATCH, target: targetConfig }),
      dockerhub: makeTrigger({ name: 'filler', provider: 'dockerhub', match: DOCKERHUB_MATCH, target: targetConfig }),
      ecr: makeTrigger({
        name: 'filler',
        provider: 'ecr',
        match: { namespace: 'filler', repository: 'app' },
        target: targetConfig,
      }),
    };
    const filler = (i: number) => {
      // one in ten is an ECR trigger, indexed under its own repository (the GSI the ECR path queries)
      const kind = i % 10 === 0 ? 'ecr' : i % 2 ? 'github' : 'dockerhub';
      const t = { ...templates[kind], id: i.toString(16).padStart(24, '0'), name: `filler-${i}` };
      if (kind === 'ecr') {
        t.match = { namespace: 'filler', repository: `app-${i}` };
        t.repositoryKey = `ecr#filler/app-${i}`;
      }
      return t;
    };
    let stored = 3;
    const fill = async (upTo: number) => {
      const t0 = Date.now();
      await putAll(raw, table, upTo - stored, (i) => filler(stored + i));
      const ms = Date.now() - t0;
      log(`aws-calls: ${upTo - stored} triggers written in ${ms} ms`);
      stored = upTo;
      return ms;
    };

    const context = (name: string) => lambdaContext({ functionName: `triggerfish-dev-${name}`, timeout: 10 });
    const hookEvent = (
      provider: string,
      triggerId: string,
      body: string,
      headers: Record<string, string>,
      query = '',
    ) =>
      buildHttpApiEvent({
        method: 'POST',
        url: `/hooks/${provider}/${triggerId}${query}`,
        rawHeaders: Object.entries({
          Host: 'abc.execute-api.us-east-1.amazonaws.com',
          'Content-Type': 'application/json',
          ...headers,
        }).flat(),
        body: Buffer.from(body),
        sourceIp: '192.0.2.1',
        routeKey: `POST /hooks/${provider}/{triggerId}`,
        pathParameters: { triggerId },
      });

    const sqs = new SQSClient({ region: 'us-east-1', endpoint: stand.endpoints.sqs });
    const queueUrl = resources.queues.DeployQueue.queueUrl;

    let n = 0;
    const tiers: Array<Record<string, unknown>> = [];
    for (const size of TIERS) {
      const fillMs = await fill(size);
      const measure = async (kind: string, one: (i: number) => Promise<boolean>) => {
        counter.reset();
        counter.on = true;
        let ok = 0;
        for (let i = 0; i < PER_KIND; i++) if (await one(++n)) ok++;
        counter.on = false;
        if (ok !== PER_KIND)
          anomalies.push(`${size} triggers, ${kind}: ${PER_KIND - ok} of ${PER_KIND} were not queued`);
        return { counts: counter.snapshot(), total: counter.total(), perWebhook: counter.total() / PER_KIND };
      };
      const github = await measure('github', async (i) => {
        const body = githubPushBody(i);
        const res = await githubHandler(
          hookEvent('github', gh.id, body, {
            'X-GitHub-Event': 'push',
            'X-GitHub-Delivery': `bench-${i}`,
            'X-Hub-Signature-256': signGithub(gh.secret, body),
          }),
          context('hookGithub'),
        );
        return res.statusCode === 202 && JSON.parse(res.body).status === 'triggered';
      });
      const dockerhub = await measure('dockerhub', async (i) => {
        const res = await dockerhubHandler(
          hookEvent(
            'dockerhub',
            dh.id,
            dockerhubBody('release-v1.2', 1700000000 + i),
            {},
            `?token=${encodeURIComponent(dh.secret)}`,
          ),
          context('hookDockerhub'),
        );
        return res.statusCode === 202 && JSON.parse(res.body).status === 'triggered';
      });
      const ecrPath = await measure('ecr', async (i) => {
        const out = await ecrHandler(ecrEvent('bench/app', i), context('ecr'));
        return out.outcomes?.length === 1 && out.outcomes[0].status === 'triggered';
      });

      // the deployer, on the messages just queued
      const expected = 3 * PER_KIND;
      const before = target.calls.length;
      counter.reset();
      let processed = 0;
      const deadline = Date.now() + 60_000;
      while (processed < expected && Date.now() < deadline) {
        const got = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: 5,
            WaitTimeSeconds: 1,
            AttributeNames: ['All'],
            MessageSystemAttributeNames: ['All'],
          }),
        );
        const messages: Message[] = got.Messages ?? [];
        if (!messages.length) continue;
        const event = {
          Records: messages.map((m) => toSqsRecord(m, resources.queues.DeployQueue.queueArn, 'us-east-1')),
        };
        counter.on = true;
        const res = await deployerHandler(event, context('deployer'));
        counter.on = false;
        if (res?.batchItemFailures?.length)
          anomalies.push(`${size} triggers, deployer: ${res.batchItemFailures.length} batch item failures`);
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: messages.map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle! })),
          }),
        );
        processed += messages.length;
      }
      const deploys = target.calls.length - before;
      if (processed !== expected)
        anomalies.push(`${size} triggers, deployer: ${processed} of ${expected} messages arrived`);
      if (deploys !== expected)
        anomalies.push(`${size} triggers, deployer: ${deploys} deploy calls for ${expected} messages`);
      const deployer = {
        counts: counter.snapshot(),
        total: counter.total(),
        perWebhook: counter.total() / Math.max(1, processed),
        messages: processed,
        deploys,
      };

      const tier = {
        triggers: size,
        fillMs,
        github: { perWebhook: github.perWebhook, byCommand: perUnit(github.counts, PER_KIND) },
        dockerhub: { perWebhook: dockerhub.perWebhook, byCommand: perUnit(dockerhub.counts, PER_KIND) },
        ecr: { perWebhook: ecrPath.perWebhook, byCommand: perUnit(ecrPath.counts, PER_KIND) },
        deployer: {
          perWebhook: deployer.perWebhook,
          byCommand: perUnit(deployer.counts, Math.max(1, processed)),
          messages: processed,
          deploys,
        },
      };
      log(
        `aws-calls @${size}: ${JSON.stringify({ github: tier.github.perWebhook, dockerhub: tier.dockerhub.perWebhook, ecr: tier.ecr.perWebhook, deployer: tier.deployer.perWebhook })}`,
      );
      tiers.push(tier);
    }

    const rows: Row[] = [];
    const tierLabel = TIERS.map((t) => t.toLocaleString('en-US')).join(' / ');
    const kinds: Array<[string, string, number, string]> = [
      [
        'github',
        'GitHub push, ingest',
        FLOOR.ingest,
        'floor 4: GetItem trigger, BatchGetItem state+claim, TransactWriteItems claim+log+state, SendMessage',
      ],
      [
        'dockerhub',
        'Docker Hub push, ingest',
        FLOOR.ingest,
        'floor 4: GetItem trigger, BatchGetItem state+claim, TransactWriteItems claim+log+state, SendMessage',
      ],
      [
        'ecr',
        'ECR push (EventBridge), ingest',
        FLOOR.ecr,
        'floor 4: Query byRepository, BatchGetItem state+claim, TransactWriteItems claim+log+state, SendMessage',
      ],
      [
        'deployer',
        'deployer, per message',
        FLOOR.deployer,
        'floor 3: claim queued->deploying (conditional UpdateItem), GetItem trigger, UpdateItem result',
      ],
    ];
    for (const [kind, label, floor, note] of kinds) {
      const per = tiers.map((t) => (t[kind] as { perWebhook: number }).perWebhook);
      const grows = per.some((p) => p !== per[0]);
      if (grows) anomalies.push(`${label}: calls per webhook change with the number of triggers: ${per.join(' / ')}`);
      const byCommand = (tiers[tiers.length - 1][kind] as { byCommand: Counts }).byCommand;
      rows.push(
        row({
          id: `2 ${kind}`,
          what: `AWS calls per webhook, ${label} (${tierLabel} triggers)`,
          unit: 'calls',
          subject: Math.max(...per),
          subjectText: per.map((p) => String(Math.round(p * 100) / 100)).join(' / '),
          floor,
          limit: 1.5,
          note: `${Object.entries(byCommand)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')}; ${note}`,
        }),
      );
    }
    raw.destroy();
    sqs.destroy();
    finish('aws-calls', started, rows, { perKind: PER_KIND, tiers }, anomalies);
  } finally {
    await target.close();
    await resources.destroy();
    await stand.stop();
  }
}

runPart(main);
