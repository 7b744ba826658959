/**
 * 5. End to end on the local stack: a burst of 1,000 Docker Hub webhooks across 50 triggers -> deploy calls
 * received by a local HTTP server. Drain time (first webhook sent -> last deploy call received), p50/p99 from
 * webhook to its deploy call, and counts: every event logged (admin API, per status), nothing deployed twice. The
 * triggers say `queue: all` so that every event deploys as the floor's do (with the default a burst supersedes all
 * but the newest waiting event of each trigger).
 *
 * Floor: the raw-SDK receiver and a raw-SDK consumer (bench/lib/floor-server.ts) doing the same calls on the same
 * stand-ins and tables, with their own FIFO queue, one batch of up to 5 at a time like the local poller. Subject and
 * floor alternate. Nothing is asserted: counts that do not add up are printed as anomalies.
 */
import { CreateQueueCommand, DeleteQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { CallCounter, perUnit } from './lib/aws-count';
import { QUICK, awsEnv, dockerhubBody, finish, log, runPart, sleep, standIns } from './lib/common';
import { startFloorConsumer, startFloorReceiver } from './lib/floor-server';
import { LoadGen, type LoadResult, type LoadTarget } from './lib/loadgen';
import { median, percentile, round, row, type Row } from './lib/stats';
import { startTarget, type TargetCall } from './lib/target';
import { DOCKERHUB_MATCH } from './lib/triggers';
import { startLocalStack } from '../lib/local/stack';
import { uniqueSuffix } from '../lib/local/resources';

const WEBHOOKS = QUICK ? 200 : 1000;
const TRIGGERS = QUICK ? 10 : 50;
const ROUNDS = QUICK ? 1 : 3;
const CONCURRENCY = 32;
/** give up waiting for deploys after this long without a new one */
const STALL_MS = 30_000;

interface RunResult {
  sent: number;
  accepted: Record<string, number>;
  triggered: number;
  deployCalls: number;
  deployedLogs: number;
  deployedTwice: number;
  neverDeployed: number;
  drainMs: number;
  ackP50: number;
  ackP99: number;
  p50: number;
  p99: number;
  /** subject only: log entries by status, through the admin API */
  logs?: Record<string, number>;
  logEntries?: number;
  /** ms inside AWS SDK calls per event (ingest + deploy), by command */
  awsMs?: number;
  awsMsByCommand?: Record<string, number>;
  awsCallsByCommand?: Record<string, number>;
}

async function main() {
  const started = Date.now();
  awsEnv();
  const stand = await standIns();
  const target = await startTarget();
  const errors: string[] = [];
  const stack = await startLocalStack({
    endpoints: stand.endpoints,
    suffix: `bench-e2e-${uniqueSuffix()}`,
    destroyResources: true,
    env: { ALLOW_PRIVATE_TARGETS: 'true' },
    onError: (err, where) => errors.push(`${where}: ${(err as Error)?.message ?? err}`),
  });
  const sqs = new SQSClient({ region: 'us-east-1', endpoint: stand.endpoints.sqs });
  const floorQueue = await sqs.send(
    new CreateQueueCommand({
      QueueName: `bench-floor-${uniqueSuffix()}.fifo`,
      Attributes: { FifoQueue: 'true', VisibilityTimeout: '540' },
    }),
  );
  const floorQueueUrl = floorQueue.QueueUrl!;

  const aws = require('../lib/store/aws') as typeof import('../lib/store/aws');
  const subjectMeter = new CallCounter();
  subjectMeter.attach(aws.dynamo() as never, aws.sqsClient() as never);
  const floorMeter = new CallCounter();
  const floorOpts = {
    meter: floorMeter,
    dynamodbEndpoint: stand.endpoints.dynamodb,
    sqsEndpoint: stand.endpoints.sqs,
    triggersTable: stack.resources.tables.TriggersTable.tableName,
    logsTable: stack.resources.tables.LogsTable.tableName,
    queueUrl: floorQueueUrl,
  };
  const floor = await startFloorReceiver(floorOpts);
  const loadgen = new LoadGen();
  const anomalies: string[] = [];
  const admin = async (method: string, p: string, body?: unknown) => {
    const res = await fetch(`${stack.url}${p}`, {
      method,
      headers: { authorization: `Bearer ${stack.adminToken}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as any };
  };

  try {
    let counter = 1_600_000_000;
    let round_ = 0;
    const body = dockerhubBody('release-v1.2', 999999999).replace('999999999', '__N__');

    /** One burst; waits for the deploys; measures. */
    const burst = async (
      who: 'subject' | 'floor',
      triggers: Array<{ id: string; secret: string }>,
    ): Promise<RunResult> => {
      const base = who === 'subject' ? stack.url : floor.url;
      const targets: LoadTarget[] = triggers.map((t) => ({
        url: `${base}/hooks/dockerhub/${t.id}?token=${encodeURIComponent(t.secret)}`,
        body,
      }));
      const firstCall = target.calls.length;
      const meter = who === 'subject' ? subjectMeter : floorMeter;
      meter.reset();
      const consumer =
        who === 'floor'
          ? startFloorConsumer({ ...floorOpts, targetUrl: (id) => `${target.url}/deploy/${id}` })
          : undefined;
      const out = await loadgen.run({
        mode: 'burst',
        count: WEBHOOKS,
        concurrency: CONCURRENCY,
        targets,
        counterBase: counter,
      });
      counter += WEBHOOKS + 1;
      const results: LoadResult[] = out.results;
      const accepted: Record<string, number> = {};
      for (const r of results) accepted[r.status] = (accepted[r.status] ?? 0) + 1;
      const sentAt = new Map<string, number>();
      for (const r of results) if (r.status === 202 && r.log) sentAt.set(r.log, r.at);
      const triggered = sentAt.size;

      // wait until every triggered webhook has its deploy call (or nothing arrives for STALL_MS)
      let seen = 0;
      let lastProgress = Date.now();
      for (;;) {
        const calls = target.calls.slice(firstCall);
        const got = new Set(calls.map((c) => c.logId).filter((id): id is string => !!id && sentAt.has(id)));
        if (got.size >= triggered) break;
        if (calls.length !== seen) {
          seen = calls.length;
          lastProgress = Date.now();
        } else if (Date.now() - lastProgress > STALL_MS) {
          anomalies.push(`e2e ${who}: stalled with ${got.size} of ${triggered} deployed`);
          break;
        }
        await sleep(50);
      }
      const awsMs = meter.totalMs();
      const awsByCommand = meter.durations();
      const awsCalls = meter.snapshot();
      await sleep(1000); // late duplicates, if any, have a moment to show up
      await consumer?.stop();
      const calls: TargetCall[] = target.calls.slice(firstCall);
      const firstArrival = new Map<string, number>();
      const perLog = new Map<string, number>();
      for (const c of calls) {
        if (!c.logId) continue;
        perLog.set(c.logId, (perLog.get(c.logId) ?? 0) + 1);
        if (!firstArrival.has(c.logId)) firstArrival.set(c.logId, c.at);
      }
      const latencies: number[] = [];
      for (const [logId, at] of sentAt) {
        const arrived = firstArrival.get(logId);
        if (arrived !== undefined) latencies.push(arrived - at);
      }
      const firstSend = Math.min(...results.map((r) => r.at));
      const lastArrival = Math.max(...calls.map((c) => c.at));
      const ack = results.map((r) => r.ms);
      return {
        sent: results.length,
        accepted,
        triggered,
        deployCalls: calls.length,
        deployedLogs: firstArrival.size,
        deployedTwice: [...perLog.values()].filter((n) => n > 1).length,
        neverDeployed: [...sentAt.keys()].filter((id) => !firstArrival.has(id)).length,
        drainMs: lastArrival - firstSend,
        ackP50: percentile(ack, 50),
        ackP99: percentile(ack, 99),
        p50: percentile(latencies, 50),
        p99: percentile(latencies, 99),
        awsMs: awsMs / Math.max(1, triggered),
        awsMsByCommand: perUnit(awsByCommand, Math.max(1, triggered)),
        awsCallsByCommand: perUnit(awsCalls, Math.max(1, triggered)),
      };
    };

    /** Log entries of these triggers by status (admin API, every page), once none is queued/deploying any more. */
    const logCounts = async (triggers: Array<{ id: string }>) => {
      let counts: Record<string, number> = {};
      let total = 0;
      for (let attempt = 0; attempt < 20; attempt++) {
        counts = {};
        total = 0;
        for (const t of triggers) {
          let cursor: string | undefined;
          do {
            const page = await admin(
              'GET',
              `/admin/triggers/${t.id}/logs?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
            );
            for (const e of page.body.items ?? []) {
              counts[e.status] = (counts[e.status] ?? 0) + 1;
              total++;
            }
            cursor = page.body.cursor;
          } while (cursor);
        }
        if (!counts.queued && !counts.deploying) break;
        await sleep(500);
      }
      return { counts, total };
    };

    const runs: { subject: RunResult[]; floor: RunResult[] } = { subject: [], floor: [] };
    for (let r = 0; r < ROUNDS; r++) {
      round_ = r + 1;
      // fresh triggers for each round, through the admin API, so the counts are this round's
      const triggers: Array<{ id: string; secret: string }> = [];
      for (let i = 0; i < TRIGGERS; i++) {
        const res = await admin('POST', '/admin/triggers', {
          name: `bench-e2e-${r}-${i}`,
          provider: 'dockerhub',
          match: DOCKERHUB_MATCH,
          // every event deployed, as the floor does (the default, `latest`, would supersede most of a burst)
          queue: 'all',
          target: {
            type: 'http',
            url: `${target.url}/deploy/{{triggerId}}`,
            body: { log: '{{logId}}', tag: '{{tag}}' },
          },
        });
        if (res.status !== 201) throw new Error(`creating a trigger: ${res.status} ${JSON.stringify(res.body)}`);
        triggers.push(res.body);
      }
      // ABBA: who goes first alternates
      let f: RunResult;
      if (r % 2 === 1) f = await burst('floor', triggers);
      const s = await burst('subject', triggers);
      const logs = await logCounts(triggers);
      s.logs = logs.counts;
      s.logEntries = logs.total;
      if (r % 2 === 0) f = await burst('floor', triggers);
      runs.subject.push(s);
      runs.floor.push(f!);
      log(
        `e2e round ${round_}: subject drain ${round(s.drainMs / 1000)} s, p50 ${round(s.p50)} p99 ${round(s.p99)} ms, deployed ${s.deployedLogs}/${s.triggered}, twice ${s.deployedTwice}, logs ${JSON.stringify(s.logs)}, AWS ${JSON.stringify(s.awsMsByCommand)} ms/event | ` +
          `floor drain ${round(f!.drainMs / 1000)} s, p50 ${round(f!.p50)} p99 ${round(f!.p99)} ms, deployed ${f!.deployedLogs}/${f!.triggered}, AWS ${JSON.stringify(f!.awsMsByCommand)} ms/event`,
      );
      for (const [who, x] of [
        ['subject', s],
        ['floor', f!],
      ] as const) {
        if (x.triggered !== WEBHOOKS)
          anomalies.push(
            `e2e ${who} round ${round_}: ${x.triggered} of ${WEBHOOKS} webhooks answered 202 triggered (${JSON.stringify(x.accepted)})`,
          );
        if (x.deployedTwice)
          anomalies.push(`e2e ${who} round ${round_}: ${x.deployedTwice} events deployed more than once`);
        if (x.neverDeployed)
          anomalies.push(`e2e ${who} round ${round_}: ${x.neverDeployed} triggered events never deployed`);
      }
      if (s.logEntries !== WEBHOOKS)
        anomalies.push(`e2e subject round ${round_}: ${s.logEntries} log entries for ${WEBHOOKS} webhooks`);
      if ((s.logs?.succeeded ?? 0) !== WEBHOOKS)
        anomalies.push(`e2e subject round ${round_}: log statuses ${JSON.stringify(s.logs)}`);
    }

    const med = (xs: RunResult[], k: 'drainMs' | 'p50' | 'p99' | 'ackP50' | 'ackP99' | 'awsMs') =>
      median(xs.map((x) => x[k] ?? NaN));
    const last = runs.subject[runs.subject.length - 1];
    const sum = (
      k: 'sent' | 'triggered' | 'deployCalls' | 'deployedLogs' | 'deployedTwice' | 'neverDeployed' | 'logEntries',
    ) => runs.subject.reduce((a, x) => a + (x[k] ?? 0), 0);
    const rows: Row[] = [
      row({
        id: '5 drain',
        what: `E2E drain: ${WEBHOOKS} webhooks across ${TRIGGERS} triggers, first sent -> last deploy call`,
        unit: 's',
        subject: med(runs.subject, 'drainMs') / 1000,
        floor: med(runs.floor, 'drainMs') / 1000,
        limit: 1.5,
        samples: ROUNDS,
      }),
      row({
        id: '5 p50',
        what: 'E2E webhook -> deploy call, p50',
        unit: 'ms',
        subject: med(runs.subject, 'p50'),
        floor: med(runs.floor, 'p50'),
        limit: 1.5,
        samples: ROUNDS,
        note: `inside AWS calls per event (ingest + deploy): subject ${round(med(runs.subject, 'awsMs'), 1)} ms, floor ${round(med(runs.floor, 'awsMs'), 1)} ms`,
      }),
      row({
        id: '5 p99',
        what: 'E2E webhook -> deploy call, p99',
        unit: 'ms',
        subject: med(runs.subject, 'p99'),
        floor: med(runs.floor, 'p99'),
        limit: 1.5,
        samples: ROUNDS,
      }),
      row({
        id: '5 counts',
        what: `E2E counts over ${ROUNDS} burst(s): sent / triggered / deployed / deployed twice / log entries`,
        unit: 'events',
        subject: sum('deployedLogs'),
        subjectText: `${sum('sent')} / ${sum('triggered')} / ${sum('deployedLogs')} / ${sum('deployedTwice')} / ${sum('logEntries')}`,
        note: `log statuses (last burst): ${JSON.stringify(last?.logs ?? {})}; deploy calls ${sum('deployCalls')}`,
      }),
    ];
    if (errors.length)
      anomalies.push(
        `stack errors: ${errors.slice(0, 3).join(' | ')}${errors.length > 3 ? ` (+${errors.length - 3})` : ''}`,
      );
    finish(
      'e2e',
      started,
      rows,
      { webhooks: WEBHOOKS, triggers: TRIGGERS, concurrency: CONCURRENCY, rounds: ROUNDS, runs },
      anomalies,
    );
  } finally {
    loadgen.close();
    await floor.close();
    await sqs.send(new DeleteQueueCommand({ QueueUrl: floorQueueUrl })).catch(() => undefined);
    sqs.destroy();
    await stack.stop();
    await target.close();
    await stand.stop();
  }
}

runPart(main);
