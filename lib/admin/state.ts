/**
 * Admin API: what runs now, and going back.
 * - GET  /admin/triggers/{id}/state     per lane: what runs now (`running`), the good artifact before it
 *   (`previous`), what is on its way (`inFlight`), and what a rollback would deploy (`rollbackTo`);
 * - POST /admin/triggers/{id}/rollback  deploys that good artifact again now, as a new entry (`origin: rollback`);
 *   body `{"lane": "..."}` when the trigger has more than one lane.
 */
import * as z from 'zod';
import { rollbackLane, rollbackTarget } from '../match/rollback';
import { json, zodError } from '../receive/http';
import { laneStates } from '../store/in-flight';
import * as deployState from '../store/deploy-state';
import * as store from '../store/store';
import type { AdminRequest, Routes } from './router';

export const rollbackRequestSchema = z.strictObject({
  /** a lane id as GET .../state lists it; optional when the trigger has one lane */
  lane: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,128}$/, 'a lane id as GET .../state lists it')
    .optional(),
});

/** A deploy-state ref as the API shows it: the entry, when, and what (tag, digest or commit). */
function shown(ref: deployState.StateRef | undefined) {
  if (!ref) return null;
  return {
    logId: ref.logId,
    at: ref.at,
    image: ref.image ?? null,
    tag: ref.tag ?? null,
    // digest for images, commit id for code (what "the same artifact" means)
    artifact: ref.artifact ?? null,
  };
}

async function state(req: AdminRequest) {
  const trigger = await store.getTrigger(req.params.id);
  if (!trigger) return json(404, { message: 'unknown trigger' });
  const lanes = await laneStates(trigger.id);
  return json(200, {
    triggerId: trigger.id,
    rollback: trigger.rollback ?? 'off',
    lanes: lanes.map(({ lane, state: s }) => ({
      lane,
      running: shown(s.current),
      previous: shown(s.previous),
      inFlight: shown(deployState.inFlight(s)),
      rollbackTo: shown(rollbackTarget(s)),
    })),
  });
}

async function rollback(req: AdminRequest) {
  const trigger = await store.getTrigger(req.params.id);
  if (!trigger) return json(404, { message: 'unknown trigger' });
  const parsed = rollbackRequestSchema.safeParse(req.body ?? {});
  if (!parsed.success) return zodError(parsed.error);
  const outcome = await rollbackLane(
    trigger,
    parsed.data.lane,
    req.event.rawPath ?? `/admin/triggers/${trigger.id}/rollback`,
  );
  switch (outcome.status) {
    case 'triggered':
      return json(202, { log: outcome.log, status: 'queued', origin: 'rollback' });
    case 'lane':
      return json(400, { message: outcome.reason, field: 'lane' });
    case 'nothing':
    case 'untriggered':
    case 'duplicate':
      return json(409, { message: `not rolled back: ${'reason' in outcome ? outcome.reason : outcome.status}` });
    case 'unqueued':
      return json(503, { message: 'could not queue the rollback, retry later', log: outcome.log });
  }
}

export const stateRoutes: Routes = {
  'GET /admin/triggers/{id}/state': state,
  'POST /admin/triggers/{id}/rollback': rollback,
};
