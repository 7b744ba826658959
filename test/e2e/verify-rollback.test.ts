/**
 * "Succeeded" means the new version runs (issue 22), end to end on the local stack: the deployer patches a
 * Deployment on a Kubernetes API test server whose status moves as kube-controller-manager moves it, the scheduler
 * (ScheduleQueue in the SQS stand-in) polls its rollout status, and the verdict, the rollback and the lane's state
 * follow from what the server says. Verification polls every second here (VERIFY_POLL_SECONDS=1).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { main } from '../../cli/index';
import { reconcileInFlight } from '../../lib/deploy/reconcile';
import { apiClient } from '../helpers/api';
import { KUBE_CA_DATA, startKubeServer, type KubeServer } from '../helpers/kube-server';
import { startTestStack } from '../helpers/stack';
import { startTargetServer } from '../helpers/target-server';

const REPO = 'registry.example.com/team/web';
const FINAL = (e: any) => ['succeeded', 'failed', 'superseded'].includes(e?.status);

let stack: Awaited<ReturnType<typeof startTestStack>>;
let api: ReturnType<typeof apiClient>;
const closers: Array<() => Promise<void>> = [];

beforeAll(async () => {
  stack = await startTestStack({ functionEnv: { VERIFY_POLL_SECONDS: '1' } });
  api = apiClient(stack.url, stack.adminToken);
  // the cluster token, in the local secret store (a `secretsManager` reference resolves from it locally)
  expect((await api.admin('PUT', '/admin/secrets/cluster', { value: 'test-cluster-token' })).status).toBe(200);
});
afterAll(async () => {
  for (const close of closers) await close();
  await stack?.stop();
});

async function kube(name: string, image: string, strategy?: 'Recreate'): Promise<KubeServer> {
  const server = await startKubeServer({ namespace: 'prod', name, container: 'web', image, replicas: 3, strategy });
  closers.push(server.close);
  return server;
}

async function trigger(name: string, server: KubeServer, extra: Record<string, unknown> = {}, verify?: unknown) {
  const res = await api.admin('POST', '/admin/triggers', {
    name,
    provider: 'api',
    match: { image: `${REPO}:v1`, tags: { all: true } },
    target: {
      type: 'kubernetes',
      apiServer: server.base,
      caData: KUBE_CA_DATA,
      auth: { token: { secretsManager: 'cluster' } },
      namespace: 'prod',
      kind: 'Deployment',
      name,
      container: 'web',
      ...(verify !== undefined ? { verify } : {}),
    },
    ...extra,
  });
  expect(res.status).toBe(201);
  return res.body as { id: string; secret: string };
}

async function push(t: { id: string; secret: string }, tag: string): Promise<string> {
  const res = await api.hook(`/hooks/api/${t.id}`, JSON.stringify({ secret_key: t.secret, tag }));
  expect(res.status).toBe(202);
  expect(res.body.status).toBe('triggered');
  return res.body.log as string;
}

/** Waits (generous deadline) until the entry satisfies `ok`; fails with the last entry read. */
async function waitFor(triggerId: string, logId: string, ok: (e: any) => boolean, ms = 60_000) {
  const entry = await api.waitForLog(triggerId, logId, ok, ms);
  expect({ logId, satisfied: ok(entry), status: entry?.status, reason: entry?.reason }).toMatchObject({
    satisfied: true,
  });
  return entry;
}

/** The CLI as a user runs it, against this stack. */
async function cli(args: string[]) {
  const out: string[] = [];
  const code = await main(args, {
    out: (t) => out.push(t),
    err: (t) => out.push(t),
    env: { TRIGGERFISH_URL: stack.url, TRIGGERFISH_ADMIN_TOKEN: stack.adminToken },
  });
  return { code, out: out.join('\n') };
}

const verificationOf = (e: any) => e?.attempts?.at(-1)?.verification;
const pollCount = (e: any) => verificationOf(e)?.pollCount ?? 0;

it('a healthy rollout is succeeded only once its status says so, step by step', async () => {
  const server = await kube('healthy', `${REPO}:v1`);
  server.rollouts.set(`${REPO}:v2`, 'manual');
  const t = await trigger('healthy', server);
  const logId = await push(t, 'v2');

  // patched, and verifying: the deployment's status has not moved at all yet
  let entry = await waitFor(t.id, logId, (e) => pollCount(e) >= 1);
  const patchedAt = server.patches.at(-1)!.at;
  expect(server.image()).toBe(`${REPO}:v2`);
  expect(entry.status).toBe('deploying');
  expect(verificationOf(entry).polls.at(-1).message).toMatch(/spec update to be observed/);

  // every controller step leaves it deploying until the last one
  const seen: string[] = [];
  for (;;) {
    const before = pollCount(entry);
    const status = server.step();
    entry = await waitFor(t.id, logId, (e) => FINAL(e) || pollCount(e) > before);
    const done = status.availableReplicas === 3 && status.updatedReplicas === 3 && status.replicas === 3;
    if (done) break;
    expect(entry.status).toBe('deploying');
    seen.push(verificationOf(entry).polls.at(-1).message);
  }
  expect(seen.some((m) => /1 out of 3 new replicas have been updated/.test(m))).toBe(true);
  expect(seen.some((m) => /old replicas are pending termination/.test(m))).toBe(true);
  entry = await waitFor(t.id, logId, FINAL);
  expect(entry.status).toBe('succeeded');
  const v = verificationOf(entry);
  expect(v.result).toBe('succeeded');
  expect(v.polls.at(-1)).toMatchObject({ ok: true, message: expect.stringMatching(/successfully rolled out/) });
  // for the report: patch -> verdict
  console.log(`healthy: patch -> succeeded in ${Date.parse(v.polls.at(-1).at) - patchedAt} ms, ${v.pollCount} polls`);

  const state = await api.admin('GET', `/admin/triggers/${t.id}/state`);
  expect(state.status).toBe(200);
  expect(state.body.lanes).toHaveLength(1);
  expect(state.body.lanes[0]).toMatchObject({ running: { logId, tag: 'v2' }, inFlight: null });
});

it('a rollout that never becomes available fails at its timeout, and rollback "auto" deploys the last good tag', async () => {
  // Recreate: the old pods are gone and the new ones never become available
  const server = await kube('broken', `${REPO}:v0`, 'Recreate');
  server.rollouts.set(`${REPO}:v2`, 'never');
  const t = await trigger('broken', server, { rollback: 'auto' }, { timeout: '5s' });

  // v1 rolls out by itself (auto): the lane's good artifact
  const good = await push(t, 'v1');
  const healthy = await waitFor(t.id, good, FINAL);
  expect(healthy.status).toBe('succeeded');
  const goodPatch = server.patches.find((p) => p.image === `${REPO}:v1`)!.at;
  console.log(
    `healthy (auto): patch -> succeeded in ${Date.parse(verificationOf(healthy).polls.at(-1).at) - goodPatch} ms, ${verificationOf(healthy).pollCount} polls`,
  );

  const bad = await push(t, 'v2');
  const failed = await waitFor(t.id, bad, FINAL);
  const patchedAt = server.patches.find((p) => p.image === `${REPO}:v2`)!.at;
  expect(failed.status).toBe('failed');
  expect(failed.reason).toMatch(
    /^verification failed: timeout after 5 s: 3 of 3 updated pods unavailable \(0 available\)/,
  );
  const v = verificationOf(failed);
  expect(v.result).toBe('failed');
  expect(v.polls.length).toBeGreaterThan(0);
  console.log(
    `never available: patch -> failed in ${Date.parse(failed.updatedAt) - patchedAt} ms, ${v.pollCount} polls`,
  );

  // the rollback: a new entry, origin rollback, that deploys v1 again through the deploy queue
  let rollback: any;
  const until = Date.now() + 60_000;
  while (!rollback && Date.now() < until) {
    const page = await api.admin('GET', `/admin/triggers/${t.id}/logs?limit=10`);
    rollback = page.body.items.find((e: any) => e.rollbackOf === bad);
    if (!rollback) await new Promise((r) => setTimeout(r, 200));
  }
  expect(rollback).toMatchObject({ origin: 'rollback', rollbackOf: bad });
  const back = await waitFor(t.id, rollback.id, FINAL);
  expect(back.status).toBe('succeeded');
  expect(back.reason).toBe(`rollback of ${bad} succeeded`);
  expect(back.event.tag).toBe('v1');
  expect(server.image()).toBe(`${REPO}:v1`);

  const state = await api.admin('GET', `/admin/triggers/${t.id}/state`);
  expect(state.body.lanes[0]).toMatchObject({ running: { logId: rollback.id, tag: 'v1' }, inFlight: null });
  const log = await api.admin('GET', `/admin/triggers/${t.id}/logs?limit=10`);
  console.log(
    'entries:',
    log.body.items.map((e: any) => `${e.id} ${e.status} ${e.origin ?? 'webhook'} ${e.event?.tag} ${e.reason ?? ''}`),
  );
});

it('ProgressDeadlineExceeded fails the deploy before the timeout; with rollback off the lane keeps its good one', async () => {
  const server = await startKubeServer({
    namespace: 'prod',
    name: 'stalled',
    container: 'web',
    image: `${REPO}:v0`,
    deadlineAfterGets: 3,
  });
  closers.push(server.close);
  server.rollouts.set(`${REPO}:v2`, 'deadline');
  const t = await trigger('stalled', server);
  const good = await push(t, 'v1');
  expect((await waitFor(t.id, good, FINAL)).status).toBe('succeeded');
  const bad = await push(t, 'v2');
  const failed = await waitFor(t.id, bad, FINAL);
  expect(failed.status).toBe('failed');
  expect(failed.reason).toMatch(/exceeded its progress deadline: ReplicaSet "stalled-new" has timed out progressing/);
  const state = await api.admin('GET', `/admin/triggers/${t.id}/state`);
  expect(state.body.lanes[0]).toMatchObject({ running: { logId: good, tag: 'v1' }, rollbackTo: { logId: good } });
  // no rollback entry: the trigger says off
  const log = await api.admin('GET', `/admin/triggers/${t.id}/logs?limit=10`);
  expect(log.body.items.some((e: any) => e.origin === 'rollback')).toBe(false);

  // the CLI shows it, and its rollback (POST .../rollback) deploys the good one again now
  const shown = await cli(['state', t.id]);
  expect(shown.code).toBe(0);
  expect(shown.out).toMatch(new RegExp(`v1 \\(${good},`));
  const res = await cli(['--json', 'rollback', t.id]);
  expect(res.code).toBe(0);
  const queued = JSON.parse(res.out);
  expect(queued).toMatchObject({ status: 'queued', origin: 'rollback' });
  const back = await waitFor(t.id, queued.log, FINAL);
  expect(back).toMatchObject({ status: 'succeeded', origin: 'rollback', rollbackOf: bad });
  expect(server.image()).toBe(`${REPO}:v1`);
});

it('a verification survives a lost poll message: the reconciler schedules the poll again, it does not redeploy', async () => {
  const server = await kube('durable', `${REPO}:v1`);
  server.rollouts.set(`${REPO}:v2`, 'manual');
  const t = await trigger('durable', server);
  const logId = await push(t, 'v2');
  await waitFor(t.id, logId, (e) => pollCount(e) >= 1);
  // what the local stack's start and the AWS sweep run: the entry is `deploying` with an unfinished verification
  const report = await reconcileInFlight({ cause: 'a test' });
  expect(report.reverified).toContain(logId);
  expect(report.requeued).not.toContain(logId);
  server.rollouts.set(`${REPO}:v2`, 'auto');
  const entry = await waitFor(t.id, logId, FINAL);
  expect(entry.status).toBe('succeeded');
  expect(entry.attempts).toHaveLength(1);
  expect(server.patches).toHaveLength(1);
});

it('verify.http: an http target is succeeded only once the /version endpoint serves the tag', async () => {
  let version = 'v1';
  const versionServer: Server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ version }));
  });
  await new Promise<void>((r) => versionServer.listen(0, '127.0.0.1', r));
  closers.push(() => new Promise<void>((r) => versionServer.close(() => r())));
  const hook = await startTargetServer();
  closers.push(hook.close);
  const url = `http://127.0.0.1:${(versionServer.address() as AddressInfo).port}/version`;
  const res = await api.admin('POST', '/admin/triggers', {
    name: 'http-verified',
    provider: 'api',
    match: { image: `${REPO}:v1`, tags: { all: true } },
    target: { type: 'http', url: `${hook.url}/deploy`, verify: { timeout: '5m', http: { url } } },
  });
  expect(res.status).toBe(201);
  const t = res.body;
  const logId = await push(t, 'v2');
  let entry = await waitFor(t.id, logId, (e) => pollCount(e) >= 2);
  expect(hook.calls).toHaveLength(1);
  expect(entry.status).toBe('deploying');
  expect(verificationOf(entry).polls.at(-1).message).toMatch(/body does not contain v2/);
  version = 'v2';
  entry = await waitFor(t.id, logId, FINAL);
  expect(entry.status).toBe('succeeded');
  expect(verificationOf(entry).polls.at(-1).message).toMatch(/the body contains v2/);
});
