/**
 * `http` deploy target: one HTTP(S) request per attempt to a user-given URL.
 *
 * - node:http / node:https directly (no fetch), a fresh connection per attempt (`agent: false`).
 * - The URL template may hold placeholders only in its path and query (../template): the host is fixed when the
 *   trigger is created, and a rendered path that a value would restructure (`..`) is refused, not sent.
 * - Destination rules from ../outbound: at creation the static rules and literal private addresses
 *   (`checkOutboundUrlAtCreation`, unless ALLOW_PRIVATE_TARGETS); before every send the static rules on the rendered URL, IP-literal hosts checked before
 *   sending, hostnames checked at connect time through `guardedLookup` (the checked address is the one used).
 * - TLS is always verified (`rejectUnauthorized: true`, no option to turn it off).
 * - Redirects are never followed (a redirect could lead past the address rules): a 3xx is a failure.
 * - 10 s total timeout (connect + request + response body).
 * - ok for 2xx; retryable for 5xx, 429, 408, timeouts and network errors; not retryable for other statuses,
 *   refused URLs and invalid requests.
 * - Header values from the config never appear in errors.
 */
import http from 'node:http';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import * as z from 'zod';
import { config as settings } from '../../core/config';
import {
  bareHostname,
  checkLiteralHost,
  checkOutboundUrlAtCreation,
  checkUrlStatic,
  effectivePort,
  guardedLookup,
  isOutboundRefused,
} from '../../core/outbound';
import {
  renderHeaderValue,
  renderJson,
  renderUrl,
  renderUrlChecked,
  sampleVars,
  templateVars,
  urlTemplateIssue,
  validateTemplate,
  validateTemplateJson,
} from '../template';
import { REDACTED, type AttemptResult, type DeployTarget } from './types';

export const HTTP_TIMEOUT_MS = 10_000;
export const USER_AGENT = 'Triggerfish/0.1';
/** response bodies kept in the attempt result */
export const RESPONSE_LIMIT = 4096;
/** bytes of a response body read at most (the rest is not waited for) */
const READ_LIMIT = 1024 * 1024;
const MAX_HEADERS = 50;
const MAX_BODY_CHARS = 64 * 1024;

export const HTTP_METHODS = ['POST', 'PUT', 'PATCH', 'GET'] as const;

/** RFC 9110 token */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** set by us / framing / hop-by-hop: the user may not set these */
const RESERVED_HEADERS = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'expect',
  'proxy-authorization',
  'proxy-connection',
]);
/** control characters but tab */
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;

const urlSchema = z
  .string()
  .min(1)
  .max(2048)
  .superRefine((url, ctx) => {
    const bad = validateTemplate(url);
    if (bad !== undefined) {
      ctx.addIssue({ code: 'custom', message: `unknown placeholder ${bad}` });
      return;
    }
    // placeholders only in the path and query: a pushed value can never choose the scheme, host or port
    const misplaced = urlTemplateIssue(url);
    if (misplaced) {
      ctx.addIssue({ code: 'custom', message: misplaced });
      return;
    }
    // the rest is checked with sample values substituted; literal private addresses are refused here already
    const reason = checkOutboundUrlAtCreation(renderUrl(url, sampleVars()), settings.allowPrivateTargets());
    if (reason) ctx.addIssue({ code: 'custom', message: reason });
  });

const headerValueSchema = z
  .string()
  .max(8192)
  .superRefine((v, ctx) => {
    if (CONTROL.test(v)) ctx.addIssue({ code: 'custom', message: 'header values may not contain control characters' });
    const bad = validateTemplate(v);
    if (bad !== undefined) ctx.addIssue({ code: 'custom', message: `unknown placeholder ${bad}` });
  });

const headersSchema = z
  .record(z.string(), headerValueSchema)
  .superRefine((h, ctx) => {
    const names = Object.keys(h);
    if (names.length > MAX_HEADERS) ctx.addIssue({ code: 'custom', message: `at most ${MAX_HEADERS} headers` });
    const seen = new Set<string>();
    for (const name of names) {
      const lower = name.toLowerCase();
      if (!HEADER_NAME.test(name)) {
        ctx.addIssue({ code: 'custom', path: [name], message: 'not a valid header name' });
        continue;
      }
      if (RESERVED_HEADERS.has(lower)) {
        ctx.addIssue({ code: 'custom', path: [name], message: `header ${name} is set by Triggerfish` });
      }
      if (seen.has(lower)) ctx.addIssue({ code: 'custom', path: [name], message: `header ${name} given twice` });
      seen.add(lower);
    }
  });

export const httpTargetSchema = z
  .strictObject({
    type: z.literal('http'),
    url: urlSchema,
    method: z.enum(HTTP_METHODS).optional(),
    headers: headersSchema.optional(),
    /** a JSON template; absent: the normalized event as JSON */
    body: z.unknown().optional(),
  })
  .superRefine((t, ctx) => {
    if (t.body === undefined) return;
    if (t.method === 'GET') {
      ctx.addIssue({ code: 'custom', path: ['body'], message: 'a GET request has no body' });
      return;
    }
    const bad = validateTemplateJson(t.body);
    if (bad !== undefined) ctx.addIssue({ code: 'custom', path: ['body'], message: `unknown placeholder ${bad}` });
    let json: string | undefined;
    try {
      json = JSON.stringify(t.body);
    } catch {
      json = undefined;
    }
    if (json === undefined) ctx.addIssue({ code: 'custom', path: ['body'], message: 'body must be JSON' });
    else if (json.length > MAX_BODY_CHARS) {
      ctx.addIssue({ code: 'custom', path: ['body'], message: `body template over ${MAX_BODY_CHARS} characters` });
    }
  });

export type HttpTargetConfig = z.infer<typeof httpTargetSchema>;

/** A prepared request: URL already rendered and statically checked, headers final. */
export interface OutboundRequest {
  url: URL;
  method: (typeof HTTP_METHODS)[number];
  headers: Record<string, string>;
  body?: Buffer;
}

/** Header strings go on the wire as latin1; send the UTF-8 bytes of the value instead. */
function wireHeaderValue(v: string): string {
  return Buffer.from(v, 'utf8').toString('latin1');
}

/** The first `limit` bytes of `buf` as UTF-8, not cutting a multi-byte character. */
function utf8Prefix(buf: Buffer, limit: number): { text: string; bytes: number } {
  if (buf.length <= limit) return { text: buf.toString('utf8'), bytes: buf.length };
  let end = limit;
  while (end > 0 && (buf[end] & 0xc0) === 0x80) end--;
  return { text: buf.subarray(0, end).toString('utf8'), bytes: end };
}

function truncatedBody(chunks: Buffer[], total: number, complete: boolean): string {
  const { text, bytes } = utf8Prefix(Buffer.concat(chunks), RESPONSE_LIMIT);
  if (bytes >= total && complete) return text;
  return `${text}…[truncated ${complete ? '' : 'at least '}${total - bytes} bytes]`;
}

function statusResult(status: number, location: string | undefined): Pick<AttemptResult, 'ok' | 'retryable' | 'error'> {
  if (status >= 200 && status < 300) return { ok: true, retryable: false };
  if (status >= 300 && status < 400) {
    const to = location ? location.slice(0, 512) : '(no Location header)';
    return { ok: false, retryable: false, error: `redirect to ${to} not followed` };
  }
  const retryable = status >= 500 || status === 429 || status === 408;
  return { ok: false, retryable, error: `HTTP ${status}` };
}

/**
 * Sends one request with the address guard, total timeout and response handling; no static URL rules
 * (the caller applies them). Exported for tests; targets go through `httpTarget.deploy`.
 * @internal
 */
export function sendRequest(
  req: OutboundRequest,
  opts: { allowPrivate: boolean; timeoutMs?: number; startedAt?: number },
): Promise<AttemptResult> {
  const start = opts.startedAt ?? performance.now();
  const timeoutMs = opts.timeoutMs ?? HTTP_TIMEOUT_MS;
  const elapsed = () => Math.round(performance.now() - start);
  const details: Record<string, unknown> = { method: req.method };

  return new Promise<AttemptResult>((resolve) => {
    let settled = false;
    let statusCode: number | undefined;
    let timer: NodeJS.Timeout | undefined;
    const finish = (r: Omit<AttemptResult, 'durationMs'>) => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      resolve({ ...r, durationMs: elapsed(), details });
    };

    const literal = checkLiteralHost(req.url, opts.allowPrivate);
    if (literal) return finish({ ok: false, retryable: false, error: `URL refused: ${literal}` });

    const isHttps = req.url.protocol === 'https:';
    const options: https.RequestOptions = {
      protocol: req.url.protocol,
      hostname: bareHostname(req.url),
      port: effectivePort(req.url),
      path: `${req.url.pathname}${req.url.search}`,
      method: req.method,
      headers: req.body ? { ...req.headers, 'content-length': String(req.body.length) } : req.headers,
      lookup: guardedLookup(opts.allowPrivate),
      agent: false,
    };
    if (isHttps) options.rejectUnauthorized = true;

    let cr: http.ClientRequest;
    try {
      cr = (isHttps ? https : http).request(options);
    } catch (err) {
      // e.g. an invalid header (Node names the header, never its value)
      return finish({ ok: false, retryable: false, error: `invalid request: ${(err as Error).message}` });
    }

    timer = setTimeout(() => {
      finish({ ok: false, retryable: true, statusCode, error: `timed out after ${timeoutMs} ms` });
      cr.destroy();
    }, timeoutMs);

    cr.on('socket', (socket) => {
      socket.on('connect', () => {
        details.address = socket.remoteAddress;
      });
    });

    cr.on('error', (err) => {
      if (isOutboundRefused(err)) return finish({ ok: false, retryable: false, error: `URL refused: ${err.message}` });
      // network errors (ECONNREFUSED, ECONNRESET, ENOTFOUND, TLS failures, ...) are worth retrying
      const code = (err as NodeJS.ErrnoException).code;
      const error = code && !err.message.includes(code) ? `${err.message} (${code})` : err.message;
      finish({ ok: false, retryable: true, statusCode, error });
    });

    cr.on('response', (res) => {
      statusCode = res.statusCode ?? 0;
      const chunks: Buffer[] = [];
      let kept = 0;
      let total = 0;
      const done = (complete: boolean) => {
        const s = statusResult(statusCode!, res.headers.location);
        finish({ ...s, statusCode, response: truncatedBody(chunks, total, complete) });
      };
      res.on('data', (chunk: Buffer) => {
        total += chunk.length;
        if (kept < RESPONSE_LIMIT + 4) {
          // keep a few bytes past the limit so a multi-byte character at the cut can be recognised
          const piece = chunk.subarray(0, RESPONSE_LIMIT + 4 - kept);
          chunks.push(piece);
          kept += piece.length;
        }
        if (total > READ_LIMIT) {
          done(false);
          res.destroy();
        }
      });
      res.on('end', () => done(true));
      res.on('error', (err) => finish({ ok: false, retryable: true, statusCode, error: `response: ${err.message}` }));
      res.on('close', () => {
        if (!res.complete) {
          finish({ ok: false, retryable: true, statusCode, error: 'connection closed before the response ended' });
        }
      });
    });

    cr.end(req.body);
  });
}

function secretQueryName(name: string): boolean {
  return /token|secret|key|sig|auth|pass|code|credential/i.test(name);
}

export const httpTarget: DeployTarget<HttpTargetConfig> = {
  type: 'http',
  schema: httpTargetSchema,

  async deploy(config, ctx) {
    const startedAt = performance.now();
    const vars = templateVars(ctx.event, ctx.triggerId, ctx.logId);
    const rendered = renderUrlChecked(config.url, vars);
    const urlText = rendered.ok ? rendered.url : '';
    const reason = rendered.ok ? checkUrlStatic(urlText) : rendered.error;
    if (reason) {
      const durationMs = Math.round(performance.now() - startedAt);
      return { ok: false, retryable: false, durationMs, error: `URL refused: ${reason}` };
    }
    const method = config.method ?? 'POST';
    const headers: Record<string, string> = { 'user-agent': USER_AGENT };
    let body: Buffer | undefined;
    if (method !== 'GET') {
      headers['content-type'] = 'application/json';
      const json = config.body === undefined ? JSON.stringify(ctx.event) : JSON.stringify(renderJson(config.body, vars));
      body = Buffer.from(json ?? 'null', 'utf8');
    }
    for (const [name, template] of Object.entries(config.headers ?? {})) {
      const lower = name.toLowerCase();
      if (RESERVED_HEADERS.has(lower)) continue;
      headers[lower] = wireHeaderValue(renderHeaderValue(template, vars));
    }
    return sendRequest({ url: new URL(urlText), method, headers, body }, {
      allowPrivate: ctx.allowPrivateTargets,
      timeoutMs: ctx.timeoutMs,
      startedAt,
    });
  },

  redact(config) {
    const out: HttpTargetConfig = { ...config };
    if (config.headers) {
      out.headers = Object.fromEntries(Object.keys(config.headers).map((k) => [k, REDACTED]));
    }
    // tokens in the query (?token=...) are secrets too; keep the template text otherwise
    const q = config.url.indexOf('?');
    if (q >= 0) {
      const hash = config.url.indexOf('#', q);
      const query = config.url.slice(q + 1, hash < 0 ? undefined : hash);
      const fragment = hash < 0 ? '' : config.url.slice(hash);
      const redacted = query
        .split('&')
        .map((pair) => {
          const eq = pair.indexOf('=');
          if (eq < 0) return pair;
          let name = pair.slice(0, eq);
          try {
            name = decodeURIComponent(name);
          } catch {
            /* keep as is */
          }
          return secretQueryName(name) ? `${pair.slice(0, eq)}=${REDACTED}` : pair;
        })
        .join('&');
      out.url = `${config.url.slice(0, q)}?${redacted}${fragment}`;
    }
    return out;
  },
};
