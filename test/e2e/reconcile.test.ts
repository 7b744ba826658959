/**
 * lib/deploy/reconcile.ts on a test stack: entries left `queued`/`deploying` (their messages gone, as after a crash
 * of the local stack or an expired message on AWS) are found through the sparse `inFlight` index, queued once
 * more, and deployed; a `deploying` one gets an attempt with an unknown outcome; finished entries are not touched;
 * the index key never shows in admin answers; a lane whose deploy state missed its last entry's end is finished.
 */
import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { UNKNOWN_OUTCOME, reconcileInFlight, repairLaneStates } from '../../lib/deploy/reconcile';
import { laneOf } from '../../lib/match/identity';
import { dynamo } from '../../lib/store/aws';
import * as deployState from '../../lib/store/deploy-state';
import { ulid } from 'ulid';
import { inFlightEntries, inFlightKeys } from '../../lib/store/in-flight';
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
  const event = {
    provider: 'api',
    kind: 'image',
    action: 'push',
    repoFullName: 'library/web',
    namespace: 'library',
    repository: 'web',
    tag: '2.0',
    image: 'library/web:2.0',
  } as any;
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
  const longAgo = Date.parse('2000-01-01T00:00:00.000Z');
  const at = new Date(longAgo).toISOString();
  const old = {
    ...store.newLogEntry({ id: ulid(longAgo), triggerId: 'a'.repeat(24), provider: 'api', status: 'queued' }),
    receivedAt: at,
    updatedAt: at,
  };
  await store.putLogEntry(old);
  // received as long ago, but changed lately (a deploy still being retried): not stuck
  const retried = {
    ...store.newLogEntry({ id: ulid(longAgo + 1), triggerId: 'a'.repeat(24), provider: 'api', status: 'queued' }),
    receivedAt: at,
  };
  await store.putLogEntry(retried);
  const fresh = store.newLogEntry({ triggerId: 'a'.repeat(24), provider: 'api', status: 'queued' });
  await store.putLogEntry(fresh);
  const cutOff = new Date(Date.now() - 3600_000).toISOString();
  expect((await inFlightKeys({ receivedBefore: cutOff })).map((k) => k.logId)).toEqual([old.id, retried.id]);
  expect((await inFlightEntries({ updatedBefore: cutOff })).map((e) => e.id)).toEqual([old.id]);
  // an entry without an event cannot be deployed: it ends failed instead of staying in flight
  const report = await reconcileInFlight({ cause: 'a test sweep', updatedBefore: cutOff });
  expect(report.requeued).toEqual([]);
  expect((await store.getLogEntry(old.triggerId, old.id))?.status).toBe('failed');
  expect((await store.getLogEntry(retried.triggerId, retried.id))?.status).toBe('queued');
  expect((await store.getLogEntry(fresh.triggerId, fresh.id))?.status).toBe('queued');
});

it('finishes a lane whose last entry ended but whose deploy state was not written (a crash between the two)', async () => {
  const created = await api.admin('POST', '/admin/triggers', {
    name: 'lane-repair',
    provider: 'api',
    match: { image: 'library/app', tags: { all: true } },
    target: { type: 'http', url: `${target.url}/deploy`, method: 'POST' },
  });
  const triggerId: string = created.body.id;
  const event = {
    provider: 'api',
    kind: 'image',
    action: 'push',
    repoFullName: 'library/app',
    namespace: 'library',
    repository: 'app',
    tag: '3.0',
    digest: 'sha256:' + 'ab'.repeat(32),
    image: 'library/app:3.0',
  } as any;
  const lane = laneOf(event);
  const done = { ...store.newLogEntry({ triggerId, provider: 'api', status: 'succeeded', event, lane }) };
  await store.putLogEntry(done);
  await dynamo().send(
    new TransactWriteCommand({
      TransactItems: [
        deployState.setLatestItem(triggerId, lane, { logId: done.id, artifact: event.digest, at: done.receivedAt }, {}),
      ],
    }),
  );
  expect(deployState.inFlight(await deployState.getDeployState(triggerId, lane))?.logId).toBe(done.id);

  expect(await repairLaneStates()).toEqual([done.id]);
  const state = await deployState.getDeployState(triggerId, lane);
  expect(deployState.inFlight(state)).toBeUndefined();
  expect(state.current).toMatchObject({ logId: done.id, artifact: event.digest });
  expect(await repairLaneStates()).toEqual([]);
});
