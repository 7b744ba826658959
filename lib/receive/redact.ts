/** What of a request may be stored in the trigger log: credentials redacted, body truncated. */
import type { Provider } from './providers/types';

export const MAX_LOGGED_BODY = 16 * 1024;
const REDACTED = '[redacted]';
// Headers that carry credentials whatever the provider says.
const ALWAYS = ['authorization', 'cookie', 'proxy-authorization', 'x-api-key'];
const QUERY_CREDENTIALS = ['token', 'secret', 'access_token', 'key'];

export function redactHeaders(headers: Record<string, string>, provider?: Provider): Record<string, string> {
  const secret = new Set([...ALWAYS, ...(provider?.credentialHeaders ?? [])]);
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, secret.has(k.toLowerCase()) ? REDACTED : v]));
}

export function redactQuery(query: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(query).map(([k, v]) => [k, QUERY_CREDENTIALS.includes(k) ? REDACTED : v]));
}

/** Redacts the provider's credential fields (top level) of a JSON body, then truncates. */
export function redactBody(raw: string, parsed: unknown, provider?: Provider): string {
  let text = raw;
  const fields = provider?.credentialBodyFields ?? [];
  if (fields.length && parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
    const copy: Record<string, unknown> = { ...(parsed as Record<string, unknown>) };
    for (const f of fields) if (f in copy) copy[f] = REDACTED;
    text = JSON.stringify(copy);
  }
  return truncate(text, MAX_LOGGED_BODY);
}

export function truncate(text: string, max: number): string {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes <= max) return text;
  return `${Buffer.from(text, 'utf8').subarray(0, max).toString('utf8')}…[truncated ${bytes - max} bytes]`;
}
