/**
 * End to end on the local stack: real HTTP API, DynamoDB Local, the SQS stand-in, the deployer poller,
 * and a real local HTTP server as the deploy target.
 */
import { createHmac } from 'node:crypto';
import { apiClient } from '../helpers/api';
import { fixture } from '../helpers/fixtures';
import { startTestStack } from '../helpers/stack';
import { startTargetServer } from '../helpers/target-server';

const TERMINAL = (e: any) => e?.status === 'succeeded' || e?.status === 'failed';

let stack: Awaited<ReturnType<typeof startTestStack>>;
let api: ReturnType<typeof apiClient>;
let target: Awaited<ReturnType<typeof startTargetServer>>;
let failing: Awaited<ReturnType<typeof startTargetServer>>;

beforeAll(async () => {
  stack = await startTestStack({ maxReceiveCount: 3, retryBaseSeconds: 0 });
  api = apiClient(stack.url, stack.adminToken);
  target = await startTargetServer();
  failing = await startTargetServer(() => ({ status: 500, body: 'deploy service down' }));
});
afterAll(async () => {
  await stack?.stop();
  await target?.close();
  await failing?.close();
});

async function createTrigger(body: Record<string, unknown>) {
  const res = await api.admin('POST', '/admin/triggers', body);
  expect(res.status).toBe(201);
  return res.body as { id: string; secret: string; webhookUrl: string; headers: Record<string, string> };
}

const dockerhubBody = (tag: string, pushedAt = 1417566161) => {
  const body = JSON.parse(fixture('dockerhub/push-docs-example.json'));
  body.push_data.tag = tag;
  body.push_data.pushed_at = pushedAt;
  return JSON.stringify(body);
};

describe('a Docker Hub push through the whole pipeline', () => {
  it('is authenticated, matched, queued, deployed with the templated body and logged as succeeded', async () => {
    const trigger = await createTrigger({
      name: 'web-prod',
      provider: 'dockerhub',
      match: { actions: ['push'], namespace: 'svendowideit', repository: 'test*', tags: { regex: 'release-v.*' } },
      target: {
        type: 'http',
        url: `${target.url}/deploy/{{repository}}`,
        headers: { 'X-Deploy-Token': 'target-secret' },
        body: { image: '{{image}}', tag: '{{tag}}', by: '{{owner}}', log: '{{logId}}' },
      },
    });
    expect(trigger.webhookUrl).toBe(
      `${stack.url}/hooks/dockerhub/${trigger.id}?token=${encodeURIComponent(trigger.secret)}`,
    );

    const before = target.calls.length;
    const res = await api.hook(trigger.webhookUrl.slice(stack.url.length), dockerhubBody('release-v1.2'));
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ log: expect.any(String), status: 'triggered' });

    const entry = await api.waitForLog(trigger.id, res.body.log, TERMINAL);
    expect(entry.status).toBe('succeeded');
    expect(entry.event).toMatchObject({ action: 'push', repoFullName: 'svendowideit/testhook', tag: 'release-v1.2' });
    expect(entry.attempts).toHaveLength(1);
    expect(entry.attempts[0]).toMatchObject({ statusCode: 200, response: '{"ok":true}' });
    // the token in the URL is not stored
    expect(JSON.stringify(entry)).not.toContain(trigger.secret);

    const call = target.calls.slice(before).find((c) => c.url === '/deploy/testhook');
    expect(call).toBeDefined();
    expect(call!.method).toBe('POST');
    expect(call!.headers['x-deploy-token']).toBe('target-secret');
    expect(JSON.parse(call!.body)).toEqual({
      image: 'svendowideit/testhook:release-v1.2',
      tag: 'release-v1.2',
      by: 'trustedbuilder',
      log: res.body.log,
    });
  });

  it('a non-matching tag is answered 202 untriggered with the reason, logged, and not deployed', async () => {
    const trigger = await createTrigger({
      name: 'web-untriggered',
      provider: 'dockerhub',
      match: { tags: { regex: 'release-v.*' } },
      target: { type: 'http', url: `${target.url}/never` },
    });
    const res = await api.hook(`/hooks/dockerhub/${trigger.id}?token=${trigger.secret}`, dockerhubBody('dev'));
    expect(res.status).toBe(202);
    expect(res.body).toEqual({
      log: expect.any(String),
      status: 'untriggered',
      reason: 'tag "dev" does not match regex release-v.*',
    });
    const entry = (await api.admin('GET', `/admin/triggers/${trigger.id}/logs/${res.body.log}`)).body;
    expect(entry).toMatchObject({ status: 'untriggered', reason: 'tag "dev" does not match regex release-v.*' });
    expect(target.calls.some((c) => c.url === '/never')).toBe(false);
  });

  it('a re-delivery answers duplicate with the first log id and deploys once', async () => {
    const trigger = await createTrigger({
      name: 'web-dedup',
      provider: 'dockerhub',
      target: { type: 'http', url: `${target.url}/dedup` },
    });
    const path = `/hooks/dockerhub/${trigger.id}?token=${trigger.secret}`;
    const body = dockerhubBody('1.0.0', 1700000000);
    const first = await api.hook(path, body);
    const second = await api.hook(path, body);
    expect(first.status).toBe(202);
    expect(second.status).toBe(200);
    expect(second.body).toEqual({ status: 'duplicate', log: first.body.log });
    await api.waitForLog(trigger.id, first.body.log, TERMINAL);
    // a new push of the same tag (another push time) is not a duplicate
    const third = await api.hook(path, dockerhubBody('1.0.0', 1700000100));
    expect(third.status).toBe(202);
    await api.waitForLog(trigger.id, third.body.log, TERMINAL);
    expect(target.calls.filter((c) => c.url === '/dedup')).toHaveLength(2);
    const logs = (await api.admin('GET', `/admin/triggers/${trigger.id}/logs`)).body.items;
    expect(logs.map((l: any) => l.status).sort()).toEqual(['duplicate', 'succeeded', 'succeeded']);
    expect(logs.find((l: any) => l.status === 'duplicate')).toMatchObject({
      duplicateOf: first.body.log,
      reason: `re-delivery of ${first.body.log}`,
    });
  });

  it('a target that answers 500 is retried up to the limit and ends failed, each attempt recorded', async () => {
    const trigger = await createTrigger({
      name: 'web-failing',
      provider: 'dockerhub',
      target: { type: 'http', url: `${failing.url}/hook` },
    });
    const before = failing.calls.length;
    const res = await api.hook(
      `/hooks/dockerhub/${trigger.id}?token=${trigger.secret}`,
      dockerhubBody('2.0.0', 1700000200),
    );
    expect(res.status).toBe(202);
    const entry = await api.waitForLog(trigger.id, res.body.log, (e) => e?.status === 'failed', 30000);
    expect(entry.status).toBe('failed');
    expect(entry.reason).toBe('attempt 3 of 3 failed: HTTP 500; giving up');
    expect(entry.attempts).toHaveLength(3);
    for (const a of entry.attempts) expect(a).toMatchObject({ statusCode: 500, response: 'deploy service down' });
    expect(failing.calls.length - before).toBe(3);
  });
});

describe('credentials', () => {
  const githubBody = fixture('github/push-octokit-with-new-branch.json');
  const sign = (secret: string, body: string) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

  it('a bad signature gives 401, an unauthorized entry, and no deploy', async () => {
    const trigger = await createTrigger({
      name: 'gh-bad-sig',
      provider: 'github',
      target: { type: 'http', url: `${target.url}/gh-bad` },
    });
    const res = await api.hook(`/hooks/github/${trigger.id}`, githubBody, {
      'x-github-event': 'push',
      'x-github-delivery': 'bad-sig-1',
      'x-hub-signature-256': sign('not-the-secret', githubBody),
    });
    expect(res.status).toBe(401);
    const logs = (await api.admin('GET', `/admin/triggers/${trigger.id}/logs?status=unauthorized`)).body.items;
    expect(logs).toHaveLength(1);
    expect(logs[0].reason).toBe('X-Hub-Signature-256 signature does not match the body');
    expect(logs[0].request.headers['x-hub-signature-256']).toBe('[redacted]');
    expect(target.calls.some((c) => c.url === '/gh-bad')).toBe(false);
  });

  it('a good signature deploys; the same delivery id again is a duplicate', async () => {
    const trigger = await createTrigger({
      name: 'gh-good',
      provider: 'github',
      match: { branches: [JSON.parse(githubBody).ref.replace('refs/heads/', '')] },
      target: { type: 'http', url: `${target.url}/gh-good`, body: { ref: '{{branch}}', sha: '{{commit.id}}' } },
    });
    const headers = {
      'x-github-event': 'push',
      'x-github-delivery': 'delivery-42',
      'x-hub-signature-256': sign(trigger.secret, githubBody),
    };
    const res = await api.hook(`/hooks/github/${trigger.id}`, githubBody, headers);
    expect(res.status).toBe(202);
    const entry = await api.waitForLog(trigger.id, res.body.log, TERMINAL);
    expect(entry).toMatchObject({ status: 'succeeded', deliveryId: 'delivery-42' });
    const again = await api.hook(`/hooks/github/${trigger.id}`, githubBody, headers);
    expect(again.body).toEqual({ status: 'duplicate', log: res.body.log });
    const calls = target.calls.filter((c) => c.url === '/gh-good');
    expect(calls).toHaveLength(1);
    const sent = JSON.parse(calls[0].body);
    expect(sent.ref).toBe(JSON.parse(githubBody).ref.replace('refs/heads/', ''));
    expect(sent.sha).toBe(JSON.parse(githubBody).head_commit.id);
  });

  it('after rotation the old secret works during the grace period and the new one works', async () => {
    const trigger = await createTrigger({
      name: 'rotate-me',
      provider: 'dockerhub',
      target: { type: 'http', url: `${target.url}/rot` },
    });
    const rotated = await api.admin('POST', `/admin/triggers/${trigger.id}/secret`);
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).not.toBe(trigger.secret);
    expect(new Date(rotated.body.previousSecretValidUntil).getTime()).toBeGreaterThan(Date.now());
    const oldRes = await api.hook(
      `/hooks/dockerhub/${trigger.id}?token=${trigger.secret}`,
      dockerhubBody('r1', 1700000301),
    );
    const newRes = await api.hook(
      `/hooks/dockerhub/${trigger.id}?token=${rotated.body.secret}`,
      dockerhubBody('r2', 1700000302),
    );
    const wrong = await api.hook(`/hooks/dockerhub/${trigger.id}?token=nope`, dockerhubBody('r3', 1700000303));
    expect([oldRes.status, newRes.status, wrong.status]).toEqual([202, 202, 401]);
  });
});

describe('answers for bad requests', () => {
  let trigger: { id: string; secret: string };
  beforeAll(async () => {
    trigger = await createTrigger({
      name: 'bad-requests',
      provider: 'dockerhub',
      target: { type: 'http', url: `${target.url}/bad` },
    });
  });

  it("404 for an unknown trigger and for a provider that is not the trigger's", async () => {
    expect((await api.hook(`/hooks/dockerhub/${'0'.repeat(24)}?token=x`, dockerhubBody('x'))).status).toBe(404);
    expect((await api.hook(`/hooks/acr/${trigger.id}?token=${trigger.secret}`, dockerhubBody('x'))).status).toBe(404);
    expect((await api.hook(`/hooks/nosuchprovider/${trigger.id}`, '{}')).status).toBe(404);
  });

  it('400 naming the field for a malformed body, and a rejected entry', async () => {
    const body = JSON.parse(dockerhubBody('x'));
    delete body.push_data.tag;
    const res = await api.hook(`/hooks/dockerhub/${trigger.id}?token=${trigger.secret}`, JSON.stringify(body));
    expect(res.status).toBe(400);
    expect(res.body.field).toBe('body.push_data.tag');
    const entry = (await api.admin('GET', `/admin/triggers/${trigger.id}/logs/${res.body.log}`)).body;
    expect(entry.status).toBe('rejected');
    const notJson = await api.hook(`/hooks/dockerhub/${trigger.id}?token=${trigger.secret}`, '{"push_data":');
    expect(notJson.status).toBe(400);
    expect(notJson.body.message).toMatch(/^body is not valid JSON/);
  });

  it('413 for a body over 1 MiB', async () => {
    const big = JSON.stringify({ pad: 'x'.repeat(1024 * 1024) });
    const res = await api.hook(`/hooks/dockerhub/${trigger.id}?token=${trigger.secret}`, big);
    expect(res.status).toBe(413);
    const entry = (await api.admin('GET', `/admin/triggers/${trigger.id}/logs/${res.body.log}`)).body;
    expect(entry.status).toBe('rejected');
  });

  it('a disabled trigger logs untriggered: trigger disabled', async () => {
    const t = await createTrigger({
      name: 'disabled',
      provider: 'dockerhub',
      enabled: false,
      target: { type: 'http', url: `${target.url}/off` },
    });
    const res = await api.hook(`/hooks/dockerhub/${t.id}?token=${t.secret}`, dockerhubBody('1'));
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ status: 'untriggered', reason: 'trigger disabled' });
  });

  it("503 when the deploy cannot be queued; the sender's retry then goes through", async () => {
    const t = await createTrigger({
      name: 'queue-down',
      provider: 'dockerhub',
      target: { type: 'http', url: `${target.url}/q` },
    });
    const path = `/hooks/dockerhub/${t.id}?token=${t.secret}`;
    const body = dockerhubBody('q1', 1700000400);
    const saved = process.env.DEPLOY_QUEUE_URL!;
    process.env.DEPLOY_QUEUE_URL = saved.replace(/[^/]+$/, 'no-such-queue.fifo');
    let res;
    try {
      res = await api.hook(path, body);
    } finally {
      process.env.DEPLOY_QUEUE_URL = saved;
    }
    expect(res.status).toBe(503);
    const entry = (await api.admin('GET', `/admin/triggers/${t.id}/logs/${res.body.log}`)).body;
    expect(entry.status).toBe('failed');
    const retry = await api.hook(path, body);
    expect(retry.status).toBe(202);
    expect((await api.waitForLog(t.id, retry.body.log, TERMINAL)).status).toBe('succeeded');
  });
});

describe('semver rule with a tracked image (Kato-style upgrade)', () => {
  it('deploys newer versions only, and each deploy advances the tracked tag', async () => {
    const trigger = await createTrigger({
      name: 'semver-tracked',
      provider: 'api',
      match: { image: 'registry.example.com/team/web:v1.4.0', tags: { semver: '^1.0.0', newerOnly: true } },
      target: { type: 'http', url: `${target.url}/semver`, body: { tag: '{{tag}}' } },
    });
    const send = (tag: string) =>
      api.hook(`/hooks/api/${trigger.id}`, JSON.stringify({ secret_key: trigger.secret, tag }));

    const up = await send('v1.5.0');
    expect(up.body.status).toBe('triggered');
    await api.waitForLog(trigger.id, up.body.log, TERMINAL);
    expect((await api.admin('GET', `/admin/triggers/${trigger.id}`)).body.trackedImage).toBe(
      'registry.example.com/team/web:v1.5.0',
    );

    const late = await send('1.4.9'); // a late re-push of an older version never downgrades
    expect(late.body).toMatchObject({
      status: 'untriggered',
      reason: 'tag "1.4.9" is not newer than the tracked tag v1.5.0',
    });
    const major = await send('2.0.0');
    expect(major.body.status).toBe('untriggered');
    expect(major.body.reason).toMatch(/^tag "2\.0\.0" does not satisfy semver \^1\.0\.0/);
    const pre = await send('1.6.0-rc.1'); // pre-releases only when the range names one
    expect(pre.body.status).toBe('untriggered');

    expect(target.calls.filter((c) => c.url === '/semver').map((c) => JSON.parse(c.body).tag)).toEqual(['v1.5.0']);
  });
});
