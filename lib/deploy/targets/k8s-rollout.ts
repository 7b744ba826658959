/**
 * Whether a workload's rollout is done, by the rules `kubectl rollout status` applies (kubectl
 * pkg/polymorphichelpers/rollout_status.go), on the object as the API server answers a GET:
 * - Deployment: metadata.generation <= status.observedGeneration, then a Progressing condition with reason
 *   ProgressDeadlineExceeded fails; updatedReplicas >= spec.replicas, no old replicas (status.replicas <=
 *   updatedReplicas), availableReplicas >= updatedReplicas.
 * - StatefulSet (RollingUpdate): observedGeneration caught up, readyReplicas >= spec.replicas, then with a
 *   rollingUpdate partition: updatedReplicas >= replicas - partition; without: updateRevision == currentRevision.
 * - DaemonSet (RollingUpdate): observedGeneration caught up, updatedNumberScheduled and numberAvailable >=
 *   desiredNumberScheduled.
 * - CronJob, and the OnDelete strategies kubectl has no status for: nothing to wait for.
 * Pure functions: the caller reads the object (GET, the target's RBAC) and says what it means.
 */
import type { KubernetesKind } from './kubernetes';

export type RolloutStatus =
  | { done: true; ok: true; message: string }
  | { done: true; ok: false; message: string }
  | { done: false; message: string };

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const int = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
/** spec.replicas defaults to 1 on the server; an answer without it is taken as the server would default it */
const replicasOf = (spec: Obj): number => (typeof spec.replicas === 'number' ? spec.replicas : 1);

export function rolloutStatus(kind: KubernetesKind, object: unknown): RolloutStatus {
  const o = obj(object);
  const name = String(obj(o.metadata).name ?? '');
  const generation = int(obj(o.metadata).generation);
  const spec = obj(o.spec);
  const status = obj(o.status);
  const observed = int(status.observedGeneration);
  switch (kind) {
    case 'CronJob':
      return { done: true, ok: true, message: 'a CronJob has no rollout: its next Job runs the new image' };
    case 'Deployment': {
      if (generation > observed)
        return { done: false, message: 'waiting for the deployment spec update to be observed' };
      const conditions = Array.isArray(status.conditions) ? status.conditions.map(obj) : [];
      const progressing = conditions.find((c) => c.type === 'Progressing');
      if (progressing?.reason === 'ProgressDeadlineExceeded') {
        const why = typeof progressing.message === 'string' ? `: ${progressing.message.slice(0, 300)}` : '';
        return { done: true, ok: false, message: `deployment "${name}" exceeded its progress deadline${why}` };
      }
      const desired = replicasOf(spec);
      const updated = int(status.updatedReplicas);
      const total = int(status.replicas);
      const available = int(status.availableReplicas);
      if (updated < desired)
        return { done: false, message: `${updated} out of ${desired} new replicas have been updated` };
      if (total > updated) return { done: false, message: `${total - updated} old replicas are pending termination` };
      if (available < updated)
        return {
          done: false,
          message: `${updated - available} of ${updated} updated pods unavailable (${available} available)`,
        };
      return { done: true, ok: true, message: `deployment "${name}" successfully rolled out (${available} available)` };
    }
    case 'StatefulSet': {
      const strategy = obj(spec.updateStrategy);
      if (strategy.type !== undefined && strategy.type !== 'RollingUpdate')
        return { done: true, ok: true, message: `updateStrategy ${String(strategy.type)}: no rollout to wait for` };
      if (observed === 0 || generation > observed)
        return { done: false, message: 'waiting for the statefulset spec update to be observed' };
      const desired = replicasOf(spec);
      const ready = int(status.readyReplicas);
      if (ready < desired) return { done: false, message: `${desired - ready} of ${desired} pods not ready` };
      const updated = int(status.updatedReplicas);
      const rolling = strategy.rollingUpdate === undefined ? undefined : obj(strategy.rollingUpdate);
      if (rolling) {
        const partition = typeof rolling.partition === 'number' ? rolling.partition : undefined;
        if (partition !== undefined && updated < desired - partition)
          return { done: false, message: `${updated} out of ${desired - partition} new pods have been updated` };
        return { done: true, ok: true, message: `partitioned roll out complete: ${updated} new pods updated` };
      }
      if (status.updateRevision !== status.currentRevision)
        return { done: false, message: `${updated} pods at revision ${String(status.updateRevision)} so far` };
      return {
        done: true,
        ok: true,
        message: `statefulset rolling update complete at ${String(status.currentRevision)}`,
      };
    }
    case 'DaemonSet': {
      const strategy = obj(spec.updateStrategy);
      if (strategy.type !== undefined && strategy.type !== 'RollingUpdate')
        return { done: true, ok: true, message: `updateStrategy ${String(strategy.type)}: no rollout to wait for` };
      if (generation > observed)
        return { done: false, message: 'waiting for the daemon set spec update to be observed' };
      const desired = int(status.desiredNumberScheduled);
      const updated = int(status.updatedNumberScheduled);
      const available = int(status.numberAvailable);
      if (updated < desired) return { done: false, message: `${updated} out of ${desired} new pods have been updated` };
      if (available < desired) return { done: false, message: `${desired - available} of ${desired} pods unavailable` };
      return { done: true, ok: true, message: `daemon set "${name}" successfully rolled out` };
    }
  }
}
