/** lib/notify/index.ts: which notifiers an outcome goes to, the brief retry, errors redacted, DEFAULT_NOTIFY, secrets kept on PATCH. */
import { createServer } from 'node:net';
import {
  defaultNotify,
  notifiersFor,
  notifyInputSchema,
  prepareNotify,
  redactNotifier,
  rotateNotifySecrets,
  sendNotifications,
  sendOne,
  NOTIFY_STATUSES,
  type NotifierConfig,
} from '../../../lib/notify';
import { LOG_STATUSES } from '../../../lib/store/store';
import { startTargetServer } from '../../helpers/target-server';
import { entry, outcome, trigger } from './sample';

const fast = { retryDelayMs: 0, timeoutMs: 3000 };

/** A port nothing listens on: bound once, then closed. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe('which notifiers an outcome goes to', () => {
  const slack: NotifierConfig = {
    type: 'slack',
    url: 'https://hooks.slack.com/services/T/B/x',
    on: ['succeeded', 'failed'],
  };
  const onlyFailed: NotifierConfig = { type: 'eventbridge', on: ['failed'] };
  const superseded: NotifierConfig = { type: 'teams', url: 'https://example.com/t', on: ['superseded'] };

  it("the trigger's and the defaults' whose `on` lists the status", () => {
    const t = trigger({ notify: [slack, superseded] });
    expect(notifiersFor(t, 'succeeded', [onlyFailed])).toEqual([slack]);
    expect(notifiersFor(t, 'failed', [onlyFailed])).toEqual([slack, onlyFailed]);
    expect(notifiersFor(t, 'superseded', [onlyFailed])).toEqual([superseded]);
    expect(notifiersFor(trigger(), 'queued', [onlyFailed])).toEqual([]);
  });

  it('nothing to send: no request, no record', async () => {
    const records = await sendNotifications(trigger({ notify: [onlyFailed] }), entry({ status: 'succeeded' }), {
      defaults: [],
    });
    expect(records).toEqual([]);
  });
});

describe('sending: brief retry, recorded error, never a throw', () => {
  it('a 500 is tried twice and recorded with its status; the URL path is never in the error', async () => {
    // the endpoint echoes the request path (the credential of a Slack/Discord URL) in its error answer
    const down = await startTargetServer((call) => ({ status: 500, body: `internal error at ${call.url}` }));
    try {
      const n: NotifierConfig = {
        type: 'discord',
        url: `${down.url}/api/webhooks/42/Secret-Token-xyz`,
        on: ['succeeded'],
      };
      const r = await sendOne(n, outcome(), fast);
      expect(down.calls).toHaveLength(2);
      expect(r).toMatchObject({ type: 'discord', status: 'succeeded', statusCode: 500, attempts: 2 });
      expect(r.error).toMatch(/^HTTP 500: internal error at /);
      expect(r.error).not.toContain('Secret-Token-xyz');
      expect(r.error).not.toContain('/api/webhooks/42');
      expect(r.at).toMatch(/^\d{4}-\d\d-\d\dT/);
    } finally {
      await down.close();
    }
  });

  it('an endpoint that is down: a network error after two attempts', async () => {
    const port = await closedPort();
    const r = await sendOne(
      { type: 'teams', url: `http://127.0.0.1:${port}/workflows/w/invoke?sig=abcdef12345`, on: ['succeeded'] },
      outcome(),
      fast,
    );
    expect(r).toMatchObject({ type: 'teams', attempts: 2 });
    expect(r.statusCode).toBeUndefined();
    expect(r.error).toMatch(/ECONNREFUSED/);
    expect(r.error).not.toContain('abcdef12345');
  });

  it('an endpoint that never answers times out (per attempt)', async () => {
    const silent = createServer(() => {
      /* accepts the connection and says nothing */
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const port = (silent.address() as { port: number }).port;
      const r = await sendOne(
        { type: 'slack', url: `http://127.0.0.1:${port}/services/T/B/x`, on: ['succeeded'] },
        outcome(),
        { retryDelayMs: 0, timeoutMs: 200 },
      );
      expect(r.attempts).toBe(2);
      expect(r.error).toMatch(/timed out after 200 ms|aborted|timeout/i);
    } finally {
      silent.close();
    }
  });

  it('a 4xx is not retried', async () => {
    const gone = await startTargetServer(() => ({ status: 404, body: 'Unknown Webhook' }));
    try {
      const r = await sendOne(
        { type: 'discord', url: `${gone.url}/api/webhooks/1/t`, on: ['succeeded'] },
        outcome(),
        fast,
      );
      expect(gone.calls).toHaveLength(1);
      expect(r).toMatchObject({ statusCode: 404, attempts: 1, error: 'HTTP 404: Unknown Webhook' });
    } finally {
      await gone.close();
    }
  });

  it('a stored config the rules now refuse, or an unknown type, is recorded without a request', async () => {
    const bad = await sendOne(
      { type: 'slack', url: 'ftp://files.example.com/x', on: ['succeeded'] } as NotifierConfig,
      outcome(),
      fast,
    );
    expect(bad).toMatchObject({ type: 'slack', attempts: 0 });
    expect(bad.error).toMatch(/^invalid slack notifier: url: scheme ftp is not allowed/);
    const unknown = await sendOne({ type: 'pager', on: ['succeeded'] } as unknown as NotifierConfig, outcome(), fast);
    expect(unknown).toMatchObject({ type: 'pager', attempts: 0, error: 'unknown notifier type "pager"' });
  });

  it('every notifier is sent, in parallel, each with its own result', async () => {
    const ok = await startTargetServer(() => ({ status: 200, body: 'ok' }));
    const failing = await startTargetServer(() => ({ status: 503 }));
    try {
      const t = trigger({
        notify: [
          { type: 'slack', url: `${ok.url}/services/T/B/x`, on: ['failed'] },
          { type: 'discord', url: `${failing.url}/api/webhooks/1/t`, on: ['failed'] },
        ],
      });
      const records = await sendNotifications(t, entry({ status: 'failed' }), {
        ...fast,
        defaults: [{ type: 'teams', url: `${ok.url}/teams`, on: ['failed'] }],
      });
      expect(records.map((r) => [r.type, r.statusCode, r.error])).toEqual([
        ['slack', 200, undefined],
        ['discord', 503, 'HTTP 503'],
        ['teams', 200, undefined],
      ]);
    } finally {
      await ok.close();
      await failing.close();
    }
  });
});

describe('DEFAULT_NOTIFY', () => {
  it('parses a JSON list, filling `on`', () => {
    const list = defaultNotify(
      JSON.stringify([
        { type: 'eventbridge' },
        { type: 'slack', url: 'https://hooks.slack.com/services/T/B/x', on: ['failed'] },
      ]),
    );
    expect(list).toEqual([
      { type: 'eventbridge', on: ['succeeded', 'failed'] },
      { type: 'slack', url: 'https://hooks.slack.com/services/T/B/x', on: ['failed'] },
    ]);
    expect(defaultNotify('')).toEqual([]);
  });

  it.each([
    ['not JSON', '[{', /^DEFAULT_NOTIFY is not JSON/],
    [
      'a webhook without its own secret',
      '[{"type":"webhook","url":"https://example.com/h"}]',
      /^DEFAULT_NOTIFY is invalid at DEFAULT_NOTIFY\.0\.secret/,
    ],
    [
      'an unknown status',
      '[{"type":"eventbridge","on":["done"]}]',
      /^DEFAULT_NOTIFY is invalid at DEFAULT_NOTIFY\.0\.on\.0/,
    ],
  ])('refuses %s, naming the field', (_n, raw, message) => {
    expect(() => defaultNotify(raw)).toThrow(message);
  });

  it("a trigger without notifiers of its own still hears through the setting's", async () => {
    const ops = await startTargetServer(() => ({ status: 202 }));
    process.env.DEFAULT_NOTIFY = JSON.stringify([{ type: 'teams', url: `${ops.url}/teams`, on: ['failed'] }]);
    try {
      expect(await sendNotifications(trigger(), entry({ status: 'succeeded' }), fast)).toEqual([]);
      const records = await sendNotifications(trigger(), entry({ status: 'failed' }), fast);
      expect(records).toMatchObject([{ type: 'teams', status: 'failed', statusCode: 202, attempts: 1 }]);
      expect(JSON.parse(ops.calls[0].body).attachments[0].content.type).toBe('AdaptiveCard');
    } finally {
      delete process.env.DEFAULT_NOTIFY;
      await ops.close();
    }
  });

  it('an invalid setting sends nothing and does not throw', async () => {
    process.env.DEFAULT_NOTIFY = 'nope';
    try {
      await expect(sendNotifications(trigger(), entry())).resolves.toEqual([]);
    } finally {
      delete process.env.DEFAULT_NOTIFY;
    }
  });
});

describe('prepareNotify (create and PATCH)', () => {
  it('a new webhook gets a secret; the same URL keeps it; a redacted URL stands for the stored one', () => {
    const first = prepareNotify([
      { type: 'webhook', url: 'https://hooks.example.com/in', on: ['failed'] },
      { type: 'slack', url: 'https://hooks.slack.com/services/T/B/secret', on: ['failed'] },
    ]);
    if (!first.ok) throw new Error('expected ok');
    const secret = first.newSecrets.get(0)!;
    expect(secret).toMatch(/^whsec_/);
    expect(first.notify[0]).toMatchObject({ type: 'webhook', secret });
    expect(first.newSecrets.has(1)).toBe(false);

    const shownSlack = redactNotifier(first.notify[1]) as { url: string };
    expect(shownSlack.url).toBe('https://hooks.slack.com/[redacted]');
    const again = prepareNotify(
      [
        { type: 'slack', url: shownSlack.url, on: ['succeeded'] },
        { type: 'webhook', url: 'https://hooks.example.com/in', on: ['succeeded', 'failed'] },
        { type: 'webhook', url: 'https://other.example.com/in', on: ['failed'] },
      ],
      first.notify,
    );
    if (!again.ok) throw new Error('expected ok');
    expect(again.notify[0]).toEqual({
      type: 'slack',
      url: 'https://hooks.slack.com/services/T/B/secret',
      on: ['succeeded'],
    });
    expect(again.notify[1]).toMatchObject({ url: 'https://hooks.example.com/in', secret });
    expect([...again.newSecrets.keys()]).toEqual([2]);
  });

  it('a redacted URL with nothing stored behind it is a 400 naming notify.<i>.url', () => {
    const r = prepareNotify([{ type: 'discord', url: 'https://discord.com/[redacted]', on: ['failed'] }]);
    expect(r).toMatchObject({ ok: false, problem: { field: 'notify.0.url' } });
  });

  it('rotation: new secrets, the previous one kept for the grace period', () => {
    const list: NotifierConfig[] = [
      { type: 'eventbridge', on: ['failed'] },
      {
        type: 'webhook',
        url: 'https://hooks.example.com/in',
        on: ['failed'],
        secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      },
    ];
    const r = rotateNotifySecrets(list, 3600, 1_000_000_000_000);
    expect([...r.newSecrets.keys()]).toEqual([1]);
    expect(r.notify[0]).toBe(list[0]);
    expect(r.notify[1]).toMatchObject({
      secret: r.newSecrets.get(1),
      previousSecret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      previousSecretExpiresAt: 1_000_000_000 + 3600,
    });
  });
});

describe('notification URLs follow the outbound rules of targets', () => {
  it('a private or metadata IP literal is refused at creation unless private targets are allowed', () => {
    const url = 'http://169.254.169.254/latest/meta-data';
    const before = process.env.ALLOW_PRIVATE_TARGETS;
    try {
      process.env.ALLOW_PRIVATE_TARGETS = 'false';
      const refused = notifyInputSchema.safeParse([{ type: 'slack', url }]);
      expect(refused.success).toBe(false);
      expect(refused.error!.issues[0]).toMatchObject({
        path: [0, 'url'],
        message: expect.stringMatching(/169\.254\.169\.254 is linkLocal/),
      });
      process.env.ALLOW_PRIVATE_TARGETS = 'true';
      expect(notifyInputSchema.safeParse([{ type: 'slack', url }]).success).toBe(true);
    } finally {
      process.env.ALLOW_PRIVATE_TARGETS = before;
    }
  });

  it.each(['http://localhost:9000/hook', 'http://LOCALHOST./hook', 'https://api.localhost/services/T/B/x'])(
    'the name %s (loopback by RFC 6761) is refused at creation as a target URL is, unless private targets are allowed',
    (url) => {
      const before = process.env.ALLOW_PRIVATE_TARGETS;
      try {
        process.env.ALLOW_PRIVATE_TARGETS = 'false';
        for (const type of ['slack', 'webhook'] as const) {
          const refused = notifyInputSchema.safeParse([{ type, url }]);
          expect(refused.success).toBe(false);
          expect(refused.error!.issues[0]).toMatchObject({
            path: [0, 'url'],
            message: expect.stringMatching(/loopback/),
          });
        }
        process.env.ALLOW_PRIVATE_TARGETS = 'true';
        expect(notifyInputSchema.safeParse([{ type: 'slack', url }]).success).toBe(true);
      } finally {
        process.env.ALLOW_PRIVATE_TARGETS = before;
      }
    },
  );
});

describe('NOTIFY_STATUSES', () => {
  it('are the terminal deploy statuses of the log', () => {
    for (const s of NOTIFY_STATUSES) expect(LOG_STATUSES).toContain(s);
    expect([...NOTIFY_STATUSES].sort()).toEqual(['cancelled', 'failed', 'succeeded', 'superseded']);
  });
});
