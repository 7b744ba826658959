/**
 * Size rules for what a sender gives us, applied once, centrally, after normalization (so every provider gets
 * them), and the cut that makes every trigger log entry fit a DynamoDB item (400 KB).
 *
 * - checkEventLimits: a field longer than any real sender allows is a 400 naming the field (an OCI tag is at
 *   most 128 characters, a repository path 255: distribution-spec; a DNS host name 253 plus a port).
 * - eventProblem: that, then the grammar of each name (lib/core/artifact-names.ts), for one event: what ingest
 *   (webhooks and ECR) checks once after normalizing, for every provider.
 * - fitEntry: whatever is stored is cut with a marker, so the entry always fits, with room left for the
 *   attempts the deployer appends later.
 */
import type { NormalizedEvent } from '../core/event';
import type { LogEntry } from '../store/store';
import { truncate } from '../core/truncate';
import { eventNameProblem, type NameProblem } from '../core/artifact-names';

/** The contract's largest webhook body (API Gateway's own limit is higher); the local gateway reads a little more. */
export const MAX_BODY_BYTES = 1024 * 1024;
export { fitAttempt } from '../core/truncate';

/** Longest value per event field (characters); fields not named here are only cut when stored. */
export const EVENT_LIMITS: Partial<Record<string, number>> = {
  tag: 128,
  repository: 255,
  repoFullName: 255,
  namespace: 255,
  registry: 261,
  // registry + "/" + path + ":" + tag, or "@" + digest
  image: 261 + 1 + 255 + 1 + 1024,
  digest: 1024,
  branch: 1024,
  deliveryId: 1024,
  owner: 1024,
  provider: 64,
  action: 64,
  kind: 64,
  occurredAt: 64,
  callbackUrl: 2048,
  'commit.id': 1024,
};

/** The first field of any event over its limit: `{field: "event.tag", message}`; undefined when all fit. */
export function checkEventLimits(events: readonly NormalizedEvent[]): NameProblem | undefined {
  for (const event of events) {
    const flat: Array<[string, unknown]> = Object.entries(event);
    if (event.commit && typeof event.commit === 'object') {
      for (const [k, v] of Object.entries(event.commit)) flat.push([`commit.${k}`, v]);
    }
    for (const [field, value] of flat) {
      const max = EVENT_LIMITS[field];
      if (max !== undefined && typeof value === 'string' && value.length > max) {
        return {
          field: `event.${field}`,
          message: `invalid ${field}: ${value.length} characters; a ${field} has at most ${max}`,
        };
      }
    }
  }
  return undefined;
}

/** The first problem of one event: a field over its length limit, else a name that breaks its grammar. */
export function eventProblem(event: NormalizedEvent): NameProblem | undefined {
  return checkEventLimits([event]) ?? eventNameProblem(event);
}

/** Longest commit message an event carries on (to the queue, the templates, the matcher's keyword). */
export const MAX_COMMIT_MESSAGE_BYTES = 16 * 1024;

/**
 * The events with their free text cut (marker `…[truncated N bytes]`): git allows a commit message of any
 * length, so it is not a 400, but the deploy message on the queue (SQS: 1 MiB at most, 256 KiB in older
 * setups) and the templates get at most MAX_COMMIT_MESSAGE_BYTES of it.
 */
export function fitEvents(events: readonly NormalizedEvent[]): NormalizedEvent[] {
  return events.map((e) => {
    if (!e.commit) return e;
    const c = e.commit;
    if (
      Buffer.byteLength(c.message ?? '') <= MAX_COMMIT_MESSAGE_BYTES &&
      (c.author ?? '').length <= 1024 &&
      (c.url ?? '').length <= 2048
    )
      return e;
    return {
      ...e,
      commit: {
        ...c,
        message: truncate(c.message ?? '', MAX_COMMIT_MESSAGE_BYTES),
        ...(c.author !== undefined ? { author: truncate(c.author, 1024) } : {}),
        ...(c.url !== undefined ? { url: truncate(c.url, 2048) } : {}),
      },
    };
  });
}

/** DynamoDB's item limit is 400 KB; an entry is kept well below it so the deployer's attempts still fit. */
export const MAX_ENTRY_BYTES = 200 * 1024;
/** Longest string kept per stored field (the request body has its own, larger limit). */
export const MAX_FIELD_BYTES = 4096;
/** Most names kept per map (headers, query). */
export const MAX_MAP_ENTRIES = 100;
const BODY_BYTES = 16 * 1024 + 64;

const cutMap = (m: Record<string, unknown> | undefined, maxValue: number, maxName: number) => {
  if (!m || typeof m !== 'object') return m;
  const entries = Object.entries(m);
  const out: Record<string, unknown> = {};
  for (const [k, v] of entries.slice(0, MAX_MAP_ENTRIES)) {
    // DynamoDB refuses empty attribute names in maps
    const name = truncate(k, maxName) || '(empty)';
    out[name] = typeof v === 'string' ? truncate(v, maxValue) : v;
  }
  if (entries.length > MAX_MAP_ENTRIES) out['…'] = `[${entries.length - MAX_MAP_ENTRIES} more cut]`;
  return out;
};

function cut(entry: LogEntry, maxField: number, maxBody: number): LogEntry {
  const s = (v: string | undefined, max = maxField) => (typeof v === 'string' ? truncate(v, max) : v);
  const out: LogEntry = { ...entry, reason: s(entry.reason), deliveryId: s(entry.deliveryId) };
  if (entry.event) {
    const event = { ...entry.event } as unknown as Record<string, unknown>;
    for (const [k, v] of Object.entries(event)) if (typeof v === 'string') event[k] = truncate(v, maxField);
    if (entry.event.commit) {
      const commit = { ...entry.event.commit } as unknown as Record<string, unknown>;
      for (const [k, v] of Object.entries(commit)) if (typeof v === 'string') commit[k] = truncate(v, maxField);
      event.commit = commit;
    }
    out.event = event as unknown as NormalizedEvent;
  }
  if (entry.request) {
    out.request = {
      ...entry.request,
      method: truncate(entry.request.method, 64),
      path: truncate(entry.request.path, maxField),
      headers: cutMap(entry.request.headers, maxField, 256) as Record<string, string>,
      query: cutMap(entry.request.query, maxField, 256) as Record<string, string> | undefined,
      body: truncate(entry.request.body, maxBody),
    };
  }
  return out;
}

const size = (entry: LogEntry) => Buffer.byteLength(JSON.stringify(entry), 'utf8');

/**
 * The entry with every stored string cut (marker `…[truncated N bytes]`) so that it fits MAX_ENTRY_BYTES.
 * Use it wherever an entry is built (ingest, ECR), before it is written.
 */
export function fitEntry(entry: LogEntry): LogEntry {
  let out = cut(entry, MAX_FIELD_BYTES, BODY_BYTES);
  if (size(out) <= MAX_ENTRY_BYTES) return out;
  out = cut(entry, 256, 4096);
  if (size(out) <= MAX_ENTRY_BYTES) return out;
  // cannot happen with the caps above (100 names x 512 bytes per map); kept as the last guard
  out = cut(entry, 64, 256);
  return out;
}
