/**
 * End to end on the local stack: a pushed value cannot choose where a deploy request (and its secret header)
 * goes. Two real local HTTP servers: the trigger's deploy service and an "other host" standing in for wherever
 * an attacker would like the request to go.
 */
import { fixture } from '../helpers/fixtures';
import { sha256Signature } from '../helpers/hmac';
import { apiClient } from '../helpers/api';
import { startTestStack } from '../helpers/stack';
import { startTargetServer } from '../helpers/target-server';
import * as store from '../../lib/store/store';

const SECRET_HEADER = 'target-secret-d41c9b';
const TERMINAL = (e: any) => e?.status === 'succeeded' || e?.status === 'failed';

let stack: Awaited<ReturnType<typeof startTestStack>>;
let api: ReturnType<typeof apiClient>;
let deployService: Awaited<ReturnType<typeof startTargetServer>>;
let otherHost: Awaited<ReturnType<typeof startTargetServer>>;

beforeAll(async () => {
  stack = await startTestStack({ maxReceiveCount: 3, retryBaseSeconds: 0 });
  api = apiClient(stack.url, stack.adminToken);
  deployService = await startTargetServer();
  otherHost = await startTargetServer();
});
afterAll(async () => {
  await stack?.stop();
  await deployService?.close();
  await otherHost?.close();
});

const portOf = (url: string) => new URL(url).port;

const dockerhubBody = (tag: string, pushedAt: number) => {
  const body = JSON.parse(fixture('dockerhub/push-docs-example.json'));
  body.push_data.tag = tag;
  body.push_data.pushed_at = pushedAt;
  return JSON.stringify(body);
};

/** A GitHub push whose head commit message is `message` (free text: any value a pusher can choose). */
let commits = 0;
const githubPush = (message: string) => {
  const body = JSON.parse(fixture('github/push-octokit-with-new-branch.json'));
  // a new commit each time (the same commit again would be a duplicate)
  const id = (++commits).toString(16).padStart(40, 'a');
  body.after = id;
  body.head_commit.id = id;
  body.head_commit.message = message;
  return JSON.stringify(body);
};

describe('placeholders cannot choose the host', () => {
  it('a URL with a placeholder in the host is refused at creation, naming target.url', async () => {
    const res = await api.admin('POST', '/admin/triggers', {
      name: 'steer-create',
      provider: 'dockerhub',
      target: { type: 'http', url: 'http://{{tag}}:8080/deploy', headers: { 'X-Token': SECRET_HEADER } },
    });
    expect(res.status).toBe(400);
    expect(res.body.field).toBe('target.url');
    expect(res.body.message).toMatch(/scheme, host or port/);
    expect(JSON.stringify(res.body)).not.toContain(SECRET_HEADER);
  });

  it('... and on PATCH', async () => {
    const created = await api.admin('POST', '/admin/triggers', {
      name: 'steer-patch',
      provider: 'dockerhub',
      target: { type: 'http', url: `${deployService.url}/deploy` },
    });
    expect(created.status).toBe(201);
    const res = await api.admin('PATCH', `/admin/triggers/${created.body.id}`, {
      target: { type: 'http', url: `http://deploy.example.com{{repository}}/x` },
    });
    expect(res.status).toBe(400);
    expect(res.body.field).toBe('target.url');
  });

  it('a trigger stored before the rule (host placeholder) is refused at send time: nothing reaches the other host', async () => {
    const created = await api.admin('POST', '/admin/triggers', {
      name: 'steer-legacy',
      provider: 'dockerhub',
      target: { type: 'http', url: `${deployService.url}/deploy`, headers: { 'X-Token': SECRET_HEADER } },
    });
    expect(created.status).toBe(201);
    // what the attack run created: `http://{{tag}}:<port>/deploy`, written straight to the table as an old
    // version accepted it; a push with tag 127.0.0.1 would have sent the secret header to the other host
    const stored = await store.getTrigger(created.body.id);
    expect(stored).toBeDefined();
    const legacyTarget = {
      type: 'http',
      url: `http://{{tag}}:${portOf(otherHost.url)}/deploy`,
      headers: { 'X-Token': SECRET_HEADER },
    };
    expect(await store.replaceTrigger({ ...stored!, target: legacyTarget as never })).toBe(true);

    const before = { deploy: deployService.calls.length, other: otherHost.calls.length };
    const res = await api.hook(
      `/hooks/dockerhub/${created.body.id}?token=${encodeURIComponent(created.body.secret)}`,
      dockerhubBody('127.0.0.1', 1700001001),
    );
    expect(res.status).toBe(202);
    expect(res.body.status).toBe('triggered');
    const entry = await api.waitForLog(created.body.id, res.body.log, TERMINAL);
    expect(entry.status).toBe('failed');
    // refused without retry: one attempt, naming the rule
    expect(entry.attempts).toHaveLength(1);
    expect(entry.attempts[0].error).toMatch(/url: placeholders are not allowed in the scheme, host or port/);
    expect(otherHost.calls.length).toBe(before.other);
    expect(deployService.calls.length).toBe(before.deploy);
    expect(JSON.stringify(entry)).not.toContain(SECRET_HEADER);
  });
});

describe('a value cannot climb out of its path segment', () => {
  let trigger: { id: string; secret: string };
  beforeAll(async () => {
    const res = await api.admin('POST', '/admin/triggers', {
      name: 'tenant-a',
      provider: 'github',
      target: {
        type: 'http',
        url: `${deployService.url}/tenant-a/{{commit.message}}/deploy`,
        headers: { 'X-Token': SECRET_HEADER },
      },
    });
    expect(res.status).toBe(201);
    trigger = res.body;
  });

  async function push(message: string, delivery: string) {
    const body = githubPush(message);
    const res = await api.hook(`/hooks/github/${trigger.id}`, body, {
      'x-github-event': 'push',
      'x-github-delivery': delivery,
      'x-hub-signature-256': sha256Signature(trigger.secret, body),
    });
    expect(res.status).toBe(202);
    expect(res.body.status).toBe('triggered');
    return api.waitForLog(trigger.id, res.body.log, TERMINAL);
  }

  it('".." is refused at send time (no retry), not sent to /deploy', async () => {
    const before = deployService.calls.length;
    const entry = await push('..', 'steer-dotdot');
    expect(entry.status).toBe('failed');
    expect(entry.attempts).toHaveLength(1);
    expect(entry.attempts[0].error).toBe(
      'URL refused: path segment {{commit.message}} renders to "..", which would change the URL path',
    );
    expect(deployService.calls.length).toBe(before);
  });

  it('"/", "%2F" and "?" arrive encoded inside the segment, with the secret header only there', async () => {
    const before = deployService.calls.length;
    for (const [i, message] of ['../../deploy', '%2F..%2Fdeploy', 'x?admin=1#y'].entries()) {
      expect((await push(message, `steer-enc-${i}`)).status).toBe('succeeded');
    }
    const calls = deployService.calls.slice(before);
    expect(calls.map((c) => c.url)).toEqual([
      '/tenant-a/..%2F..%2Fdeploy/deploy',
      '/tenant-a/%252F..%252Fdeploy/deploy',
      '/tenant-a/x%3Fadmin%3D1%23y/deploy',
    ]);
    for (const c of calls) expect(c.headers['x-token']).toBe(SECRET_HEADER);
    expect(otherHost.calls).toHaveLength(0);
  });
});

describe('creation-time address checks (ALLOW_PRIVATE_TARGETS=false, as on AWS)', () => {
  // the local stack runs the admin function in this process and reads the setting per request
  const saved = process.env.ALLOW_PRIVATE_TARGETS;
  beforeAll(() => {
    process.env.ALLOW_PRIVATE_TARGETS = 'false';
  });
  afterAll(() => {
    process.env.ALLOW_PRIVATE_TARGETS = saved;
  });

  it.each([
    'http://169.254.169.254/',
    'http://127.0.0.1/',
    'http://[::ffff:169.254.169.254]/',
    'http://2852039166/',
    'http://0x7f.1/',
    'http://0177.0.0.1/',
    'http://127.1/',
    'http://[::1]/',
    'http://[64:ff9b::a9fe:a9fe]/',
    'http://localhost:8080/',
    'http://admin.localhost/',
  ])('%s is a 400 naming target.url', async (url) => {
    const res = await api.admin('POST', '/admin/triggers', {
      name: 'private-target',
      provider: 'dockerhub',
      target: { type: 'http', url },
    });
    expect(res.status).toBe(400);
    expect(res.body.field).toBe('target.url');
    expect(res.body.message).toMatch(/private targets are not allowed/);
  });
});
