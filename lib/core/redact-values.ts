/**
 * Redaction by value: removes known secret values (a trigger's secrets, a target's header values) from any text,
 * in the forms a sender or a target may write them: as is (also inside `Bearer <secret>`), URL-encoded (both
 * `%20` and form `+`, upper- and lowercase hex), JSON-escaped, and Base64. Name-based redaction cannot find a
 * secret sent under a name nobody listed; this finds it wherever it is.
 *
 * Written by hand (no library does "replace these values in every encoding"): plain split/join per form,
 * linear in the text per secret, no regular expressions built from secrets.
 */

export const REDACTED = '[redacted]';

/** Shorter values are not redacted by value: they would match ordinary text everywhere. */
export const MIN_SECRET_LENGTH = 4;

/** The forms `secret` may take in stored text, longest first (so that no form is left half-replaced). */
export function secretForms(secret: string): string[] {
  if (secret.length < MIN_SECRET_LENGTH) return [];
  const uri = encodeURIComponent(secret);
  const forms = new Set<string>([
    secret,
    uri,
    uri.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()),
    uri.replace(/%20/g, '+'),
    new URLSearchParams({ v: secret }).toString().slice(2),
    JSON.stringify(secret).slice(1, -1),
    // in a JSON string that was itself JSON-encoded (a body field holding JSON)
    JSON.stringify(JSON.stringify(secret).slice(1, -1)).slice(1, -1),
    Buffer.from(secret, 'utf8').toString('base64'),
    Buffer.from(secret, 'utf8').toString('base64url'),
  ]);
  return [...forms].filter((f) => f.length >= MIN_SECRET_LENGTH).sort((a, b) => b.length - a.length);
}

/** A compiled set of secrets: build once per request, apply to many strings. */
export interface SecretSet {
  readonly forms: readonly string[];
}

/** The forms of recently seen secrets (a warm container sees the same triggers again); small and bounded. */
const formsCache = new Map<string, string[]>();
const FORMS_CACHE_SIZE = 256;

function cachedForms(secret: string): string[] {
  let forms = formsCache.get(secret);
  if (!forms) {
    forms = secretForms(secret);
    if (formsCache.size >= FORMS_CACHE_SIZE) formsCache.delete(formsCache.keys().next().value as string);
    formsCache.set(secret, forms);
  }
  return forms;
}

export function secretSet(secrets: readonly (string | undefined | null)[]): SecretSet {
  const all = new Set<string>();
  for (const s of secrets) if (typeof s === 'string') for (const f of cachedForms(s)) all.add(f);
  return { forms: [...all].sort((a, b) => b.length - a.length) };
}

/** `text` with every form of every secret replaced by REDACTED. */
export function redactValues(text: string, secrets: readonly (string | undefined | null)[] | SecretSet): string {
  const set = Array.isArray(secrets) ? secretSet(secrets) : (secrets as SecretSet);
  let out = text;
  for (const form of set.forms) if (out.includes(form)) out = out.split(form).join(REDACTED);
  return out;
}

/** True when `text` holds any form of any of the secrets (for tests and checks). */
export function containsSecret(text: string, secrets: readonly (string | undefined | null)[] | SecretSet): boolean {
  const set = Array.isArray(secrets) ? secretSet(secrets) : (secrets as SecretSet);
  return set.forms.some((f) => text.includes(f));
}
