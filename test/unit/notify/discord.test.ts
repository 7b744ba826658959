import { DISCORD_COLORS, discordNotifier, discordNotifierSchema } from '../../../lib/notify/discord';
import { startTargetServer } from '../../helpers/target-server';
import { hostileOutcome, outcome, sendCtx } from './sample';

describe('discord notifier', () => {
  it("posts Discord's execute-webhook JSON: one embed, coloured by status, mentions off", async () => {
    // Discord answers 204 No Content without ?wait=true
    const discord = await startTargetServer(() => ({ status: 204 }));
    try {
      const config = discordNotifierSchema.parse({
        type: 'discord',
        url: `${discord.url}/api/webhooks/1234567890/TOKEN-abcdef`,
      });
      const r = await discordNotifier.send(config, outcome({}, 'https://tf.example.com/'), sendCtx);
      expect(r).toEqual({ ok: true, retryable: false, statusCode: 204 });
      expect(discord.calls[0].url).toBe('/api/webhooks/1234567890/TOKEN-abcdef');
      const body = JSON.parse(discord.calls[0].body);
      expect(body.allowed_mentions).toEqual({ parse: [] });
      expect(body.embeds).toHaveLength(1);
      expect(body.embeds[0]).toEqual({
        title: 'web-prod: deploy succeeded',
        description: 'library/web:1.4.0',
        color: 0x2ecc71,
        url: 'https://tf.example.com/admin/triggers/a1b2c3d4e5f6a1b2c3d4e5f6/logs/01JDEPLOYLOGENTRY000000001',
        fields: [
          { name: 'Trigger', value: 'web-prod', inline: true },
          { name: 'Image', value: 'library/web:1.4.0', inline: true },
          { name: 'Status', value: 'succeeded', inline: true },
          { name: 'Duration', value: '1.2 s (2 attempts)', inline: true },
          { name: 'Log entry', value: '01JDEPLOYLOGENTRY000000001', inline: true },
        ],
        footer: { text: 'Triggerfish' },
        timestamp: '2026-12-01T12:00:00.000Z',
      });
    } finally {
      await discord.close();
    }
  });

  it.each([
    ['failed', DISCORD_COLORS.bad],
    ['superseded', DISCORD_COLORS.neutral],
  ])('colours %s', async (status, color) => {
    const discord = await startTargetServer(() => ({ status: 204 }));
    try {
      const config = discordNotifierSchema.parse({
        type: 'discord',
        url: `${discord.url}/api/webhooks/1/t`,
        on: [status],
      });
      await discordNotifier.send(config, outcome({ status: status as never }), sendCtx);
      expect(JSON.parse(discord.calls[0].body).embeds[0].color).toBe(color);
    } finally {
      await discord.close();
    }
  });

  it('429 (rate limited) is retryable; the token is redacted in admin answers', async () => {
    const discord = await startTargetServer(() => ({
      status: 429,
      body: '{"message":"You are being rate limited.","retry_after":0.5,"global":false}',
    }));
    try {
      const config = discordNotifierSchema.parse({ type: 'discord', url: `${discord.url}/api/webhooks/1/t` });
      const r = await discordNotifier.send(config, outcome(), sendCtx);
      expect(r).toMatchObject({ ok: false, retryable: true, statusCode: 429 });
      expect(r.error).toMatch(/^HTTP 429: .*rate limited/);
      expect(discordNotifier.redact(config).url).toBe(`${discord.url}/[redacted]`);
    } finally {
      await discord.close();
    }
  });

  it('a pushed value with links, mentions and formatting arrives escaped (issue 20, finding 9)', async () => {
    const srv = await startTargetServer(() => ({ status: 204 }));
    try {
      const config = discordNotifierSchema.parse({
        type: 'discord',
        url: `${srv.url}/api/webhooks/1/t`,
        on: ['failed'],
      });
      const r = await discordNotifier.send(config, hostileOutcome(), sendCtx);
      expect(r.ok).toBe(true);
      const body = JSON.parse(srv.calls[0].body);
      expect(body.allowed_mentions).toEqual({ parse: [] });
      const embed = body.embeds[0];
      const all = [embed.title, embed.description, ...embed.fields.map((f: { value: string }) => f.value)].join('\n');
      // no masked link, emphasis, mention or autolink survives unescaped
      expect(all).not.toMatch(/(^|[^\\])\[[^\]]*(^|[^\\])\]\(/);
      expect(all).not.toMatch(/(^|[^\\])\*\*/);
      expect(all).not.toMatch(/(^|[^\\])[<@]/);
      expect(embed.description).toBe('library/web:\\[x\\](https://evil.example)');
    } finally {
      await srv.close();
    }
  });
});
