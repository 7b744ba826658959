/**
 * Admin writes are tamper-proof (issue 20, findings 5, 6, 7 and the admin items of 9), on the local stack: real
 * HTTP API, DynamoDB Local, the SQS stand-in, the deployer poller and real local HTTP servers as deploy targets.
 */
import { apiClient } from '../helpers/api';
import { startTestStack } from '../helpers/stack';
import { startTargetServer } from '../helpers/target-server';
import { advanceTrackedImage } from '../../lib/deploy/outcome';
import * as store from '../../lib/store/store';

/** The first retry waits this long: time enough to disable the trigger while a deploy waits for it. */
const RETRY_BASE_SECONDS = 4;
const ROUNDS = 20;
const FINISHED = (e: any) => !['queued', 'deploying'].includes(e?.status);

let stack: Awaited<ReturnType<typeof startTestStack>>;
let api: ReturnType<typeof apiClient>;
let target: Awaited<ReturnType<typeof startTargetServer>>;

beforeAll(async () => {
  stack = await startTestStack({ maxReceiveCount: 3, retryBaseSeconds: RETRY_BASE_SECONDS });
  api = apiClient(stack.url, stack.adminToken);
  target = await startTargetServer();
});
afterAll(async () => {
  await stack?.stop();
  await target?.close();
});

let names = 0;
async function createTrigger(body: Record<string, unknown> = {}) {
  const res = await api.admin('POST', '/admin/triggers', {
    name: `integrity-${++names}`,
    provider: 'api',
    match: { image: 'acme/web:v0', tags: { all: true } },
    target: { type: 'http', url: `${target.url}/deploy` },
    ...body,
  });
  expect(res.status).toBe(201);
  return res.body;
}

/** Whether `secret` passes the webhook credential check (a disabled trigger answers 202 untriggered after it). */
async function authenticates(id: string, secret: string, n: number): Promise<boolean> {
  const res = await api.hook(`/hooks/api/${id}`, JSON.stringify({ secret_key: secret, tag: `probe-${n}` }));
  expect([202, 401]).toContain(res.status);
  return res.status === 202;
}

describe('concurrent trigger writes never lose an update (finding 6)', () => {
  it('rotation racing a PATCH: the rotated secret works, the PATCH holds, the old secret only in its grace', async () => {
    const t = await createTrigger({ enabled: false });
    let previous: string = t.secret;
    for (let i = 0; i < ROUNDS; i++) {
      const [rotated, patched] = await Promise.all([
        api.admin('POST', `/admin/triggers/${t.id}/secret`),
        api.admin('PATCH', `/admin/triggers/${t.id}`, { description: `round ${i}` }),
      ]);
      expect(rotated.status).toBe(200);
      expect(patched.status).toBe(200);
      const now = (await api.admin('GET', `/admin/triggers/${t.id}`)).body;
      expect(now.description).toBe(`round ${i}`);
      expect(await authenticates(t.id, rotated.body.secret, i)).toBe(true);
      // the secret it replaced keeps working for the grace period (24 h by default)
      expect(await authenticates(t.id, previous, i)).toBe(true);
      previous = rotated.body.secret;
    }
    expect(await authenticates(t.id, t.secret, -1)).toBe(false);
  });

  it('two rotations at once: both shown secrets work (the later one current, the earlier one in its grace)', async () => {
    const t = await createTrigger({ enabled: false });
    let before: string = t.secret;
    for (let i = 0; i < ROUNDS; i++) {
      const [a, b] = await Promise.all([
        api.admin('POST', `/admin/triggers/${t.id}/secret`),
        api.admin('POST', `/admin/triggers/${t.id}/secret`),
      ]);
      expect([a.status, b.status]).toEqual([200, 200]);
      expect(await authenticates(t.id, a.body.secret, i)).toBe(true);
      expect(await authenticates(t.id, b.body.secret, i)).toBe(true);
      // two rotations pushed the secret of before the round out: only one previous secret is kept
      expect(await authenticates(t.id, before, i)).toBe(false);
      const stored = await store.getTrigger(t.id, true);
      before = stored!.secret;
    }
  });

  it('disable racing a PATCH: disabled stays disabled, the PATCH holds', async () => {
    const t = await createTrigger();
    for (let i = 0; i < ROUNDS; i++) {
      const [disabled, patched] = await Promise.all([
        api.admin('PATCH', `/admin/triggers/${t.id}`, { enabled: false }),
        api.admin('PATCH', `/admin/triggers/${t.id}`, { description: `round ${i}` }),
      ]);
      expect([disabled.status, patched.status]).toEqual([200, 200]);
      const now = (await api.admin('GET', `/admin/triggers/${t.id}`)).body;
      expect(now).toMatchObject({ enabled: false, description: `round ${i}` });
      expect((await api.admin('PATCH', `/admin/triggers/${t.id}`, { enabled: true })).status).toBe(200);
    }
  });

  it("the deployer's tracked-image advance racing a PATCH: both hold", async () => {
    const t = await createTrigger({ enabled: false });
    for (let i = 1; i <= ROUNDS; i++) {
      // the trigger as the deployer read it when the deploy started
      const asDeployed = (await store.getTrigger(t.id))!;
      const [, patched] = await Promise.all([
        advanceTrackedImage(asDeployed, `v${i}`),
        api.admin('PATCH', `/admin/triggers/${t.id}`, { description: `round ${i}` }),
      ]);
      expect(patched.status).toBe(200);
      const now = (await api.admin('GET', `/admin/triggers/${t.id}`)).body;
      expect(now).toMatchObject({ trackedImage: `acme/web:v${i}`, description: `round ${i}` });
    }
  });

  it('a PATCH that changes the tracked image restarts tracking: an advance of the old image does not undo it', async () => {
    const t = await createTrigger({ enabled: false });
    const asDeployed = (await store.getTrigger(t.id))!;
    const patched = await api.admin('PATCH', `/admin/triggers/${t.id}`, {
      match: { image: 'acme/api:v0', tags: { all: true } },
    });
    expect(patched.status).toBe(200);
    await advanceTrackedImage(asDeployed, 'v9');
    expect((await api.admin('GET', `/admin/triggers/${t.id}`)).body.trackedImage).toBe('acme/api:v0');
  });

  it('a change that loses every try writes nothing and says conflict (the admin API answers 409)', async () => {
    const t = await createTrigger({ enabled: false });
    let decided = 0;
    const result = await store.changeTrigger(t.id, async (current) => {
      decided++;
      // another writer wins between this read and this write, every time
      const rival = await store.changeTrigger(t.id, (c) => ({
        write: { ...c, description: `rival ${decided}` },
        answer: 0,
      }));
      expect(rival.status).toBe('done');
      return { write: { ...current, description: 'never written' }, answer: 'mine' };
    });
    expect(result).toEqual({ status: 'conflict', tries: store.TRIGGER_CHANGE_TRIES });
    expect(decided).toBe(store.TRIGGER_CHANGE_TRIES);
    expect((await store.getTrigger(t.id, true))!.description).toBe(`rival ${store.TRIGGER_CHANGE_TRIES}`);
  });

  it('a trigger stored before versions existed (no version attribute) is still changed', async () => {
    const t = await createTrigger({ enabled: false });
    const stored = (await store.getTrigger(t.id, true))!;
    const { version: _v, ...legacy } = stored;
    const { dynamo } = await import('../../lib/store/aws');
    const { PutCommand } = await import('@aws-sdk/lib-dynamodb');
    const { config } = await import('../../lib/core/config');
    await dynamo().send(new PutCommand({ TableName: config.triggersTable(), Item: store.triggerItem(legacy) }));
    const res = await api.admin('PATCH', `/admin/triggers/${t.id}`, { description: 'after versions' });
    expect(res.status).toBe(200);
    expect((await store.getTrigger(t.id, true))!).toMatchObject({ description: 'after versions', version: 1 });
  });
});

describe('a disabled trigger never deploys again (finding 5)', () => {
  it('a deploy waiting for its retry when the trigger is disabled ends cancelled; the target is not called again', async () => {
    const flaky = await startTargetServer((_c, n) => (n === 1 ? { status: 500, body: 'down' } : { status: 200 }));
    try {
      const t = await createTrigger({ target: { type: 'http', url: `${flaky.url}/deploy` } });
      const hook = await api.hook(`/hooks/api/${t.id}`, JSON.stringify({ secret_key: t.secret, tag: 'v1' }));
      expect(hook.status).toBe(202);
      const waiting = await api.waitForLog(
        t.id,
        hook.body.log,
        (e) => e?.status === 'queued' && e.attempts.length === 1,
      );
      expect(waiting.reason).toMatch(/retrying in/);
      expect((await api.admin('PATCH', `/admin/triggers/${t.id}`, { enabled: false })).status).toBe(200);
      const entry = await api.waitForLog(t.id, hook.body.log, FINISHED, 60000);
      expect(entry).toMatchObject({ status: 'cancelled', reason: 'trigger disabled' });
      expect(entry.attempts).toHaveLength(1);
      expect(flaky.calls).toHaveLength(1);
      const page = await api.admin('GET', `/admin/triggers/${t.id}/logs?status=cancelled`);
      expect(page.status).toBe(200);
      expect(page.body.items.map((e: any) => e.id)).toEqual([hook.body.log]);
    } finally {
      await flaky.close();
    }
  });
});

describe("the edit form's redacted values keep the stored secrets (finding 7)", () => {
  it('a PATCH sending back the redacted target keeps the real header value for the next deploy', async () => {
    const receiver = await startTargetServer();
    try {
      const t = await createTrigger({
        target: { type: 'http', url: `${receiver.url}/deploy`, headers: { 'x-token': 'the-real-token-value' } },
      });
      const shown = (await api.admin('GET', `/admin/triggers/${t.id}`)).body;
      expect(shown.target.headers['x-token']).toBe('[redacted]');
      const patched = await api.admin('PATCH', `/admin/triggers/${t.id}`, {
        description: 'only this changed',
        target: shown.target,
      });
      expect(patched.status).toBe(200);
      const hook = await api.hook(`/hooks/api/${t.id}`, JSON.stringify({ secret_key: t.secret, tag: 'v2' }));
      expect(hook.status).toBe(202);
      expect((await api.waitForLog(t.id, hook.body.log, FINISHED)).status).toBe('succeeded');
      expect(receiver.calls.at(-1)!.headers['x-token']).toBe('the-real-token-value');
    } finally {
      await receiver.close();
    }
  });

  it('a redacted value that stands for nothing stored is a 400 naming the field', async () => {
    const t = await createTrigger({
      target: { type: 'http', url: `${target.url}/deploy`, headers: { 'x-token': 'the-real-token-value' } },
    });
    const res = await api.admin('PATCH', `/admin/triggers/${t.id}`, {
      target: { type: 'http', url: `${target.url}/deploy`, headers: { 'x-other': '[redacted]' } },
    });
    expect(res.status).toBe(400);
    expect(res.body.field).toBe('target.headers.x-other');
  });
});

describe('origin: set by the path that made the entry, never by a request header (finding 9)', () => {
  it('a webhook carrying x-triggerfish-test: true is origin webhook; a test event is test, a redeliver redeliver', async () => {
    const t = await createTrigger();
    const hook = await api.hook(`/hooks/api/${t.id}`, JSON.stringify({ secret_key: t.secret, tag: 'v5' }), {
      'x-triggerfish-test': 'true',
    });
    expect(hook.status).toBe(202);
    const real = await api.waitForLog(t.id, hook.body.log, FINISHED);
    expect(real).toMatchObject({ status: 'succeeded', origin: 'webhook' });

    const test = await api.admin('POST', `/admin/triggers/${t.id}/test`);
    expect(test.status).toBe(202);
    expect((await api.admin('GET', `/admin/triggers/${t.id}/logs/${test.body.log}`)).body.origin).toBe('test');

    const again = await api.admin('POST', `/admin/triggers/${t.id}/logs/${hook.body.log}/redeliver`);
    expect(again.status).toBe(202);
    expect((await api.waitForLog(t.id, again.body.log, FINISHED)).origin).toBe('redeliver');
    const page = await api.admin('GET', `/admin/triggers/${t.id}/logs`);
    expect(page.body.items.map((e: any) => e.origin).sort()).toEqual(['redeliver', 'test', 'webhook']);
  });

  it('entries stored before origin existed read as webhook, or test when they carry the old test header', async () => {
    const t = await createTrigger({ enabled: false });
    const old = (headers: Record<string, string>) => {
      const { origin: _o, ...entry } = store.newLogEntry({
        triggerId: t.id,
        provider: 'api',
        status: 'untriggered',
        request: { method: 'POST', path: `/hooks/api/${t.id}`, headers, body: '{}', bodyBytes: 2 },
      });
      return entry as store.LogEntry;
    };
    const sender = old({});
    const tested = old({ 'x-triggerfish-test': 'true' });
    await store.putLogEntry(sender);
    await store.putLogEntry(tested);
    expect((await store.getLogEntry(t.id, sender.id))!.origin).toBe('webhook');
    expect((await store.getLogEntry(t.id, tested.id))!.origin).toBe('test');
  });
});
