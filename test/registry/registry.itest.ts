/**
 * `npm run test:registry`: a real CNCF Distribution registry (Debian's docker-registry) as the sender.
 *
 * The registry runs on loopback with two notification endpoints, one per trigger of the local stack: `pushes`
 * (default actions) and `deletes` (actions: delete, tags v1/v2). Two different tiny OCI images are built with umoci
 * and pushed as team/web:v1 and :v2 with skopeo, v1 is read back (pulls) and then deleted. Checked:
 * - each manifest push deploys once, with the right image (registry host:port/team/web:<tag>);
 * - blob pushes and pulls are `untriggered` (202) with a reason; the deletes are `untriggered` for `pushes`;
 * - the tag delete deploys under `deletes` only (the digest delete that comes with it names no tag);
 * - the registry's own counters: nothing pending, no failure, every notification answered 2xx (a 4xx would be
 *   re-sent for ever and hold back every later notification).
 * Needs `apt-get install -y docker-registry skopeo umoci`; fails (never skips) without them.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { apiClient, sleep } from '../helpers/api';
import { startTestStack } from '../helpers/stack';
import { startTargetServer } from '../helpers/target-server';

const run = promisify(execFile);
const PROGRAMS = ['docker-registry', 'skopeo', 'umoci'];
const APT = 'apt-get update && apt-get install -y docker-registry skopeo umoci';

let stack: Awaited<ReturnType<typeof startTestStack>>;
let api: ReturnType<typeof apiClient>;
let target: Awaited<ReturnType<typeof startTargetServer>>;
let registry: ChildProcess | undefined;
let dir: string;
let registryVersion = '';

function missingPrograms(): string[] {
  return PROGRAMS.filter((p) => spawnSync('sh', ['-c', `command -v ${p}`]).status !== 0);
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Polls `probe` until it returns a value; throws `what` after the deadline (a wait, not a timed assertion). */
async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

interface EndpointMetrics {
  name: string;
  Metrics: {
    Pending: number;
    Events: number;
    Successes: number;
    Failures: number;
    Errors: number;
    Statuses: Record<string, number>;
  };
}

let regPort: number;
let debugPort: number;
const host = () => `127.0.0.1:${regPort}`;

async function endpoints(): Promise<EndpointMetrics[]> {
  const res = await fetch(`http://127.0.0.1:${debugPort}/debug/vars`);
  return ((await res.json()) as { registry: { notifications: { endpoints: EndpointMetrics[] } } }).registry
    .notifications.endpoints;
}

async function skopeo(...args: string[]): Promise<void> {
  // HOME: skopeo and umoci keep no state we want outside the temp dir
  await run('skopeo', args, { env: { ...process.env, HOME: dir }, timeout: 60000 });
}

async function allLogs(triggerId: string): Promise<any[]> {
  const page = await api.admin('GET', `/admin/triggers/${triggerId}/logs?limit=100`);
  return page.body.items;
}

const created: Record<string, { id: string; secret: string }> = {};

beforeAll(async () => {
  const missing = missingPrograms();
  if (missing.length > 0) {
    throw new Error(`npm run test:registry needs ${missing.join(', ')} (Debian packages). Install them with: ${APT}`);
  }
  registryVersion = (await run('docker-registry', ['--version'])).stdout.trim();
  dir = mkdtempSync(join(tmpdir(), 'tf-registry-'));
  stack = await startTestStack({ maxReceiveCount: 2, retryBaseSeconds: 0 });
  api = apiClient(stack.url, stack.adminToken);
  target = await startTargetServer();

  const body = { image: '{{image}}', tag: '{{tag}}', digest: '{{digest}}', action: '{{action}}', log: '{{logId}}' };
  for (const [name, match, extra] of [
    // queue "all": two quick pushes both deploy (with "latest" the second may supersede the first while it waits)
    ['pushes', { namespace: 'team', repository: 'web' }, { queue: 'all' }],
    ['deletes', { namespace: 'team', repository: 'web', actions: ['delete'], tags: { list: ['v1', 'v2'] } }, {}],
  ] as const) {
    const res = await api.admin('POST', '/admin/triggers', {
      name: `registry-${name}`,
      provider: 'distribution',
      match,
      target: { type: 'http', url: `${target.url}/deploy/${name}`, body },
      ...extra,
    });
    expect(res.status).toBe(201);
    expect(res.body.headers).toEqual({ Authorization: `Bearer ${res.body.secret}` });
    expect(res.body.webhookUrl).not.toContain(res.body.secret);
    created[name] = { id: res.body.id, secret: res.body.secret };
  }

  regPort = await freePort();
  debugPort = await freePort();
  const endpointBlock = Object.entries(created)
    .map(
      ([name, t]) => `    - name: ${name}
      url: ${stack.url}/hooks/distribution/${t.id}
      headers:
        Authorization: [Bearer ${t.secret}]
      timeout: 5s
      threshold: 5
      backoff: 1s`,
    )
    .join('\n');
  writeFileSync(
    join(dir, 'config.yml'),
    `version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: ${join(dir, 'data')}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:${regPort}
  debug:
    addr: 127.0.0.1:${debugPort}
notifications:
  endpoints:
${endpointBlock}
`,
  );
  const log = openSync(join(dir, 'registry.log'), 'a');
  registry = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: ['ignore', log, log] });
  await waitFor(
    'the registry to listen',
    async () => ((await fetch(`http://${host()}/v2/`)).status === 200 ? true : undefined),
    20000,
  );

  // two different images (a second push of the same bytes would rightly be "already running")
  await run('umoci', ['init', '--layout', join(dir, 'img')]);
  for (const tag of ['v1', 'v2']) {
    await run('umoci', ['new', '--image', `${join(dir, 'img')}:${tag}`]);
    mkdirSync(join(dir, tag));
    writeFileSync(join(dir, tag, 'hello.txt'), `image ${tag}\n`);
    await run('umoci', ['insert', '--image', `${join(dir, 'img')}:${tag}`, join(dir, tag, 'hello.txt'), '/hello.txt']);
  }
}, 120000);

afterAll(async () => {
  if (registry && registry.exitCode === null) {
    registry.kill('SIGTERM');
    await new Promise((r) => registry!.once('exit', r));
  }
  await stack?.stop();
  await target?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('a real registry:2 as the sender', () => {
  it('pushes deploy once each, blobs and pulls are untriggered, the delete deploys only where deletes are asked for, nothing is left to retry', async () => {
    const started = Date.now();
    const repo = `docker://${host()}/team/web`;
    await skopeo('copy', '--dest-tls-verify=false', `oci:${join(dir, 'img')}:v1`, `${repo}:v1`);
    await skopeo('copy', '--dest-tls-verify=false', `oci:${join(dir, 'img')}:v2`, `${repo}:v2`);
    await skopeo('inspect', '--tls-verify=false', `${repo}:v1`);
    await skopeo('delete', '--tls-verify=false', `${repo}:v1`);

    // every notification delivered: the registry's counters for both endpoints settle
    const settled = await waitFor('the registry to deliver every notification', async () => {
      const eps = await endpoints();
      return eps.length === 2 &&
        eps.every((e) => e.Metrics.Pending === 0 && e.Metrics.Events > 0 && e.Metrics.Successes === e.Metrics.Events)
        ? eps
        : undefined;
    });
    // and every deploy finished
    const logs = await waitFor('the deploys to finish', async () => {
      const [pushes, deletes] = await Promise.all([allLogs(created.pushes.id), allLogs(created.deletes.id)]);
      const busy = [...pushes, ...deletes].some((e) => e.status === 'queued' || e.status === 'deploying');
      return busy ? undefined : { pushes, deletes };
    });
    const elapsedMs = Date.now() - started;

    // the registry: nothing pending, nothing failed, every answer 2xx
    for (const e of settled) {
      expect(e.Metrics.Failures).toBe(0);
      expect(e.Metrics.Errors).toBe(0);
      expect(Object.keys(e.Metrics.Statuses).every((s) => /^2\d\d /.test(s))).toBe(true);
    }
    const again = await endpoints();
    expect(again.map((e) => e.Metrics.Pending)).toEqual([0, 0]);

    // one log entry per notification received
    const byName = Object.fromEntries(settled.map((e) => [e.name, e.Metrics]));
    expect(logs.pushes).toHaveLength(byName.pushes.Events);
    expect(logs.deletes).toHaveLength(byName.deletes.Events);

    // pushes: exactly the two manifest pushes deployed, once each, with the registry's host and the tag
    const deployedPushes = logs.pushes.filter((e: any) => e.status === 'succeeded');
    expect(deployedPushes.map((e: any) => e.event.image).sort()).toEqual([
      `${host()}/team/web:v1`,
      `${host()}/team/web:v2`,
    ]);
    const pushCalls = target.calls.filter((c) => c.url === '/deploy/pushes').map((c) => JSON.parse(c.body));
    expect(pushCalls.map((c) => c.image).sort()).toEqual([`${host()}/team/web:v1`, `${host()}/team/web:v2`]);
    expect(pushCalls.every((c) => c.action === 'push' && /^sha256:[0-9a-f]{64}$/.test(c.digest))).toBe(true);
    expect(new Set(pushCalls.map((c) => c.digest)).size).toBe(2);

    // everything else under `pushes` is untriggered with a reason: blobs, pulls, the deletes
    const others = logs.pushes.filter((e: any) => e.status !== 'succeeded');
    expect(others.length).toBeGreaterThan(0);
    expect(
      others.every((e: any) => e.status === 'untriggered' && typeof e.reason === 'string' && e.reason.length > 0),
    ).toBe(true);
    const reasons = others.map((e: any) => e.reason as string);
    expect(reasons.some((r) => /^blob push \(/.test(r))).toBe(true);
    expect(reasons.some((r) => /^blob pull \(/.test(r))).toBe(true);
    expect(reasons.some((r) => /action "pull" is acted on only by a trigger that lists it/.test(r))).toBe(true);
    expect(reasons.filter((r) => /action "delete" is acted on only by a trigger that lists it/.test(r))).toHaveLength(
      2,
    );

    // deletes: the tag delete of v1 deploys once; the digest delete (no tag) and every push are untriggered
    const deployedDeletes = logs.deletes.filter((e: any) => e.status === 'succeeded');
    expect(deployedDeletes.map((e: any) => [e.event.action, e.event.image])).toEqual([
      ['delete', `${host()}/team/web:v1`],
    ]);
    const deleteCalls = target.calls.filter((c) => c.url === '/deploy/deletes').map((c) => JSON.parse(c.body));
    expect(deleteCalls.map((c) => [c.action, c.image])).toEqual([['delete', `${host()}/team/web:v1`]]);
    const digestDelete = logs.deletes.find((e: any) => e.event?.action === 'delete' && !e.event.tag);
    expect(digestDelete).toMatchObject({ status: 'untriggered' });
    expect(
      logs.deletes.filter((e: any) => e.event?.action === 'push').every((e: any) => e.status === 'untriggered'),
    ).toBe(true);

    // the credential never lands in the trigger log
    for (const [name, t] of Object.entries(created)) {
      expect(JSON.stringify(logs[name as 'pushes' | 'deletes'])).not.toContain(t.secret);
    }

    // what the run measured, for the README and the report
    const count = (entries: any[]) =>
      entries.reduce<Record<string, number>>((acc, e) => ((acc[e.status] = (acc[e.status] ?? 0) + 1), acc), {});
    console.log(
      JSON.stringify({
        registry: registryVersion,
        notifications: Object.fromEntries(settled.map((e) => [e.name, e.Metrics])),
        logStatuses: { pushes: count(logs.pushes), deletes: count(logs.deletes) },
        deployCalls: { pushes: pushCalls.length, deletes: deleteCalls.length },
        elapsedMs,
      }),
    );
  }, 180000);
});
