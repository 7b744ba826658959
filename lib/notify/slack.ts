/**
 * `slack` notifier: a Slack incoming-webhook URL (https://hooks.slack.com/services/T.../B.../...), sent through the
 * official @slack/webhook IncomingWebhook. The message is Block Kit (`blocks`: header, fields, context) with `text`
 * as the notification fallback, as Slack documents for incoming webhooks. Values are plain_text fields (never
 * formatted, linked or mentioned); mrkdwn text is escaped as Slack's "Escaping text" asks (core/chat-markup). The library's fetch is ours (./http), so
 * the outbound URL rules apply; its own retries are off (index.ts retries every notifier the same way).
 */
import type { IncomingWebhookSendArguments } from '@slack/webhook';
import * as z from 'zod';
import { slackEscape as esc } from '../core/chat-markup';
import { lazy } from '../core/lazy';
import { notifyUrlSchema, onSchema, redactUrlPath, urlSecrets } from './common';
import { guardedFetch, RefusedError } from './http';
import { factsOf, subjectOf, titleOf, toneOf, type Outcome } from './message';
import type { Notifier } from './types';

export const slackNotifierSchema = z.strictObject({
  type: z.literal('slack'),
  url: notifyUrlSchema,
  on: onSchema,
});
export type SlackNotifierConfig = z.infer<typeof slackNotifierSchema>;

const EMOJI = {
  good: ':white_check_mark:',
  bad: ':x:',
  neutral: ':fast_forward:',
  info: ':information_source:',
} as const;

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

export function slackMessage(o: Outcome): IncomingWebhookSendArguments {
  const title = titleOf(o);
  const log = o.logUrl ? `<${o.logUrl}|log entry ${esc(o.logId)}>` : `log entry ${esc(o.logId)}`;
  return {
    text: esc(`${title}: ${subjectOf(o)}${o.reason ? ` (${o.reason})` : ''}`),
    blocks: [
      {
        type: 'header',
        text: { type: 'plain_text', text: clip(`${EMOJI[toneOf(o.status)]} ${title}`, 150), emoji: true },
      },
      {
        type: 'section',
        // plain_text: mrkdwn has no escape for *_~` (core/chat-markup), and values must not format, link or mention
        fields: factsOf(o)
          .slice(0, 10)
          .map((f) => ({ type: 'plain_text' as const, text: clip(`${f.name}: ${f.value}`, 2000), emoji: false })),
      },
      {
        type: 'context',
        elements: [{ type: 'mrkdwn', text: `Triggerfish · ${log} · ${esc(o.receivedAt)}`, verbatim: true }],
      },
    ],
  };
}

// loaded on the first Slack message, not in every deployer cold start
const slackSdk = /* @__PURE__ */ lazy(() => import('@slack/webhook'));

/** The config as admin answers show it (a function of its own: see ./index.ts `redactors`). */
export function redactSlackNotifier(config: SlackNotifierConfig): SlackNotifierConfig {
  return { ...config, url: redactUrlPath(config.url) };
}

export const slackNotifier: Notifier<SlackNotifierConfig> = {
  type: 'slack',
  schema: slackNotifierSchema,

  async send(config, outcome, ctx) {
    let statusCode: number | undefined;
    const fetch = guardedFetch(ctx);
    const { IncomingWebhook } = await slackSdk();
    const webhook = new IncomingWebhook(config.url, {
      fetch: (async (url: string, init: never) => {
        const res = await fetch(url, init);
        statusCode = res.status;
        return res;
      }) as never,
      timeout: ctx.timeoutMs,
      retryConfig: { retries: 0 },
    });
    try {
      await webhook.send(slackMessage(outcome));
      return { ok: true, retryable: false, statusCode };
    } catch (err) {
      const e = err as { statusCode?: number; body?: string; original?: unknown; message?: string };
      if (typeof e.statusCode === 'number') {
        const s = e.statusCode;
        // Slack answers errors as short plain text (e.g. "invalid_payload", "no_service")
        const said = typeof e.body === 'string' && e.body.trim() ? `: ${e.body.trim().slice(0, 200)}` : '';
        return { ok: false, retryable: s >= 500 || s === 429 || s === 408, statusCode: s, error: `HTTP ${s}${said}` };
      }
      const original = e.original as Error | undefined;
      return {
        ok: false,
        retryable: !(original instanceof RefusedError),
        error: original?.message ?? e.message ?? String(err),
      };
    }
  },

  redact: redactSlackNotifier,
  secrets: (config) => urlSecrets(config.url),
};
