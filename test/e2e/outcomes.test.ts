/**
 * Every outcome is heard (issue 10), end to end on the local stack: a deploy that keeps failing gives a `failed`
 * notification after its retries, a success a `succeeded` one, a notification endpoint that is down leaves the
 * deploy `succeeded` with the error recorded, and a superseded deploy notifies those who asked for it. The signed
 * webhook is verified with standardwebhooks' own `verify`.
 */
import { Webhook } from 'standardwebhooks';
import { apiClient } from '../helpers/api';
import { fixture } from '../helpers/fixtures';
import { startTestStack } from '../helpers/stack';
import { freePort } from '../../lib/local/standins';
import { startTargetServer, type ReceivedCall } from '../helpers/target-server';

const MAX_ATTEMPTS = 3;
const DONE = (e: any) => ['succeeded', 'failed', 'superseded'].includes(e?.status);

let stack: Awaited<ReturnType<typeof startTestStack>>;
let api: ReturnType<typeof apiClient>;
let ok: Awaited<ReturnType<typeof startTargetServer>>;
let broken: Awaited<ReturnType<typeof startTargetServer>>;
let receiver: Awaited<ReturnType<typeof startTargetServer>>;

beforeAll(async () => {
  stack = await startTestStack({ maxReceiveCount: MAX_ATTEMPTS, retryBaseSeconds: 0 });
  api = apiClient(stack.url, stack.adminToken);
  ok = await startTargetServer();
  broken = await startTargetServer(() => ({ status: 500, body: 'deploy service down' }));
  receiver = await startTargetServer(() => ({ status: 204 }));
});
afterAll(async () => {
  await stack?.stop();
  await ok?.close();
  await broken?.close();
  await receiver?.close();
});

const push = (tag: string, at: number) => {
  const body = JSON.parse(fixture('dockerhub/push-docs-example.json'));
  body.push_data.tag = tag;
  body.push_data.pushed_at = at;
  delete body.callback_url;
  return JSON.stringify(body);
};

async function triggerWithWebhook(name: string, targetUrl: string, hookPath: string, on?: string[]) {
  const res = await api.admin('POST', '/admin/triggers', {
    name,
    provider: 'dockerhub',
    target: { type: 'http', url: targetUrl },
    notify: [{ type: 'webhook', url: `${receiver.url}${hookPath}`, ...(on ? { on } : {}) }],
  });
  expect(res.status).toBe(201);
  return { id: res.body.id as string, secret: res.body.secret as string, signing: res.body.notify[0].secret as string };
}

async function notificationTo(path: string, logId: string, timeoutMs = 15_000): Promise<ReceivedCall> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const call = receiver.calls.find((c) => c.url === path && JSON.parse(c.body).logId === logId);
    if (call) return call;
    if (Date.now() > until) throw new Error(`no notification to ${path} for ${logId}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function verified(call: ReceivedCall, signing: string) {
  const headers = Object.fromEntries(Object.entries(call.headers).map(([k, v]) => [k, String(v)]));
  return new Webhook(signing).verify(call.body, headers) as Record<string, any>;
}

it('a deploy that fails every attempt ends failed and sends one signed `failed` notification', async () => {
  const t = await triggerWithWebhook('hear-failed', broken.url, '/failed');
  const res = await api.hook(`/hooks/dockerhub/${t.id}?token=${t.secret}`, push('1.0.0', 1700400000));
  const entry = await api.waitForLog(t.id, res.body.log, (e) => e?.status === 'failed' && e.notifications?.length > 0);
  expect(entry.attempts).toHaveLength(MAX_ATTEMPTS);
  const body = verified(await notificationTo('/failed', res.body.log), t.signing);
  expect(body).toMatchObject({
    type: 'deploy.failed',
    triggerId: t.id,
    triggerName: 'hear-failed',
    logId: res.body.log,
    status: 'failed',
    attempts: MAX_ATTEMPTS,
    event: { provider: 'dockerhub', tag: '1.0.0', image: 'svendowideit/testhook:1.0.0' },
  });
  expect(body.reason).toMatch(/giving up/);
  expect(receiver.calls.filter((c) => c.url === '/failed')).toHaveLength(1);
  expect(entry.notifications).toEqual([
    expect.objectContaining({ type: 'webhook', status: 'failed', statusCode: 204 }),
  ]);
});

it('a success sends a `succeeded` notification; a forged signature does not verify', async () => {
  const t = await triggerWithWebhook('hear-ok', ok.url, '/ok');
  const res = await api.hook(`/hooks/dockerhub/${t.id}?token=${t.secret}`, push('2.0.0', 1700400100));
  const call = await notificationTo('/ok', res.body.log);
  expect(verified(call, t.signing)).toMatchObject({
    type: 'deploy.succeeded',
    status: 'succeeded',
    logId: res.body.log,
  });
  expect(() => verified({ ...call, body: call.body.replace('succeeded', 'failed') }, t.signing)).toThrow();
  const entry = await api.waitForLog(t.id, res.body.log, (e) => e?.notifications?.length > 0);
  expect(entry.status).toBe('succeeded');
});

it('a notification endpoint that is down leaves the deploy succeeded, with the error recorded', async () => {
  // a port that was free a moment ago: nothing listens there
  const down = await freePort();
  const res0 = await api.admin('POST', '/admin/triggers', {
    name: 'hear-down',
    provider: 'dockerhub',
    target: { type: 'http', url: ok.url },
    notify: [{ type: 'discord', url: `http://127.0.0.1:${down}/api/webhooks/1/token` }],
  });
  expect(res0.status).toBe(201);
  const res = await api.hook(`/hooks/dockerhub/${res0.body.id}?token=${res0.body.secret}`, push('3.0.0', 1700400200));
  const entry = await api.waitForLog(res0.body.id, res.body.log, (e) => e?.notifications?.length > 0);
  expect(entry.status).toBe('succeeded');
  expect(entry.notifications).toEqual([
    expect.objectContaining({ type: 'discord', status: 'succeeded', error: expect.any(String) }),
  ]);
  expect(entry.notifications[0].error).not.toContain('token');
});

it('a superseded deploy notifies a notifier that listens for `superseded`', async () => {
  let first = true;
  const slowFirst = await startTargetServer(() => (first ? ((first = false), { status: 503 }) : { status: 200 }));
  try {
    const t = await triggerWithWebhook('hear-superseded', slowFirst.url, '/superseded', ['superseded', 'succeeded']);
    const older = await api.hook(`/hooks/dockerhub/${t.id}?token=${t.secret}`, push('4.0.0', 1700400300));
    const newer = await api.hook(`/hooks/dockerhub/${t.id}?token=${t.secret}`, push('4.1.0', 1700400301));
    await api.waitForLog(t.id, newer.body.log, DONE);
    const old = await api.waitForLog(t.id, older.body.log, DONE);
    if (old.status === 'superseded') {
      const body = verified(await notificationTo('/superseded', older.body.log), t.signing);
      expect(body).toMatchObject({ type: 'deploy.superseded', status: 'superseded' });
      expect(body.reason).toContain(newer.body.log);
    } else {
      // the older one ran before the newer arrived and its retry succeeded: a plain success, heard as such
      expect(old.status).toBe('succeeded');
      await notificationTo('/superseded', older.body.log);
    }
    await notificationTo('/superseded', newer.body.log);
  } finally {
    await slowFirst.close();
  }
});
