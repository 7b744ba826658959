/**
 * The admin API's steering routes on the local stack: setup at any time, the dry run (nothing stored), a test event
 * of every provider through the real pipeline (signed as its sender signs, logged as a test, deployed).
 */
import { SAMPLE_PROVIDERS } from '../../lib/admin/samples';
import { apiClient } from '../helpers/api';
import { fixture } from '../helpers/fixtures';
import { startTestStack } from '../helpers/stack';
import { startTargetServer } from '../helpers/target-server';

let stack: Awaited<ReturnType<typeof startTestStack>>;
let api: ReturnType<typeof apiClient>;
let target: Awaited<ReturnType<typeof startTargetServer>>;
const DONE = (e: any) => e?.status === 'succeeded' || e?.status === 'failed';

beforeAll(async () => {
  stack = await startTestStack({ maxReceiveCount: 2, retryBaseSeconds: 0 });
  api = apiClient(stack.url, stack.adminToken);
  target = await startTargetServer();
});
afterAll(async () => {
  await stack?.stop();
  await target?.close();
});

const create = async (name: string, provider: string, match: Record<string, unknown> = {}) => {
  const res = await api.admin('POST', '/admin/triggers', {
    name,
    provider,
    match,
    target: { type: 'http', url: `${target.url}/deploy/${name}` },
  });
  expect(res.status).toBe(201);
  return res.body as { id: string; secret: string; webhookUrl: string };
};

describe('GET /admin/triggers/{id}/setup', () => {
  it('shows the URL with its token where the sender needs one (Docker Hub), and the same as at creation', async () => {
    const t = await create('setup-dockerhub', 'dockerhub');
    const res = await api.admin('GET', `/admin/triggers/${t.id}/setup`);
    expect(res.status).toBe(200);
    expect(res.body.webhookUrl).toBe(t.webhookUrl);
    expect(res.body.webhookUrl).toContain(`?token=${encodeURIComponent(t.secret)}`);
    expect(res.body.steps[0]).toContain(res.body.webhookUrl);
    // list and get still never show the secret
    expect(JSON.stringify((await api.admin('GET', `/admin/triggers/${t.id}`)).body)).not.toContain(t.secret);
    expect(JSON.stringify((await api.admin('GET', '/admin/triggers')).body)).not.toContain(t.secret);
  });

  it('GitHub: no token in the URL, the secret goes into the sender\'s "Secret" field (the hint)', async () => {
    const t = await create('setup-github', 'github');
    const res = await api.admin('GET', `/admin/triggers/${t.id}/setup`);
    expect(res.body.webhookUrl).toMatch(new RegExp(`/hooks/github/${t.id}$`));
    expect(res.body.headers).toEqual({});
    expect(res.body.hint).toContain('X-Hub-Signature-256');
  });

  it('TCR: the secret as a header, not in the URL', async () => {
    const t = await create('setup-tcr', 'tcr');
    const res = await api.admin('GET', `/admin/triggers/${t.id}/setup`);
    expect(res.body.webhookUrl).not.toContain('token=');
    expect(res.body.headers).toEqual({ Authorization: `Bearer ${t.secret}` });
    expect(res.body.steps).toContain(`Add the header Authorization: Bearer ${t.secret}`);
  });

  it('404 for an unknown trigger, 401 without the token', async () => {
    expect((await api.admin('GET', '/admin/triggers/000000000000000000000000/setup')).status).toBe(404);
    expect((await api.call('GET', '/admin/triggers/000000000000000000000000/setup')).status).toBe(401);
  });
});

describe('POST /admin/triggers/{id}/match (dry run)', () => {
  const push = fixture('github/push-go-playground-binkkatal.json');
  let t: { id: string };
  beforeAll(async () => {
    t = await create('dry-github', 'github', { branches: ['master'] });
  });

  it('a payload with its headers: the normalized event and the result, and nothing is logged or deployed', async () => {
    const calls = target.calls.length;
    const res = await api.admin('POST', `/admin/triggers/${t.id}/match`, {
      payload: JSON.parse(push),
      headers: { 'X-GitHub-Event': 'push' },
    });
    expect(res.status).toBe(200);
    expect(res.body.event.provider).toBe('github');
    expect(res.body.events.length).toBeGreaterThanOrEqual(1);
    expect(res.body.event.branch).toBe('master');
    expect(res.body).toMatchObject({ matched: true, status: 'triggered' });
    expect((await api.admin('GET', `/admin/triggers/${t.id}/logs`)).body.items).toEqual([]);
    expect(target.calls.length).toBe(calls);
  });

  it('a rule the event fails: untriggered with the reason (the same reason a webhook would get)', async () => {
    const other = await create('dry-github-other', 'github', { branches: ['no-such-branch'] });
    const res = await api.admin('POST', `/admin/triggers/${other.id}/match`, {
      payload: push,
      headers: { 'x-github-event': 'push' },
    });
    expect(res.status).toBe(200);
    expect(res.body.matched).toBe(false);
    expect(res.body.reason).toContain('no-such-branch');
  });

  it('a disabled trigger says so', async () => {
    const off = await create('dry-github-off', 'github');
    await api.admin('PATCH', `/admin/triggers/${off.id}`, { enabled: false });
    const res = await api.admin('POST', `/admin/triggers/${off.id}/match`, {
      payload: push,
      headers: { 'x-github-event': 'push' },
    });
    expect(res.body).toMatchObject({ matched: false, reason: 'trigger disabled' });
  });

  it('without X-GitHub-Event: a 400 naming the header, as a webhook would get', async () => {
    const res = await api.admin('POST', `/admin/triggers/${t.id}/match`, { payload: push });
    expect(res.status).toBe(400);
    expect(res.body.field).toBe('headers.X-GitHub-Event');
  });

  it('a payload the provider cannot parse is a 400 naming a field under payload', async () => {
    const hub = await create('dry-dockerhub', 'dockerhub');
    const res = await api.admin('POST', `/admin/triggers/${hub.id}/match`, { payload: { push_data: 'nope' } });
    expect(res.status).toBe(400);
    expect(res.body.field).toMatch(/^payload/);
  });

  it('a body without payload is a 400 naming payload', async () => {
    const res = await api.admin('POST', `/admin/triggers/${t.id}/match`, { headers: {} });
    expect(res.status).toBe(400);
    expect(res.body.field).toBe('payload');
  });
});

describe('POST /admin/triggers/{id}/test', () => {
  it.each(SAMPLE_PROVIDERS)('%s: a signed sample is triggered, deployed, and logged as a test', async (provider) => {
    const match = provider === 'api' ? { image: 'registry.example.com/team/web:1.4.0', tags: { all: true } } : {};
    const t = await create(`test-${provider}`, provider, match);
    const res = await api.admin('POST', `/admin/triggers/${t.id}/test`);
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ test: true, webhookStatus: 202, status: 'triggered', log: expect.any(String) });
    const entry = await api.waitForLog(t.id, res.body.log, DONE);
    expect(entry.status).toBe('succeeded');
    expect(entry.origin).toBe('test');
    expect(entry.request.path).toBe(`/hooks/${provider}/${t.id}`);
    expect(JSON.stringify(entry)).not.toContain(t.secret);
    expect(target.calls.some((c) => c.url === `/deploy/test-${provider}`)).toBe(true);
  });

  it('a second test of a sender with delivery ids is a new delivery, judged against the deploy state', async () => {
    const t = await create('test-twice', 'github');
    const first = await api.admin('POST', `/admin/triggers/${t.id}/test`);
    await api.waitForLog(t.id, first.body.log, DONE);
    const second = await api.admin('POST', `/admin/triggers/${t.id}/test`);
    expect(second.status).toBe(202);
    expect(second.body.status).not.toBe('duplicate');
    // the same commit is what runs now
    expect(second.body).toMatchObject({ status: 'untriggered', reason: expect.stringMatching(/^already running/) });
  });

  it('generic has no sample: 409 pointing at the dry run', async () => {
    const created = await api.admin('POST', '/admin/triggers', {
      name: 'test-generic',
      provider: 'generic',
      mapping: { image: 'artifact' },
      target: { type: 'http', url: `${target.url}/g` },
    });
    expect(created.status).toBe(201);
    const res = await api.admin('POST', `/admin/triggers/${created.body.id}/test`);
    expect(res.status).toBe(409);
    expect(res.body.message).toContain('match');
  });
});

describe('GET /admin/openapi.json', () => {
  it('serves the OpenAPI 3.1 document (admin token required)', async () => {
    const res = await api.admin('GET', '/admin/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
    expect(Object.keys(res.body.paths)).toContain('/admin/triggers/{id}/test');
    expect((await api.call('GET', '/admin/openapi.json')).status).toBe(401);
  });
});
