/**
 * 4. Ack latency and throughput on the local stack: webhook -> 202, at a fixed rate (open loop, 100/s) and at
 * maximum (closed loop), p50/p99, against a floor that makes the same DynamoDB and SQS calls with the raw SDK
 * (bench/lib/floor-server.ts) on the same stand-ins, tables and queue.
 *
 * The stack is lib/local/stack.ts (the gateway runs the hook handlers in this process). Its deployer is replaced by
 * a no-op for this part, so deploys do not compete with the receiver for this one event loop (on AWS they are
 * separate Lambdas); the poller still drains the queue, for the floor's messages too. The sender is a child process.
 */
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CallCounter, perUnit } from './lib/aws-count';
import { BENCH_DIR, PROFILE, QUICK, awsEnv, dockerhubBody, finish, log, runPart, sleep, standIns } from './lib/common';
import { startFloorReceiver } from './lib/floor-server';
import { LoadGen, type LoadResult, type LoadTarget } from './lib/loadgen';
import { startProfiler, summarizeProfile } from './lib/profile';
import { median, percentile, round, row, type Row } from './lib/stats';
import { startTarget } from './lib/target';
import { DOCKERHUB_MATCH } from './lib/triggers';
import { startLocalStack } from '../lib/local/stack';
import { uniqueSuffix } from '../lib/local/resources';

const ROUNDS = QUICK ? 3 : 4;
const RATE = 100;
const OPEN_MS = QUICK ? 1500 : 6000;
const CLOSED_MS = QUICK ? 1000 : 4000;
const CONCURRENCY = 16;
const TRIGGERS = 10;

interface RunStats {
  n: number;
  p50: number;
  p99: number;
  rps: number;
  errors: number;
  statuses: Record<string, number>;
  /** ms spent inside AWS SDK send() per webhook (serialize, sign, wait for the stand-in, parse), by command */
  awsMs?: number;
  awsMsByCommand?: Record<string, number>;
}

function stats(results: LoadResult[], elapsedMs: number): RunStats {
  const ms = results.map((r) => r.ms);
  const statuses: Record<string, number> = {};
  for (const r of results) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
  return {
    n: results.length,
    p50: percentile(ms, 50),
    p99: percentile(ms, 99),
    rps: (results.length * 1000) / elapsedMs,
    errors: results.filter((r) => r.status !== 202).length,
    statuses,
  };
}

async function main() {
  const started = Date.now();
  awsEnv();
  const stand = await standIns();
  const target = await startTarget();
  const errors: string[] = [];
  const stack = await startLocalStack({
    endpoints: stand.endpoints,
    suffix: `bench-ack-${uniqueSuffix()}`,
    destroyResources: true,
    env: { ALLOW_PRIVATE_TARGETS: 'true' },
    handlers: { deployer: async () => ({ batchItemFailures: [] }) },
    onError: (err, where) => errors.push(`${where}: ${(err as Error)?.message ?? err}`),
  });
  const loadgen = new LoadGen();
  const anomalies: string[] = [];
  let floor: Awaited<ReturnType<typeof startFloorReceiver>> | undefined;
  try {
    const queueUrl = stack.resources.queues.DeployQueue.queueUrl;
    // time spent in AWS calls, subject (the functions' own clients) and floor

    const aws = require('../lib/store/aws') as typeof import('../lib/store/aws');
    const subjectMeter = new CallCounter();
    subjectMeter.attach(aws.dynamo() as never, aws.sqsClient() as never);
    const floorMeter = new CallCounter();
    floor = await startFloorReceiver({
      meter: floorMeter,
      dynamodbEndpoint: stand.endpoints.dynamodb,
      sqsEndpoint: stand.endpoints.sqs,
      triggersTable: stack.resources.tables.TriggersTable.tableName,
      logsTable: stack.resources.tables.LogsTable.tableName,
      queueUrl,
    });

    // triggers, through the admin API
    const triggers: Array<{ id: string; secret: string }> = [];
    for (let i = 0; i < TRIGGERS; i++) {
      const res = await fetch(`${stack.url}/admin/triggers`, {
        method: 'POST',
        headers: { authorization: `Bearer ${stack.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          name: `bench-ack-${i}`,
          provider: 'dockerhub',
          match: DOCKERHUB_MATCH,
          target: { type: 'http', url: `${target.url}/deploy` },
        }),
      });
      if (res.status !== 201) throw new Error(`creating a trigger: ${res.status} ${await res.text()}`);
      triggers.push((await res.json()) as { id: string; secret: string });
    }
    const body = dockerhubBody('release-v1.2', 999999999).replace('999999999', '__N__');
    const targetsOf = (base: string): LoadTarget[] =>
      triggers.map((t) => ({ url: `${base}/hooks/dockerhub/${t.id}?token=${encodeURIComponent(t.secret)}`, body }));
    const subjectTargets = targetsOf(stack.url);
    const floorTargets = targetsOf(floor.url);

    const sqs = new SQSClient({ region: 'us-east-1', endpoint: stand.endpoints.sqs });
    const drained = async () => {
      const until = Date.now() + 30_000;
      while (Date.now() < until) {
        const a = await sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl: queueUrl,
            AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
          }),
        );
        if (
          Number(a.Attributes?.ApproximateNumberOfMessages ?? 0) +
            Number(a.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0) ===
          0
        )
          break;
        await sleep(200);
      }
      await sleep(300);
    };

    let counter = 1_700_000_000;
    const runJob = async (mode: 'open' | 'closed', targets: LoadTarget[]) => {
      const job =
        mode === 'open'
          ? { mode, rate: RATE, durationMs: OPEN_MS, targets, counterBase: counter }
          : { mode, concurrency: CONCURRENCY, durationMs: CLOSED_MS, targets, counterBase: counter };
      const meter = targets === subjectTargets ? subjectMeter : floorMeter;
      meter.reset();
      const out = await loadgen.run(job);
      counter += out.results.length + 1;
      const s = stats(out.results, out.elapsedMs);
      s.awsMs = meter.totalMs() / Math.max(1, s.n);
      s.awsMsByCommand = perUnit(meter.durations(), Math.max(1, s.n));
      await drained();
      return s;
    };

    // warm up both (handler modules load on first use; JIT in node and in DynamoDB Local's JVM; connections)
    for (const t of [subjectTargets, floorTargets, subjectTargets, floorTargets]) {
      await loadgen.run({
        mode: 'burst',
        count: QUICK ? 150 : 400,
        concurrency: 8,
        targets: t,
        counterBase: (counter += 1000),
      });
      await loadgen.run({
        mode: 'open',
        rate: RATE,
        durationMs: QUICK ? 500 : 1500,
        targets: t,
        counterBase: (counter += 1000),
      });
    }
    await drained();

    const runs: Record<string, { subject: RunStats[]; floor: RunStats[] }> = {
      open: { subject: [], floor: [] },
      closed: { subject: [], floor: [] },
    };
    for (const mode of ['open', 'closed'] as const) {
      for (let r = 0; r < ROUNDS; r++) {
        // ABBA: who goes first alternates, so neither always meets the stand-ins right after the other
        let s: RunStats;
        let f: RunStats;
        if (r % 2 === 0) {
          s = await runJob(mode, subjectTargets);
          f = await runJob(mode, floorTargets);
        } else {
          f = await runJob(mode, floorTargets);
          s = await runJob(mode, subjectTargets);
        }
        runs[mode].subject.push(s);
        runs[mode].floor.push(f);
        log(
          `ack ${mode} round ${r + 1}: subject p50 ${round(s.p50)} p99 ${round(s.p99)} ms ${round(s.rps)}/s (in AWS calls ${round(s.awsMs!)} ms/webhook) | ` +
            `floor p50 ${round(f.p50)} p99 ${round(f.p99)} ms ${round(f.rps)}/s (in AWS calls ${round(f.awsMs!)} ms/webhook)`,
        );
        for (const [who, x] of [
          ['subject', s],
          ['floor', f],
        ] as const) {
          if (x.errors)
            anomalies.push(
              `ack ${mode} ${who} round ${r + 1}: ${x.errors} answers were not 202: ${JSON.stringify(x.statuses)}`,
            );
        }
      }
    }

    let profile: unknown;
    if (PROFILE) {
      const prof = await startProfiler();
      await loadgen.run({
        mode: 'closed',
        concurrency: CONCURRENCY,
        durationMs: 4000,
        targets: subjectTargets,
        counterBase: (counter += 100_000),
      });
      const p = await prof.stop();
      const dir = path.join(BENCH_DIR, 'profiles');
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, 'ack-subject.cpuprofile'), JSON.stringify(p));
      profile = { file: 'profiles/ack-subject.cpuprofile', top: summarizeProfile(p, 20) };
      await drained();
    }

    const med = (xs: RunStats[], k: keyof RunStats) => median(xs.map((x) => x[k] as number));
    const rows: Row[] = [];
    const modes: Array<['open' | 'closed', string]> = [
      ['open', `${RATE}/s (open loop)`],
      ['closed', `max (closed loop, ${CONCURRENCY} in flight)`],
    ];
    for (const [mode, label] of modes) {
      const { subject, floor: fl } = runs[mode];
      for (const p of ['p50', 'p99'] as const) {
        rows.push(
          row({
            id: `4 ack ${mode} ${p}`,
            what: `Ack latency ${p}, webhook -> 202, ${label}`,
            unit: 'ms',
            subject: med(subject, p),
            floor: med(fl, p),
            limit: 2,
            samples: ROUNDS,
            note: `inside AWS calls per webhook: subject ${round(med(subject, 'awsMs'), 1)} ms, floor ${round(med(fl, 'awsMs'), 1)} ms`,
          }),
        );
      }
      if (mode === 'closed') {
        const s = med(subject, 'rps');
        const f = med(fl, 'rps');
        rows.push(
          row({
            id: '4 throughput',
            what: `Ack throughput at max (closed loop, ${CONCURRENCY} in flight)`,
            unit: 'webhooks/s',
            subject: s,
            floor: f,
            ratio: f / s,
            limit: 2,
            samples: ROUNDS,
            note: 'ratio = floor / subject (higher is better here)',
          }),
        );
      }
    }
    if (errors.length)
      anomalies.push(
        `stack errors: ${errors.slice(0, 3).join(' | ')}${errors.length > 3 ? ` (+${errors.length - 3})` : ''}`,
      );
    sqs.destroy();
    finish(
      'ack',
      started,
      rows,
      { rate: RATE, openMs: OPEN_MS, closedMs: CLOSED_MS, concurrency: CONCURRENCY, triggers: TRIGGERS, runs, profile },
      anomalies,
    );
  } finally {
    loadgen.close();
    await floor?.close();
    await stack.stop();
    await target.close();
    await stand.stop();
  }
}

runPart(main);
