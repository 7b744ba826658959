/**
 * Issue 20, names and registries, on the local stack: a pushed value that breaks its grammar never reaches a target
 * (a 400 naming the field, one `rejected` entry; for a batching sender one `rejected` entry inside a 2xx), a registry
 * host other than the pinned one is `untriggered`, and each documentation sample with a placeholder has the outcome
 * test/fixtures/SOURCES.md lists. "Nothing reached the target" is checked by sending a good event after the bad one
 * (one FIFO group per trigger) and finding only the good one at the target.
 */
import { createHmac } from 'node:crypto';
import { handler as ecrHandler } from '../../functions/ecr';
import { apiClient } from '../helpers/api';
import { edited, fixture, PLACEHOLDER_SAMPLES } from '../helpers/fixtures';
import { startTestStack } from '../helpers/stack';
import { startTargetServer } from '../helpers/target-server';

let stack: Awaited<ReturnType<typeof startTestStack>>;
let api: ReturnType<typeof apiClient>;
let target: Awaited<ReturnType<typeof startTargetServer>>;
const DONE = (e: any) => e?.status === 'succeeded' || e?.status === 'failed';
const EVIL_TAG = 'v2,"newName":evil.example/x';

beforeAll(async () => {
  stack = await startTestStack({ maxReceiveCount: 2, retryBaseSeconds: 0 });
  api = apiClient(stack.url, stack.adminToken);
  target = await startTargetServer();
});
afterAll(async () => {
  await stack?.stop();
  await target?.close();
});

async function trigger(name: string, provider: string, match: Record<string, unknown> = {}) {
  const res = await api.admin('POST', '/admin/triggers', {
    name,
    provider,
    match,
    target: { type: 'http', url: `${target.url}/${name}`, body: { image: '{{image}}', log: '{{logId}}' } },
  });
  expect(res.status).toBe(201);
  return res.body as { id: string; secret: string };
}
const entries = async (id: string) => (await api.admin('GET', `/admin/triggers/${id}/logs?limit=100`)).body.items;
const imagesAt = (name: string) =>
  target.calls.filter((c) => c.url === `/${name}`).map((c) => JSON.parse(c.body).image as string);

/** A Distribution envelope of manifest pushes, from the recorded real one, each with its host, repository and tag. */
function distributionEnvelope(events: Array<{ host: string; repository?: string; tag: string; id: string }>): string {
  const real = JSON.parse(fixture('distribution/push-manifest-oci-tag-skopeo-real.raw.json')).events[0];
  return JSON.stringify({
    events: events.map((e, i) => ({
      ...real,
      id: e.id,
      target: {
        ...real.target,
        repository: e.repository ?? 'team/web',
        tag: e.tag,
        // each event its own digest, so that none is "already running" another
        digest: `sha256:${String(i + 1).repeat(64)}`,
        url: `http://${e.host}/v2/${e.repository ?? 'team/web'}/manifests/sha256:${String(i + 1).repeat(64)}`,
      },
      request: { ...real.request, host: e.host },
    })),
  });
}
const bearer = (secret: string) => ({ authorization: `Bearer ${secret}` });

describe('a pushed tag that breaks the OCI grammar', () => {
  it('Docker Hub: 400 naming event.tag, one rejected entry, nothing reaches the target', async () => {
    const t = await trigger('names-hub', 'dockerhub');
    const hook = `/hooks/dockerhub/${t.id}?token=${encodeURIComponent(t.secret)}`;
    const body = (tag: string) => edited('dockerhub/push-docs-example.json', (b) => (b.push_data.tag = tag));

    const bad = await api.hook(hook, body(EVIL_TAG));
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe('event.tag');
    expect(bad.body.reason).toMatch(/^invalid event\.tag: .* is not an OCI tag/);
    const after = await entries(t.id);
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({ id: bad.body.log, status: 'rejected' });

    const good = await api.hook(hook, body('v3'));
    expect(good.body.status).toBe('triggered');
    expect((await api.waitForLog(t.id, good.body.log, DONE)).status).toBe('succeeded');
    expect(imagesAt('names-hub')).toEqual([expect.stringMatching(/:v3$/)]);
  });
});

describe('registry pinning', () => {
  it('a Distribution push from another host is untriggered with the reason; nothing is deployed', async () => {
    const t = await trigger('names-pin', 'distribution', { image: 'registry.acme.internal:5000/team/web' });
    const hook = `/hooks/distribution/${t.id}`;

    const evil = await api.hook(
      hook,
      distributionEnvelope([{ host: 'evil.example.com', tag: 'v2', id: 'pin-evil' }]),
      bearer(t.secret),
    );
    expect(evil.status).toBe(202);
    expect(evil.body.status).toBe('untriggered');
    expect(evil.body.reason).toBe(
      'registry "evil.example.com" is not allowed: the trigger is pinned to registry.acme.internal:5000 (the host of its tracked image)',
    );
    expect((await api.admin('GET', `/admin/triggers/${t.id}/logs/${evil.body.log}`)).body.status).toBe('untriggered');

    const good = await api.hook(
      hook,
      distributionEnvelope([{ host: 'registry.acme.internal:5000', tag: 'v3', id: 'pin-good' }]),
      bearer(t.secret),
    );
    expect(good.body.status).toBe('triggered');
    expect((await api.waitForLog(t.id, good.body.log, DONE)).status).toBe('succeeded');
    expect(imagesAt('names-pin')).toEqual(['registry.acme.internal:5000/team/web:v3']);
  });

  it('match.registry pins a list of hosts and globs; it is validated at creation', async () => {
    const t = await trigger('names-pin-list', 'distribution', { registry: ['ghcr.io', '*.acme.internal:5000'] });
    const send = (host: string, id: string) =>
      api.hook(`/hooks/distribution/${t.id}`, distributionEnvelope([{ host, tag: 'v1', id }]), bearer(t.secret));
    const other = await send('evil.example.com', 'list-evil');
    expect(other.body).toMatchObject({ status: 'untriggered' });
    expect(other.body.reason).toMatch(/pinned to ghcr\.io, \*\.acme\.internal:5000 \(match\.registry\)$/);
    const ok = await send('registry.acme.internal:5000', 'list-good');
    expect(ok.body.status).toBe('triggered');

    const bad = await api.admin('POST', '/admin/triggers', {
      name: 'names-pin-bad',
      provider: 'distribution',
      match: { registry: 'evil.example.com/x' },
      target: { type: 'http', url: `${target.url}/x` },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe('match.registry');
  });
});

describe('a batching sender: a bad event is rejected alone, the envelope answered 2xx', () => {
  it('Distribution: one good and one bad event -> 202, one triggered, one rejected entry', async () => {
    const t = await trigger('names-batch', 'distribution');
    const res = await api.hook(
      `/hooks/distribution/${t.id}`,
      distributionEnvelope([
        { host: 'registry.acme.internal:5000', tag: 'v5', id: 'batch-good' },
        { host: 'registry.acme.internal:5000', tag: EVIL_TAG, id: 'batch-bad' },
      ]),
      bearer(t.secret),
    );
    expect(res.status).toBe(202);
    expect(res.body.status).toBe('triggered');
    expect(res.body.rejected).toEqual([
      { log: expect.any(String), field: 'event.tag', reason: expect.stringMatching(/^invalid event\.tag: /) },
    ]);
    expect((await api.waitForLog(t.id, res.body.log, DONE)).status).toBe('succeeded');
    const all = await entries(t.id);
    expect(all.map((e: any) => e.status).sort()).toEqual(['rejected', 'succeeded']);
    expect(all.find((e: any) => e.status === 'rejected')).toMatchObject({
      id: res.body.rejected[0].log,
      deliveryId: 'batch-bad',
    });
    expect(imagesAt('names-batch')).toEqual(['registry.acme.internal:5000/team/web:v5']);
  });

  it('Distribution: every event bad -> still 202, status rejected, one entry per event', async () => {
    const t = await trigger('names-batch-bad', 'distribution');
    const res = await api.hook(
      `/hooks/distribution/${t.id}`,
      distributionEnvelope([
        { host: 'registry.acme.internal:5000', tag: EVIL_TAG, id: 'all-bad-1' },
        { host: 'registry.acme.internal:5000', repository: 'Team/Web', tag: 'v1', id: 'all-bad-2' },
      ]),
      bearer(t.secret),
    );
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ status: 'rejected', field: 'event.tag' });
    expect(res.body.rejected.map((r: any) => r.field)).toEqual(['event.tag', 'event.namespace']);
    expect((await entries(t.id)).map((e: any) => e.status)).toEqual(['rejected', 'rejected']);
  });

  it('CloudEvents batched mode: the bad event is rejected inside a 202', async () => {
    const t = await trigger('names-ce-batch', 'cloudevents');
    const ce = (id: string, reference: string) => ({
      specversion: '1.0',
      id,
      source: 'zotregistry.dev',
      type: 'zotregistry.image.updated',
      datacontenttype: 'application/json',
      data: { name: 'team/web', reference, digest: `sha256:${id === 'ce-good' ? '1' : '2'}${'0'.repeat(63)}` },
    });
    const res = await api.hook(
      `/hooks/cloudevents/${t.id}`,
      // (Zot reads a reference with ":" as a digest, so the bad tag here has none)
      JSON.stringify([ce('ce-good', 'v1'), ce('ce-bad', 'v2 newName=evil')]),
      { ...bearer(t.secret), 'content-type': 'application/cloudevents-batch+json' },
    );
    expect(res.status).toBe(202);
    expect(res.body.status).toBe('triggered');
    expect(res.body.rejected).toHaveLength(1);
    expect(res.body.rejected[0].field).toBe('event.tag');
  });
});

describe('documentation samples with placeholders (SOURCES.md lists each outcome)', () => {
  const hmac = (secret: string, body: string) => createHmac('sha256', secret).update(body).digest('hex');
  const garEnvelope = (data: string) => {
    const envelope = JSON.parse(
      fixture('google-artifact-registry/pubsub-push-envelope-google-pubsub-docs-generic.json'),
    );
    envelope.message.data = Buffer.from(data).toString('base64');
    return JSON.stringify(envelope);
  };
  /** How each sender sends the verbatim sample: provider, body, headers for a secret. */
  const SEND: Record<
    string,
    { provider: string; body?: (raw: string) => string; headers?: (s: string, b: string) => Record<string, string> }
  > = {
    'aliyun-acr/push-aliyun-docs-example.json': { provider: 'acr' },
    'tencent-tcr/pushImage-tcr-docs-example.json': { provider: 'tcr', headers: (s) => bearer(s) },
    'azure-acr/chart_push-azure-docs-2023.json': { provider: 'azure-acr', headers: (s) => bearer(s) },
    'azure-acr/chart_delete-azure-docs-2023.json': { provider: 'azure-acr', headers: (s) => bearer(s) },
    'google-artifact-registry/message-data-insert-with-tag-gar-docs.json': { provider: 'gar', body: garEnvelope },
    'google-artifact-registry/message-data-insert-digest-only-gar-docs.json': { provider: 'gar', body: garEnvelope },
    'github/package-published-docker-octokit.json': {
      provider: 'github',
      headers: (s, b) => ({ 'x-github-event': 'package', 'x-hub-signature-256': `sha256=${hmac(s, b)}` }),
    },
    'github/registry_package-published-docker-octokit.json': {
      provider: 'github',
      headers: (s, b) => ({ 'x-github-event': 'registry_package', 'x-hub-signature-256': `sha256=${hmac(s, b)}` }),
    },
    'gitea/package-created-container-gitea-test-payload.json': {
      provider: 'gitea',
      headers: (s, b) => ({ 'x-gitea-event': 'package', 'x-gitea-signature': hmac(s, b) }),
    },
  };

  it.each(Object.keys(SEND).map((path, i) => [path, i] as const))(
    '%s sent verbatim: a 400 naming its field, one rejected entry',
    async (path, i) => {
      const how = SEND[path];
      const t = await trigger(`names-doc-${i}`, how.provider, {
        actions: ['push', 'chart_push', 'chart_delete', 'delete'],
      });
      const body = (how.body ?? ((r: string) => r))(fixture(path));
      const query = how.headers ? '' : `?token=${encodeURIComponent(t.secret)}`;
      const res = await api.hook(`/hooks/${how.provider}/${t.id}${query}`, body, how.headers?.(t.secret, body) ?? {});
      expect(res.status).toBe(400);
      expect(res.body.field).toBe(PLACEHOLDER_SAMPLES[path].field);
      expect((await entries(t.id)).map((e: any) => e.status)).toEqual(['rejected']);
    },
  );

  it('the AWS ECR sample (a 60-hex digest): one rejected entry per trigger, nothing queued', async () => {
    const t = await trigger('names-doc-ecr', 'ecr', { repository: 'my-repository-name' });
    const summary = await ecrHandler(JSON.parse(fixture('aws-ecr/ecr_image_action-push-aws-docs.json')));
    expect(summary.outcomes).toEqual([{ triggerId: t.id, status: 'rejected', log: expect.any(String) }]);
    const [entry] = await entries(t.id);
    expect(entry.status).toBe('rejected');
    expect(entry.reason).toMatch(/^invalid event\.digest: .* is not a sha256 digest/);
  });

  it('every placeholder sample is covered here', () => {
    expect(Object.keys(SEND).concat('aws-ecr/ecr_image_action-push-aws-docs.json').sort()).toEqual(
      Object.keys(PLACEHOLDER_SAMPLES).sort(),
    );
  });
});
