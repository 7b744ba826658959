/**
 * The self-hosted registry and generic senders through the admin API and the real HTTP API of the local stack:
 * each provider is created, its real sample (as that sender authenticates it) is triggered and deployed, a wrong
 * credential is a 401, and content it does not act on is a 202 untriggered. The generic provider's mapping is
 * validated at creation (400 naming the field) and read at delivery.
 */
import { createHmac } from 'node:crypto';
import { apiClient } from '../helpers/api';
import { edited, fixture, placeholdersFilled } from '../helpers/fixtures';
import { startTestStack } from '../helpers/stack';
import { startTargetServer } from '../helpers/target-server';

let stack: Awaited<ReturnType<typeof startTestStack>>;
let api: ReturnType<typeof apiClient>;
let target: Awaited<ReturnType<typeof startTargetServer>>;
const DONE = (e: any) => e?.status === 'succeeded' || e?.status === 'failed';
const sign = (secret: string, body: string) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

beforeAll(async () => {
  stack = await startTestStack({ maxReceiveCount: 2, retryBaseSeconds: 0 });
  api = apiClient(stack.url, stack.adminToken);
  target = await startTargetServer();
});
afterAll(async () => {
  await stack?.stop();
  await target?.close();
});

async function createTrigger(provider: string, extra: Record<string, unknown> = {}) {
  const res = await api.admin('POST', '/admin/triggers', {
    name: `senders-${provider}`,
    provider,
    target: { type: 'http', url: `${target.url}/deploy/${provider}`, body: { image: '{{image}}', log: '{{logId}}' } },
    ...extra,
  });
  expect(res.status).toBe(201);
  return res.body as { id: string; secret: string; headers: Record<string, string>; webhookUrl: string };
}

const zotHeaders = JSON.parse(fixture('cloudevents/zotregistry.image.updated-binary-zot-source.headers.json'));
const OCI =
  'pkg:oci/web@sha256%3A0b31b1c02ff458ad9b7b81cbdf8f028bd54699fa151f221d1e8de6817db93427?repository_url=registry.example.com/team/web&tag=1.4.0';

interface Case {
  provider: string;
  body: string;
  headers?: Record<string, string>;
  credential: (secret: string, body: string) => Record<string, string>;
  image: string;
  extra?: Record<string, unknown>;
}
const bearer = (s: string) => ({ authorization: `Bearer ${s}` });

const CASES: Case[] = [
  {
    provider: 'distribution',
    body: fixture('distribution/push-manifest-oci-tag-skopeo-real.raw.json'),
    headers: { 'content-type': 'application/vnd.docker.distribution.events.v1+json' },
    credential: bearer,
    image: '127.0.0.1:15099/team/web:v1',
  },
  {
    provider: 'cloudevents',
    body: fixture('cloudevents/zotregistry.image.updated-binary-zot-source.raw.json'),
    headers: Object.fromEntries(Object.entries(zotHeaders).map(([k, v]) => [k.toLowerCase(), String(v)])),
    credential: (s) => ({ authorization: `Basic ${Buffer.from(`zot:${s}`).toString('base64')}` }),
    image: 'golang:latest',
  },
  {
    provider: 'cdevents',
    body: edited('cdevents/artifact_published-conformance-spec-0.6.0-draft.json', (b) => (b.subject.id = OCI)),
    headers: {
      'ce-specversion': '1.0',
      'ce-id': 'cd-1',
      'ce-source': '/ci',
      'ce-type': 'dev.cdevents.artifact.published.0.3.0',
    },
    credential: (s, b) => ({ 'x-signature': sign(s, b) }),
    image: 'registry.example.com/team/web:1.4.0',
  },
  {
    provider: 'generic',
    body: JSON.stringify({ build: { artifact: 'ghcr.io/team/api:2.1.0', id: 'build-77' } }),
    credential: (s, b) => ({ 'x-signature': sign(s, b) }),
    image: 'ghcr.io/team/api:2.1.0',
    extra: { mapping: { image: 'build.artifact', deliveryId: 'build.id' } },
  },
  {
    provider: 'gitea',
    // Gitea's test payload names the image "GiteaContainer"; no OCI registry accepts capitals, so sent verbatim it
    // is refused (integrity-names.test.ts): lowercased here
    body: placeholdersFilled('gitea/package-created-container-gitea-test-payload.json'),
    headers: { 'x-gitea-event': 'package', 'x-gitea-delivery': 'pkg-1' },
    credential: (s, b) => ({ 'x-gitea-signature': createHmac('sha256', s).update(b).digest('hex') }),
    image: 'localhost:3000/user1/giteacontainer:latest',
  },
];

describe.each(CASES.map((c) => [c.provider, c] as const))('%s', (provider, c) => {
  let trigger: Awaited<ReturnType<typeof createTrigger>>;
  beforeAll(async () => {
    trigger = await createTrigger(provider, c.extra);
  });

  it('a wrong credential is a 401', async () => {
    const res = await api.hook(`/hooks/${provider}/${trigger.id}`, c.body, {
      ...c.headers,
      ...c.credential('wrong', c.body),
    });
    expect(res.status).toBe(401);
  });

  it('the sample is triggered and deployed with the right image; sent again it is a duplicate', async () => {
    const send = () =>
      api.hook(`/hooks/${provider}/${trigger.id}`, c.body, { ...c.headers, ...c.credential(trigger.secret, c.body) });
    const res = await send();
    expect(res.status).toBe(202);
    expect(res.body.status).toBe('triggered');
    const entry = await api.waitForLog(trigger.id, res.body.log, DONE);
    expect(entry.status).toBe('succeeded');
    expect(entry.event.image).toBe(c.image);
    const call = target.calls.find((x) => x.url === `/deploy/${provider}` && JSON.parse(x.body).log === res.body.log);
    expect(JSON.parse(call!.body).image).toBe(c.image);
    expect(JSON.stringify(entry)).not.toContain(trigger.secret);
    const again = await send();
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ status: 'duplicate', log: res.body.log });
  });
});

describe('distribution: what the registry sends and we do not act on is never a 4xx', () => {
  it('a blob push, a blob mount and a pull are 202 untriggered with the reason', async () => {
    const t = await createTrigger('distribution', { name: 'senders-distribution-blobs' });
    for (const [name, reason] of [
      ['push-blob-skopeo-real.raw.json', /^blob push/],
      ['mount-blob-skopeo-real.raw.json', /^blob mount/],
      ['pull-manifest-tag-skopeo-real.raw.json', /action "pull" is acted on only by a trigger that lists it/],
    ] as const) {
      const res = await api.hook(`/hooks/distribution/${t.id}`, fixture(`distribution/${name}`), bearer(t.secret));
      expect(res.status).toBe(202);
      expect(res.body.status).toBe('untriggered');
      expect(res.body.reason).toMatch(reason);
    }
  });

  it('the create answer tells the user the header to configure and keeps the secret out of the URL', async () => {
    const t = await createTrigger('distribution', { name: 'senders-distribution-setup' });
    expect(t.headers).toEqual({ Authorization: `Bearer ${t.secret}` });
    expect(t.webhookUrl).toBe(`${stack.url}/hooks/distribution/${t.id}`);
  });
});

describe('generic: the mapping through the admin API', () => {
  it('an expression that does not compile is a 400 naming the field', async () => {
    const res = await api.admin('POST', '/admin/triggers', {
      name: 'senders-generic-bad',
      provider: 'generic',
      mapping: { image: 'build.artifact', tag: 'tags[' },
      target: { type: 'http', url: `${target.url}/x` },
    });
    expect(res.status).toBe(400);
    expect(res.body.field).toBe('mapping.tag');
  });

  it('a mapping on another provider is a 400; PATCH replaces a generic trigger mapping', async () => {
    const bad = await api.admin('POST', '/admin/triggers', {
      name: 'senders-mapping-github',
      provider: 'github',
      mapping: { image: 'x' },
      target: { type: 'http', url: `${target.url}/x` },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe('mapping');
    const t = await createTrigger('generic', { name: 'senders-generic-patch', mapping: { image: 'a' } });
    const patched = await api.admin('PATCH', `/admin/triggers/${t.id}`, { mapping: { image: 'b.c', tag: 'd' } });
    expect(patched.status).toBe(200);
    expect(patched.body.mapping).toEqual({ image: 'b.c', tag: 'd' });
    const badPatch = await api.admin('PATCH', `/admin/triggers/${t.id}`, { mapping: { image: 'b.' } });
    expect(badPatch.status).toBe(400);
    expect(badPatch.body.field).toBe('mapping.image');
  });
});
