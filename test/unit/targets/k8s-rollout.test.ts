/** The rollout rules of `kubectl rollout status` (kubectl pkg/polymorphichelpers/rollout_status.go), per kind. */
import { rolloutStatus } from '../../../lib/deploy/targets/k8s-rollout';

const deployment = (status: Record<string, unknown>, generation = 5, replicas = 3) => ({
  metadata: { name: 'web', generation },
  spec: { replicas },
  status,
});

describe('Deployment', () => {
  const done = { observedGeneration: 5, replicas: 3, updatedReplicas: 3, availableReplicas: 3 };
  it('waits until the spec update is observed, whatever the counts say', () => {
    expect(rolloutStatus('Deployment', deployment({ ...done, observedGeneration: 4 }))).toEqual({
      done: false,
      message: 'waiting for the deployment spec update to be observed',
    });
  });
  it('waits for updated replicas, then old ones to go, then availability', () => {
    expect(rolloutStatus('Deployment', deployment({ ...done, updatedReplicas: 1, replicas: 4 })).message).toBe(
      '1 out of 3 new replicas have been updated',
    );
    expect(rolloutStatus('Deployment', deployment({ ...done, replicas: 4 })).message).toBe(
      '1 old replicas are pending termination',
    );
    expect(rolloutStatus('Deployment', deployment({ ...done, availableReplicas: 1 }))).toEqual({
      done: false,
      message: '2 of 3 updated pods unavailable (1 available)',
    });
  });
  it('is done when all are updated and available, and failed on ProgressDeadlineExceeded', () => {
    expect(rolloutStatus('Deployment', deployment(done))).toMatchObject({ done: true, ok: true });
    const stalled = deployment({
      ...done,
      updatedReplicas: 1,
      conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'timed out' }],
    });
    expect(rolloutStatus('Deployment', stalled)).toEqual({
      done: true,
      ok: false,
      message: 'deployment "web" exceeded its progress deadline: timed out',
    });
    // the deadline only counts once the controller saw this generation
    expect(rolloutStatus('Deployment', { ...stalled, metadata: { name: 'web', generation: 6 } }).done).toBe(false);
  });
  it('takes an absent spec.replicas as the server default (1)', () => {
    const one = {
      metadata: { generation: 1 },
      spec: {},
      status: { observedGeneration: 1, updatedReplicas: 1, replicas: 1, availableReplicas: 1 },
    };
    expect(rolloutStatus('Deployment', one)).toMatchObject({ done: true, ok: true });
  });
});

describe('StatefulSet', () => {
  const sts = (status: Record<string, unknown>, updateStrategy?: unknown) => ({
    metadata: { name: 'db', generation: 2 },
    spec: { replicas: 3, ...(updateStrategy ? { updateStrategy } : {}) },
    status: { observedGeneration: 2, readyReplicas: 3, updatedReplicas: 3, ...status },
  });
  it('waits for ready pods, then for the update revision to become the current one', () => {
    expect(rolloutStatus('StatefulSet', sts({ readyReplicas: 1 })).message).toBe('2 of 3 pods not ready');
    expect(rolloutStatus('StatefulSet', sts({ updateRevision: 'db-2', currentRevision: 'db-1' })).done).toBe(false);
    expect(rolloutStatus('StatefulSet', sts({ updateRevision: 'db-2', currentRevision: 'db-2' }))).toMatchObject({
      done: true,
      ok: true,
    });
    expect(rolloutStatus('StatefulSet', sts({ observedGeneration: 0 })).done).toBe(false);
  });
  it('with a rollingUpdate partition: done once the pods above it are updated', () => {
    const strategy = { type: 'RollingUpdate', rollingUpdate: { partition: 1 } };
    expect(rolloutStatus('StatefulSet', sts({ updatedReplicas: 1 }, strategy)).done).toBe(false);
    expect(rolloutStatus('StatefulSet', sts({ updatedReplicas: 2 }, strategy))).toMatchObject({ done: true, ok: true });
  });
  it('OnDelete has no rollout to wait for', () => {
    expect(rolloutStatus('StatefulSet', sts({ readyReplicas: 0 }, { type: 'OnDelete' }))).toMatchObject({
      done: true,
      ok: true,
    });
  });
});

describe('DaemonSet and CronJob', () => {
  const ds = (status: Record<string, unknown>) => ({
    metadata: { name: 'agent', generation: 4 },
    spec: {},
    status: {
      observedGeneration: 4,
      desiredNumberScheduled: 5,
      updatedNumberScheduled: 5,
      numberAvailable: 5,
      ...status,
    },
  });
  it('waits for updated, then available pods on every node', () => {
    expect(rolloutStatus('DaemonSet', ds({ updatedNumberScheduled: 3 })).message).toBe(
      '3 out of 5 new pods have been updated',
    );
    expect(rolloutStatus('DaemonSet', ds({ numberAvailable: 4 })).message).toBe('1 of 5 pods unavailable');
    expect(rolloutStatus('DaemonSet', ds({}))).toMatchObject({ done: true, ok: true });
    expect(rolloutStatus('DaemonSet', ds({ observedGeneration: 3 })).done).toBe(false);
  });
  it('a CronJob has nothing to verify', () => {
    expect(rolloutStatus('CronJob', {})).toMatchObject({ done: true, ok: true });
  });
});
