/**
 * What of a request may be stored in the trigger log. Two rules, applied to headers, query and body alike:
 * - by value: the trigger's own secrets (current and previous) in every form a sender may write them
 *   (../core/redact-values.ts), whatever the field is called;
 * - by name: fields whose name looks like a credential (token, secret, password, authorization, signature,
 *   api key, ...), case-insensitively, at any depth of a JSON or form body, plus the provider's own lists.
 * Bodies are then truncated. Nothing here recurses deeper than MAX_REDACT_DEPTH, whatever the input.
 */
import { REDACTED, redactValues, secretSet, type SecretSet } from '../core/redact-values';
import { truncate } from '../core/truncate';
import type { Provider } from './providers/types';

export { REDACTED } from '../core/redact-values';
export { truncate } from '../core/truncate';
export const MAX_LOGGED_BODY = 16 * 1024;
/** JSON bodies nested deeper than this are not re-serialized (JSON.stringify recurses): only a marker is kept. */
export const MAX_REDACT_DEPTH = 64;

// Headers that carry credentials whatever the provider says.
const ALWAYS = ['authorization', 'cookie', 'set-cookie', 'proxy-authorization', 'x-api-key'];
/** Names that carry credentials: matched case-insensitively anywhere in the name. */
const CREDENTIAL_NAME =
  /token|secret|passw|pwd|authoriz|signature|api[-_. ]?key|access[-_. ]?key|private[-_. ]?key|credential|cookie|session|^(?:x-)?(?:key|sign|sig|auth|pass)$/i;

/** Payload key names repeat from request to request (a provider's vocabulary): their answer is cached. */
const nameCache = new Map<string, boolean>();
const NAME_CACHE_SIZE = 4096;

export function isCredentialName(name: string): boolean {
  const hit = nameCache.get(name);
  if (hit !== undefined) return hit;
  const is = CREDENTIAL_NAME.test(name);
  if (name.length <= 64) {
    if (nameCache.size >= NAME_CACHE_SIZE) nameCache.clear();
    nameCache.set(name, is);
  }
  return is;
}

type Secrets = readonly (string | undefined | null)[] | SecretSet;
const toSet = (s: Secrets | undefined): SecretSet =>
  s === undefined ? { forms: [] } : Array.isArray(s) ? secretSet(s) : (s as SecretSet);

export function redactHeaders(
  headers: Record<string, string>,
  provider?: Provider,
  secrets?: Secrets,
): Record<string, string> {
  const named = new Set([...ALWAYS, ...(provider?.credentialHeaders ?? [])]);
  const set = toSet(secrets);
  return Object.fromEntries(
    Object.entries(headers).map(([k, v]) => [
      redactValues(k, set),
      named.has(k.toLowerCase()) || isCredentialName(k) ? REDACTED : redactValues(String(v), set),
    ]),
  );
}

export function redactQuery(query: Record<string, string>, secrets?: Secrets): Record<string, string> {
  const set = toSet(secrets);
  return Object.fromEntries(
    Object.entries(query).map(([k, v]) => [
      redactValues(k, set),
      isCredentialName(k) ? REDACTED : redactValues(String(v), set),
    ]),
  );
}

/**
 * The body as it may be stored: credentials redacted by name and by value, then truncated.
 * JSON (also after a BOM, top-level arrays, any nesting) is redacted on the parsed value and re-serialized, so an
 * escaped secret (`\u0073ecret`) is found too; a form body (`a=b&c=d`) field by field (a field holding JSON, such
 * as GitHub's `payload=`, as JSON); anything else as text.
 */
export function redactBody(raw: string, parsed: unknown, provider?: Provider, secrets?: Secrets): string {
  const set = toSet(secrets);
  const names = new Set((provider?.credentialBodyFields ?? []).map((f) => f.toLowerCase()));
  return truncate(redactText(raw, parsed, set, names), MAX_LOGGED_BODY);
}

function redactText(raw: string, parsed: unknown, set: SecretSet, names: Set<string>): string {
  const text = raw.replace(/^\uFEFF/, '');
  if (!text.trim()) return redactValues(raw, set);
  const json = parsed !== undefined && looksLikeJson(text) ? { ok: true, value: parsed } : tryJson(text);
  if (json.ok) return redactJson(json.value, set, names);
  if (looksLikeForm(text)) return redactForm(text, set, names);
  return redactValues(raw, set);
}

function looksLikeJson(text: string): boolean {
  return /^\s*[[{"\d\-tfn]/.test(text);
}

function tryJson(text: string): { ok: boolean; value?: unknown } {
  if (!looksLikeJson(text)) return { ok: false };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

/** `a=b&c=d` with at least one `=` and no whitespace/line breaks outside values' encodings. */
function looksLikeForm(text: string): boolean {
  return /^[^\s=&]+=[^\s]*$/.test(text.trim());
}

function redactForm(text: string, set: SecretSet, names: Set<string>): string {
  const out = new URLSearchParams();
  for (const [k, v] of new URLSearchParams(text.trim())) {
    if (isCredentialName(k) || names.has(k.toLowerCase())) out.append(redactValues(k, set), REDACTED);
    else {
      const inner = tryJson(v);
      out.append(
        redactValues(k, set),
        inner.ok && typeof inner.value === 'object' ? redactJson(inner.value, set, names) : redactValues(v, set),
      );
    }
  }
  // the marker stays readable (brackets need no encoding in a stored form body)
  return out.toString().split(encodeURIComponent(REDACTED)).join(REDACTED);
}

/** Depth of a JSON value, counted without recursion; stops counting past `limit`. */
export function jsonDepth(value: unknown, limit: number): number {
  let max = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (d > max) max = d;
    if (max > limit) return max;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, d + 1]);
  }
  return max;
}

function redactJson(value: unknown, set: SecretSet, names: Set<string>): string {
  if (jsonDepth(value, MAX_REDACT_DEPTH) > MAX_REDACT_DEPTH) {
    return `[body not stored: JSON nested deeper than ${MAX_REDACT_DEPTH} levels]`;
  }
  // depth is bounded now, so plain recursion (here and in JSON.stringify) is safe
  const walk = (v: unknown): unknown => {
    if (typeof v !== 'object' || v === null) return v;
    if (Array.isArray(v)) return v.map(walk);
    const out: Record<string, unknown> = {};
    for (const [k, child] of Object.entries(v))
      out[k] = isCredentialName(k) || names.has(k.toLowerCase()) ? REDACTED : walk(child);
    return out;
  };
  // by value once on the re-serialized text: every decoded string (keys too) appears there in its JSON-escaped
  // form, which is one of the forms looked for (an escaped `\u0073ecret` in the received text is decoded by now)
  return redactValues(JSON.stringify(walk(value)) ?? '', set);
}

/** Redacts the secrets from a free text (reasons, paths). */
export function redactString(text: string, secrets?: Secrets): string {
  return redactValues(text, toSet(secrets));
}

/**
 * The entry's free-text fields (reason, path, the normalized event's strings) with the secrets redacted by value.
 * Returns copies: the event itself goes on to the deploy unchanged.
 */
export function redactEntryValues<
  E extends { reason?: string; deliveryId?: string; event?: object; request?: { path: string } },
>(entry: E, secrets?: Secrets): E {
  const set = toSet(secrets);
  if (!set.forms.length) return entry;
  const strings = (o: object): Record<string, unknown> =>
    Object.fromEntries(
      Object.entries(o).map(([k, v]) => [
        k,
        typeof v === 'string' ? redactValues(v, set) : v && typeof v === 'object' && !Array.isArray(v) ? strings(v) : v,
      ]),
    );
  return {
    ...entry,
    ...(entry.reason !== undefined ? { reason: redactValues(entry.reason, set) } : {}),
    ...(entry.deliveryId !== undefined ? { deliveryId: redactValues(entry.deliveryId, set) } : {}),
    // the normalized event is flat (commit one level down): this recursion is bounded by its shape
    ...(entry.event ? { event: strings(entry.event) } : {}),
    ...(entry.request ? { request: { ...entry.request, path: redactValues(entry.request.path, set) } } : {}),
  };
}
