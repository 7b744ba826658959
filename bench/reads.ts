/**
 * 6. Reads that cost one page: the trigger log's newest page (`limit=50`), a status page for a common status (10% of
 * the entries) and for a status no entry has, at 50 / 5,000 / 50,000 entries per trigger (alternated across the
 * sizes, one trigger each), and the trigger list's first page (`limit=50`, no filter and `provider=`) at 10 / 1,000 /
 * 10,000 triggers (the table is filled up between tiers, so those are not alternated). Figures: median ms of the store
 * call and the items DynamoDB read for it (ScannedCount of every Query/Scan it sent). Floor: the 50-entry (10-trigger)
 * case; target 1.3x.
 */
import { BatchWriteItemCommand, DynamoDBClient, type WriteRequest } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { ulid } from 'ulid';
import { QUICK, awsEnv, finish, log, runPart, standIns } from './lib/common';
import { median, row, type Row } from './lib/stats';
import { makeTrigger } from './lib/triggers';
import { createResources, uniqueSuffix } from '../lib/local/resources';

const LOG_SIZES = QUICK ? [50, 5000] : [50, 5000, 50_000];
const TRIGGER_TIERS = QUICK ? [10, 1000] : [10, 1000, 10_000];
const ROUNDS = QUICK ? 3 : 5;
const WRITE_CONCURRENCY = 8;

/* eslint-disable @typescript-eslint/no-explicit-any */
async function main() {
  const started = Date.now();
  awsEnv();
  const stand = await standIns();
  const resources = await createResources({
    dynamodbEndpoint: stand.endpoints.dynamodb,
    sqsEndpoint: stand.endpoints.sqs,
    suffix: `bench-reads-${uniqueSuffix()}`,
  });
  Object.assign(process.env, resources.env, { DYNAMODB_ENDPOINT: stand.endpoints.dynamodb, SQS_ENDPOINT: stand.endpoints.sqs });
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { dynamo } = require('../lib/store/aws') as typeof import('../lib/store/aws');
  const store = require('../lib/store/store') as any;
  /* eslint-enable @typescript-eslint/no-require-imports */

  // items read: ScannedCount of every Query/Scan sent through the store's client
  let scanned = 0;
  (dynamo() as any).middlewareStack.add(
    (next: any) => async (args: any) => {
      const out = await next(args);
      scanned += out?.output?.ScannedCount ?? 0;
      return out;
    },
    { step: 'initialize', name: 'benchScanned' },
  );

  const raw = new DynamoDBClient({ region: 'us-east-1', endpoint: stand.endpoints.dynamodb, maxAttempts: 10 });
  const writeAll = async (table: string, items: Record<string, unknown>[]) => {
    let next = 0;
    const worker = async () => {
      while (next < items.length) {
        const from = next;
        next = Math.min(items.length, next + 25);
        let reqs: WriteRequest[] = items
          .slice(from, next)
          .map((i) => ({ PutRequest: { Item: marshall(i, { removeUndefinedValues: true }) } }));
        while (reqs.length) {
          const out = await raw.send(new BatchWriteItemCommand({ RequestItems: { [table]: reqs } }));
          reqs = out.UnprocessedItems?.[table] ?? [];
        }
      }
    };
    await Promise.all(Array.from({ length: WRITE_CONCURRENCY }, worker));
  };

  // ---- log entries: one trigger per size, 10% untriggered, the rest succeeded, no `unauthorized` at all
  const logsTable = resources.tables.LogsTable.tableName;
  const t0 = Date.now();
  const triggerOf: Record<number, string> = {};
  for (const size of LOG_SIZES) {
    const triggerId = `bench-log-${size}`;
    triggerOf[size] = triggerId;
    const items: Record<string, unknown>[] = [];
    const base = Date.now() - size * 1000;
    for (let i = 0; i < size; i++) {
      const entry = store.newLogEntry({
        id: ulid(base + i * 1000),
        triggerId,
        provider: 'github',
        status: i % 10 === 0 ? 'untriggered' : 'succeeded',
        ...(i % 10 === 0 ? { reason: 'no rule matched' } : {}),
        request: { method: 'POST', path: `/hooks/github/${triggerId}`, headers: {}, body: '{}', bodyBytes: 2 },
      });
      // the item exactly as the store writes it (logItem when the store has it: key and index attributes)
      items.push(store.logItem ? store.logItem(entry) : { ...entry, triggerId, sk: `log#${entry.id}` });
    }
    await writeAll(logsTable, items);
  }
  log(`reads: ${LOG_SIZES.reduce((a, b) => a + b, 0)} log entries written in ${Date.now() - t0} ms`);

  const cases: Array<{ key: string; what: string; opts: Record<string, unknown> }> = [
    { key: 'newest', what: 'log page, limit=50', opts: { limit: 50 } },
    { key: 'common', what: 'log page, status=untriggered (10%) limit=50', opts: { limit: 50, status: 'untriggered' } },
    { key: 'none', what: 'log page, status=unauthorized (no entry) limit=50', opts: { limit: 50, status: 'unauthorized' } },
  ];
  const samples: Record<string, Record<number, { ms: number[]; items: number[]; got: number }>> = {};
  for (const c of cases) samples[c.key] = Object.fromEntries(LOG_SIZES.map((s) => [s, { ms: [], items: [], got: 0 }]));
  for (let r = 0; r < ROUNDS + 1; r++) {
    for (const c of cases) {
      // alternate: each round visits the sizes in a rotated order
      const order = LOG_SIZES.map((_, i) => LOG_SIZES[(i + r) % LOG_SIZES.length]);
      for (const size of order) {
        scanned = 0;
        const a = performance.now();
        const page = await store.listLogEntries(triggerOf[size], c.opts);
        const ms = performance.now() - a;
        if (r === 0) continue; // warm-up round
        samples[c.key][size].ms.push(ms);
        samples[c.key][size].items.push(scanned);
        samples[c.key][size].got = page.items.length;
      }
    }
  }
  const rows: Row[] = [];
  const details: Record<string, unknown> = { logs: {}, triggers: {} };
  for (const c of cases) {
    const small = samples[c.key][LOG_SIZES[0]];
    for (const size of LOG_SIZES) {
      const s = samples[c.key][size];
      const ms = median(s.ms);
      rows.push(
        row({
          id: `6 log ${c.key} ${size}`,
          what: `${c.what} at ${size.toLocaleString('en-US')} entries (${median(s.items)} items read, ${s.got} returned)`,
          unit: 'ms',
          subject: ms,
          floor: median(small.ms),
          limit: 1.3,
          samples: s.ms.length,
        }),
      );
      (details.logs as any)[`${c.key}-${size}`] = { ms, itemsRead: median(s.items), returned: s.got };
    }
  }

  // ---- trigger list: the table grows between tiers
  const triggersTable = resources.tables.TriggersTable.tableName;
  const templates = ['github', 'dockerhub', 'gitlab'].map((provider) =>
    makeTrigger({ name: 'filler', provider, target: { type: 'http', url: 'https://deploy.example.com/hook' } }),
  );
  let stored = 0;
  const listCases = [
    { key: 'all', what: 'trigger list, limit=50', opts: { limit: 50 } },
    { key: 'provider', what: 'trigger list, provider=gitlab limit=50', opts: { limit: 50, provider: 'gitlab' } },
  ];
  const firstList: Record<string, number> = {};
  for (const tier of TRIGGER_TIERS) {
    const items: Record<string, unknown>[] = [];
    for (let i = stored; i < tier; i++) {
      const t = { ...templates[i % 3], id: i.toString(16).padStart(24, '0'), name: `filler-${i}`, createdAt: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString() };
      items.push(store.triggerItem ? store.triggerItem(t) : t);
    }
    await writeAll(triggersTable, items);
    stored = tier;
    for (const c of listCases) {
      const ms: number[] = [];
      const read: number[] = [];
      let got = 0;
      let bytes = 0;
      for (let r = 0; r < ROUNDS + 1; r++) {
        scanned = 0;
        const a = performance.now();
        const page = await store.listTriggers(c.opts);
        const took = performance.now() - a;
        const list = Array.isArray(page) ? page : page.items; // before paging: the whole table came back
        if (r === 0) continue;
        ms.push(took);
        read.push(scanned);
        got = list.length;
        bytes = Buffer.byteLength(JSON.stringify(list));
      }
      const m = median(ms);
      firstList[c.key] ??= m;
      rows.push(
        row({
          id: `6 triggers ${c.key} ${tier}`,
          what: `${c.what} at ${tier.toLocaleString('en-US')} triggers (${median(read)} items read, ${got} returned, ${Math.round(bytes / 1024)} KB)`,
          unit: 'ms',
          subject: m,
          floor: firstList[c.key],
          limit: 1.3,
          samples: ms.length,
        }),
      );
      (details.triggers as any)[`${c.key}-${tier}`] = { ms: m, itemsRead: median(read), returned: got, bytes };
    }
  }
  await resources.destroy?.();
  await stand.stop();
  finish('reads', started, rows, details);
}

runPart(main);
