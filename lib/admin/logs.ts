/** Admin API: the trigger log (list newest first, read one entry, redeliver). */
import * as z from 'zod';
import { dispatch } from '../match/dispatch';
import { json, zodError } from '../receive/http';
import * as store from '../store/store';
import type { AdminRequest, Routes } from './router';

export const logListQuery = z.object({
  status: z.enum(store.LOG_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(2048).optional(),
  // a time range on receivedAt (ISO 8601, inclusive): a key range, so it costs no extra reads
  since: z.iso.datetime({ offset: true }).optional(),
  until: z.iso.datetime({ offset: true }).optional(),
});

async function list(req: AdminRequest) {
  if (!(await store.getTrigger(req.params.id))) return json(404, { message: 'unknown trigger' });
  const parsed = logListQuery.safeParse(req.query);
  if (!parsed.success) return zodError(parsed.error);
  const { status, limit, cursor, since, until } = parsed.data;
  if (cursor && !store.isValidCursor(cursor, req.params.id, status)) {
    return json(400, {
      message: 'invalid cursor: use the cursor of the previous page as given (same status)',
      field: 'cursor',
    });
  }
  const page = await store.listLogEntries(req.params.id, {
    status,
    limit,
    cursor,
    since: since ? new Date(since) : undefined,
    until: until ? new Date(until) : undefined,
  });
  return json(200, page);
}

async function get(req: AdminRequest) {
  const entry = await store.getLogEntry(req.params.id, req.params.logId);
  if (!entry) return json(404, { message: 'unknown log entry' });
  return json(200, entry);
}

/** Entries whose event may be deployed again: what was deployed, tried, or replaced by a newer event. */
const REDELIVERABLE: readonly store.LogStatus[] = ['succeeded', 'failed', 'superseded', 'cancelled'];

/**
 * Runs the deploy of an entry's event again, as a new entry (`redeliveryOf` names the old one) that goes through the
 * deploy state like a webhook: it is never stuck behind a waiting retry, and it runs even if the target runs that
 * artifact now (a redeliver is a deliberate request). The old entry keeps its history.
 */
async function redeliver(req: AdminRequest) {
  const { id, logId } = req.params;
  const trigger = await store.getTrigger(id);
  if (!trigger) return json(404, { message: 'unknown trigger' });
  const entry = await store.getLogEntry(id, logId);
  if (!entry) return json(404, { message: 'unknown log entry' });
  if (!entry.event || !REDELIVERABLE.includes(entry.status)) {
    return json(409, {
      message: `only a finished deploy (${REDELIVERABLE.join(', ')}) can be redelivered; this entry is ${entry.status}`,
      status: entry.status,
    });
  }
  const outcome = await dispatch(
    trigger,
    [entry.event],
    (fields) =>
      store.newLogEntry({
        triggerId: id,
        provider: entry.provider,
        origin: 'redeliver',
        request: {
          method: 'POST',
          path: req.event.rawPath ?? `/admin/triggers/${id}/logs/${logId}/redeliver`,
          headers: {},
          body: '',
          bodyBytes: 0,
        },
        ...fields,
      }),
    { redeliveryOf: logId },
  );
  switch (outcome.status) {
    case 'triggered':
      return json(202, { log: outcome.log, status: 'queued', redeliveryOf: logId });
    case 'untriggered':
      return json(409, { message: `not redelivered: ${outcome.reason}`, log: outcome.log, reason: outcome.reason });
    case 'unqueued':
      return json(503, { message: 'could not queue the deploy, retry later', log: outcome.log });
    case 'duplicate':
      return json(409, { message: 'not redelivered', log: outcome.log });
  }
}

export const logRoutes: Routes = {
  'GET /admin/triggers/{id}/logs': list,
  'GET /admin/triggers/{id}/logs/{logId}': get,
  'POST /admin/triggers/{id}/logs/{logId}/redeliver': redeliver,
};
