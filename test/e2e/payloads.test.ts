/**
 * Body decoding and exact-byte signatures through the real local HTTP API: form-encoded deliveries of GitHub,
 * Gogs and Gitea (signed over the form bytes), a correct HMAC over bytes that are not UTF-8, a body nested
 * 10,000 deep, and a GitHub package event that is not a container image.
 */
import { createHmac } from 'node:crypto';
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

const hex = (secret: string, bytes: Buffer) => createHmac('sha256', secret).update(bytes).digest('hex');

/** POSTs exact bytes, as a sender does. */
async function post(path: string, bytes: Buffer, headers: Record<string, string>) {
  const res = await fetch(`${stack.url}${path}`, { method: 'POST', headers, body: bytes });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function createTrigger(provider: string, name: string) {
  const res = await api.admin('POST', '/admin/triggers', {
    name,
    provider,
    target: {
      type: 'http',
      url: `${target.url}/${name}`,
      body: { repo: '{{repoFullName}}', branch: '{{branch}}', log: '{{logId}}' },
    },
  });
  expect(res.status).toBe(201);
  return res.body as { id: string; secret: string };
}

const logsOf = async (id: string) => (await api.admin('GET', `/admin/triggers/${id}/logs`)).body.items as any[];

interface Sender {
  provider: string;
  fixture: string;
  headers: Record<string, string>;
  sign: (secret: string, bytes: Buffer) => Record<string, string>;
}

const SENDERS: Sender[] = [
  {
    provider: 'github',
    fixture: 'github/push-go-playground-binkkatal.json',
    headers: { 'x-github-event': 'push', 'x-github-delivery': 'form-gh-1' },
    sign: (s, b) => ({ 'x-hub-signature-256': `sha256=${hex(s, b)}` }),
  },
  {
    provider: 'gogs',
    fixture: 'gogs/push-gogs-docs-current-alice-moonlanding.json',
    headers: { 'x-gogs-event': 'push', 'x-gogs-delivery': 'form-gogs-1' },
    sign: (s, b) => ({ 'x-gogs-signature': hex(s, b) }),
  },
  {
    provider: 'gitea',
    fixture: 'gitea/push-woodpecker-multi-line-secrets.json',
    headers: { 'x-gitea-event': 'push', 'x-gitea-delivery': 'form-gitea-1' },
    sign: (s, b) => ({ 'x-gitea-signature': hex(s, b) }),
  },
];

describe.each(SENDERS.map((s) => [s.provider, s] as const))(
  '%s: a form-encoded delivery (payload=<json>)',
  (_name, sender) => {
    let trigger: { id: string; secret: string };
    const json = fixture(sender.fixture);
    const form = Buffer.from(new URLSearchParams({ payload: json }).toString(), 'utf8');
    const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
    beforeAll(async () => {
      trigger = await createTrigger(sender.provider, `form-${sender.provider}`);
    });

    it('signed over the form bytes, is triggered and deployed from the decoded payload', async () => {
      const res = await post(`/hooks/${sender.provider}/${trigger.id}`, form, {
        ...FORM,
        ...sender.headers,
        ...sender.sign(trigger.secret, form),
      });
      expect(res.status).toBe(202);
      expect(res.body.status).toBe('triggered');
      const entry = await api.waitForLog(trigger.id, res.body.log, DONE);
      expect(entry.status).toBe('succeeded');
      expect(entry.event.repoFullName).toBe(JSON.parse(json).repository.full_name);
      const call = target.calls.find(
        (c) => c.url === `/form-${sender.provider}` && JSON.parse(c.body).log === res.body.log,
      );
      expect(JSON.parse(call!.body)).toEqual({
        repo: entry.event.repoFullName,
        branch: entry.event.branch,
        log: res.body.log,
      });
    });

    it('signed over the decoded JSON instead of the form bytes, is a 401', async () => {
      const res = await post(`/hooks/${sender.provider}/${trigger.id}`, form, {
        ...FORM,
        ...sender.headers,
        ...sender.sign(trigger.secret, Buffer.from(json)),
      });
      expect(res.status).toBe(401);
      expect((await api.admin('GET', `/admin/triggers/${trigger.id}/logs/${res.body.log}`)).body.status).toBe(
        'unauthorized',
      );
    });

    it('signed with another secret, is a 401', async () => {
      const res = await post(`/hooks/${sender.provider}/${trigger.id}`, form, {
        ...FORM,
        ...sender.headers,
        ...sender.sign('wrong-secret', form),
      });
      expect(res.status).toBe(401);
    });

    it('a form body without payload is a 400 naming the field', async () => {
      const other = Buffer.from('other=1');
      const res = await post(`/hooks/${sender.provider}/${trigger.id}`, other, {
        ...FORM,
        ...sender.headers,
        ...sender.sign(trigger.secret, other),
      });
      expect(res.status).toBe(400);
      expect(res.body.field).toBe('payload');
    });
  },
);

describe('exact bytes and bad bodies', () => {
  let gh: { id: string; secret: string };
  beforeAll(async () => {
    gh = await createTrigger('github', 'bytes-github');
  });
  const push = { 'x-github-event': 'push' };

  it('a correct HMAC over bytes that are not UTF-8 verifies: 400 for not being JSON, not 401', async () => {
    // "café" in Latin-1; sent as binary, which API Gateway (and the local gateway) pass on as base64
    const latin1 = Buffer.from([...Buffer.from('{"ref":"refs/heads/caf'), 0xe9, ...Buffer.from('"}')]);
    const res = await post(`/hooks/github/${gh.id}`, latin1, {
      'content-type': 'application/octet-stream',
      ...push,
      'x-hub-signature-256': `sha256=${hex(gh.secret, latin1)}`,
    });
    expect(res.status).toBe(400);
    expect(res.body.field).toBe('(body)');
    expect(res.body.reason).toMatch(/not UTF-8/);
    const entry = (await api.admin('GET', `/admin/triggers/${gh.id}/logs/${res.body.log}`)).body;
    expect(entry.status).toBe('rejected');
  });

  it('a body nested 10,000 deep is a 400 with one log entry, and the receiver keeps answering', async () => {
    const before = (await logsOf(gh.id)).length;
    const deep = Buffer.from(`${'['.repeat(10000)}${']'.repeat(10000)}`);
    const res = await post(`/hooks/github/${gh.id}`, deep, {
      'content-type': 'application/json',
      ...push,
      'x-hub-signature-256': `sha256=${hex(gh.secret, deep)}`,
    });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ field: '(body)', reason: 'body is nested deeper than 64 levels' });
    const logs = await logsOf(gh.id);
    expect(logs).toHaveLength(before + 1);
    expect(logs[0]).toMatchObject({
      id: res.body.log,
      status: 'rejected',
      reason: 'body is nested deeper than 64 levels',
    });
    // a 10,000-deep object, through a provider that redacts body fields (the api provider's secret_key)
    const api_ = await createTrigger('api', 'deep-api');
    const deepObject = Buffer.from(`{"secret_key":"${api_.secret}","x":${'{"a":'.repeat(10000)}1${'}'.repeat(10000)}}`);
    const res2 = await post(`/hooks/api/${api_.id}`, deepObject, { 'content-type': 'application/json' });
    // its credential is inside the body it cannot read: unauthorized, and the secret is not stored
    expect(res2.status).toBe(401);
    const stored = await logsOf(api_.id);
    expect(stored).toHaveLength(1);
    const full = (await api.admin('GET', `/admin/triggers/${api_.id}/logs/${stored[0].id}`)).body;
    // too deep to redact field by field: a marker is stored instead of the body
    expect(full.request.body).toBe('[body not stored: JSON nested deeper than 64 levels]');
    expect(JSON.stringify(full)).not.toContain(api_.secret);
    expect((await api.call('GET', '/health')).status).toBe(200);
  });
});

describe('github package events', () => {
  it('an npm package is 202 untriggered with the reason, and nothing is deployed', async () => {
    const trigger = await createTrigger('github', 'npm-package');
    const body = Buffer.from(fixture('github/package-published-npm-octokit.json'));
    const res = await post(`/hooks/github/${trigger.id}`, body, {
      'content-type': 'application/json',
      'x-github-event': 'package',
      'x-github-delivery': 'npm-1',
      'x-hub-signature-256': `sha256=${hex(trigger.secret, body)}`,
    });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({
      status: 'untriggered',
      reason: 'github package "hello-world-npm" is a npm package (registry.type), not a container image',
    });
    expect(target.calls.some((c) => c.url === '/npm-package')).toBe(false);
  });

  it('a GHCR package (form-encoded) deploys the image GitHub says to pull', async () => {
    const trigger = await createTrigger('github', 'ghcr-package');
    const form = Buffer.from(
      new URLSearchParams({ payload: fixture('github/package-published-ghcr-theryangeary-2025.json') }).toString(),
    );
    const res = await post(`/hooks/github/${trigger.id}`, form, {
      'content-type': 'application/x-www-form-urlencoded',
      'x-github-event': 'package',
      'x-github-delivery': 'ghcr-1',
      'x-hub-signature-256': `sha256=${hex(trigger.secret, form)}`,
    });
    expect(res.status).toBe(202);
    expect(res.body.status).toBe('triggered');
    const entry = await api.waitForLog(trigger.id, res.body.log, DONE);
    expect(entry.event).toMatchObject({ image: 'ghcr.io/theryangeary/www:0e2a89b', tag: '0e2a89b' });
  });
});
