/**
 * 1. Ingest CPU: the receiver's own work per webhook, no I/O, against a floor on the same body.
 *
 * - "core": verify + parse/normalize + match, the providers' and matcher's functions called directly
 *   (plus the header lowering and JSON.parse ingest does first). Floor: HMAC-SHA256 + JSON.parse + one RegExp test.
 * - "handler": the whole Lambda handler (middy, logger, redaction, log entry, dedup keys, the SDK serializing,
 *   signing and parsing its four calls) with AWS answered from memory. Floor: the core floor plus the same four
 *   calls (GetItem, BatchGetItem, TransactWriteItems, SendMessage) made with the raw SDK clients through the same
 *   in-memory handler.
 *
 * CPU time (user + system, process.cpuUsage) per webhook; each sample is a batch of iterations; subject and floor
 * alternate (ABAB...); medians. With --profile, the subject loops run under the V8 profiler (bench/profiles/).
 */
import { createHmac } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  BENCH_DIR,
  PROFILE,
  QUICK,
  awsEnv,
  dockerhubBody,
  finish,
  githubPushBody,
  log,
  runPart,
  signGithub,
} from './lib/common';
import { defaultAnswers, memoryRequestHandler } from './lib/fake-aws';
import { startProfiler, summarizeProfile } from './lib/profile';
import { median, round, row, type Row } from './lib/stats';
import { DOCKERHUB_MATCH, GITHUB_MATCH, makeTrigger } from './lib/triggers';

const ROUNDS = QUICK ? 7 : 21;
const SAMPLE_MS = QUICK ? 20 : 40;

// the functions read their settings from the environment; AWS is answered from memory (never contacted)
awsEnv();
Object.assign(process.env, {
  TRIGGERS_TABLE: 'bench-triggers',
  LOGS_TABLE: 'bench-logs',
  DEPLOY_QUEUE_URL: 'http://127.0.0.1:9/000000000000/bench-deploy.fifo',
  DYNAMODB_ENDPOINT: 'http://127.0.0.1:9',
  SQS_ENDPOINT: 'http://127.0.0.1:9',
  POWERTOOLS_SERVICE_NAME: 'triggerfish',
});

const { lowerHeaders } = require('../lib/receive/http') as typeof import('../lib/receive/http');
const { selectEvent } = require('../lib/match/matcher') as typeof import('../lib/match/matcher');
const { github } = require('../lib/receive/providers/github') as typeof import('../lib/receive/providers/github');
const { dockerhub } =
  require('../lib/receive/providers/dockerhub') as typeof import('../lib/receive/providers/dockerhub');
const { acceptedSecrets } = require('../lib/receive/ingest') as typeof import('../lib/receive/ingest');
const { buildHttpApiEvent, lambdaContext } = require('../lib/local/gateway') as typeof import('../lib/local/gateway');
const { dynamo, sqsClient } = require('../lib/store/aws') as typeof import('../lib/store/aws');
const { marshall } = require('@aws-sdk/util-dynamodb') as typeof import('@aws-sdk/util-dynamodb');
const ddbPkg = require('@aws-sdk/client-dynamodb') as typeof import('@aws-sdk/client-dynamodb');
const sqsPkg = require('@aws-sdk/client-sqs') as typeof import('@aws-sdk/client-sqs');

type Provider = typeof github;

interface Case {
  name: string;
  provider: Provider;
  trigger: ReturnType<typeof makeTrigger>;
  body: string;
  /** request headers as the sender sends them */
  headers: Record<string, string>;
  query: Record<string, string>;
  path: string;
  /** the floor's one regex, on the body */
  regex: RegExp;
  handlerModule: string;
}

function cases(): Case[] {
  const gh = makeTrigger({
    name: 'bench-gh',
    provider: 'github',
    match: GITHUB_MATCH,
    target: { type: 'http', url: 'https://deploy.example.com/hook' },
  });
  const ghBody = githubPushBody(1);
  const dh = makeTrigger({
    name: 'bench-dh',
    provider: 'dockerhub',
    match: DOCKERHUB_MATCH,
    target: { type: 'http', url: 'https://deploy.example.com/hook' },
  });
  const dhBody = dockerhubBody('release-v1.2', 1700000000);
  return [
    {
      name: 'github',
      provider: github,
      trigger: gh,
      body: ghBody,
      headers: {
        'Content-Type': 'application/json',
        'User-Agent': 'GitHub-Hookshot/bench',
        'X-GitHub-Event': 'push',
        'X-GitHub-Delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958',
        'X-GitHub-Hook-ID': '292430182',
        'X-Hub-Signature-256': signGithub(gh.secret, ghBody),
      },
      query: {},
      path: `/hooks/github/${gh.id}`,
      regex: /"ref"\s*:\s*"refs\/heads\/main"/,
      handlerModule: '../functions/hooks/github',
    },
    {
      name: 'dockerhub',
      provider: dockerhub,
      trigger: dh,
      body: dhBody,
      headers: { 'Content-Type': 'application/json', 'User-Agent': 'Go-http-client/1.1' },
      query: { token: dh.secret },
      path: `/hooks/dockerhub/${dh.id}`,
      regex: /"tag"\s*:\s*"release-v[^"]*"/,
      handlerModule: '../functions/hooks/dockerhub',
    },
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// the work

function coreSubject(c: Case): () => void {
  return () => {
    const headers = lowerHeaders(c.headers);
    const body = JSON.parse(c.body);
    const req = { headers, query: c.query, rawBody: c.body, body };
    const now = new Date();
    const verified = c.provider.verify(req, acceptedSecrets(c.trigger, now), now);
    if (!verified.ok) throw new Error(`verify: ${verified.reason}`);
    const parsed = c.provider.parse(req, { trackedImage: c.trigger.trackedImage ?? c.trigger.match.image });
    if (parsed.kind !== 'events') throw new Error(`parse: ${parsed.reason}`);
    const { result } = selectEvent(c.trigger.match, parsed.events, {
      trackedImage: c.trigger.trackedImage ?? c.trigger.match.image,
    });
    if (!result.matched) throw new Error(`match: ${result.reason}`);
  };
}

function coreFloor(c: Case): () => void {
  const secret = c.trigger.secret;
  return () => {
    const sig = createHmac('sha256', secret).update(c.body).digest('hex');
    const body = JSON.parse(c.body);
    if (!c.regex.test(c.body) || sig.length !== 64 || !body) throw new Error('floor');
  };
}

/** The Lambda handler as deployed, AWS answered from memory. */
function handlerSubject(c: Case): () => Promise<void> {
  const { handler } = require(c.handlerModule) as {
    handler: (e: unknown, ctx: unknown) => Promise<{ statusCode: number; body?: string }>;
  };
  const item = marshall(c.trigger, { removeUndefinedValues: true });
  const rh = memoryRequestHandler(defaultAnswers(() => ({ Item: item })));
  (dynamo().config as { requestHandler: unknown }).requestHandler = rh;
  (sqsClient().config as { requestHandler: unknown }).requestHandler = rh;
  const qs = new URLSearchParams(c.query).toString();
  const event = buildHttpApiEvent({
    method: 'POST',
    url: c.path + (qs ? `?${qs}` : ''),
    rawHeaders: Object.entries({ Host: 'abc.execute-api.us-east-1.amazonaws.com', ...c.headers }).flat(),
    body: Buffer.from(c.body),
    sourceIp: '192.0.2.1',
    routeKey: `POST /hooks/${c.name}/{triggerId}`,
    pathParameters: { triggerId: c.trigger.id },
  });
  const context = lambdaContext({ functionName: `triggerfish-dev-hook-${c.name}`, timeout: 10 });
  return async () => {
    const res = await handler(event, context);
    if (res.statusCode !== 202) throw new Error(`handler answered ${res.statusCode} ${res.body}`);
  };
}

/**
 * The floor handler: core floor + the same four AWS calls with the raw SDK (pre-marshalled items): read the trigger,
 * read the lane's deploy state with the dedup claim, write claim + entry + state in one transaction, enqueue.
 */
function handlerFloor(c: Case): () => Promise<void> {
  const item = marshall(c.trigger, { removeUndefinedValues: true });
  const rh = memoryRequestHandler(defaultAnswers(() => ({ Item: item })));
  const ddb = new ddbPkg.DynamoDBClient({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9' });
  const sqs = new sqsPkg.SQSClient({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9' });
  (ddb.config as { requestHandler: unknown }).requestHandler = rh;
  (sqs.config as { requestHandler: unknown }).requestHandler = rh;
  let n = 0;
  return async () => {
    n++;
    const got = await ddb.send(
      new ddbPkg.GetItemCommand({ TableName: 'bench-triggers', Key: { id: { S: c.trigger.id } } }),
    );
    const secret = got.Item?.secret?.S ?? '';
    const sig = createHmac('sha256', secret).update(c.body).digest('hex');
    const body = JSON.parse(c.body);
    if (!c.regex.test(c.body) || sig.length !== 64 || !body) throw new Error('floor');
    const logId = `bench${n}`;
    await ddb.send(
      new ddbPkg.BatchGetItemCommand({
        RequestItems: {
          'bench-logs': {
            Keys: [`state#lane`, `dedup#${n}`].map((sk) => ({ triggerId: { S: c.trigger.id }, sk: { S: sk } })),
            ConsistentRead: true,
          },
        },
      }),
    );
    await ddb.send(
      new ddbPkg.TransactWriteItemsCommand({
        TransactItems: [
          {
            Update: {
              TableName: 'bench-logs',
              Key: { triggerId: { S: c.trigger.id }, sk: { S: 'state#lane' } },
              UpdateExpression: 'SET latest = :l',
              ConditionExpression: 'attribute_not_exists(latest)',
              ExpressionAttributeValues: { ':l': { S: logId } },
            },
          },
          {
            Put: {
              TableName: 'bench-logs',
              Item: { triggerId: { S: c.trigger.id }, sk: { S: `dedup#${n}` }, logId: { S: logId } },
              ConditionExpression: 'attribute_not_exists(sk)',
            },
          },
          {
            Put: {
              TableName: 'bench-logs',
              Item: {
                triggerId: { S: c.trigger.id },
                sk: { S: `log#${logId}` },
                status: { S: 'queued' },
                body: { S: c.body },
              },
            },
          },
        ],
      }),
    );
    await sqs.send(
      new sqsPkg.SendMessageCommand({
        QueueUrl: process.env.DEPLOY_QUEUE_URL,
        MessageBody: JSON.stringify({ triggerId: c.trigger.id, logId }),
        MessageGroupId: c.trigger.id,
        MessageDeduplicationId: logId,
      }),
    );
  };
}

/** Each step of the core on its own (inputs prepared outside), to say where the core's time goes. */
function coreStages(c: Case): Array<[string, () => unknown]> {
  const headers = lowerHeaders(c.headers);
  const body = JSON.parse(c.body);
  const req = { headers, query: c.query, rawBody: c.body, body };
  const now = new Date();
  const secrets = acceptedSecrets(c.trigger, now);
  const parsed = c.provider.parse(req, {});
  const events = parsed.kind === 'events' ? parsed.events : [];
  return [
    ['lowerHeaders', () => lowerHeaders(c.headers)],
    ['JSON.parse', () => JSON.parse(c.body)],
    ['verify', () => c.provider.verify(req, secrets, now)],
    ['parse+normalize (zod)', () => c.provider.parse(req, {})],
    ['match (selectEvent)', () => selectEvent(c.trigger.match, events, {})],
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// timing

const cpuUs = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

async function sample(fn: () => unknown, iters: number): Promise<number> {
  const c0 = cpuUs();
  for (let i = 0; i < iters; i++) {
    const r = fn();
    if (r && typeof (r as Promise<void>).then === 'function') await (r as Promise<void>);
  }
  return (cpuUs() - c0) / iters;
}

async function warm(fn: () => unknown, ms = QUICK ? 300 : 600): Promise<void> {
  const t0 = cpuUs();
  while (cpuUs() - t0 < ms * 1000) await sample(fn, 100);
}

/** Iterations for about SAMPLE_MS of CPU. */
async function calibrate(fn: () => unknown): Promise<number> {
  let iters = 10;
  for (;;) {
    const t0 = cpuUs();
    await sample(fn, iters);
    const us = cpuUs() - t0;
    if (us > 5000) return Math.max(10, Math.round((iters * SAMPLE_MS * 1000) / us));
    iters *= 4;
  }
}

async function compare(label: string, subject: () => unknown, floor: () => unknown) {
  // warm up both until the JIT has settled (lazy requires, first SDK calls, optimized code)
  await warm(subject);
  await warm(floor);
  const si = await calibrate(subject);
  const fi = await calibrate(floor);
  const s: number[] = [];
  const f: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    // ABBA
    if (r % 2) f.push(await sample(floor, fi));
    s.push(await sample(subject, si));
    if (r % 2 === 0) f.push(await sample(floor, fi));
  }
  const out = {
    subjectUs: median(s),
    floorUs: median(f),
    subjectSamples: s.map((x) => round(x)),
    floorSamples: f.map((x) => round(x)),
    subjectIters: si,
    floorIters: fi,
  };
  log(
    `ingest ${label}: ${round(out.subjectUs)} µs vs floor ${round(out.floorUs)} µs (x${round(out.subjectUs / out.floorUs)})`,
  );
  return out;
}

async function main() {
  const started = Date.now();
  const rows: Row[] = [];
  const details: Record<string, unknown> = {};
  const profiles: Record<string, unknown> = {};
  for (const c of cases()) {
    // sanity: both subjects succeed on this body before timing anything
    coreSubject(c)();
    const hs = handlerSubject(c);
    await hs();

    const core = await compare(`${c.name} core`, coreSubject(c), coreFloor(c));
    rows.push(
      row({
        id: `1 ${c.name}`,
        what: `Ingest CPU, ${c.name} push (${c.body.length} B): verify+parse+normalize+match`,
        unit: 'µs/event',
        subject: core.subjectUs,
        floor: core.floorUs,
        limit: 1.5,
        samples: ROUNDS,
        note: 'floor: HMAC-SHA256 + JSON.parse + one RegExp on the same body',
      }),
    );
    const full = await compare(`${c.name} handler`, hs, handlerFloor(c));
    rows.push(
      row({
        id: `1 ${c.name} handler`,
        what: `Ingest CPU, ${c.name}: whole Lambda handler, AWS answered in memory`,
        unit: 'µs/event',
        subject: full.subjectUs,
        floor: full.floorUs,
        limit: 1.5,
        samples: ROUNDS,
        note: 'floor: the core floor + GetItem, BatchGetItem (state + claim), TransactWriteItems (claim + entry + state), SendMessage with the raw SDK through the same in-memory handler',
      }),
    );
    // where the core's time goes: each step alone, medians of a few samples
    const stages: Record<string, number> = {};
    for (const [name, fn] of coreStages(c)) {
      await warm(fn, 200);
      const iters = await calibrate(fn);
      const xs: number[] = [];
      for (let r = 0; r < Math.max(3, ROUNDS >> 2); r++) xs.push(await sample(fn, iters));
      stages[name] = round(median(xs));
    }
    log(`ingest ${c.name} core steps (µs): ${JSON.stringify(stages)}`);
    details[c.name] = { bodyBytes: c.body.length, core, coreSteps: stages, handler: full };

    if (PROFILE) {
      for (const [kind, fn] of [
        ['core', coreSubject(c)],
        ['handler', hs],
      ] as const) {
        const iters = await calibrate(fn);
        const prof = await startProfiler();
        const t0 = Date.now();
        while (Date.now() - t0 < 3000) await sample(fn, iters);
        const p = await prof.stop();
        const dir = path.join(BENCH_DIR, 'profiles');
        mkdirSync(dir, { recursive: true });
        const file = path.join(dir, `ingest-${c.name}-${kind}.cpuprofile`);
        writeFileSync(file, JSON.stringify(p));
        profiles[`${c.name} ${kind}`] = { file: path.relative(BENCH_DIR, file), top: summarizeProfile(p, 15) };
        log(`profile ${c.name} ${kind} -> ${file}`);
      }
    }
  }
  if (PROFILE) details.profiles = profiles;
  finish('ingest-cpu', started, rows, details);
}

runPart(main);
