/**
 * How a trigger log entry is laid out in its DynamoDB item, and read back. Every KB of item is a write unit on every
 * write of the entry (created, then deploying, then succeeded rewrite it), so the item holds plainly only what
 * DynamoDB itself must see (keys, index keys, TTL) and what later writes change (status, reason, updatedAt,
 * attempts, notifications, supersededBy). What never changes after the entry is written (provider, deliveryId,
 * event, lane, request, duplicateOf, redeliveryOf) is one brotli-compressed binary attribute `entryBr`:
 *
 *   brotli( JSON of those fields, without request.body  +  "\n"  +  request.body as it is )
 *
 * The body follows the JSON unescaped (as a JSON string every `"` of a JSON body would be `\"`: 4-8% larger after
 * compression). Nothing is stored twice: the id is the sort key's, receivedAt the id's time (a ULID), updatedAt is
 * left out until it differs from receivedAt, empty
 * attempts are left out, and event and request fields that follow from others (event.provider, event.deliveryId,
 * repoFullName, image, request.path and method) are left out when they do follow (`null` when one is absent that
 * would follow) and put back on reading; `origin` is left out when it is what legacyOrigin reads (lib/core/origin.ts). Binary, not base64: DynamoDB counts a binary attribute by its bytes.
 *
 * An attempt's `response` above 256 bytes is kept as `responseBr` (brotli) inside the attempt (attemptItem).
 *
 * Entries written before this layout still read: a plain `request` map, or `requestBr` (the request alone,
 * brotli JSON), plain `id`, `receivedAt`, `updatedAt`, `event`, ... are taken as they are.
 */
import { brotliCompressSync, brotliDecompressSync, constants as zlibConstants } from 'node:zlib';
import { decodeTime } from 'ulid';
import { imageRef } from '../core/event';
import { IN_FLIGHT_STATUSES } from '../core/log-status';
import { legacyOrigin } from '../core/origin';
import { itemSize } from './item-size';
import type { Attempt, LogEntry } from './store';

/** Fields no write changes after the entry is created: they go into `entryBr`. */
const FIXED = [
  'provider',
  'deliveryId',
  'event',
  'lane',
  'request',
  'duplicateOf',
  'redeliveryOf',
  'origin',
  'rollbackOf',
  'receivedAt',
] as const;

/**
 * Quality 5: 0.1 ms of CPU for a GitHub push (8.7 KB of text -> 1.77 KB). Quality 10 is 7% smaller for 25x the CPU
 * (3.3 ms; Docker Hub: 1.5 ms), quality 11 9% for 75x (9.9 ms): the slow pass (10) runs only when it can save a
 * write unit (packEntry). Window and mode parameters made no difference at these sizes (bench/entry-size.ts).
 */
const FAST = 5;
const SMALL = 10;
/** About how much smaller the slow pass makes a blob (7.3-7.5% on the GitHub and Docker Hub pushes measured). */
const SMALL_GAIN = 0.07;
const brotli = (text: Buffer, quality: number) =>
  brotliCompressSync(text, {
    params: { [zlibConstants.BROTLI_PARAM_QUALITY]: quality, [zlibConstants.BROTLI_PARAM_SIZE_HINT]: text.length },
  });

type Fields = Record<string, unknown>;
/** A field that follows from others: its value, or undefined when none follows. */
type Rule = [field: string, derive: (o: Fields, entry: Fields) => unknown];

const EVENT_RULES: Rule[] = [
  ['provider', (_e, entry) => entry.provider],
  ['deliveryId', (_e, entry) => entry.deliveryId],
  [
    'repoFullName',
    (e) =>
      typeof e.repository !== 'string'
        ? undefined
        : typeof e.namespace === 'string'
          ? `${e.namespace}/${e.repository}`
          : e.repository,
  ],
  [
    'image',
    (e) =>
      typeof e.repoFullName !== 'string'
        ? undefined
        : imageRef({
            registry: e.registry as string | undefined,
            repoFullName: e.repoFullName,
            tag: e.tag as string | undefined,
            digest: e.digest as string | undefined,
          }),
  ],
];
const REQUEST_RULES: Rule[] = [
  ['method', () => 'POST'],
  [
    'path',
    (_r, entry) =>
      typeof entry.provider === 'string' && typeof entry.triggerId === 'string'
        ? `/hooks/${entry.provider}/${entry.triggerId}`
        : undefined,
  ],
];

/** `o` without the fields that follow from the others (in rule order), `null` for one that is absent but would follow. */
function omitDerived(o: Fields, rules: Rule[], entry: Fields): Fields {
  const out = { ...o };
  for (const [k, derive] of rules) {
    const d = derive(o, entry);
    if (o[k] === d) delete out[k];
    else if (o[k] === undefined) out[k] = null;
  }
  return out;
}

/** The reverse of omitDerived (rules in the same order: a later rule may use a field an earlier one put back). */
function restoreDerived(o: Fields, rules: Rule[], entry: Fields): Fields {
  const out = { ...o };
  for (const [k, derive] of rules) {
    if (o[k] === null) delete out[k];
    else if (!(k in o)) {
      const d = derive(out, entry);
      if (d !== undefined) out[k] = d;
    }
  }
  return out;
}

/** A UTF-16 half without its other half: such text does not survive UTF-8 (String.isWellFormed is ES2024). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const timeOfId = (id: unknown): string | undefined => {
  if (typeof id !== 'string') return undefined;
  try {
    return new Date(decodeTime(id)).toISOString();
  } catch {
    return undefined; // not a ULID: receivedAt is then stored
  }
};

/** The text that `entryBr` compresses (exported for the size tests). */
export function fixedText(entry: LogEntry): string {
  const e = entry as unknown as Fields;
  const fixed: Fields = {};
  for (const k of FIXED) if (e[k] !== undefined) fixed[k] = e[k];
  if (fixed.receivedAt === timeOfId(entry.id)) delete fixed.receivedAt;
  // left out when it is what an entry without one reads as (a sender's, a redelivery): only a test event, or a
  // sender's request carrying the old test header, stores it
  if (fixed.origin === legacyOrigin(entry)) delete fixed.origin;
  if (entry.event) fixed.event = omitDerived(entry.event as unknown as Fields, EVENT_RULES, e);
  let body = '';
  if (entry.request) {
    const request = omitDerived(entry.request as unknown as Fields, REQUEST_RULES, e);
    // only well-formed text survives UTF-8 as it is; anything else stays a JSON string (escaped)
    if (typeof request.body === 'string' && !LONE_SURROGATE.test(request.body)) {
      body = request.body;
      delete request.body;
    }
    fixed.request = request;
  }
  // JSON.stringify never writes a raw line break: the first one ends the JSON
  return `${JSON.stringify(fixed)}\n${body}`;
}

function unpackFixed(blob: Uint8Array, entry: Fields): Fields {
  const text = brotliDecompressSync(blob).toString('utf8');
  const nl = text.indexOf('\n');
  const fixed = JSON.parse(text.slice(0, nl)) as Fields;
  const withEntry = { ...entry, ...fixed };
  if (fixed.event) fixed.event = restoreDerived(fixed.event as Fields, EVENT_RULES, withEntry);
  if (fixed.request) {
    const request = restoreDerived(fixed.request as Fields, REQUEST_RULES, withEntry);
    if (!('body' in request)) request.body = text.slice(nl + 1);
    fixed.request = request;
  }
  return fixed;
}

/**
 * Room for what a deploy adds to an entry that waits for one: its attempt (an HTTP target's short answer, about
 * 150 bytes; the `inFlight` key it drops is 15).
 */
const ATTEMPT_ROOM = 140;
const units = (bytes: number) => Math.ceil(bytes / 1024);

/**
 * The entry's own attributes as stored (`keys`, the key and index attributes, first). Compressed fast; once more at
 * the small setting when the fast result lies just above a KB, now or (for an entry waiting for a deploy) once its
 * attempt is added, so that the slower pass is paid only when it saves a write unit.
 */
export function packEntry(entry: LogEntry, keys: Fields): Fields {
  const { id: _id, attempts, updatedAt, ...rest } = entry;
  const plain: Fields = { ...keys };
  for (const [k, v] of Object.entries(rest))
    if (!(FIXED as readonly string[]).includes(k) && v !== undefined) plain[k] = v;
  if (attempts?.length) plain.attempts = attempts.map(attemptItem);
  const inFlight = IN_FLIGHT_STATUSES.includes(entry.status);
  if (updatedAt !== entry.receivedAt) plain.updatedAt = updatedAt;
  const text = Buffer.from(fixedText(entry), 'utf8');
  const item = { ...plain, entryBr: brotli(text, FAST) };
  const size = itemSize(item);
  const gain = item.entryBr.length * SMALL_GAIN;
  const saves = (bytes: number) => units(bytes) > units(bytes - gain);
  if (saves(size) || (inFlight && saves(size + ATTEMPT_ROOM))) {
    const small = brotli(text, SMALL);
    if (small.length < item.entryBr.length) item.entryBr = small;
  }
  return item;
}

/**
 * A target's answer kept in an attempt (up to 4 KiB: an HTML error page, a JSON echo) is written again with every
 * later write of the entry: above this many bytes it is stored as `responseBr` (brotli) when that is smaller.
 */
const COMPRESS_RESPONSE_ABOVE = 256;

/** An attempt as it is appended to the stored entry (store.updateLogStatus). */
export function attemptItem(attempt: Attempt): Record<string, unknown> {
  const { response, ...rest } = attempt;
  const bytes = typeof response === 'string' ? Buffer.byteLength(response, 'utf8') : 0;
  if (bytes <= COMPRESS_RESPONSE_ABOVE || LONE_SURROGATE.test(response!)) return { ...attempt };
  const packed = brotli(Buffer.from(response!, 'utf8'), FAST);
  return packed.length < bytes ? { ...rest, responseBr: packed } : { ...attempt };
}

function attemptFromItem(a: Fields): Attempt {
  const { responseBr, ...rest } = a as Fields & { responseBr?: Uint8Array };
  return (responseBr
    ? { ...rest, response: brotliDecompressSync(responseBr).toString('utf8') }
    : rest) as unknown as Attempt;
}

/** An entry as stored (either layout) -> the entry as the API shows it: keys and index keys dropped. */
export function entryFromItem(item: Record<string, unknown>): LogEntry {
  const {
    sk,
    statusKey: _st,
    inFlight: _if,
    requestBr,
    entryBr,
    ...rest
  } = item as Fields & {
    sk?: string;
    requestBr?: Uint8Array;
    entryBr?: Uint8Array;
  };
  const out: Fields = { ...rest };
  if (requestBr) out.request = JSON.parse(brotliDecompressSync(requestBr).toString('utf8'));
  if (out.id === undefined && typeof sk === 'string' && sk.startsWith('log#')) out.id = sk.slice('log#'.length);
  if (entryBr) Object.assign(out, unpackFixed(entryBr, out));
  if (out.receivedAt === undefined) out.receivedAt = timeOfId(out.id);
  if (out.updatedAt === undefined) out.updatedAt = out.receivedAt;
  if (out.origin === undefined) out.origin = legacyOrigin(out);
  out.attempts = Array.isArray(out.attempts) ? out.attempts.map((a) => attemptFromItem(a as Fields)) : [];
  return out as unknown as LogEntry;
}
