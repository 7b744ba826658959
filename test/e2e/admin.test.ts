/** The admin API on the local stack: auth, validation naming the field, CRUD, logs paging, redelivery. */
import { apiClient } from '../helpers/api';
import { fixture } from '../helpers/fixtures';
import { startTestStack } from '../helpers/stack';
import { startTargetServer } from '../helpers/target-server';

let stack: Awaited<ReturnType<typeof startTestStack>>;
let api: ReturnType<typeof apiClient>;
let target: Awaited<ReturnType<typeof startTargetServer>>;

beforeAll(async () => {
  stack = await startTestStack({ maxReceiveCount: 2, retryBaseSeconds: 0 });
  api = apiClient(stack.url, stack.adminToken);
  target = await startTargetServer();
});
afterAll(async () => {
  await stack?.stop();
  await target?.close();
});

const valid = () => ({ name: 'admin-test', provider: 'dockerhub', target: { type: 'http', url: `${target.url}/x` } });
const push = (tag: string, at: number) => {
  const body = JSON.parse(fixture('dockerhub/push-docs-example.json'));
  body.push_data.tag = tag;
  body.push_data.pushed_at = at;
  return JSON.stringify(body);
};

describe('authentication', () => {
  it.each([
    ['no header', {}],
    ['wrong token', { authorization: 'Bearer wrong' }],
    ['not bearer', { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }],
  ])('401 with %s', async (_n, headers) => {
    const res = await api.call('GET', '/admin/triggers', { headers });
    expect(res.status).toBe(401);
  });
});

describe('validation: 400 naming the first bad field', () => {
  it.each([
    ['name with capitals', { name: 'Web' }, 'name'],
    ['unknown provider', { provider: 'svn' }, 'provider'],
    ['regex RE2 cannot run', { match: { tags: { regex: '(a)\\1' } } }, 'match.tags.regex'],
    [
      'more than 10 tags',
      { match: { tags: { list: Array.from({ length: 11 }, (_, i) => `t${i}`) } } },
      'match.tags.list',
    ],
    ['invalid semver range', { match: { tags: { semver: 'not a range' } } }, 'match.tags.semver'],
    [
      'https on a port other than 443',
      { target: { type: 'http', url: 'https://deploy.example.com:8443/hook' } },
      'target.url',
    ],
    ['http on port 22', { target: { type: 'http', url: 'http://deploy.example.com:22/hook' } }, 'target.url'],
    ['unknown placeholder', { target: { type: 'http', url: 'https://deploy.example.com/{{nope}}' } }, 'target.url'],
    ['unknown target type', { target: { type: 'ftp', url: 'x' } }, 'target.type'],
    ['unknown field', { colour: 'blue' }, '(body)'],
    [
      'kubernetes token inline',
      {
        target: {
          ...{
            type: 'kubernetes',
            apiServer: 'https://k8s.example.com',
            auth: { token: { ssmParameter: 'triggerfish/k8s' } },
            namespace: 'prod',
            kind: 'Deployment',
            name: 'web',
            container: 'web',
          },
          auth: { token: 'inline-token' },
        },
      },
      'target.auth',
    ],
    [
      'kubernetes over http',
      {
        target: {
          ...{
            type: 'kubernetes',
            apiServer: 'https://k8s.example.com',
            auth: { token: { ssmParameter: 'triggerfish/k8s' } },
            namespace: 'prod',
            kind: 'Deployment',
            name: 'web',
            container: 'web',
          },
          apiServer: 'http://k8s.example.com',
        },
      },
      'target.apiServer',
    ],
    [
      'kubernetes kind Pod',
      {
        target: {
          ...{
            type: 'kubernetes',
            apiServer: 'https://k8s.example.com',
            auth: { token: { ssmParameter: 'triggerfish/k8s' } },
            namespace: 'prod',
            kind: 'Deployment',
            name: 'web',
            container: 'web',
          },
          kind: 'Pod',
        },
      },
      'target.kind',
    ],
    ['ecs without container', { target: { type: 'ecs', cluster: 'prod', service: 'web' } }, 'target.container'],
    ['lambda without function', { target: { type: 'lambda' } }, 'target.functionName'],
    ['codebuild with an empty project', { target: { type: 'codebuild', projectName: '' } }, 'target.projectName'],
  ])('%s', async (_n, change, field) => {
    const res = await api.admin('POST', '/admin/triggers', { ...valid(), ...change });
    expect(res.status).toBe(400);
    expect(res.body.field).toBe(field);
  });

  it('malformed JSON is a 400', async () => {
    const res = await api.call('POST', '/admin/triggers', {
      raw: '{"name":',
      headers: { authorization: `Bearer ${stack.adminToken}` },
    });
    expect(res.status).toBe(400);
    expect(res.body.field).toBe('(body)');
  });
});

describe('every target type is accepted with a valid config', () => {
  it.each([
    [
      'kubernetes',
      {
        type: 'kubernetes',
        apiServer: 'https://k8s.example.com',
        auth: { token: { ssmParameter: 'triggerfish/k8s' } },
        namespace: 'prod',
        kind: 'Deployment',
        name: 'web',
        container: 'web',
      },
    ],
    [
      'kubernetes on EKS',
      {
        type: 'kubernetes',
        apiServer: 'https://k8s.example.com:6443',
        auth: { eks: { clusterName: 'prod', region: 'us-east-1' } },
        namespace: 'prod',
        kind: 'CronJob',
        name: 'nightly',
        container: 'job',
      },
    ],
    ['ecs', { type: 'ecs', cluster: 'prod', service: 'web', container: 'app', waitForSteadyState: true }],
    ['lambda', { type: 'lambda', functionName: 'web' }],
    ['codebuild', { type: 'codebuild', projectName: 'web-build' }],
  ])('%s', async (name, target) => {
    const res = await api.admin('POST', '/admin/triggers', {
      ...valid(),
      name: name.replace(/ /g, '-').toLowerCase(),
      target,
    });
    expect(res.status).toBe(201);
    expect(res.body.target.type).toBe(target.type);
  });
});

describe('trigger lifecycle', () => {
  it('create shows the secret once; list and get never do; patch; delete', async () => {
    const created = await api.admin('POST', '/admin/triggers', {
      ...valid(),
      name: 'lifecycle',
      target: { type: 'http', url: `${target.url}/x`, headers: { 'X-Token': 'target-token' } },
    });
    expect(created.status).toBe(201);
    expect(created.body.secret).toEqual(expect.any(String));
    expect(Buffer.from(created.body.secret, 'base64url')).toHaveLength(32);
    const id = created.body.id;

    const list = await api.admin('GET', '/admin/triggers');
    const listed = list.body.items.find((t: any) => t.id === id);
    expect(listed).toBeDefined();
    const one = await api.admin('GET', `/admin/triggers/${id}`);
    for (const shown of [JSON.stringify(listed), JSON.stringify(one.body)]) {
      expect(shown).not.toContain(created.body.secret);
      expect(shown).not.toContain('target-token');
    }

    const patched = await api.admin('PATCH', `/admin/triggers/${id}`, { enabled: false, description: 'paused' });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ enabled: false, description: 'paused', name: 'lifecycle' });
    const wrongPatch = await api.admin('PATCH', `/admin/triggers/${id}`, { provider: 'github' });
    expect(wrongPatch.status).toBe(400);
    expect(wrongPatch.body.field).toBe('(body)');

    expect((await api.admin('DELETE', `/admin/triggers/${id}`)).status).toBe(204);
    expect((await api.admin('GET', `/admin/triggers/${id}`)).status).toBe(404);
    expect((await api.admin('DELETE', `/admin/triggers/${id}`)).status).toBe(404);
    const hook = await api.hook(`/hooks/dockerhub/${id}?token=${created.body.secret}`, push('1', 1));
    expect(hook.status).toBe(404);
  });

  it('headers to configure at the sender come with the secret (Harbor, TCR, Azure)', async () => {
    for (const provider of ['harbor', 'tcr', 'azure-acr']) {
      const res = await api.admin('POST', '/admin/triggers', { ...valid(), name: `hdr-${provider}`, provider });
      expect(res.status).toBe(201);
      expect(res.body.headers).toEqual({ Authorization: `Bearer ${res.body.secret}` });
      expect(res.body.webhookUrl).toBe(`${stack.url}/hooks/${provider}/${res.body.id}`);
    }
  });
});

describe('logs', () => {
  let id: string;
  let secret: string;
  const logIds: string[] = [];

  beforeAll(async () => {
    // `queue: all`: every push deploys (none is superseded by the next), so the log holds three successes
    const res = await api.admin('POST', '/admin/triggers', {
      ...valid(),
      name: 'logs',
      queue: 'all',
      match: { tags: { glob: 'v*' } },
    });
    ({ id, secret } = res.body);
    // 3 triggered and 2 untriggered, in order
    for (const [i, tag] of ['v1', 'dev', 'v2', 'dev2', 'v3'].entries()) {
      const hook = await api.hook(`/hooks/dockerhub/${id}?token=${secret}`, push(tag, 1700001000 + i));
      logIds.push(hook.body.log);
    }
    for (const log of [logIds[0], logIds[2], logIds[4]])
      await api.waitForLog(id, log, (e) => e?.status === 'succeeded');
  });

  it('lists newest first, pages with the cursor, and filters by status', async () => {
    const page1 = await api.admin('GET', `/admin/triggers/${id}/logs?limit=2`);
    expect(page1.status).toBe(200);
    expect(page1.body.items.map((e: any) => e.id)).toEqual([logIds[4], logIds[3]]);
    const page2 = await api.admin('GET', `/admin/triggers/${id}/logs?limit=2&cursor=${page1.body.cursor}`);
    expect(page2.body.items.map((e: any) => e.id)).toEqual([logIds[2], logIds[1]]);
    const page3 = await api.admin('GET', `/admin/triggers/${id}/logs?limit=2&cursor=${page2.body.cursor}`);
    expect(page3.body.items.map((e: any) => e.id)).toEqual([logIds[0]]);
    expect(page3.body.cursor).toBeUndefined();
    // a last page that is exactly full has no cursor either (nothing would follow)
    const whole = await api.admin('GET', `/admin/triggers/${id}/logs?limit=5`);
    expect(whole.body.items).toHaveLength(5);
    expect(whole.body.cursor).toBeUndefined();
    const two = await api.admin('GET', `/admin/triggers/${id}/logs?status=untriggered&limit=2`);
    expect(two.body.items).toHaveLength(2);
    expect(two.body.cursor).toBeUndefined();

    const untriggered = await api.admin('GET', `/admin/triggers/${id}/logs?status=untriggered`);
    expect(untriggered.body.items.map((e: any) => e.id)).toEqual([logIds[3], logIds[1]]);
    expect(untriggered.body.items[0].reason).toBe('tag "dev2" does not match glob v*');
  });

  it.each([
    ['status', 'status=pending'],
    ['limit', 'limit=0'],
    ['cursor', 'cursor=bm90LW91cnM'],
  ])('refuses a bad %s', async (field, query) => {
    const res = await api.admin('GET', `/admin/triggers/${id}/logs?${query}`);
    expect(res.status).toBe(400);
    expect(res.body.field).toBe(field);
  });

  it('redelivers a finished deploy as a new entry; refuses an untriggered entry', async () => {
    const before = target.calls.length;
    const res = await api.admin('POST', `/admin/triggers/${id}/logs/${logIds[0]}/redeliver`);
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ log: expect.any(String), status: 'queued', redeliveryOf: logIds[0] });
    expect(res.body.log).not.toBe(logIds[0]);
    const entry = await api.waitForLog(id, res.body.log, (e) => e?.status === 'succeeded');
    expect(entry).toMatchObject({ status: 'succeeded', redeliveryOf: logIds[0], event: { tag: 'v1' } });
    expect(entry.attempts).toHaveLength(1);
    // the first entry keeps its own history
    expect((await api.admin('GET', `/admin/triggers/${id}/logs/${logIds[0]}`)).body.attempts).toHaveLength(1);
    expect(target.calls.length - before).toBe(1);
    const refused = await api.admin('POST', `/admin/triggers/${id}/logs/${logIds[1]}/redeliver`);
    expect(refused.status).toBe(409);
    expect((await api.admin('POST', `/admin/triggers/${id}/logs/nope/redeliver`)).status).toBe(404);
  });
});
