/**
 * Rollbacks: a deploy of a lane's last good artifact, as a new entry (`origin: "rollback"`, `rollbackOf`) through
 * the same path as any deploy (dispatch: the deploy state, the queue, superseded by a newer push). Two callers:
 * - a verification that failed, on a trigger with `rollback: "auto"` (lib/schedule): back to the lane's `current`,
 *   which the failed deploy never replaced. A rollback whose own verification fails is not rolled back again.
 * - the admin API's POST /admin/triggers/{id}/rollback: back to the good artifact before the one the lane runs now.
 */
import { laneStates } from '../store/in-flight';
import * as deployState from '../store/deploy-state';
import * as store from '../store/store';
import type { Trigger } from '../trigger';
import { dispatch, type Outcome } from './dispatch';
import { describeArtifact } from './identity';

export type RollbackOutcome = Outcome | { status: 'nothing'; reason: string };

/**
 * What "roll back" means for a lane now: when the latest finished deploy is not `current` (it failed, or was
 * superseded after the target took it), `current` is the good artifact to return to; otherwise `previous`.
 */
export function rollbackTarget(state: deployState.DeployState): deployState.StateRef | undefined {
  const current = state.current;
  if (current && state.doneUpTo && state.doneUpTo > current.logId) return current;
  return state.previous;
}

/** After a failed verification of `failed`: deploys the lane's `current` again, unless `failed` was a rollback. */
export async function rollbackAfterFailure(
  trigger: Trigger,
  failed: store.LogEntry,
): Promise<RollbackOutcome | undefined> {
  if (trigger.rollback !== 'auto' || !failed.lane) return undefined;
  if (failed.rollbackOf) return { status: 'nothing', reason: 'a failed rollback is not rolled back again' };
  const state = await deployState.getDeployState(trigger.id, failed.lane);
  // a newer event is on its way already: it replaces the failed one, no rollback needed
  const flying = deployState.inFlight(state);
  if (flying) return { status: 'nothing', reason: `${flying.logId}, a newer event, is on its way` };
  if (!state.current) return { status: 'nothing', reason: 'the lane has no good deploy to go back to' };
  return rollbackTo(trigger, state.current, failed.id, `verification of ${failed.id} failed`);
}

/** The admin's rollback of a lane (the trigger's only lane when none is named). */
export async function rollbackLane(
  trigger: Trigger,
  lane: string | undefined,
  path: string,
): Promise<RollbackOutcome | { status: 'lane'; reason: string }> {
  const lanes = await laneStates(trigger.id);
  const chosen = lane ? lanes.find((l) => l.lane === lane) : lanes.length === 1 ? lanes[0] : undefined;
  if (!chosen)
    return {
      status: 'lane',
      reason: lane
        ? `unknown lane ${lane}`
        : `the trigger has ${lanes.length} lanes: name one (GET .../state lists them)`,
    };
  const to = rollbackTarget(chosen.state);
  if (!to) return { status: 'nothing', reason: 'the lane has no earlier good deploy to go back to' };
  const undo =
    chosen.state.current && to !== chosen.state.current ? chosen.state.current.logId : chosen.state.latest?.logId;
  return rollbackTo(trigger, to, undo ?? to.logId, 'requested through the admin API', path);
}

async function rollbackTo(
  trigger: Trigger,
  to: deployState.StateRef,
  rollbackOf: string,
  why: string,
  path = `/admin/triggers/${trigger.id}/rollback`,
): Promise<RollbackOutcome> {
  const good = await store.getLogEntry(trigger.id, to.logId);
  if (!good?.event) return { status: 'nothing', reason: `the entry of the good deploy (${to.logId}) has expired` };
  const what = describeArtifact(to, good.event.kind);
  return dispatch(
    trigger,
    [good.event],
    (fields) =>
      store.newLogEntry({
        triggerId: trigger.id,
        provider: good.provider,
        request: { method: 'POST', path, headers: {}, body: '', bodyBytes: 0 },
        ...fields,
        reason: `rollback of ${rollbackOf} (${why}): deploying ${what} again, from ${to.logId}`,
      }),
    { rollbackOf },
  );
}
