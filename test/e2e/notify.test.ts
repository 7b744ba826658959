/**
 * Notifications on the local stack: the admin API (create with notify, signing secret shown once, redacted in GET,
 * bad URLs 400 naming the field, PATCH, rotation), and notifyOutcome recording its results in a real stored entry.
 * The deploy -> notification path is wired by the integrator (the deployer calls notifyOutcome); here it is called
 * as the deployer will call it, after the outcome is recorded.
 */
import { createServer } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { notifyOutcome } from '../../lib/notify';
import * as store from '../../lib/store/store';
import { apiClient } from '../helpers/api';
import { startTestStack } from '../helpers/stack';
import { startTargetServer } from '../helpers/target-server';

let stack: Awaited<ReturnType<typeof startTestStack>>;
let api: ReturnType<typeof apiClient>;
let target: Awaited<ReturnType<typeof startTargetServer>>;
let chat: Awaited<ReturnType<typeof startTargetServer>>;

beforeAll(async () => {
  stack = await startTestStack({
    maxReceiveCount: 2,
    retryBaseSeconds: 0,
    functionEnv: { PUBLIC_BASE_URL: 'https://tf.example.com' },
  });
  api = apiClient(stack.url, stack.adminToken);
  target = await startTargetServer();
  chat = await startTargetServer(() => ({ status: 200, body: 'ok' }));
});
afterAll(async () => {
  await stack?.stop();
  await target?.close();
  await chat?.close();
});

const SLACK_PATH = '/services/T0001/B0001/slackSecretPath123';
const DISCORD_PATH = '/api/webhooks/111/discordToken-abc';
const TEAMS_PATH = '/workflows/wf1/triggers/manual/paths/invoke?api-version=1&sig=teamsSig12345';
const base = (name: string) => ({ name, provider: 'dockerhub', target: { type: 'http', url: `${target.url}/deploy` } });

describe('admin: notify in the trigger body', () => {
  it('create shows the webhook signing secret once; GET and list redact URLs and never show it', async () => {
    const created = await api.admin('POST', '/admin/triggers', {
      ...base('notify-create'),
      notify: [
        { type: 'slack', url: `${chat.url}${SLACK_PATH}` },
        { type: 'teams', url: `${chat.url}${TEAMS_PATH}`, on: ['failed'] },
        { type: 'discord', url: `${chat.url}${DISCORD_PATH}`, on: ['succeeded', 'failed', 'superseded'] },
        { type: 'webhook', url: `${chat.url}/receiver?token=hookToken999` },
        { type: 'eventbridge', on: ['failed'] },
      ],
    });
    expect(created.status).toBe(201);
    const shown = created.body.notify;
    expect(shown).toEqual([
      { type: 'slack', url: `${chat.url}/[redacted]`, on: ['succeeded', 'failed'] },
      { type: 'teams', url: `${chat.url}/[redacted]`, on: ['failed'] },
      { type: 'discord', url: `${chat.url}/[redacted]`, on: ['succeeded', 'failed', 'superseded'] },
      {
        type: 'webhook',
        url: `${chat.url}/receiver?token=[redacted]`,
        on: ['succeeded', 'failed'],
        secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/),
      },
      { type: 'eventbridge', on: ['failed'] },
    ]);
    const signingSecret: string = shown[3].secret;
    const id = created.body.id;

    const one = await api.admin('GET', `/admin/triggers/${id}`);
    const listed = (await api.admin('GET', '/admin/triggers')).body.items.find((t: any) => t.id === id);
    for (const answer of [one.body, listed]) {
      const text = JSON.stringify(answer);
      for (const secret of [
        signingSecret,
        'whsec_',
        'slackSecretPath123',
        'discordToken-abc',
        'teamsSig12345',
        'hookToken999',
      ]) {
        expect(text).not.toContain(secret);
      }
      expect(answer.notify[3]).toEqual({
        type: 'webhook',
        url: `${chat.url}/receiver?token=[redacted]`,
        on: ['succeeded', 'failed'],
      });
    }
  });

  it.each([
    ['a URL with a bad scheme', 'notify.0.url', [{ type: 'slack', url: 'ftp://hooks.example.com/x' }]],
    [
      'https on port 8443',
      'notify.1.url',
      [{ type: 'eventbridge' }, { type: 'discord', url: 'https://discord.example.com:8443/api/webhooks/1/t' }],
    ],
    ['user:password in the URL', 'notify.0.url', [{ type: 'teams', url: 'https://u:p@teams.example.com/x' }]],
    ['an unknown type', 'notify.0.type', [{ type: 'pager', url: 'https://x.example.com' }]],
    ['an unknown status in on', 'notify.0.on.0', [{ type: 'eventbridge', on: ['done'] }]],
    ['an empty on', 'notify.0.on', [{ type: 'eventbridge', on: [] }]],
    [
      'a signing secret given',
      'notify.0',
      [{ type: 'webhook', url: 'https://x.example.com/h', secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' }],
    ],
    [
      'a redacted URL with nothing stored behind it',
      'notify.0.url',
      [{ type: 'slack', url: 'https://hooks.slack.com/[redacted]' }],
    ],
  ])('400 for %s, naming %s', async (_n, field, notify) => {
    const res = await api.admin('POST', '/admin/triggers', { ...base('notify-bad'), notify });
    expect(res.status).toBe(400);
    expect(res.body.field).toBe(field);
  });

  it('PATCH replaces notify: a redacted URL keeps the stored one, the same webhook URL keeps its secret', async () => {
    const created = await api.admin('POST', '/admin/triggers', {
      ...base('notify-patch'),
      notify: [
        { type: 'slack', url: `${chat.url}${SLACK_PATH}` },
        { type: 'webhook', url: `${chat.url}/receiver` },
      ],
    });
    const id = created.body.id;
    const secret = created.body.notify[1].secret;
    const current = (await api.admin('GET', `/admin/triggers/${id}`)).body.notify;
    current[0].on = ['failed'];
    const patched = await api.admin('PATCH', `/admin/triggers/${id}`, {
      notify: [...current, { type: 'webhook', url: `${chat.url}/second` }],
    });
    expect(patched.status).toBe(200);
    // only the new webhook's secret is shown
    expect(patched.body.notify[1].secret).toBeUndefined();
    expect(patched.body.notify[2].secret).toMatch(/^whsec_/);
    const stored = (await store.getTrigger(id))!;
    expect(stored.notify![0]).toEqual({ type: 'slack', url: `${chat.url}${SLACK_PATH}`, on: ['failed'] });
    expect(stored.notify![1]).toMatchObject({ type: 'webhook', url: `${chat.url}/receiver`, secret });
    expect(stored.notify![2]).toMatchObject({ secret: patched.body.notify[2].secret });

    const cleared = await api.admin('PATCH', `/admin/triggers/${id}`, { notify: [] });
    expect(cleared.body.notify).toEqual([]);
    const bad = await api.admin('PATCH', `/admin/triggers/${id}`, {
      notify: [{ type: 'teams', url: 'http://teams.example.com:22/x' }],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe('notify.0.url');
  });

  it('POST .../notify/secret rotates the signing secrets, shown once; the trigger secret stays', async () => {
    const created = await api.admin('POST', '/admin/triggers', {
      ...base('notify-rotate'),
      notify: [{ type: 'webhook', url: `${chat.url}/receiver` }],
    });
    const id = created.body.id;
    const rotated = await api.admin('POST', `/admin/triggers/${id}/notify/secret`);
    expect(rotated.status).toBe(200);
    expect(rotated.body.notify[0].secret).toMatch(/^whsec_/);
    expect(rotated.body.notify[0].secret).not.toBe(created.body.notify[0].secret);
    expect(rotated.body.previousSigningSecretValidUntil).toEqual(expect.any(String));
    expect(rotated.body.secret).toBeUndefined();
    const stored = (await store.getTrigger(id))!;
    expect(stored.secret).toBe(created.body.secret);
    expect(stored.notify![0]).toMatchObject({
      secret: rotated.body.notify[0].secret,
      previousSecret: created.body.notify[0].secret,
    });
    expect(JSON.stringify((await api.admin('GET', `/admin/triggers/${id}`)).body)).not.toContain('whsec_');

    const none = await api.admin('POST', '/admin/triggers', base('notify-rotate-none'));
    expect((await api.admin('POST', `/admin/triggers/${none.body.id}/notify/secret`)).status).toBe(409);
    expect((await api.admin('POST', '/admin/triggers/nope/notify/secret')).status).toBe(404);
  });
});

/** A port nothing listens on: bound once, then closed. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe('notifyOutcome records its results in the stored entry', () => {
  async function storedEntry(triggerId: string, status: store.LogStatus) {
    const entry = store.newLogEntry({
      triggerId,
      provider: 'dockerhub',
      status,
      event: {
        provider: 'dockerhub',
        kind: 'image',
        action: 'push',
        repository: 'web',
        namespace: 'library',
        repoFullName: 'library/web',
        image: 'library/web:2.0.0',
        tag: '2.0.0',
      },
    });
    entry.attempts = [{ at: new Date().toISOString(), durationMs: 321, statusCode: 200 }];
    await store.putLogEntry(entry);
    return entry;
  }

  it('a delivered, a refused (500) and an unreachable notifier: every result recorded, the call resolves', async () => {
    const receiver = await startTargetServer(() => ({ status: 204 }));
    const failing = await startTargetServer(() => ({ status: 500, body: 'boom' }));
    const created = await api.admin('POST', '/admin/triggers', {
      ...base('notify-record'),
      notify: [
        { type: 'webhook', url: `${receiver.url}/in` },
        { type: 'discord', url: `${failing.url}${DISCORD_PATH}` },
        // an endpoint that is down
        { type: 'slack', url: `http://127.0.0.1:${await closedPort()}${SLACK_PATH}` },
        { type: 'teams', url: `${receiver.url}/teams`, on: ['failed'] },
      ],
    });
    try {
      const trigger = (await store.getTrigger(created.body.id))!;
      const entry = await storedEntry(trigger.id, 'succeeded');
      await expect(notifyOutcome(trigger, entry, { retryDelayMs: 0 })).resolves.toBeUndefined();

      const logged = (await api.admin('GET', `/admin/triggers/${trigger.id}/logs/${entry.id}`)).body;
      expect(logged.status).toBe('succeeded');
      expect(logged.notifications).toHaveLength(3);
      const byType = Object.fromEntries(logged.notifications.map((n: any) => [n.type, n]));
      expect(byType.webhook).toEqual({
        type: 'webhook',
        status: 'succeeded',
        at: expect.any(String),
        statusCode: 204,
        attempts: 1,
      });
      expect(byType.discord).toMatchObject({
        status: 'succeeded',
        statusCode: 500,
        error: 'HTTP 500: boom',
        attempts: 2,
      });
      expect(byType.slack).toMatchObject({
        status: 'succeeded',
        attempts: 2,
        error: expect.stringMatching(/ECONNREFUSED/),
      });
      expect(byType.teams).toBeUndefined();
      const text = JSON.stringify(logged.notifications);
      for (const secret of ['discordToken-abc', 'slackSecretPath123', 'whsec_']) expect(text).not.toContain(secret);

      // the receiver got the signed outcome with the admin log URL
      const call = receiver.calls[0];
      const body = new Webhook(created.body.notify[0].secret).verify(
        call.body,
        call.headers as Record<string, string>,
      ) as any;
      expect(body).toMatchObject({
        type: 'deploy.succeeded',
        logId: entry.id,
        triggerName: 'notify-record',
        durationMs: 321,
        attempts: 1,
      });
      expect(body.logUrl).toBe(`https://tf.example.com/admin/triggers/${trigger.id}/logs/${entry.id}`);

      // a later outcome of the same entry appends
      await notifyOutcome(trigger, { ...entry, status: 'failed' }, { retryDelayMs: 0 });
      const again = (await api.admin('GET', `/admin/triggers/${trigger.id}/logs/${entry.id}`)).body;
      expect(again.notifications.map((n: any) => `${n.type}:${n.status}`)).toEqual([
        ...logged.notifications.map((n: any) => `${n.type}:succeeded`),
        ...['webhook', 'discord', 'slack', 'teams'].map((t) => `${t}:failed`),
      ]);
    } finally {
      await receiver.close();
      await failing.close();
    }
  });

  it('an entry that is gone gets nothing written back; a storage failure is not thrown', async () => {
    const created = await api.admin('POST', '/admin/triggers', {
      ...base('notify-gone'),
      notify: [{ type: 'slack', url: `${chat.url}${SLACK_PATH}` }],
    });
    const trigger = (await store.getTrigger(created.body.id))!;
    const entry = store.newLogEntry({ triggerId: trigger.id, provider: 'dockerhub', status: 'succeeded' });
    await expect(notifyOutcome(trigger, entry)).resolves.toBeUndefined();
    expect(await store.getLogEntry(trigger.id, entry.id)).toBeUndefined();

    const table = process.env.LOGS_TABLE;
    process.env.LOGS_TABLE = 'no-such-table';
    try {
      await expect(notifyOutcome(trigger, { ...entry, status: 'failed' })).resolves.toBeUndefined();
    } finally {
      process.env.LOGS_TABLE = table;
    }
  });
});
