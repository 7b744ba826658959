/**
 * Delivery guarantees on the local stack: retries with backoff and a DLQ, nothing left queued, nothing
 * deployed twice, one deploy at a time per trigger, superseding (a newer event replaces an older waiting one),
 * the DLQ consumer, and Docker Hub's callback_url.
 */
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { apiClient } from '../helpers/api';
import { fixture } from '../helpers/fixtures';
import { startTestStack } from '../helpers/stack';
import { startTargetServer } from '../helpers/target-server';
import * as store from '../../lib/store/store';

const TERMINAL = new Set(['succeeded', 'failed', 'superseded']);
const MAX_ATTEMPTS = 5;

/** Seeded PRNG (mulberry32) so a failing run can be replayed with the same seed. */
function random(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let stack: Awaited<ReturnType<typeof startTestStack>>;
let api: ReturnType<typeof apiClient>;
let callbacks: Awaited<ReturnType<typeof startTargetServer>>;
let notAllowed: Awaited<ReturnType<typeof startTargetServer>>;

beforeAll(async () => {
  callbacks = await startTargetServer();
  notAllowed = await startTargetServer();
  stack = await startTestStack({
    maxReceiveCount: MAX_ATTEMPTS,
    retryBaseSeconds: 0,
    functionEnv: { DOCKERHUB_CALLBACKS: 'true', DOCKERHUB_CALLBACK_EXTRA_HOSTS: new URL(callbacks.url).host },
  });
  api = apiClient(stack.url, stack.adminToken);
});
afterAll(async () => {
  await stack?.stop();
  await callbacks?.close();
  await notAllowed?.close();
});

const push = (tag: string, at: number, extra: Record<string, unknown> = {}) => {
  const body = JSON.parse(fixture('dockerhub/push-docs-example.json'));
  body.push_data.tag = tag;
  body.push_data.pushed_at = at;
  delete body.callback_url; // Docker Hub's own host: not reachable from tests
  return JSON.stringify({ ...body, ...extra });
};

async function allEntries(triggerId: string): Promise<any[]> {
  const items: any[] = [];
  let cursor: string | undefined;
  do {
    const page = await api.admin(
      'GET',
      `/admin/triggers/${triggerId}/logs?limit=100${cursor ? `&cursor=${cursor}` : ''}`,
    );
    items.push(...page.body.items);
    cursor = page.body.cursor;
  } while (cursor);
  return items;
}

it('200 events at a target failing 30% at random: every entry ends, none deployed twice, none older after newer', async () => {
  const seed = Number(process.env.TF_DELIVERY_SEED ?? 20261121);
  const rnd = random(seed);
  const deployed = new Map<string, number>(); // logId -> 2xx answers
  const deployOrder = new Map<string, number[]>(); // trigger path -> push numbers in the order deployed
  const target = await startTargetServer((call) => {
    if (rnd() < 0.3) return { status: 500, body: 'random failure' };
    const { log, tag } = JSON.parse(call.body) as { log: string; tag: string };
    deployed.set(log, (deployed.get(log) ?? 0) + 1);
    deployOrder.set(call.url, [...(deployOrder.get(call.url) ?? []), Number(tag.split('.')[2])]);
    return { status: 200, body: 'ok' };
  });
  try {
    // triggers 0-4 run every event (`queue: all`); 5-9 let a newer push supersede an older waiting one
    const triggers: Array<{ id: string; secret: string; queue: string }> = [];
    for (let i = 0; i < 10; i++) {
      const queue = i < 5 ? 'all' : 'latest';
      const res = await api.admin('POST', '/admin/triggers', {
        name: `chaos-${i}`,
        provider: 'dockerhub',
        queue,
        target: { type: 'http', url: `${target.url}/t${i}`, body: { log: '{{logId}}', tag: '{{tag}}' } },
      });
      triggers.push({ ...res.body, queue });
    }
    const logs: Array<{ trigger: string; log: string; n: number }> = [];
    const sends = Array.from({ length: 200 }, (_, n) => async () => {
      const t = triggers[n % 10];
      const res = await api.hook(`/hooks/dockerhub/${t.id}?token=${t.secret}`, push(`1.0.${n}`, 1700100000 + n));
      expect(res.status).toBe(202);
      logs.push({ trigger: t.id, log: res.body.log, n });
    });
    // 8 senders at a time
    for (let i = 0; i < sends.length; i += 8) await Promise.all(sends.slice(i, i + 8).map((f) => f()));
    expect(logs).toHaveLength(200);

    const deadline = Date.now() + Number(process.env.TF_DEADLINE ?? 90_000);
    let entries: any[] = [];
    while (Date.now() < deadline) {
      entries = (await Promise.all(triggers.map((t) => allEntries(t.id)))).flat();
      if (entries.length === 200 && entries.every((e) => TERMINAL.has(e.status))) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const counts: Record<string, number> = {};
    for (const e of entries) counts[e.status] = (counts[e.status] ?? 0) + 1;
    // the closing note reports these
    console.log(`delivery chaos (seed ${seed}): ${JSON.stringify(counts)}; target calls ${target.calls.length}`);

    expect(entries).toHaveLength(200);
    expect(entries.filter((e) => !TERMINAL.has(e.status))).toEqual([]);
    const byId = new Map(entries.map((e) => [e.id, e]));
    for (const e of entries) {
      const oks = deployed.get(e.id) ?? 0;
      const queueAll = triggers.find((t) => t.id === e.triggerId)!.queue === 'all';
      if (e.status === 'succeeded') {
        expect(oks).toBe(1);
        expect(e.attempts.at(-1).statusCode).toBe(200);
      } else if (e.status === 'failed') {
        expect(oks).toBe(0);
        expect(e.attempts).toHaveLength(MAX_ATTEMPTS);
      } else {
        // superseded: only where the trigger allows it, by a newer entry of the same trigger, never deployed
        expect(queueAll).toBe(false);
        expect(oks).toBe(0);
        expect(byId.get(e.supersededBy)?.triggerId).toBe(e.triggerId);
        expect(e.supersededBy > e.id).toBe(true);
      }
      expect(e.attempts.length).toBeLessThanOrEqual(MAX_ATTEMPTS);
    }
    expect([...deployed.values()].every((n) => n === 1)).toBe(true);
    for (const t of triggers) {
      const mine = logs.filter((l) => l.trigger === t.id).sort((a, b) => a.n - b.n);
      const newest = byId.get(mine.at(-1)!.log);
      // the newest push of every trigger is never superseded: it deploys or fails on its own
      expect(['succeeded', 'failed']).toContain(newest.status);
      if (t.queue === 'all') expect(mine.every((l) => byId.get(l.log).status !== 'superseded')).toBe(true);
    }
    // an older image never after a newer one of the same trigger
    for (const order of deployOrder.values()) expect(order).toEqual([...order].sort((a, b) => a - b));
    // every event of a `queue: all` trigger ran to its end
    const allSucceeded = entries.filter(
      (e) => triggers.find((t) => t.id === e.triggerId)!.queue === 'all' && e.status === 'succeeded',
    );
    expect(allSucceeded.length).toBeGreaterThan(80);
  } finally {
    await target.close();
  }
}, 120_000);

it('deploys of a `queue: all` trigger all run, one at a time, in the order they arrived', async () => {
  let inFlight = 0;
  let maxInFlight = 0;
  const order: string[] = [];
  const { createServer } = await import('node:http');
  const server = createServer((req, res) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () =>
      setTimeout(() => {
        order.push(JSON.parse(body).tag);
        inFlight--;
        res.end('ok');
      }, 30),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  try {
    const t = (
      await api.admin('POST', '/admin/triggers', {
        name: 'serial',
        provider: 'dockerhub',
        queue: 'all',
        target: { type: 'http', url: `http://127.0.0.1:${port}/`, body: { tag: '{{tag}}' } },
      })
    ).body;
    const tags = Array.from({ length: 8 }, (_, i) => `s${i}`);
    const logs: string[] = [];
    for (const [i, tag] of tags.entries()) {
      logs.push((await api.hook(`/hooks/dockerhub/${t.id}?token=${t.secret}`, push(tag, 1700200000 + i))).body.log);
    }
    for (const log of logs) await api.waitForLog(t.id, log, (e) => TERMINAL.has(e?.status));
    expect(order).toEqual(tags);
    expect(maxInFlight).toBe(1);
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
  }
});

it('the DLQ consumer marks a dead-lettered entry failed with its last error', async () => {
  const t = (
    await api.admin('POST', '/admin/triggers', {
      name: 'dlq',
      provider: 'dockerhub',
      target: { type: 'http', url: `${callbacks.url}/never` },
    })
  ).body;
  // an entry left `deploying` by a deployer that crashed after one failed attempt
  const entry = store.newLogEntry({ triggerId: t.id, provider: 'dockerhub', status: 'deploying' });
  await store.putLogEntry(entry);
  await store.updateLogStatus(t.id, entry.id, {
    status: 'deploying',
    attempt: { at: new Date().toISOString(), durationMs: 10000, error: 'timeout after 10000 ms' },
  });
  const dlqUrl = stack.resources.queues.DeployDLQ;
  const sqs = new SQSClient({ region: 'us-east-1', endpoint: stack.endpoints.sqs });
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: dlqUrl.queueUrl,
      MessageBody: JSON.stringify({
        triggerId: t.id,
        logId: entry.id,
        event: { provider: 'dockerhub', kind: 'image', action: 'push', repository: 'x', repoFullName: 'x' },
      }),
      MessageGroupId: t.id,
      MessageDeduplicationId: entry.id,
    }),
  );
  const after = await api.waitForLog(t.id, entry.id, (e) => e?.status === 'failed');
  expect(after.status).toBe('failed');
  expect(after.reason).toMatch(/^moved to the dead-letter queue.*; last error: timeout after 10000 ms$/);
});

describe("Docker Hub's callback_url", () => {
  it('gets success after a deploy and failure after a failed one; other hosts are never called', async () => {
    const ok = await startTargetServer(() => ({ status: 200 }));
    const bad = await startTargetServer(() => ({ status: 400, body: 'bad image' }));
    try {
      for (const [name, url, state, callbackPath] of [
        ['cb-ok', ok.url, 'success', '/cb-ok'],
        ['cb-bad', bad.url, 'failure', '/cb-bad'],
      ] as const) {
        const t = (
          await api.admin('POST', '/admin/triggers', { name, provider: 'dockerhub', target: { type: 'http', url } })
        ).body;
        const res = await api.hook(
          `/hooks/dockerhub/${t.id}?token=${t.secret}`,
          push('cb', 1700300000, { callback_url: `${callbacks.url}${callbackPath}` }),
        );
        await api.waitForLog(t.id, res.body.log, (e) => TERMINAL.has(e?.status));
        const deadline = Date.now() + 5000;
        while (!callbacks.calls.some((c) => c.url === callbackPath) && Date.now() < deadline)
          await new Promise((r) => setTimeout(r, 50));
        const call = callbacks.calls.find((c) => c.url === callbackPath);
        expect(call).toBeDefined();
        expect(JSON.parse(call!.body)).toMatchObject({ state, context: 'Triggerfish' });
      }
      const t = (
        await api.admin('POST', '/admin/triggers', {
          name: 'cb-evil',
          provider: 'dockerhub',
          target: { type: 'http', url: ok.url },
        })
      ).body;
      const res = await api.hook(
        `/hooks/dockerhub/${t.id}?token=${t.secret}`,
        push('cb', 1700300001, { callback_url: `${notAllowed.url}/steal` }),
      );
      await api.waitForLog(t.id, res.body.log, (e) => TERMINAL.has(e?.status));
      await new Promise((r) => setTimeout(r, 300));
      expect(notAllowed.calls).toHaveLength(0);
    } finally {
      await ok.close();
      await bad.close();
    }
  });
});
