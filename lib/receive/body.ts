/**
 * The one place a webhook body turns from received bytes into a parsed value. Signatures are checked over
 * the exact bytes (WebhookRequest.rawBytes), never over what this makes of them; decoding only decides what
 * the providers parse:
 * - JSON (any content type): UTF-8, a leading BOM ignored (RFC 8259 allows it), nested at most MAX_BODY_DEPTH;
 * - `application/x-www-form-urlencoded` for providers with `formPayload` (GitHub, Gogs, Gitea offer it): the
 *   JSON is the url-encoded `payload` field, decoded the same way.
 * A body that cannot be decoded is a reason for a 400 naming the field, never an exception.
 */

/** Deeper than this is refused: no sender nests this far, and deeper values would reach recursive code. */
export const MAX_BODY_DEPTH = 64;

export type DecodedBody = { ok: true; body: unknown; form: boolean } | { ok: false; field: string; reason: string };

const FORM = 'application/x-www-form-urlencoded';
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** The media type of a Content-Type header, lowercased, without parameters ("application/json"). */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0].trim().toLowerCase();
}

/**
 * How deep `text` nests arrays and objects, counted by one pass over the characters (no recursion, so a
 * 10,000-deep body cannot overflow the stack), stopping as soon as `limit` is exceeded. Brackets inside
 * strings do not count. Not a validator: JSON.parse still decides whether the text is JSON.
 */
export function jsonDepthExceeds(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (++depth > limit) return true;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      depth--;
    }
  }
  return false;
}

/** JSON text -> value, or the reason it is refused (empty, too deep, not JSON). */
export function parseJsonText(text: string, field = '(body)'): DecodedBody {
  const t = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (!t.trim()) return { ok: false, field, reason: field === '(body)' ? 'body is empty' : `${field} is empty` };
  if (jsonDepthExceeds(t, MAX_BODY_DEPTH)) {
    return {
      ok: false,
      field,
      reason: `${field === '(body)' ? 'body' : field} is nested deeper than ${MAX_BODY_DEPTH} levels`,
    };
  }
  try {
    return { ok: true, body: JSON.parse(t), form: false };
  } catch (e) {
    return {
      ok: false,
      field,
      reason: `${field === '(body)' ? 'body' : field} is not valid JSON: ${(e as Error).message}`,
    };
  }
}

/** The received bytes as the providers parse them. */
export function decodeBody(
  bytes: Buffer,
  contentType: string | undefined,
  opts: { formPayload?: boolean } = {},
): DecodedBody {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return { ok: false, field: '(body)', reason: 'body is not valid JSON: it is not UTF-8 text' };
  }
  if (opts.formPayload && mediaType(contentType) === FORM) {
    // url-encoding is ASCII; URLSearchParams decodes %XX as UTF-8 and '+' as space, as browsers and senders do
    const payload = new URLSearchParams(text).get('payload');
    if (payload === null) return { ok: false, field: 'payload', reason: 'form body has no payload field' };
    const parsed = parseJsonText(payload, 'payload');
    return parsed.ok ? { ...parsed, form: true } : parsed;
  }
  return parseJsonText(text);
}
