/**
 * 6. Reads that cost one page, at 50 / 5,000 / 50,000 log entries per trigger (one trigger each) and 10 / 1,000 /
 * 10,000 triggers (one triggers table each), the sizes alternated round by round.
 *
 * Every case compares pages of the same length, so a difference can only come from the size of the log or table:
 * - the log's newest page (`limit=50`: 50 entries at every size);
 * - a rare status (`status=failed&limit=50`: exactly 5 `failed` entries at every size, spread over the whole log, the
 *   oldest one first: without an index the page reads the whole partition to find them);
 * - a status no entry has (`status=unauthorized`);
 * - a common status (`status=untriggered`, 10% of the entries): a full page from 5,000 entries on, against 5,000;
 *   and against the newest page of the same log (the same 50 entries in one Query): what the status index's second
 *   round trip costs;
 * - the trigger list's first page with no filter, and filtered by provider, each as long as the smallest tier can
 *   fill it.
 * Entries are Docker Hub pushes as the store writes them (request compressed, index keys). Figures: median ms of
 * the store call, split by DynamoDB call (client-side time from send to answer) and the rest (our code), and the items
 * DynamoDB read for it (ScannedCount of every Query/Scan and the items a BatchGetItem returned). Floor: the smallest
 * size; target 1.3x.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ulid } from 'ulid';
import { QUICK, awsEnv, dockerhubBody, finish, log, putAll, runPart, standIns } from './lib/common';
import { median, round, row, type Row } from './lib/stats';
import { makeTrigger } from './lib/triggers';
import { createResources, uniqueSuffix } from '../lib/local/resources';

const LOG_SIZES = QUICK ? [50, 5000] : [50, 5000, 50_000];
const TRIGGER_TIERS = QUICK ? [10, 1000] : [10, 1000, 10_000];
const ROUNDS = QUICK ? 15 : 31;
/** rare status: this many entries at every log size */
const RARE = 5;

interface Sample {
  ms: number;
  items: number;
  /** ms per DynamoDB command, client-side (send to answer) */
  calls: Record<string, number>;
  got: number;
}

/** The median sample's parts: medians of each, so they need not add up exactly to the median total. */
function summarize(xs: Sample[]) {
  const names = [...new Set(xs.flatMap((x) => Object.keys(x.calls)))];
  const calls = Object.fromEntries(names.map((n) => [n, round(median(xs.map((x) => x.calls[n] ?? 0)))]));
  const ms = median(xs.map((x) => x.ms));
  const inDynamo = median(xs.map((x) => Object.values(x.calls).reduce((a, b) => a + b, 0)));
  return {
    ms,
    items: median(xs.map((x) => x.items)),
    got: xs.at(-1)?.got ?? 0,
    calls,
    ours: round(Math.max(0, ms - inDynamo)),
  };
}

const split = (s: ReturnType<typeof summarize>) =>
  `${Object.entries(s.calls)
    .map(([n, ms]) => `${n} ${ms}`)
    .join(' + ')} + ours ${s.ours} ms`;

async function main() {
  const started = Date.now();
  awsEnv();
  const stand = await standIns();
  const resources = await createResources({
    dynamodbEndpoint: stand.endpoints.dynamodb,
    sqsEndpoint: stand.endpoints.sqs,
    suffix: `bench-reads-${uniqueSuffix()}`,
  });
  Object.assign(process.env, resources.env, {
    DYNAMODB_ENDPOINT: stand.endpoints.dynamodb,
    SQS_ENDPOINT: stand.endpoints.sqs,
  });

  const { dynamo } = require('../lib/store/aws') as typeof import('../lib/store/aws');
  const store = require('../lib/store/store') as typeof import('../lib/store/store');

  // items read (ScannedCount of a Query/Scan, the items of a BatchGetItem) and the time of each command
  let current: Sample = { ms: 0, items: 0, calls: {}, got: 0 };
  (dynamo() as any).middlewareStack.add(
    (next: any, context: any) => async (args: any) => {
      const name = String(context.commandName ?? '?').replace(/Command$/, '');
      const a = performance.now();
      const out = await next(args);
      current.calls[name] = (current.calls[name] ?? 0) + (performance.now() - a);
      const o = out?.output ?? {};
      current.items +=
        o.ScannedCount ?? Object.values(o.Responses ?? {}).reduce((n: number, r: any) => n + (r?.length ?? 0), 0);
      return out;
    },
    { step: 'initialize', name: 'benchReads' },
  );
  const measure = async <T>(call: () => Promise<T>, got: (t: T) => number): Promise<Sample> => {
    current = { ms: 0, items: 0, calls: {}, got: 0 };
    const a = performance.now();
    const out = await call();
    current.ms = performance.now() - a;
    current.got = got(out);
    return current;
  };

  const raw = new DynamoDBClient({ region: 'us-east-1', endpoint: stand.endpoints.dynamodb, maxAttempts: 10 });
  const writeAll = (table: string, items: Record<string, unknown>[]) =>
    putAll(raw, table, items.length, (i) => items[i]);

  // ---- log entries: one trigger per size; 10% untriggered, RARE failed spread over the log, the rest succeeded,
  // no `unauthorized` at all
  const logsTable = resources.tables.LogsTable.tableName;
  const t0 = Date.now();
  const triggerOf: Record<number, string> = {};
  for (const size of LOG_SIZES) {
    const triggerId = `bench-log-${size}`;
    triggerOf[size] = triggerId;
    const items: Record<string, unknown>[] = [];
    const base = Date.now() - size * 1000;
    const rareEvery = size / RARE;
    for (let i = 0; i < size; i++) {
      const status = i % rareEvery === 1 ? 'failed' : i % 10 === 0 ? 'untriggered' : 'succeeded';
      const body = dockerhubBody(`v${i}`, 1700000000 + i);
      const entry = store.newLogEntry({
        id: ulid(base + i * 1000),
        triggerId,
        provider: 'dockerhub',
        status,
        ...(status === 'untriggered' ? { reason: 'tag v1 does not match /^release-/' } : {}),
        ...(status === 'failed' ? { error: 'target answered 503' } : {}),
        request: {
          method: 'POST',
          path: `/hooks/dockerhub/${triggerId}`,
          headers: { 'content-type': 'application/json', 'user-agent': 'Go-http-client/1.1' },
          body,
          bodyBytes: body.length,
        },
      } as any);
      items.push(store.logItem(entry));
    }
    await writeAll(logsTable, items);
  }
  log(`reads: ${LOG_SIZES.reduce((a, b) => a + b, 0)} log entries written in ${Date.now() - t0} ms`);

  const cases: Array<{ key: string; what: string; opts: { limit: number; status?: any }; from?: number }> = [
    { key: 'newest', what: 'log page, limit=50', opts: { limit: 50 } },
    {
      key: 'rare',
      what: `log page, status=failed (${RARE} entries at every size) limit=50`,
      opts: { limit: 50, status: 'failed' },
    },
    {
      key: 'none',
      what: 'log page, status=unauthorized (no entry) limit=50',
      opts: { limit: 50, status: 'unauthorized' },
    },
    // a full page of a common status needs 500 entries: measured from 5,000 on
    {
      key: 'common',
      what: 'log page, status=untriggered (10%) limit=50',
      opts: { limit: 50, status: 'untriggered' },
      from: 500,
    },
  ];
  const samples: Record<string, Record<number, Sample[]>> = {};
  for (const c of cases) samples[c.key] = Object.fromEntries(LOG_SIZES.map((s) => [s, []]));
  for (let r = 0; r < ROUNDS + 1; r++) {
    for (const c of cases) {
      // alternate: each round visits the sizes in a rotated order
      const order = LOG_SIZES.map((_, i) => LOG_SIZES[(i + r) % LOG_SIZES.length]).filter((s) => s >= (c.from ?? 0));
      for (const size of order) {
        const s = await measure(
          () => store.listLogEntries(triggerOf[size], c.opts),
          (p) => p.items.length,
        );
        if (r > 0) samples[c.key][size].push(s); // round 0 warms up
      }
    }
  }
  const rows: Row[] = [];
  const details: Record<string, unknown> = { logs: {}, triggers: {} };
  for (const c of cases) {
    const sizes = LOG_SIZES.filter((size) => size >= (c.from ?? 0));
    // the smallest size where this case's page is full
    const floor = summarize(samples[c.key][sizes[0]]);
    for (const size of sizes) {
      const s = summarize(samples[c.key][size]);
      rows.push(
        row({
          id: `6 log ${c.key} ${size}`,
          what: `${c.what} at ${size.toLocaleString('en-US')} entries (${s.items} items read, ${s.got} returned; ${split(s)}${c.from ? `; floor: ${sizes[0].toLocaleString('en-US')} entries, the smallest log with a full page` : ''})`,
          unit: 'ms',
          subject: s.ms,
          floor: floor.ms,
          limit: 1.3,
          samples: samples[c.key][size].length,
        }),
      );
      (details.logs as any)[`${c.key}-${size}`] = s;
    }
  }
  // what the keys-only status index costs a page: the same 50 entries as the newest page of the same log, in two
  // calls (index keys, then the entries) instead of one; limit 2x, two round trips by design (lib/store/store.ts)
  const full = LOG_SIZES.find((size) => size >= 500)!;
  const statusPage = summarize(samples.common[full]);
  const plainPage = summarize(samples.newest[full]);
  rows.push(
    row({
      id: `6 log status index ${full}`,
      what: `log page, status=untriggered limit=50 against the newest page of the same log (${full.toLocaleString('en-US')} entries, 50 returned by both): ${split(statusPage)} vs ${split(plainPage)}`,
      unit: 'ms',
      subject: statusPage.ms,
      floor: plainPage.ms,
      limit: 2,
      samples: samples.common[full].length,
    }),
  );

  // ---- trigger list: one triggers table per tier (the store reads TRIGGERS_TABLE on every call), alternated
  const providers = ['github', 'dockerhub', 'gitlab'];
  const templates = providers.map((provider) =>
    makeTrigger({ name: 'filler', provider, target: { type: 'http', url: 'https://deploy.example.com/hook' } }),
  );
  const triggerAt = (i: number) => ({
    ...templates[i % providers.length],
    id: i.toString(16).padStart(24, '0'),
    name: `filler-${i}`,
    createdAt: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString(),
  });
  const tierResources = [];
  const tableOf: Record<number, string> = {};
  for (const tier of TRIGGER_TIERS) {
    const r = await createResources({
      dynamodbEndpoint: stand.endpoints.dynamodb,
      sqsEndpoint: stand.endpoints.sqs,
      suffix: `bench-reads-t${tier}-${uniqueSuffix()}`,
    });
    tierResources.push(r);
    tableOf[tier] = r.tables.TriggersTable.tableName;
    await writeAll(
      tableOf[tier],
      Array.from({ length: tier }, (_, i) => store.triggerItem(triggerAt(i) as any)),
    );
  }
  // each page as long as the smallest tier can fill it
  const smallest = TRIGGER_TIERS[0];
  const gitlabInSmallest = Array.from({ length: smallest }, (_, i) => i).filter(
    (i) => i % providers.length === 2,
  ).length;
  const listCases = [
    { key: 'all', what: `trigger list, limit=${smallest}`, opts: { limit: smallest } },
    {
      key: 'provider',
      what: `trigger list, provider=gitlab limit=${gitlabInSmallest}`,
      opts: { limit: gitlabInSmallest, provider: 'gitlab' },
    },
  ];
  const listSamples: Record<string, Record<number, Sample[]>> = {};
  const bytesOf: Record<string, number> = {};
  for (const c of listCases) listSamples[c.key] = Object.fromEntries(TRIGGER_TIERS.map((t) => [t, []]));
  for (let r = 0; r < ROUNDS + 1; r++) {
    for (const c of listCases) {
      for (const tier of TRIGGER_TIERS.map((_, i) => TRIGGER_TIERS[(i + r) % TRIGGER_TIERS.length])) {
        process.env.TRIGGERS_TABLE = tableOf[tier];
        const s = await measure(
          () => store.listTriggers(c.opts),
          (p) => ((bytesOf[`${c.key}-${tier}`] = Buffer.byteLength(JSON.stringify(p.items))), p.items.length),
        );
        if (r > 0) listSamples[c.key][tier].push(s);
      }
    }
  }
  for (const c of listCases) {
    const floor = summarize(listSamples[c.key][smallest]);
    for (const tier of TRIGGER_TIERS) {
      const s = summarize(listSamples[c.key][tier]);
      const bytes = bytesOf[`${c.key}-${tier}`];
      rows.push(
        row({
          id: `6 triggers ${c.key} ${tier}`,
          what: `${c.what} at ${tier.toLocaleString('en-US')} triggers (${s.items} items read, ${s.got} returned, ${(bytes / 1024).toFixed(1)} KB; ${split(s)})`,
          unit: 'ms',
          subject: s.ms,
          floor: floor.ms,
          limit: 1.3,
          samples: listSamples[c.key][tier].length,
        }),
      );
      (details.triggers as any)[`${c.key}-${tier}`] = { ...s, bytes };
    }
  }
  for (const r of tierResources) await r.destroy?.();
  await resources.destroy?.();
  await stand.stop();
  finish('reads', started, rows, details);
}

runPart(main);
