/** Admin API: the trigger log (list newest first, read one entry, redeliver). */
import * as z from 'zod';
import { dedupKeys, messageDeduplicationId } from '../match/dedup';
import { json, zodError } from '../receive/http';
import { enqueueDeploy } from '../store/queue';
import * as store from '../store/store';
import type { AdminRequest, Routes } from './router';

const listQuery = z.object({
  status: z.enum(store.LOG_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(2048).optional(),
});

async function list(req: AdminRequest) {
  if (!(await store.getTrigger(req.params.id))) return json(404, { message: 'unknown trigger' });
  const parsed = listQuery.safeParse(req.query);
  if (!parsed.success) return zodError(parsed.error);
  const { status, limit, cursor } = parsed.data;
  if (cursor && !store.isValidCursor(cursor, req.params.id)) {
    return json(400, { message: 'invalid cursor: use the cursor of the previous page as given', field: 'cursor' });
  }
  const page = await store.listLogEntries(req.params.id, { status, limit, cursor });
  return json(200, page);
}

async function get(req: AdminRequest) {
  const entry = await store.getLogEntry(req.params.id, req.params.logId);
  if (!entry) return json(404, { message: 'unknown log entry' });
  return json(200, entry);
}

/** Runs the deploy of a triggered entry again: the entry goes back to `queued` and gets new attempts. */
async function redeliver(req: AdminRequest) {
  const { id, logId } = req.params;
  if (!(await store.getTrigger(id))) return json(404, { message: 'unknown trigger' });
  const entry = await store.getLogEntry(id, logId);
  if (!entry) return json(404, { message: 'unknown log entry' });
  if (!entry.event || !['succeeded', 'failed'].includes(entry.status) || entry.duplicateOf) {
    return json(409, {
      message: `only a finished deploy (succeeded or failed) can be redelivered; this entry is ${entry.status}`,
      status: entry.status,
    });
  }
  // Only one redelivery at a time: the status must still be the one we read.
  const changed = await store.updateLogStatus(id, logId, {
    status: 'queued',
    reason: `redelivery requested at ${new Date().toISOString()}`,
    onlyFrom: [entry.status],
  });
  if (!changed) return json(409, { message: 'the entry changed meanwhile; read it again' });
  const keys = dedupKeys(entry.event);
  // a fresh SQS deduplication id: a redelivery must not be swallowed by the first delivery's
  const dedupId = messageDeduplicationId(id, [`redeliver:${logId}:${Date.now()}`, ...keys], logId);
  try {
    await enqueueDeploy({ triggerId: id, logId, event: entry.event }, dedupId);
  } catch (e) {
    await store.updateLogStatus(id, logId, { status: entry.status, reason: 'redelivery could not be queued' });
    throw e;
  }
  return json(202, { log: logId, status: 'queued' });
}

export const logRoutes: Routes = {
  'GET /admin/triggers/{id}/logs': list,
  'GET /admin/triggers/{id}/logs/{logId}': get,
  'POST /admin/triggers/{id}/logs/{logId}/redeliver': redeliver,
};
