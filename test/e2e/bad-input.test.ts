/**
 * Issue 9, "Every bad input is a 4xx with one log entry", end to end on the local stack: each input that answered
 * 503 (and left no entry) in the attack run is sent again; the answer is a 4xx naming the field and the trigger
 * log holds exactly one new entry that fits a DynamoDB item.
 */
import { handler as ecrHandler } from '../../functions/ecr';
import { createHmac } from 'node:crypto';
import { apiClient } from '../helpers/api';
import { fixture } from '../helpers/fixtures';
import { startTestStack } from '../helpers/stack';

let stack: Awaited<ReturnType<typeof startTestStack>>;
let api: ReturnType<typeof apiClient>;
let hub: { id: string; secret: string };
let apiTrigger: { id: string; secret: string };

const TARGET = { type: 'http', url: 'http://127.0.0.1:1025/deploy' };

beforeAll(async () => {
  stack = await startTestStack({ maxReceiveCount: 1, retryBaseSeconds: 0 });
  api = apiClient(stack.url, stack.adminToken);
  hub = (
    await api.admin('POST', '/admin/triggers', {
      name: 'bad-hub',
      provider: 'dockerhub',
      enabled: false,
      target: TARGET,
    })
  ).body;
  apiTrigger = (
    await api.admin('POST', '/admin/triggers', {
      name: 'bad-api',
      provider: 'api',
      enabled: false,
      match: { image: 'team/web:1.0' },
      target: TARGET,
    })
  ).body;
});
afterAll(() => stack?.stop());

async function entries(triggerId: string): Promise<any[]> {
  const res = await api.admin('GET', `/admin/triggers/${triggerId}/logs?limit=100`);
  expect(res.status).toBe(200);
  return res.body.items;
}

/** Sends a webhook; expects `status`, `field`, and exactly one new entry (returned). */
async function expectOneEntry(triggerId: string, send: () => Promise<any>, status: number, field?: string) {
  const before = await entries(triggerId);
  const res = await send();
  expect(res.status).toBe(status);
  if (field) expect(res.body.field).toBe(field);
  const after = await entries(triggerId);
  expect(after).toHaveLength(before.length + 1);
  const entry = after[0];
  expect(entry.id).toBe(res.body.log);
  expect(Buffer.byteLength(JSON.stringify(entry))).toBeLessThan(400 * 1024);
  return { res, entry };
}

const dockerhub = (change: (b: any) => void) => {
  const body = JSON.parse(fixture('dockerhub/push-docs-example.json'));
  change(body);
  return JSON.stringify(body);
};
const hubHook = () => `/hooks/dockerhub/${hub.id}?token=${encodeURIComponent(hub.secret)}`;
const big = 'a'.repeat(300 * 1024);

describe('bad webhook input: a 4xx naming the field and one log entry, never a 503', () => {
  it('a 300 KB tag', async () => {
    const { entry } = await expectOneEntry(
      hub.id,
      () =>
        api.hook(
          hubHook(),
          dockerhub((b) => (b.push_data.tag = big)),
        ),
      400,
      'event.tag',
    );
    expect(entry.status).toBe('rejected');
    expect(entry.reason).toMatch(/tag: 307200 characters; a tag has at most 128/);
    expect(entry.request.body).toMatch(/…\[truncated \d+ bytes\]$/);
  });

  it('a 300 KB repository name', async () => {
    await expectOneEntry(
      hub.id,
      () =>
        api.hook(
          hubHook(),
          dockerhub((b) => (b.repository.repo_name = `ns/${big}`)),
        ),
      400,
      'event.repository',
    );
  });

  it('a 129-character tag (one more than OCI allows)', async () => {
    await expectOneEntry(
      hub.id,
      () =>
        api.hook(
          hubHook(),
          dockerhub((b) => (b.push_data.tag = 't'.repeat(129))),
        ),
      400,
      'event.tag',
    );
  });

  it('pushed_at: 1e300 ("Invalid time value")', async () => {
    const { entry } = await expectOneEntry(
      hub.id,
      () =>
        api.hook(
          hubHook(),
          dockerhub((b) => (b.push_data.pushed_at = 1e300)),
        ),
      400,
      'body.push_data.pushed_at',
    );
    expect(entry.status).toBe('rejected');
  });

  it('10,000-deep nesting, authenticated (body redaction must not overflow the stack)', async () => {
    const deep = `{"push_data": {"tag": "v1"}, "repository": {"repo_name": "a/b"}, "x": ${'['.repeat(10000)}${']'.repeat(10000)}}`;
    const before = await entries(hub.id);
    const res = await api.hook(hubHook(), deep);
    // 202 untriggered (the trigger is disabled) today; a 400 once bodies over a fixed depth are refused
    expect([202, 400]).toContain(res.status);
    const after = await entries(hub.id);
    expect(after).toHaveLength(before.length + 1);
    expect(after[0].id).toBe(res.body.log);
    expect(after[0].request.body).toMatch(/not stored: JSON nested deeper than 64 levels/);
  });

  it('10,000-deep nesting: the answer is a 4xx and one entry with a marker instead of the body', async () => {
    const deep = `${'['.repeat(10000)}${']'.repeat(10000)}`;
    const before = await entries(apiTrigger.id);
    const res = await api.hook(`/hooks/api/${apiTrigger.id}`, deep);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    const after = await entries(apiTrigger.id);
    expect(after).toHaveLength(before.length + 1);
    expect(after[0].request.body).toMatch(/not stored: JSON nested deeper than 64 levels/);
  });

  it('a 900 KB commit message (git allows it): accepted and cut in what is stored and queued, not a 503', async () => {
    const gh = (await api.admin('POST', '/admin/triggers', { name: 'bad-gh', provider: 'github', target: TARGET }))
      .body;
    const body = JSON.parse(fixture('github/push-go-playground-binkkatal.json'));
    body.head_commit.message = `@deploy ${'m'.repeat(900 * 1024)}`;
    for (const c of body.commits ?? []) c.message = 'short';
    const raw = JSON.stringify(body);
    const sig = `sha256=${createHmac('sha256', gh.secret).update(raw).digest('hex')}`;
    const { res, entry } = await expectOneEntry(
      gh.id,
      () =>
        api.hook(`/hooks/github/${gh.id}`, raw, {
          'x-github-event': 'push',
          'x-github-delivery': 'big-1',
          'x-hub-signature-256': sig,
        }),
      202,
    );
    expect(res.body.status).toBe('triggered');
    expect(entry.event.commit.message).toMatch(/^@deploy m+…\[truncated \d+ bytes\]$/);
  });

  it('a 300 KB header and a 300 KB query value are cut, not a 503', async () => {
    const { entry } = await expectOneEntry(
      hub.id,
      () =>
        api.hook(
          `${hubHook()}&note=${'q'.repeat(6000)}`,
          dockerhub(() => undefined),
          { 'x-note': 'h'.repeat(8000) },
        ),
      202,
    );
    expect(entry.request.query.note).toMatch(/…\[truncated \d+ bytes\]$/);
    expect(entry.request.headers['x-note']).toMatch(/…\[truncated \d+ bytes\]$/);
  });
});

describe('bad ECR events: never a retry for ever', () => {
  const ecrEvent = (change: (e: any) => void) => {
    const e = JSON.parse(fixture('aws-ecr/ecr_image_action-push-aws-docs.json'));
    change(e);
    return e;
  };

  it('a 300 KB tag on a watched repository: one rejected entry per trigger, no throw', async () => {
    const created = await api.admin('POST', '/admin/triggers', {
      name: 'bad-ecr',
      provider: 'ecr',
      match: { repository: 'my-repository-name' },
      target: TARGET,
    });
    expect(created.status).toBe(201);
    const summary = await ecrHandler(ecrEvent((e) => (e.detail['image-tag'] = big)) as never);
    expect(summary.outcomes).toEqual([{ triggerId: created.body.id, status: 'rejected', log: expect.any(String) }]);
    const stored = await entries(created.body.id);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({
      status: 'rejected',
      reason: expect.stringMatching(/^invalid tag: 307200 characters/),
    });
    expect(stored[0].request.body).toMatch(/…\[truncated \d+ bytes\]$/);
  });

  it('a 300 KB repository name (it cannot be looked up): dropped with a log line, no throw', async () => {
    const summary = await ecrHandler(ecrEvent((e) => (e.detail['repository-name'] = big)) as never);
    expect(summary.outcomes).toEqual([]);
    expect(summary.ignored).toMatch(/malformed event: invalid repository/);
  });
});

describe('bad admin input: a 400 naming the field, never a 503', () => {
  const long = 'x'.repeat(3000);
  const cursor = (key: unknown) => Buffer.from(JSON.stringify(key)).toString('base64url');

  it.each([
    ['a trigger id over 2 KB', 'GET', () => `/admin/triggers/${long}`, 'id'],
    ['a trigger id over 2 KB (logs)', 'GET', () => `/admin/triggers/${long}/logs`, 'id'],
    ['a log id over 2 KB', 'GET', () => `/admin/triggers/${hub.id}/logs/${long}`, 'logId'],
    ['a log id over 2 KB (redeliver)', 'POST', () => `/admin/triggers/${hub.id}/logs/${long}/redeliver`, 'logId'],
    [
      'a cursor with an extra key',
      'GET',
      () =>
        `/admin/triggers/${hub.id}/logs?cursor=${cursor({ triggerId: hub.id, sk: 'log#01JAAAAAAAAAAAAAAAAAAAAAAA', x: 1 })}`,
      'cursor',
    ],
    [
      'a cursor with a junk sort key',
      'GET',
      () => `/admin/triggers/${hub.id}/logs?cursor=${cursor({ triggerId: hub.id, sk: `log#${long.slice(0, 1500)}` })}`,
      'cursor',
    ],
    ['a cursor that is junk', 'GET', () => `/admin/triggers/${hub.id}/logs?cursor=%%%`, 'cursor'],
  ])('%s', async (_name, method, path, field) => {
    const res = await api.call(method, path(), { headers: { authorization: `Bearer ${stack.adminToken}` } });
    expect(res.status).toBe(400);
    expect(res.body.field).toBe(field);
  });

  const create = (change: Record<string, unknown>) =>
    api.admin('POST', '/admin/triggers', { name: 'x', provider: 'dockerhub', target: TARGET, ...change });

  it.each([
    [
      'a trigger over 400 KB',
      {
        target: {
          ...TARGET,
          headers: Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`X-H${i}`, 'v'.repeat(8192)])),
        },
      },
      'target.headers',
    ],
    [
      'a semver range of 100 KB',
      { match: { tags: { semver: `>=1.0.0 ${'|| 1.0.0 '.repeat(10000)}` } } },
      'match.tags.semver',
    ],
    [
      'a semver range of 300 characters',
      { match: { tags: { semver: `${'>=1.0.0 '.repeat(40)}` } } },
      'match.tags.semver',
    ],
    ['a regex of 300 KB', { match: { tags: { regex: big } } }, 'match.tags.regex'],
    ['a glob of 300 KB', { match: { tags: { glob: big } } }, 'match.tags.glob'],
    ['a repository glob of 300 KB', { match: { repository: big } }, 'match.repository'],
    ['a branch glob of 300 KB', { match: { branches: [big] } }, 'match.branches.0'],
    ['a tag list entry of 300 KB', { match: { tags: { list: [big] } } }, 'match.tags.list.0'],
    ['a keyword of 300 KB', { match: { keyword: big } }, 'match.keyword'],
  ])('%s', async (_name, change, field) => {
    const res = await create(change);
    expect(res.status).toBe(400);
    expect(res.body.field).toBe(field);
  });

  it('a body nested 10,000 deep', async () => {
    const deep = `${'['.repeat(10000)}${']'.repeat(10000)}`;
    const raw = `{"name": "x", "provider": "dockerhub", "target": {"type": "http", "url": "${TARGET.url}", "body": ${deep}}}`;
    const res = await api.call('POST', '/admin/triggers', {
      raw,
      headers: { authorization: `Bearer ${stack.adminToken}` },
    });
    expect(res.status).toBe(400);
    expect(res.body.field).toBe('(body)');
  });

  it('a PATCH that makes a trigger over 400 KB', async () => {
    const res = await api.admin('PATCH', `/admin/triggers/${hub.id}`, {
      target: {
        ...TARGET,
        headers: Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`X-H${i}`, 'v'.repeat(8192)])),
      },
    });
    expect(res.status).toBe(400);
    expect(res.body.field).toBe('target.headers');
  });
});
