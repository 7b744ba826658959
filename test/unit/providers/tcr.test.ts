import { tcr } from '../../../lib/receive/providers/tcr';
import { expectFields } from '../../helpers/events';
import { edited, fixture, fixtureFiles, request } from '../../helpers/fixtures';
import { zodPaths } from '../../helpers/zod';

const SECRET = 's3cret-value';
const NOW = new Date();
const DOCS = 'tencent-tcr/pushImage-tcr-docs-example.json';

/** What each TCR trigger action means here (the spec, written out independently of the provider). */
const EXPECTED: Record<string, { action: string; kind: string }> = {
  pushImage: { action: 'push', kind: 'image' },
  deleteImage: { action: 'delete', kind: 'image' },
  uploadChart: { action: 'chart_push', kind: 'chart' },
  deleteChart: { action: 'chart_delete', kind: 'chart' },
};

describe('tcr: provider contract', () => {
  it('is the tcr provider, configured by an Authorization header (or a query token)', () => {
    expect(tcr.id).toBe('tcr');
    expect(tcr.credential.headers?.(SECRET)).toEqual({ Authorization: `Bearer ${SECRET}` });
    expect(tcr.credentialHeaders).toEqual(['authorization']);
  });
});

describe('tcr: verify (Authorization: Bearer, or ?token=)', () => {
  const body = fixture(DOCS);
  it.each([
    ['good Bearer header', { Authorization: `Bearer ${SECRET}` }, {}, true],
    ['good bearer header, lowercase scheme', { Authorization: `bearer ${SECRET}` }, {}, true],
    ['good query token', {}, { token: SECRET }, true],
    ['wrong Bearer header', { Authorization: 'Bearer nope' }, {}, false],
    ['wrong query token', {}, { token: 'nope' }, false],
    ['no credential at all', {}, {}, false],
    ['Basic credentials', { Authorization: 'Basic x' }, {}, false],
    ['the secret without the Bearer scheme', { Authorization: SECRET }, {}, false],
    ['another scheme carrying the secret', { Authorization: `Token ${SECRET}` }, {}, false],
    ['a wrong header is not rescued by a good query token', { Authorization: 'Bearer nope' }, { token: SECRET }, false],
    ['a good header with a wrong query token', { Authorization: `Bearer ${SECRET}` }, { token: 'nope' }, true],
    ['the secret in the TCR docs example header name (Authentication)', { Authentication: SECRET }, {}, false],
  ])('%s', (_name, headers, query, ok) => {
    const result = tcr.verify(
      request(body, headers as Record<string, string>, query as Record<string, string>),
      [SECRET],
      NOW,
    );
    expect(result.ok).toBe(ok);
    if (!result.ok) {
      expect(result.reason).not.toContain(SECRET);
      expect(result.reason).not.toContain('nope');
    }
  });

  it.each([
    ['header', { Authorization: 'Bearer old' }, {}],
    ['query', {}, { token: 'old' }],
  ])('accepts the previous secret during rotation (%s)', (_name, headers, query) => {
    expect(tcr.verify(request(body, headers, query), [SECRET, 'old'], NOW).ok).toBe(true);
  });
});

describe('tcr: every fixture parses and normalizes', () => {
  it.each(fixtureFiles('tencent-tcr'))('%s', (_name, raw) => {
    const result = tcr.parse(request(raw), {});
    expect(result.kind).toBe('events');
    if (result.kind !== 'events') return;
    const body = JSON.parse(raw);
    const repo = body.event_data.repository;
    expect(result.events).toHaveLength(body.event_data.resources.length);
    result.events.forEach((e, i) => {
      const r = body.event_data.resources[i];
      expect(e.provider).toBe('tcr');
      expect(e.action).toBe(EXPECTED[body.type].action);
      expect(e.kind).toBe(EXPECTED[body.type].kind);
      expect(e.registry).toBe(r.resource_url.split('/')[0]);
      expect(e.namespace).toBe(repo.namespace);
      expect(e.repository).toBe(repo.name);
      expect(e.repoFullName).toBe(repo.repo_full_name);
      expect(e.tag).toBe(r.tag);
      expect(e.digest).toBe(r.digest);
      // resource_url is the pullable reference itself
      expect(e.image).toBe(r.resource_url);
      expect(e.owner).toBe(body.operator);
      expect(e.occurredAt).toBe(new Date(body.occur_at * 1000).toISOString());
      expect(e.deliveryId).toBeUndefined();
    });
  });

  it('normalizes the docs example exactly', () => {
    expect(tcr.parse(request(fixture(DOCS)), {})).toEqual({
      kind: 'events',
      events: [
        {
          provider: 'tcr',
          kind: 'image',
          action: 'push',
          registry: 'xxx-bj.tencentcloudcr.com',
          namespace: 'public',
          repository: 'nginx',
          repoFullName: 'public/nginx',
          tag: 'v1.10.0',
          digest: 'sha256:89a42c3ba15f09a3fbe39856bddacdf9e94cd03df7403cad4fc105xxxx268fc9',
          image: 'xxx-bj.tencentcloudcr.com/public/nginx:v1.10.0',
          owner: '332133xxxx',
          occurredAt: '2020-05-10T10:30:05.000Z',
        },
      ],
    });
  });
});

// No real sample exists for deleteImage, uploadChart or deleteChart (test/fixtures/SOURCES.md §3). TCR
// documents the same body shape for every action, so these inputs are the pushImage sample with only
// `type` changed.
describe('tcr: the other trigger actions (derived from the pushImage sample)', () => {
  it.each([
    ['deleteImage', 'delete', 'image', 'xxx-bj.tencentcloudcr.com/public/nginx:v1.10.0'],
    ['uploadChart', 'chart_push', 'chart', undefined],
    ['deleteChart', 'chart_delete', 'chart', undefined],
  ])('%s -> %s (%s)', (type, action, kind, image) => {
    const result = tcr.parse(request(edited(DOCS, (b) => (b.type = type))), {});
    expect(result).toEqual({
      kind: 'events',
      events: [
        {
          provider: 'tcr',
          kind,
          action,
          registry: 'xxx-bj.tencentcloudcr.com',
          namespace: 'public',
          repository: 'nginx',
          repoFullName: 'public/nginx',
          tag: 'v1.10.0',
          digest: 'sha256:89a42c3ba15f09a3fbe39856bddacdf9e94cd03df7403cad4fc105xxxx268fc9',
          // a chart version is not a container image
          image,
          owner: '332133xxxx',
          occurredAt: '2020-05-10T10:30:05.000Z',
        },
      ],
    });
  });

  it('gives one event per resource when a push carries several tags', () => {
    const raw = edited(DOCS, (b) =>
      b.event_data.resources.push({
        digest: b.event_data.resources[0].digest,
        tag: 'latest',
        resource_url: 'xxx-bj.tencentcloudcr.com/public/nginx:latest',
      }),
    );
    const result = tcr.parse(request(raw), {});
    expect(result.kind).toBe('events');
    if (result.kind !== 'events') return;
    expect(result.events.map((e) => [e.tag, e.image])).toEqual([
      ['v1.10.0', 'xxx-bj.tencentcloudcr.com/public/nginx:v1.10.0'],
      ['latest', 'xxx-bj.tencentcloudcr.com/public/nginx:latest'],
    ]);
  });

  // Harbor (which TCR derives from) reports an artifact pushed by digest with the digest as its tag
  // (test/fixtures/harbor/push_artifact-default-harbor-docs-2.8-by-digest.json)
  it('treats a digest in the tag field as no tag', () => {
    const digest = 'sha256:89a42c3ba15f09a3fbe39856bddacdf9e94cd03df7403cad4fc105xxxx268fc9';
    const raw = edited(DOCS, (b) => {
      b.event_data.resources[0].tag = digest;
      b.event_data.resources[0].resource_url = `xxx-bj.tencentcloudcr.com/public/nginx@${digest}`;
    });
    const result = tcr.parse(request(raw), {});
    expect(result.kind).toBe('events');
    if (result.kind === 'events') {
      expectFields(result.events[0], {
        tag: undefined,
        digest,
        image: `xxx-bj.tencentcloudcr.com/public/nginx@${digest}`,
      });
    }
  });

  it('takes the registry host from a resource_url that has a scheme', () => {
    const raw = edited(
      DOCS,
      (b) => (b.event_data.resources[0].resource_url = 'https://r.tencentcloudcr.com/public/nginx:v1.10.0'),
    );
    expect(tcr.parse(request(raw), {})).toMatchObject({
      events: [{ registry: 'r.tencentcloudcr.com', image: 'r.tencentcloudcr.com/public/nginx:v1.10.0' }],
    });
  });

  it.each(['pullImage', 'PushImage', 'harbor.artifact.pushed'])('ignores type %s with a reason', (type) => {
    const result = tcr.parse(request(edited(DOCS, (b) => (b.type = type))), {});
    expect(result.kind).toBe('ignored');
    if (result.kind !== 'ignored') return;
    expect(result.reason).toContain(`"${type}"`);
    expect(result.reason).toContain('pushImage');
  });

  it('ignores an unhandled type whatever the rest of its body looks like', () => {
    expect(tcr.parse(request('{"type":"pullImage"}'), {}).kind).toBe('ignored');
  });
});

describe('tcr: derives what the payload names in another field', () => {
  it.each([
    [
      'no resource_url: no registry host',
      (b: any) => delete b.event_data.resources[0].resource_url,
      { registry: undefined, repoFullName: 'public/nginx', tag: 'v1.10.0', image: 'public/nginx:v1.10.0' },
    ],
    [
      'no repository.namespace: repo_full_name still names it',
      (b: any) => delete b.event_data.repository.namespace,
      { repoFullName: 'public/nginx', registry: 'xxx-bj.tencentcloudcr.com' },
    ],
    [
      'no repository at all: the repository from resource_url',
      (b: any) => delete b.event_data.repository,
      {
        namespace: 'public',
        repository: 'nginx',
        repoFullName: 'public/nginx',
        image: 'xxx-bj.tencentcloudcr.com/public/nginx:v1.10.0',
      },
    ],
    [
      'a resource_url without a host',
      (b: any) => (b.event_data.resources[0].resource_url = 'public/nginx:v1.10.0'),
      { registry: undefined, image: 'public/nginx:v1.10.0' },
    ],
  ])('%s', (_name, edit, expected) => {
    expect(tcr.parse(request(edited('tencent-tcr/pushImage-tcr-docs-example.json', edit)), {})).toMatchObject({
      kind: 'events',
      events: [expected],
    });
  });
});

describe('tcr: a malformed body throws a ZodError naming the field', () => {
  it.each([
    ['no type', edited(DOCS, (b) => delete b.type), ['type']],
    ['type not a string', edited(DOCS, (b) => (b.type = 1)), ['type']],
    ['no resources', edited(DOCS, (b) => delete b.event_data.resources), ['event_data', 'resources']],
    ['empty resources', edited(DOCS, (b) => (b.event_data.resources = [])), ['event_data', 'resources']],
    [
      'no repository and no resource_url',
      edited(DOCS, (b) => {
        delete b.event_data.resources[0].resource_url;
        delete b.event_data.repository;
      }),
      ['event_data', 'resources', 0, 'resource_url'],
    ],
    ['occur_at as a string', edited(DOCS, (b) => (b.occur_at = '2020-05-10')), ['occur_at']],
    ['occur_at beyond year 9999', edited(DOCS, (b) => (b.occur_at = 1e15)), ['occur_at']],
    ['operator not a string', edited(DOCS, (b) => (b.operator = 42)), ['operator']],
  ])('%s', (_name, raw, path) => {
    expect(zodPaths(() => tcr.parse(request(raw), {}))).toEqual([path]);
  });

  it('an empty body', () => {
    expect(zodPaths(() => tcr.parse(request(''), {}))).toEqual([[]]);
  });
});
