/**
 * The CloudEvents 1.0 HTTP binding, shared by the `cloudevents` and `cdevents` providers: reading the event(s) of
 * a request in structured, batched or binary mode, and the credential those senders can present.
 */
import * as z from 'zod';
import { anySecret, safeEqual } from '../../core/crypto';
import { verifyGenericSignature } from './generic';
import { header } from './git';
import type { VerifyResult, WebhookRequest } from './types';
import { verifyTokenHeader } from './verify';

// ---------------------------------------------------------------------------------------------
// reading the envelope

export interface CloudEvent {
  mode: 'structured' | 'binary';
  id: string;
  source: string;
  type: string;
  time?: string;
  subject?: string;
  data: unknown;
}

const attributes = {
  specversion: z.string().regex(/^1\.0$/, 'only CloudEvents 1.0 is supported'),
  id: z.string().min(1),
  source: z.string().min(1),
  type: z.string().min(1),
  time: z.string().optional(),
  subject: z.string().optional(),
};

export const structuredSchema = z.object({
  ...attributes,
  datacontenttype: z.string().optional(),
  data: z.unknown().optional(),
  data_base64: z.string().optional(),
});

/** Binary mode: the attributes are `ce-<name>` headers; a ZodError names them as `headers.ce-<name>`. */
const binarySchema = z.object({
  'ce-specversion': attributes.specversion,
  'ce-id': attributes.id,
  'ce-source': attributes.source,
  'ce-type': attributes.type,
  'ce-time': attributes.time,
  'ce-subject': attributes.subject,
});

function fromStructured(raw: unknown): CloudEvent {
  const e = structuredSchema.parse(raw);
  let data = e.data;
  if (data === undefined && e.data_base64 !== undefined) {
    const text = Buffer.from(e.data_base64, 'base64').toString('utf8');
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  return { mode: 'structured', id: e.id, source: e.source, type: e.type, time: e.time, subject: e.subject, data };
}

/** Batched mode: the body is an array of structured events, each its own delivery. */
export function isBatchedMode(req: WebhookRequest): boolean {
  return header(req.headers, 'ce-specversion') === undefined && Array.isArray(req.body);
}

/**
 * The CloudEvents of a request: binary mode when a `ce-specversion` header is present, else the body is one
 * structured event or (batched mode) an array of them. Throws a ZodError for a malformed envelope.
 */
export function readCloudEvents(req: WebhookRequest): CloudEvent[] {
  if (header(req.headers, 'ce-specversion') !== undefined) {
    const h = binarySchema.safeParse(req.headers);
    if (!h.success) throw new z.ZodError(h.error.issues.map((i) => ({ ...i, path: ['headers', ...i.path] })));
    const a = h.data;
    return [
      {
        mode: 'binary',
        id: a['ce-id'],
        source: a['ce-source'],
        type: a['ce-type'],
        time: a['ce-time'],
        subject: a['ce-subject'],
        data: req.body,
      },
    ];
  }
  if (Array.isArray(req.body)) {
    z.array(z.unknown()).min(1).parse(req.body);
    return req.body.map((item, i) => {
      const parsed = structuredSchema.safeParse(item);
      if (!parsed.success)
        throw new z.ZodError(parsed.error.issues.map((issue) => ({ ...issue, path: [i, ...issue.path] })));
      return fromStructured(item);
    });
  }
  return [fromStructured(req.body)];
}

// ---------------------------------------------------------------------------------------------
// credentials

function verifyBasicPassword(req: WebhookRequest, secrets: readonly string[]): VerifyResult {
  const m = /^basic\s+([A-Za-z0-9+/=]+)$/i.exec(req.headers.authorization?.trim() ?? '');
  if (!m) return { ok: false, reason: 'Authorization header is not a Basic credential' };
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const password = colon >= 0 ? decoded.slice(colon + 1) : decoded;
  return anySecret(secrets, (s) => safeEqual(password, s))
    ? { ok: true }
    : { ok: false, reason: 'Authorization header does not match' };
}

/** Bearer (or Basic with the secret as password), or the generic X-Signature HMAC when that header is sent. */
export function verifyBearerOrSignature(req: WebhookRequest, secrets: readonly string[]): VerifyResult {
  if (req.headers['x-signature'] !== undefined) return verifyGenericSignature(req, secrets);
  if (/^basic\s/i.test(req.headers.authorization?.trim() ?? '')) return verifyBasicPassword(req, secrets);
  const bearer = verifyTokenHeader(req, secrets, 'Authorization', { bearer: 'required' });
  if (!bearer.ok && bearer.reason === 'missing Authorization header') {
    return { ok: false, reason: 'missing Authorization header (Bearer <secret>) or X-Signature header' };
  }
  return bearer;
}
