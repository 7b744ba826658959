/**
 * Outbound HTTP for notifiers, under the same rules as deploy targets (lib/core/outbound): static URL rules and
 * IP-literal hosts checked before sending, hostnames checked at connect time by `guardedLookup` (the checked address
 * is the one connected to), TLS always verified, redirects never followed, a total timeout per attempt.
 *
 * Hand-written on node:http(s) rather than Node's fetch: fetch cannot take a DNS `lookup` without the undici
 * package's dispatcher, which is not a dependency. `guardedFetch` adapts this to the fetch subset @slack/webhook uses.
 * Errors name what failed, never the URL (its path and query carry the credential of Slack/Teams/Discord URLs).
 */
import http from 'node:http';
import https from 'node:https';
import {
  bareHostname,
  checkLiteralHost,
  checkUrlStatic,
  effectivePort,
  guardedLookup,
  isOutboundRefused,
} from '../core/outbound';
import type { SendContext, SendResult } from './types';

export const USER_AGENT = 'Triggerfish/0.1 (notifications)';
/** bytes of an answer kept (errors quote at most this much of it) */
const ANSWER_LIMIT = 2048;

export interface Answer {
  status: number;
  statusText: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A refusal by the URL rules (not worth retrying), as opposed to a network failure. */
export class RefusedError extends Error {}

/** One request; rejects on a refused URL, a network error or the timeout; resolves with any HTTP answer. */
export function request(
  urlText: string,
  init: { method?: string; headers?: Record<string, string>; body?: string },
  ctx: SendContext & { signal?: AbortSignal },
): Promise<Answer> {
  return new Promise<Answer>((resolve, reject) => {
    const reason = checkUrlStatic(urlText);
    if (reason) return reject(new RefusedError(`URL refused: ${reason}`));
    const url = new URL(urlText);
    const literal = checkLiteralHost(url, ctx.allowPrivate);
    if (literal) return reject(new RefusedError(`URL refused: ${literal}`));

    const body = init.body === undefined ? undefined : Buffer.from(init.body, 'utf8');
    const headers: Record<string, string> = { 'user-agent': USER_AGENT, ...lower(init.headers ?? {}) };
    if (body) headers['content-length'] = String(body.length);
    const isHttps = url.protocol === 'https:';
    const options: https.RequestOptions = {
      protocol: url.protocol,
      hostname: bareHostname(url),
      port: effectivePort(url),
      path: `${url.pathname}${url.search}`,
      method: init.method ?? 'POST',
      headers,
      lookup: guardedLookup(ctx.allowPrivate),
      agent: false,
    };
    if (isHttps) options.rejectUnauthorized = true;

    let settled = false;
    const done = (err: Error | undefined, answer?: Answer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      ctx.signal?.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve(answer!);
    };
    let cr: http.ClientRequest;
    try {
      cr = (isHttps ? https : http).request(options);
    } catch (err) {
      return reject(new RefusedError(`invalid request: ${(err as Error).message}`));
    }
    const timer = setTimeout(() => {
      done(new Error(`timed out after ${ctx.timeoutMs} ms`));
      cr.destroy();
    }, ctx.timeoutMs);
    const onAbort = () => {
      done(new Error('aborted'));
      cr.destroy();
    };
    ctx.signal?.addEventListener('abort', onAbort);

    cr.on('error', (err) => {
      if (isOutboundRefused(err)) return done(new RefusedError(`URL refused: ${err.message}`));
      const code = (err as NodeJS.ErrnoException).code;
      done(new Error(code && !err.message.includes(code) ? `${err.message} (${code})` : err.message));
    });
    cr.on('response', (res) => {
      const chunks: Buffer[] = [];
      let kept = 0;
      res.on('data', (c: Buffer) => {
        if (kept < ANSWER_LIMIT) {
          chunks.push(c.subarray(0, ANSWER_LIMIT - kept));
          kept += Math.min(c.length, ANSWER_LIMIT - kept);
        }
      });
      res.on('end', () =>
        done(undefined, {
          status: res.statusCode ?? 0,
          statusText: res.statusMessage ?? '',
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      res.on('error', (err) => done(new Error(`response: ${err.message}`)));
      res.on('close', () => {
        if (!res.complete) done(new Error('connection closed before the answer ended'));
      });
    });
    cr.end(body);
  });
}

function lower(h: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
}

/** ok for 2xx; retryable for 5xx, 429, 408 and network errors; a 3xx is never followed. */
export function resultOf(answer: Answer): SendResult {
  const s = answer.status;
  if (s >= 200 && s < 300) return { ok: true, retryable: false, statusCode: s };
  const retryable = s >= 500 || s === 429 || s === 408;
  const what = s >= 300 && s < 400 ? `HTTP ${s} (redirects are not followed)` : `HTTP ${s}`;
  const said = answer.body.trim().slice(0, 200);
  return { ok: false, retryable, statusCode: s, error: said ? `${what}: ${said}` : what };
}

export function failureOf(err: unknown): SendResult {
  const message = (err as Error)?.message ?? String(err);
  return { ok: false, retryable: !(err instanceof RefusedError), error: message };
}

/** POSTs a JSON value; never throws. */
export function postJson(
  url: string,
  body: unknown,
  ctx: SendContext,
  headers: Record<string, string> = {},
): Promise<SendResult> {
  return postJsonText(url, JSON.stringify(body), ctx, headers);
}

/** POSTs JSON text exactly as given (a signed body must go out byte for byte); never throws. */
export async function postJsonText(
  url: string,
  text: string,
  ctx: SendContext,
  headers: Record<string, string> = {},
): Promise<SendResult> {
  try {
    const answer = await request(
      url,
      { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: text },
      ctx,
    );
    return resultOf(answer);
  } catch (err) {
    return failureOf(err);
  }
}

/** The fetch subset @slack/webhook calls (`fetch` option of IncomingWebhook), on `request` above. */
export function guardedFetch(ctx: SendContext) {
  return async (
    url: string | URL,
    init?: { method?: string; headers?: Record<string, string>; body?: string | FormData; signal?: AbortSignal },
  ): Promise<Response> => {
    if (init?.body !== undefined && typeof init.body !== 'string')
      throw new RefusedError('only string bodies are sent');
    const answer = await request(
      String(url),
      { method: init?.method, headers: init?.headers, body: init?.body },
      { ...ctx, signal: init?.signal },
    );
    const headers = new Headers();
    for (const [k, v] of Object.entries(answer.headers)) {
      if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
    }
    // Response cannot carry 1xx; a null-body status cannot carry a body
    const status = answer.status >= 200 && answer.status <= 599 ? answer.status : 502;
    const nullBody = status === 204 || status === 205 || status === 304;
    return new Response(nullBody ? null : answer.body, { status, statusText: answer.statusText, headers });
  };
}
