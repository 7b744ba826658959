/**
 * The local log format (`npm start`, the tests' stacks): one short human-readable line per log call instead of
 * Powertools' JSON, e.g.
 *
 *   22:04:11.532 WARN  deployer       deploy attempt: web-prod dockerhub library/web:1.4.0 http retry (attempt 1/5, 12 ms, HTTP 503, retry in 2 s) error: HTTP 503 log=01J...
 *
 * A Powertools LogFormatter (selected in logger.ts when TRIGGERFISH_LOG_FORMAT=local, which lib/local sets), so
 * the same logger calls print JSON on Lambda. Control characters in values are shown escaped (./terminal-text), so
 * a line stays one line. The formatter can only return a LogItem, which Powertools prints as
 * JSON; TextLogItem carries the rendered line and logger.ts prints that instead.
 */
import { LogFormatter, LogItem } from '@aws-lambda-powertools/logger';
import type { LogAttributes, UnformattedAttributes } from '@aws-lambda-powertools/logger/types';
import { visibleText } from './terminal-text';

export class TextLogItem extends LogItem {
  constructor(
    readonly text: string,
    attributes: LogAttributes,
  ) {
    super({ attributes });
  }
}

/** Fields shown in the line's fixed part, in this order; every other field follows as key=value. */
const SHOWN = new Set([
  'triggerName',
  'triggerId',
  'provider',
  'image',
  'commit',
  'targetType',
  'status',
  'outcome',
  'attempt',
  'maxAttempts',
  'attempts',
  'durationMs',
  'latencyMs',
  'statusCode',
  'retryInSeconds',
  'reason',
  'error',
  'logId',
]);
const LEVEL_WIDTH = 5;
const FUNCTION_WIDTH = 14;

export class LocalLogFormatter extends LogFormatter {
  public formatAttributes(attributes: UnformattedAttributes, additional: LogAttributes): LogItem {
    const a = additional as Record<string, unknown>;
    const subject = [a.triggerName ?? a.triggerId, a.provider, a.image ?? shortCommit(a.commit), a.targetType]
      .filter((x) => x !== undefined && x !== null && x !== '')
      .map(String);
    const parts: string[] = [
      clock(attributes.timestamp),
      String(attributes.logLevel).padEnd(LEVEL_WIDTH),
      shortFunctionName(attributes.lambdaContext?.functionName, attributes.serviceName).padEnd(FUNCTION_WIDTH),
      subject.length ? `${attributes.message}:` : attributes.message,
      ...subject,
    ];
    const status = a.status ?? a.outcome;
    if (status !== undefined) parts.push(String(status));
    const details = [
      a.attempt !== undefined ? `attempt ${a.attempt}${a.maxAttempts !== undefined ? `/${a.maxAttempts}` : ''}` : '',
      typeof a.attempts === 'number' ? `${a.attempts} attempt${a.attempts === 1 ? '' : 's'}` : '',
      typeof a.durationMs === 'number' ? duration(a.durationMs) : '',
      typeof a.latencyMs === 'number' ? `${duration(a.latencyMs)} after the webhook` : '',
      a.statusCode !== undefined ? `HTTP ${a.statusCode}` : '',
      a.retryInSeconds !== undefined ? `retry in ${a.retryInSeconds} s` : '',
    ].filter(Boolean);
    if (details.length) parts.push(`(${details.join(', ')})`);
    if (a.reason !== undefined && a.reason !== null && a.reason !== '') parts.push(`- ${a.reason}`);
    if (a.error !== undefined && a.error !== null) parts.push(`error: ${errorText(a.error)}`);
    const rest = Object.entries(a)
      .filter(([k, v]) => !SHOWN.has(k) && v !== undefined)
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : safeJson(v)}`);
    if (a.logId !== undefined) rest.push(`log=${a.logId}`);
    if (rest.length) parts.push(rest.join(' '));
    // one line whatever the values hold: our own text has no control characters, so every one left is a value's,
    // shown as a visible escape (a value cannot forge a line or send a terminal sequence)
    return new TextLogItem(visibleText(parts.join(' ')), {
      ...a,
      level: attributes.logLevel,
      message: attributes.message,
    });
  }
}

function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}

/** Local wall-clock time with milliseconds: the date is noise in a terminal. */
function clock(d: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

/** `triggerfish-local-deployer` -> `deployer` (service and stage are the same on every line); `-` outside a handler. */
export function shortFunctionName(functionName: string | undefined, serviceName: string | undefined): string {
  if (!functionName) return '-';
  const prefix = serviceName ? `${serviceName}-` : '';
  if (prefix && functionName.startsWith(prefix)) {
    const rest = functionName.slice(prefix.length);
    const dash = rest.indexOf('-');
    return dash >= 0 ? rest.slice(dash + 1) : rest;
  }
  return functionName;
}

function shortCommit(commit: unknown): string | undefined {
  if (typeof commit !== 'string') return undefined;
  return /^[0-9a-f]{40}$/i.test(commit) ? commit.slice(0, 12) : commit;
}

function errorText(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (typeof e === 'string') return e;
  return safeJson(e);
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}
