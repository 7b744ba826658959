/**
 * Cutting stored text with a visible marker (`…[truncated N bytes]`), never inside a UTF-8 character. In core so
 * that every stage (receive, deploy, notify) cuts the same way.
 */

export function truncate(text: string, max: number): string {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes <= max) return text;
  let cut = Buffer.from(text, 'utf8').subarray(0, max);
  // do not end inside a multi-byte character
  let end = cut.length;
  while (end > 0 && (cut[end - 1] & 0xc0) === 0x80) end--;
  if (end > 0 && cut[end - 1] >= 0xc0) end--;
  cut = cut.subarray(0, end);
  return `${cut.toString('utf8')}…[truncated ${bytes - cut.length} bytes]`;
}

/** Longest response kept per attempt (the http target keeps 4 KiB plus its marker). */
const MAX_ATTEMPT_RESPONSE_BYTES = 4096 + 256;

/**
 * An attempt as it may be appended to an entry: response, error and detail strings cut with a marker (for the
 * deployer, before `updateLogStatus`). With MAX_ENTRY_BYTES for the entry, about 40 such attempts still fit an
 * item; a caller that may append more (redeliveries) should keep only the latest ones.
 */
export function fitAttempt<A extends { response?: string; error?: string; details?: Record<string, unknown> }>(
  attempt: A,
): A {
  const out: A = { ...attempt };
  if (typeof out.response === 'string') out.response = truncate(out.response, MAX_ATTEMPT_RESPONSE_BYTES);
  if (typeof out.error === 'string') out.error = truncate(out.error, 2048);
  if (out.details) {
    out.details = Object.fromEntries(
      Object.entries(out.details)
        .slice(0, 50)
        .map(([k, v]) => [k, typeof v === 'string' ? truncate(v, 1024) : v]),
    );
  }
  return out;
}
