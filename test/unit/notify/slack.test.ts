import { slackNotifier, slackNotifierSchema } from '../../../lib/notify/slack';
import { startTargetServer } from '../../helpers/target-server';
import { hostileOutcome, outcome, sendCtx } from './sample';

describe('slack notifier', () => {
  it('posts Block Kit with a text fallback to the incoming-webhook URL, through @slack/webhook', async () => {
    const slack = await startTargetServer(() => ({ status: 200, body: 'ok' }));
    try {
      const config = slackNotifierSchema.parse({ type: 'slack', url: `${slack.url}/services/T000/B000/XXXXXXXXXXXX` });
      expect(config.on).toEqual(['succeeded', 'failed']);
      const r = await slackNotifier.send(config, outcome({}, 'https://tf.example.com'), sendCtx);
      expect(r).toEqual({ ok: true, retryable: false, statusCode: 200 });
      expect(slack.calls).toHaveLength(1);
      const call = slack.calls[0];
      expect(call.method).toBe('POST');
      expect(call.url).toBe('/services/T000/B000/XXXXXXXXXXXX');
      expect(call.headers['content-type']).toBe('application/json');
      const body = JSON.parse(call.body);
      expect(body.text).toBe('web-prod: deploy succeeded: library/web:1.4.0');
      expect(body.blocks[0]).toEqual({
        type: 'header',
        text: { type: 'plain_text', text: ':white_check_mark: web-prod: deploy succeeded', emoji: true },
      });
      expect(body.blocks[1].type).toBe('section');
      const fields = body.blocks[1].fields.map((f: { type: string; text: string }) => f.text);
      expect(body.blocks[1].fields.every((f: { type: string }) => f.type === 'plain_text')).toBe(true);
      expect(fields).toEqual([
        'Trigger: web-prod',
        'Image: library/web:1.4.0',
        'Status: succeeded',
        'Duration: 1.2 s (2 attempts)',
        'Log entry: 01JDEPLOYLOGENTRY000000001',
      ]);
      expect(body.blocks[2].type).toBe('context');
      expect(body.blocks[2].elements[0].text).toContain(
        '<https://tf.example.com/admin/triggers/a1b2c3d4e5f6a1b2c3d4e5f6/logs/01JDEPLOYLOGENTRY000000001|log entry 01JDEPLOYLOGENTRY000000001>',
      );
    } finally {
      await slack.close();
    }
  });

  it('escapes mrkdwn control characters in the fallback text; the reason of a failure is a plain_text field', async () => {
    const slack = await startTargetServer(() => ({ status: 200, body: 'ok' }));
    try {
      const config = slackNotifierSchema.parse({ type: 'slack', url: `${slack.url}/services/T/B/x` });
      await slackNotifier.send(
        config,
        outcome({ status: 'failed', reason: 'attempt 1 failed: <HTTP 404> & gone' }),
        sendCtx,
      );
      const body = JSON.parse(slack.calls[0].body);
      expect(body.text).toBe(
        'web-prod: deploy failed: library/web:1.4.0 (attempt 1 failed: &lt;HTTP 404&gt; &amp; gone)',
      );
      expect(body.blocks[0].text.text).toBe(':x: web-prod: deploy failed');
      expect(body.blocks[1].fields).toContainEqual({
        type: 'plain_text',
        text: 'Reason: attempt 1 failed: <HTTP 404> & gone',
        emoji: false,
      });
    } finally {
      await slack.close();
    }
  });

  it("answers Slack's error text; 5xx is retryable, 4xx is not; the URL's path never shows", async () => {
    let status = 404;
    const slack = await startTargetServer(() => ({ status, body: 'no_service' }));
    try {
      const config = slackNotifierSchema.parse({ type: 'slack', url: `${slack.url}/services/T1/B1/secretpath123` });
      const r404 = await slackNotifier.send(config, outcome(), sendCtx);
      expect(r404).toEqual({ ok: false, retryable: false, statusCode: 404, error: 'HTTP 404: no_service' });
      status = 503;
      const r503 = await slackNotifier.send(config, outcome(), sendCtx);
      expect(r503).toMatchObject({ ok: false, retryable: true, statusCode: 503 });
      expect(slack.calls).toHaveLength(2); // the library's own retries are off
      expect(slackNotifier.redact(config).url).toBe(`${slack.url}/[redacted]`);
    } finally {
      await slack.close();
    }
  });

  it('refuses a private address unless private targets are allowed (checked when sending)', async () => {
    const slack = await startTargetServer();
    try {
      const config = slackNotifierSchema.parse({ type: 'slack', url: `${slack.url}/services/T/B/x` });
      const r = await slackNotifier.send(config, outcome(), { ...sendCtx, allowPrivate: false });
      expect(r.ok).toBe(false);
      expect(r.retryable).toBe(false);
      expect(r.error).toMatch(/URL refused: address 127\.0\.0\.1 is loopback/);
      expect(slack.calls).toHaveLength(0);
    } finally {
      await slack.close();
    }
  });

  it('a pushed value with links, mentions and formatting arrives escaped (issue 20, finding 9)', async () => {
    const srv = await startTargetServer(() => ({ status: 200 }));
    try {
      const config = slackNotifierSchema.parse({ type: 'slack', url: `${srv.url}/services/T/B/x`, on: ['failed'] });
      const r = await slackNotifier.send(config, hostileOutcome(), sendCtx);
      expect(r.ok).toBe(true);
      const body = JSON.parse(srv.calls[0].body);
      // mrkdwn text: no <url|text> link, <!channel> or <@U> mention survives (Slack's "Escaping text")
      const mrkdwn = [body.text, ...body.blocks[2].elements.map((e: { text: string }) => e.text)].join('\n');
      expect(mrkdwn.replace(/<https:\/\/tf\.example\.com\/[^|>]*\|log entry [A-Z0-9]+>/, '')).not.toMatch(/[<>]/);
      expect(body.text).toContain('&lt;!channel&gt; &lt;@U123&gt; @everyone &amp;');
      // the values themselves are plain_text: shown as typed, never formatted, linked or mentioned
      expect(
        body.blocks[1].fields.every(
          (f: { type: string; emoji?: boolean }) => f.type === 'plain_text' && f.emoji === false,
        ),
      ).toBe(true);
      expect(body.blocks[1].fields.map((f: { text: string }) => f.text)).toContain(
        'Reason: tag [click](https://evil.example) **bold** <!channel> <@U123> @everyone & `x`',
      );
    } finally {
      await srv.close();
    }
  });
});
