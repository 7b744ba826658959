import { teamsNotifier, teamsNotifierSchema } from '../../../lib/notify/teams';
import { startTargetServer } from '../../helpers/target-server';
import { hostileOutcome, outcome, sendCtx } from './sample';

describe('teams notifier', () => {
  it('posts a message with an Adaptive Card attachment, as Workflows webhooks take it', async () => {
    // a Teams workflow answers 202 Accepted with an empty body
    const teams = await startTargetServer(() => ({ status: 202 }));
    try {
      const url = `${teams.url}/workflows/4e3f/triggers/manual/paths/invoke?api-version=1&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=SIGNATURE123456`;
      const config = teamsNotifierSchema.parse({ type: 'teams', url, on: ['failed', 'superseded'] });
      const r = await teamsNotifier.send(
        config,
        outcome({ status: 'failed', reason: 'attempt 5 of 5 failed: HTTP 503; giving up' }, 'https://tf.example.com'),
        sendCtx,
      );
      expect(r).toEqual({ ok: true, retryable: false, statusCode: 202 });
      expect(teams.calls[0].url).toBe(url.slice(teams.url.length));
      const body = JSON.parse(teams.calls[0].body);
      expect(body.type).toBe('message');
      expect(body.attachments).toHaveLength(1);
      const [att] = body.attachments;
      expect(att.contentType).toBe('application/vnd.microsoft.card.adaptive');
      expect(att.contentUrl).toBeNull();
      expect(att.content).toMatchObject({
        $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
        type: 'AdaptiveCard',
        version: '1.4',
      });
      expect(att.content.body[0]).toMatchObject({
        type: 'TextBlock',
        text: 'web-prod: deploy failed',
        color: 'attention',
        weight: 'Bolder',
      });
      expect(att.content.body[1]).toMatchObject({ type: 'TextBlock', text: 'library/web:1.4.0' });
      expect(att.content.body[2]).toEqual({
        type: 'FactSet',
        facts: [
          { title: 'Trigger', value: 'web-prod' },
          { title: 'Image', value: 'library/web:1.4.0' },
          { title: 'Status', value: 'failed' },
          { title: 'Reason', value: 'attempt 5 of 5 failed: HTTP 503; giving up' },
          { title: 'Duration', value: '1.2 s (2 attempts)' },
          { title: 'Log entry', value: '01JDEPLOYLOGENTRY000000001' },
        ],
      });
      expect(att.content.actions).toEqual([
        {
          type: 'Action.OpenUrl',
          title: 'Open the log entry',
          url: 'https://tf.example.com/admin/triggers/a1b2c3d4e5f6a1b2c3d4e5f6/logs/01JDEPLOYLOGENTRY000000001',
        },
      ]);
    } finally {
      await teams.close();
    }
  });

  it('names the commit for a code push and has no action without a public base URL', async () => {
    const teams = await startTargetServer(() => ({ status: 202 }));
    try {
      const config = teamsNotifierSchema.parse({ type: 'teams', url: `${teams.url}/invoke` });
      await teamsNotifier.send(
        config,
        outcome({
          event: {
            provider: 'github',
            kind: 'code',
            action: 'push',
            repository: 'web',
            namespace: 'acme',
            repoFullName: 'acme/web',
            branch: 'main',
            commit: { id: '9fceb02d0ae598e95dc970b74767f19372d61af8', message: 'fix' },
          },
        }),
        sendCtx,
      );
      const content = JSON.parse(teams.calls[0].body).attachments[0].content;
      expect(content.body[1].text).toBe('acme/web\\@9fceb02d0ae5 (main)');
      expect(content.body[2].facts[1]).toEqual({ title: 'Source', value: 'acme/web\\@9fceb02d0ae5 (main)' });
      expect(content.actions).toBeUndefined();
    } finally {
      await teams.close();
    }
  });

  it('redacts the whole path and query (the sig parameter is the credential)', () => {
    const config = teamsNotifierSchema.parse({
      type: 'teams',
      url: 'https://prod-01.westus.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?sig=s3cr3t',
    });
    expect(teamsNotifier.redact(config).url).toBe('https://prod-01.westus.logic.azure.com/[redacted]');
  });

  it('a pushed value with links, mentions and formatting arrives escaped (issue 20, finding 9)', async () => {
    const srv = await startTargetServer(() => ({ status: 202 }));
    try {
      const config = teamsNotifierSchema.parse({ type: 'teams', url: `${srv.url}/invoke`, on: ['failed'] });
      const r = await teamsNotifier.send(config, hostileOutcome(), sendCtx);
      expect(r.ok).toBe(true);
      const content = JSON.parse(srv.calls[0].body).attachments[0].content;
      const texts: string[] = [
        content.body[0].text,
        content.body[1].text,
        ...content.body[2].facts.map((f: { value: string }) => f.value),
      ];
      const all = texts.join('\n');
      // no markdown link, emphasis or autolink survives unescaped (CommonMark backslash escapes)
      expect(all).not.toMatch(/(^|[^\\])\[[^\]]*(^|[^\\])\]\(/);
      expect(all).not.toMatch(/(^|[^\\])\*\*/);
      expect(all).not.toMatch(/(^|[^\\])</);
      expect(content.body[1].text).toBe('library/web:\\[x\\](https://evil.example)');
      expect(texts).toContain(
        'tag \\[click\\](https://evil.example) \\*\\*bold\\*\\* \\<\\!channel\\> \\<\\@U123\\> \\@everyone \\& \\`x\\`',
      );
    } finally {
      await srv.close();
    }
  });
});
