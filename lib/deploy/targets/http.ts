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
import { verifySchema } from '../verify/schema';
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
import { redactValues, secretSet, type SecretSet } from '../../core/redact-values';
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
/** headers Triggerfish sets itself: their values are not secrets */
const OWN_HEADERS: ReadonlySet<string> = new Set(['user-agent', 'content-type', 'content-length']);

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

const headersSchema = z.record(z.string(), headerValueSchema).superRefine((h, ctx) => {
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
    /** after the target accepted: what makes the deploy succeeded (lib/deploy/verify) */
    verify: verifySchema.optional(),
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

/** bytes read past RESPONSE_LIMIT so that a secret crossing the cut is still whole when it is redacted */
const REDACT_MARGIN = 8192 + 4;

/**
 * The kept response, the target's own secrets redacted by value (a target that echoes its request headers must
 * not put them in the trigger log), then cut at RESPONSE_LIMIT bytes.
 */
function truncatedBody(chunks: Buffer[], total: number, complete: boolean, secrets: SecretSet): string {
  const kept = Buffer.concat(chunks);
  const { text: readText } = utf8Prefix(kept, kept.length);
  const redacted = Buffer.from(secrets.forms.length ? redactValues(readText, secrets) : readText, 'utf8');
  const { text, bytes } = utf8Prefix(redacted, RESPONSE_LIMIT);
  if (bytes >= redacted.length && kept.length >= total && complete) return text;
  const rest = Math.max(0, total - kept.length) + (redacted.length - bytes);
  return `${text}…[truncated ${complete ? '' : 'at least '}${rest} bytes]`;
}

/**
 * Values of a prepared request that are (or may be) credentials: every header value we were given (not the ones
 * Triggerfish sets), the URL's user info, query values and path segments that look like tokens.
 */
export function requestSecrets(url: URL, headers: Record<string, string>, own: ReadonlySet<string>): SecretSet {
  const values: string[] = [];
  for (const [name, v] of Object.entries(headers)) {
    if (own.has(name)) continue;
    values.push(v);
    // "Bearer <token>", "Basic <base64>": the credential part alone too
    const space = v.indexOf(' ');
    if (space > 0) values.push(v.slice(space + 1).trim());
  }
  for (const part of [url.username, url.password]) if (part) values.push(part, safeDecode(part));
  for (const [, v] of url.searchParams) values.push(v);
  for (const seg of url.pathname.split('/')) if (looksLikeToken(safeDecode(seg))) values.push(seg, safeDecode(seg));
  return secretSet(values);
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** A path segment that looks like a random token (a Slack, GitLab or Jenkins hook path): long, letters and digits. */
export function looksLikeToken(segment: string): boolean {
  if (segment.length < 16 || segment.includes('{{')) return false;
  if (!/^[A-Za-z0-9._~+=:-]+$/.test(segment)) return false;
  return /[0-9]/.test(segment) && /[A-Za-z]/.test(segment);
}

function statusResult(
  status: number,
  location: string | undefined,
  secrets: SecretSet,
): Pick<AttemptResult, 'ok' | 'retryable' | 'error'> {
  if (status >= 200 && status < 300) return { ok: true, retryable: false };
  if (status >= 300 && status < 400) {
    const to = location ? redactValues(location, secrets).slice(0, 512) : '(no Location header)';
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
  opts: { allowPrivate: boolean; timeoutMs?: number; startedAt?: number; secrets?: SecretSet },
): Promise<AttemptResult> {
  const secrets = opts.secrets ?? requestSecrets(req.url, req.headers, OWN_HEADERS);
  const start = opts.startedAt ?? performance.now();
  const timeoutMs = opts.timeoutMs ?? HTTP_TIMEOUT_MS;
  const elapsed = () => Math.round(performance.now() - start);
  const details: Record<string, unknown> = { method: req.method };

  return new Promise<AttemptResult>((resolve) => {
    let settled = false;
    let statusCode: number | undefined;
    // eslint-disable-next-line prefer-const -- assigned below, after `finish` that clears it is defined
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
        const s = statusResult(statusCode!, res.headers.location, secrets);
        finish({ ...s, statusCode, response: truncatedBody(chunks, total, complete, secrets) });
      };
      res.on('data', (chunk: Buffer) => {
        total += chunk.length;
        if (kept < RESPONSE_LIMIT + REDACT_MARGIN) {
          // keep bytes past the limit: a multi-byte character or a secret at the cut must be recognised whole
          const piece = chunk.subarray(0, RESPONSE_LIMIT + REDACT_MARGIN - kept);
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

/**
 * A target URL (template) as the admin API shows it: user info, every query value and path segments that look
 * like tokens replaced by REDACTED; placeholders and the rest of the text kept. Works on the text (a template
 * is not always a parseable URL).
 */
export function redactUrlTemplate(url: string): string {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)([^/?#]*)([^?#]*)(\?[^#]*)?(#.*)?$/.exec(url);
  if (!m) return REDACTED;
  const [, scheme, authority, path, query, fragment] = m;
  const at = authority.lastIndexOf('@');
  const host = at >= 0 ? `${REDACTED}@${authority.slice(at + 1)}` : authority;
  const segments = path.split('/').map((seg) => (looksLikeToken(safeDecode(seg)) ? REDACTED : seg));
  const q = query
    ? `?${query
        .slice(1)
        .split('&')
        .map((pair) => {
          const eq = pair.indexOf('=');
          if (eq < 0) return pair;
          const value = pair.slice(eq + 1);
          // a value that is only a placeholder ({{tag}}) is no credential
          return /^\{\{[^}]*\}\}$/.test(value) ? pair : `${pair.slice(0, eq)}=${REDACTED}`;
        })
        .join('&')}`
    : '';
  return `${scheme}${host}${segments.join('/')}${q}${fragment && /token|secret|key|sig|auth|pass|code/i.test(fragment) ? `#${REDACTED}` : (fragment ?? '')}`;
}

/** The config as admin answers show it (a function of its own, so the admin bundles leave out the deploy code). */
export function redactHttpTarget(config: HttpTargetConfig): HttpTargetConfig {
  const out: HttpTargetConfig = { ...config, url: redactUrlTemplate(config.url) };
  if (config.headers) {
    out.headers = Object.fromEntries(Object.keys(config.headers).map((k) => [k, REDACTED]));
  }
  return out;
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
      const json =
        config.body === undefined ? JSON.stringify(ctx.event) : JSON.stringify(renderJson(config.body, vars));
      body = Buffer.from(json ?? 'null', 'utf8');
    }
    for (const [name, template] of Object.entries(config.headers ?? {})) {
      const lower = name.toLowerCase();
      if (RESERVED_HEADERS.has(lower)) continue;
      headers[lower] = wireHeaderValue(renderHeaderValue(template, vars));
    }
    return sendRequest(
      { url: new URL(urlText), method, headers, body },
      {
        allowPrivate: ctx.allowPrivateTargets,
        timeoutMs: ctx.timeoutMs,
        startedAt,
      },
    );
  },

  redact: redactHttpTarget,
};
