/**
 * A Kubernetes API server for tests (HTTPS with the test CA, test/fixtures/tls): GET and strategic-merge PATCH of
 * one Deployment, whose status moves the way kube-controller-manager's deployment controller moves it after a patch
 * of the pod template: metadata.generation goes up at once; then, one controller step at a time, observedGeneration
 * catches up, new replicas are created (updatedReplicas rises, old ones are terminated: status.replicas falls back to
 * spec.replicas), and they become available. How the rollout of an image goes is up to the test:
 * - `auto`:   the controller finishes the rollout before the next GET (a healthy rollout that ends by itself);
 * - `manual`: a step only when the test calls `step()` (so a test can look at every intermediate state);
 * - `never`:  new pods are created but never become available (an image that cannot be pulled, a crash loop): a
 *   RollingUpdate stalls after its surge pod, a Recreate has every new pod unavailable;
 * - `deadline`: never available, and after `deadlineAfterGets` reads the Progressing condition turns to
 *   ProgressDeadlineExceeded, as the controller does after spec.progressDeadlineSeconds.
 */
import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

const TLS_DIR = path.join(__dirname, '../fixtures/tls');
export const KUBE_CA_DATA = Buffer.from(fs.readFileSync(path.join(TLS_DIR, 'ca.crt'), 'utf8')).toString('base64');

export type Rollout = 'auto' | 'manual' | 'never' | 'deadline';

export interface KubeServer {
  base: string;
  /** GET/PATCH paths received, in order */
  requests: Array<{ method: string; at: number }>;
  deployment(): Record<string, any>;
  /** the container image now */
  image(): string;
  /** how the rollout of each image goes (default `auto`) */
  rollouts: Map<string, Rollout>;
  /** one controller step of the current rollout (manual mode); returns the status after it */
  step(): Record<string, any>;
  /** when each PATCH arrived (ms epoch) */
  patches: Array<{ at: number; image: string }>;
  close(): Promise<void>;
}

export async function startKubeServer(opts: {
  namespace: string;
  name: string;
  container: string;
  image: string;
  replicas?: number;
  deadlineAfterGets?: number;
  /** the Deployment's spec.strategy.type (default RollingUpdate) */
  strategy?: 'RollingUpdate' | 'Recreate';
}): Promise<KubeServer> {
  const replicas = opts.replicas ?? 3;
  const objectPath = `/apis/apps/v1/namespaces/${opts.namespace}/deployments/${opts.name}`;
  const dep: Record<string, any> = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: opts.name, namespace: opts.namespace, generation: 1, resourceVersion: '1' },
    spec: {
      replicas,
      progressDeadlineSeconds: 600,
      strategy: { type: opts.strategy ?? 'RollingUpdate' },
      template: {
        metadata: { labels: { app: opts.name } },
        spec: { containers: [{ name: opts.container, image: opts.image }] },
      },
    },
    status: {
      observedGeneration: 1,
      replicas,
      updatedReplicas: replicas,
      readyReplicas: replicas,
      availableReplicas: replicas,
      conditions: [{ type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable' }],
    },
  };
  const rollouts = new Map<string, Rollout>();
  const requests: KubeServer['requests'] = [];
  const patches: KubeServer['patches'] = [];
  let getsSincePatch = 0;
  const image = () => dep.spec.template.spec.containers[0].image as string;
  const mode = () => rollouts.get(image()) ?? 'auto';

  // the pods of the rollout: the old ReplicaSet's (all available) and the new one's
  let oldPods = replicas;
  let newPods = replicas;
  let newAvailable = replicas;
  const publish = () => {
    Object.assign(dep.status, {
      updatedReplicas: newPods,
      replicas: newPods + oldPods,
      availableReplicas: oldPods + newAvailable,
      readyReplicas: oldPods + newAvailable,
    });
  };

  /**
   * One step of the deployment controller towards the spec (or a stall). RollingUpdate with the defaults for 3
   * replicas (maxSurge 1, maxUnavailable 0): surge a new pod, wait for it to be available, terminate an old one.
   * Recreate: terminate every old pod, then create every new one. Returns whether anything changed.
   */
  const controllerStep = (): boolean => {
    const s = dep.status;
    const m = mode();
    const healthy = m !== 'never' && m !== 'deadline';
    let moved = true;
    if (s.observedGeneration < dep.metadata.generation) {
      s.observedGeneration = dep.metadata.generation;
      s.conditions = [{ type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated' }];
    } else if (opts.strategy === 'Recreate' && oldPods > 0) oldPods = 0;
    else if (opts.strategy === 'Recreate' && newPods < replicas) newPods = replicas;
    else if (newAvailable < newPods && healthy) newAvailable += 1;
    else if (newAvailable < newPods)
      moved = false; // the new pods never become available
    else if (oldPods > 0 && newPods + oldPods > replicas) oldPods -= 1;
    else if (newPods < replicas) newPods += 1;
    else moved = false;
    if (newAvailable === replicas && oldPods === 0)
      s.conditions = [{ type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable' }];
    if (m === 'deadline' && getsSincePatch >= (opts.deadlineAfterGets ?? 3))
      s.conditions = [
        {
          type: 'Progressing',
          status: 'False',
          reason: 'ProgressDeadlineExceeded',
          message: `ReplicaSet "${opts.name}-new" has timed out progressing.`,
        },
      ];
    publish();
    return moved;
  };
  const step = () => {
    controllerStep();
    return structuredClone(dep.status);
  };

  const server = https.createServer(
    {
      key: fs.readFileSync(path.join(TLS_DIR, 'server.key'), 'utf8'),
      cert: fs.readFileSync(path.join(TLS_DIR, 'server.crt'), 'utf8'),
    },
    (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const send = (code: number, body: unknown) => {
          res.writeHead(code, { 'content-type': 'application/json' });
          res.end(JSON.stringify(body));
        };
        requests.push({ method: req.method ?? '', at: Date.now() });
        if ((req.url ?? '').split('?')[0] !== objectPath) return send(404, { kind: 'Status', message: 'not found' });
        if (req.method === 'GET') {
          getsSincePatch += 1;
          // auto: the controller finished the whole rollout since the last read; never/deadline: as far as it gets
          if (mode() !== 'manual') while (controllerStep());
          return send(200, dep);
        }
        if (req.method === 'PATCH') {
          const patch = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          const next = patch?.spec?.template?.spec?.containers?.[0]?.image;
          if (next) dep.spec.template.spec.containers[0].image = next;
          const annotations = patch?.spec?.template?.metadata?.annotations;
          if (annotations) dep.spec.template.metadata.annotations = annotations;
          // a new pod template: a new generation and a new ReplicaSet with no pods yet
          dep.metadata.generation += 1;
          dep.metadata.resourceVersion = String(Number(dep.metadata.resourceVersion) + 1);
          oldPods = newPods + oldPods;
          newPods = 0;
          newAvailable = 0;
          getsSincePatch = 0;
          publish();
          patches.push({ at: Date.now(), image: image() });
          return send(200, dep);
        }
        send(405, { kind: 'Status', message: 'method not allowed' });
      });
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    base: `https://127.0.0.1:${port}`,
    requests,
    patches,
    rollouts,
    deployment: () => structuredClone(dep),
    image,
    step,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
