/**
 * `discord` notifier: a Discord webhook URL (https://discord.com/api/webhooks/<id>/<token>), Discord's "Execute
 * Webhook" JSON with one embed coloured by status. Mentions are turned off (`allowed_mentions`), so a commit
 * message with @everyone pings nobody, and values are markdown-escaped (core/chat-markup): a pushed `[text](url)`,
 * `<@id>` or `**` shows as typed. Discord answers 204 No Content (200 with ?wait=true).
 */
import * as z from 'zod';
import { markdownEscape as md } from '../core/chat-markup';
import { notifyUrlSchema, onSchema, redactUrlPath, urlSecrets } from './common';
import { postJson } from './http';
import { factsOf, subjectOf, titleOf, toneOf, type Outcome } from './message';
import type { Notifier } from './types';

export const discordNotifierSchema = z.strictObject({
  type: z.literal('discord'),
  url: notifyUrlSchema,
  on: onSchema,
});
export type DiscordNotifierConfig = z.infer<typeof discordNotifierSchema>;

/** embed colours (decimal RGB): green, red, grey, blue */
export const DISCORD_COLORS = { good: 0x2ecc71, bad: 0xe74c3c, neutral: 0x95a5a6, info: 0x3498db } as const;

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** Discord's limits: title 256, description 4096, 25 fields, field name 256 and value 1024 characters. */
export function discordMessage(o: Outcome) {
  const embed: Record<string, unknown> = {
    title: clip(md(titleOf(o)), 256),
    description: clip(md(subjectOf(o)), 4096),
    color: DISCORD_COLORS[toneOf(o.status)],
    fields: factsOf(o)
      .slice(0, 25)
      .map((f) => ({ name: clip(f.name, 256), value: clip(md(f.value), 1024), inline: f.name !== 'Reason' })),
    footer: { text: 'Triggerfish' },
    timestamp: o.receivedAt,
  };
  if (o.logUrl) embed.url = o.logUrl;
  return { username: 'Triggerfish', embeds: [embed], allowed_mentions: { parse: [] } };
}

/** The config as admin answers show it (a function of its own: see ./index.ts `redactors`). */
export function redactDiscordNotifier(config: DiscordNotifierConfig): DiscordNotifierConfig {
  return { ...config, url: redactUrlPath(config.url) };
}

export const discordNotifier: Notifier<DiscordNotifierConfig> = {
  type: 'discord',
  schema: discordNotifierSchema,
  send: (config, outcome, ctx) => postJson(config.url, discordMessage(outcome), ctx),
  // /api/webhooks/<id>/<token>: the token is the credential
  redact: redactDiscordNotifier,
  secrets: (config) => urlSecrets(config.url),
};
