/** Small helpers for API Gateway HTTP API (payload 2.0) handlers. */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { ZodError } from 'zod';

export type HttpResult = APIGatewayProxyStructuredResultV2;

export function json(statusCode: number, body?: unknown, headers: Record<string, string> = {}): HttpResult {
  if (body === undefined) return { statusCode, headers };
  return {
    statusCode,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  };
}

/** The first bad field of a ZodError and a sentence about it, e.g. field "match.tags.regex". */
export function zodIssue(err: ZodError, prefix?: string): { field: string; message: string; error?: string } {
  const issue = err.issues[0];
  const path = issue?.path.map(String) ?? [];
  const field = [prefix, ...path].filter(Boolean).join('.') || '(body)';
  return { field, message: `invalid ${field}: ${issue?.message ?? 'invalid'}`, error: issue?.message };
}

/** 400 naming the first bad field, e.g. {"message": "invalid match.tags.regex: ...", "field": "match.tags.regex"} */
export function zodError(err: ZodError, prefix?: string): HttpResult {
  return json(400, zodIssue(err, prefix));
}

/** The body as received, as text: API Gateway base64-encodes bodies it considers binary. */
export function rawBody(event: APIGatewayProxyEventV2): string {
  if (event.body === undefined || event.body === null) return '';
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
}

/**
 * The exact body bytes, what signatures cover. A base64 body (binary media types, form bodies) decodes to the
 * bytes as sent, also when they are not UTF-8; a text body is what API Gateway made of the bytes, re-encoded.
 */
export function rawBodyBuffer(event: APIGatewayProxyEventV2): Buffer {
  if (!event.body) return Buffer.alloc(0);
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
}

export function rawBodyBytes(event: APIGatewayProxyEventV2): number {
  if (!event.body) return 0;
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64').length : Buffer.byteLength(event.body, 'utf8');
}

/** API Gateway already lowercases header names in payload 2.0; do it again for the local and test paths. */
export function lowerHeaders(headers: Record<string, string | undefined> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) if (v !== undefined) out[k.toLowerCase()] = v;
  return out;
}

export function baseUrl(event: APIGatewayProxyEventV2, configured?: string): string {
  if (configured) return configured.replace(/\/$/, '');
  return `https://${event.requestContext.domainName}`;
}

/**
 * Headers API Gateway adds to every request, which say nothing about the sender: a random trace id (40
 * characters that do not compress) and the scheme and port of API Gateway's own listener. `x-forwarded-for`
 * (who sent it) stays.
 */
const GATEWAY_HEADERS = ['x-amzn-trace-id', 'x-forwarded-proto', 'x-forwarded-port'];

/**
 * The headers worth keeping in the trigger log: without the ones API Gateway adds (GATEWAY_HEADERS), and without
 * `content-length` when it is the body's size (the entry's `request.bodyBytes` says it).
 */
export function loggedHeaders(headers: Record<string, string>, bodyBytes: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (GATEWAY_HEADERS.includes(k) || (k === 'content-length' && v.trim() === String(bodyBytes))) continue;
    out[k] = v;
  }
  return out;
}
