/**
 * lib/deploy/reconcile.ts on a test stack: entries left `queued`/`deploying` (their messages gone, as after a crash
 * of the local stack or an expired message on AWS) are found through the sparse `inFlight` index, queued once
 * more, and deployed; a `deploying` one gets an attempt with an unknown outcome; finished entries are not touched;
 * the index key never shows in admin answers.
 */
import { UNKNOWN_OUTCOME, reconcileInFlight } from '../../lib/deploy/reconcile';
import { inFlightKeys } from '../../lib/store/in-flight';
import * as store from '../../lib/store/store';
import { apiClient } from '../helpers/api';
import { startTestStack } from '../helpers/stack';
import { startTargetServer } from '../helpers/target-server';

let stack: Awaited<ReturnType<typeof startTestStack>>;
let api: ReturnType<typeof apiClient>;
let target: Awaited<ReturnType<typeof startTargetServer>>;

beforeAll(async () => {
  target = await startTargetServer();
  // reconciliation at start is what the test does by hand below
  stack = await startTestStack({ stack: { reconcileOnStart: false } });
  api = apiClient(stack.url, stack.adminToken);
});
afterAll(async () => {
  await stack?.stop();
  await target?.close();
});

it('queues stuck entries again (unknown outcome for a running one) and leaves finished ones alone', async () => {
  const created = await api.admin('POST', '/admin/triggers', {
    name: 'reconciled',
    provider: 'api',
    queue: 'all',
    match: { image: 'library/web', tags: { all: true } },
    target: { type: 'http', url: `${target.url}/deploy`, method: 'POST', body: { logId: '{{logId}}' } },
  });
  expect(created.status).toBe(201);
  const triggerId: string = created.body.id;
  const event = { provider: 'api', kind: 'image', action: 'push', repoFullName: 'library/web', namespace: 'library', repository: 'web', tag: '2.0', image: 'library/web:2.0' } as any;
  const entry = (status: store.LogStatus) => store.newLogEntry({ triggerId, provider: 'api', status, event });
  // written without messages: what a crash leaves behind
  const queued = entry('queued');
  const deploying = entry('deploying');
  const done = entry('succeeded');
  for (const e of [queued, deploying, done]) await store.putLogEntry(e);

  const keys = (await inFlightKeys()).map((k) => k.logId);
  expect(keys.sort()).toEqual([queued.id, deploying.id].sort());

  const report = await reconcileInFlight({ cause: 'a test' });
  expect(report.requeued.sort()).toEqual([queued.id, deploying.id].sort());
  expect(report.unknownOutcome).toEqual([deploying.id]);
  expect(report.errors).toEqual([]);

  for (const id of [queued.id, deploying.id]) {
    const e = await api.waitForLog(triggerId, id, (x) => x.status === 'succeeded');
    expect(e.status).toBe('succeeded');
    expect(e).not.toHaveProperty('inFlight');
  }
  const running = (await api.admin('GET', `/admin/triggers/${triggerId}/logs/${deploying.id}`)).body;
  expect(running.attempts[0]).toMatchObject({ error: UNKNOWN_OUTCOME, durationMs: 0 });
  expect(running.attempts).toHaveLength(2);
  const delivered = target.calls.map((c) => JSON.parse(c.body).logId);
  expect(delivered.sort()).toEqual([queued.id, deploying.id].sort());
  expect((await api.admin('GET', `/admin/triggers/${triggerId}/logs/${done.id}`)).body.status).toBe('succeeded');
  // finished entries leave the index: a second run finds nothing
  expect(await inFlightKeys()).toEqual([]);
  expect((await reconcileInFlight({ cause: 'a test' })).requeued).toEqual([]);
});

it('the AWS sweep takes only entries stuck longer than the cut-off', async () => {
  const old = store.newLogEntry({ triggerId: 'a'.repeat(24), provider: 'api', status: 'queued' });
  await store.putLogEntry({ ...old, updatedAt: '2000-01-01T00:00:00.000Z' });
  const fresh = store.newLogEntry({ triggerId: 'a'.repeat(24), provider: 'api', status: 'queued' });
  await store.putLogEntry(fresh);
  const stuck = await inFlightKeys({ updatedBefore: new Date(Date.now() - 3600_000).toISOString() });
  expect(stuck.map((k) => k.logId)).toEqual([old.id]);
  // an entry without an event cannot be deployed: it ends failed instead of staying in flight
  const report = await reconcileInFlight({ cause: 'a test sweep', updatedBefore: new Date(Date.now() - 3600_000).toISOString() });
  expect(report.requeued).toEqual([]);
  expect((await store.getLogEntry(old.triggerId, old.id))?.status).toBe('failed');
  expect((await store.getLogEntry(fresh.triggerId, fresh.id))?.status).toBe('queued');
});
