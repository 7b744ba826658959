/**
 * `teams` notifier: a Microsoft Teams Workflows webhook URL (the "Post to a channel when a webhook request is
 * received" template, or any flow started by "When a Teams webhook request is received"). Workflows take Adaptive
 * Cards only (not the retired connector MessageCard): a `message` whose attachment is an Adaptive Card, the shape
 * Microsoft documents. A workflow answers 202 Accepted. TextBlock and FactSet text is a CommonMark subset: values are
 * backslash-escaped (core/chat-markup), so a pushed `[text](url)` or `**` shows as typed.
 */
import * as z from 'zod';
import { markdownEscape as md } from '../core/chat-markup';
import { notifyUrlSchema, onSchema, redactUrlPath, urlSecrets } from './common';
import { postJson } from './http';
import { factsOf, subjectOf, titleOf, toneOf, type Outcome } from './message';
import type { Notifier } from './types';

export const teamsNotifierSchema = z.strictObject({
  type: z.literal('teams'),
  url: notifyUrlSchema,
  on: onSchema,
});
export type TeamsNotifierConfig = z.infer<typeof teamsNotifierSchema>;

/** Adaptive Card TextBlock colours */
const COLOR = { good: 'good', bad: 'attention', neutral: 'default', info: 'accent' } as const;

export function teamsMessage(o: Outcome) {
  const body: unknown[] = [
    {
      type: 'TextBlock',
      text: md(titleOf(o)),
      size: 'Large',
      weight: 'Bolder',
      color: COLOR[toneOf(o.status)],
      wrap: true,
    },
    { type: 'TextBlock', text: md(subjectOf(o)), isSubtle: true, spacing: 'None', wrap: true },
    { type: 'FactSet', facts: factsOf(o).map((f) => ({ title: f.name, value: md(f.value) })) },
  ];
  const content: Record<string, unknown> = {
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    type: 'AdaptiveCard',
    version: '1.4',
    body,
    msteams: { width: 'Full' },
  };
  if (o.logUrl) content.actions = [{ type: 'Action.OpenUrl', title: 'Open the log entry', url: o.logUrl }];
  return {
    type: 'message',
    attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null, content }],
  };
}

/** The config as admin answers show it (a function of its own: see ./index.ts `redactors`). */
export function redactTeamsNotifier(config: TeamsNotifierConfig): TeamsNotifierConfig {
  return { ...config, url: redactUrlPath(config.url) };
}

export const teamsNotifier: Notifier<TeamsNotifierConfig> = {
  type: 'teams',
  schema: teamsNotifierSchema,
  send: (config, outcome, ctx) => postJson(config.url, teamsMessage(outcome), ctx),
  // the workflow URL's path and its `sig` query parameter are the credential
  redact: redactTeamsNotifier,
  secrets: (config) => urlSecrets(config.url),
};
