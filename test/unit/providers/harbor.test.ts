import { harbor } from '../../../lib/receive/providers/harbor';
import { edited, fixture, fixtureFiles, request } from '../../helpers/fixtures';
import { zodPath } from '../../helpers/zod';

const SECRET = 's3cret-value';
const NOW = new Date();

const PUSH = 'harbor/push_artifact-default-real-capture-nicolasjulian.json';
const CE_PUSH = 'harbor/push_artifact-cloudevents-harbor-docs-2.8.json';

describe('harbor: verify (Authorization, bare or Bearer)', () => {
  const body = fixture(PUSH);
  it.each([
    ['bare secret', { Authorization: SECRET }, {}, true],
    ['Bearer secret', { Authorization: `Bearer ${SECRET}` }, {}, true],
    ['lowercase bearer scheme', { authorization: `bearer ${SECRET}` }, {}, true],
    ['wrong bare secret', { Authorization: 'nope' }, {}, false],
    ['wrong Bearer secret', { Authorization: 'Bearer nope' }, {}, false],
    ['secret with a suffix', { Authorization: `${SECRET}x` }, {}, false],
    ['Basic scheme', { Authorization: `Basic ${SECRET}` }, {}, false],
    ['missing header', {}, {}, false],
    ['secret in the query instead', {}, { token: SECRET }, false],
  ])('%s', (_name, headers, query, ok) => {
    const result = harbor.verify(request(body, headers, query as Record<string, string>), [SECRET], NOW);
    expect(result.ok).toBe(ok);
    if (!result.ok) expect(result.reason).not.toContain(SECRET);
  });

  it('accepts the previous secret during rotation', () => {
    expect(harbor.verify(request(body, { Authorization: 'Bearer old' }), [SECRET, 'old'], NOW).ok).toBe(true);
  });

  it('tells the user to configure a Bearer Authorization header, which verify accepts', () => {
    const headers = harbor.credential.headers!(SECRET);
    expect(headers).toEqual({ Authorization: `Bearer ${SECRET}` });
    expect(harbor.verify(request(body, headers), [SECRET], NOW).ok).toBe(true);
    expect(harbor.credentialHeaders).toEqual(['authorization']);
  });
});

describe('harbor: every fixture parses and normalizes', () => {
  const ACTION_OF: Record<string, string> = {
    PUSH_ARTIFACT: 'push',
    DELETE_ARTIFACT: 'delete',
    PULL_ARTIFACT: 'pull',
    'harbor.artifact.pushed': 'push',
    'harbor.artifact.deleted': 'delete',
    pushImage: 'push',
  };

  it.each(fixtureFiles('harbor'))('%s', (_name, raw) => {
    const result = harbor.parse(request(raw), {});
    expect(result.kind).toBe('events');
    if (result.kind !== 'events') return;
    const body = JSON.parse(raw);
    const data = body.specversion ? body.data : body.event_data;
    expect(result.events).toHaveLength(data.resources.length);
    result.events.forEach((e, i) => {
      const r = data.resources[i];
      expect(e.provider).toBe('harbor');
      expect(e.kind).toBe('image');
      expect(e.action).toBe(ACTION_OF[body.type]);
      expect(e.repoFullName).toBe(data.repository.repo_full_name);
      expect(e.namespace).toBe(data.repository.namespace);
      expect(e.repository).toBe(data.repository.name);
      expect(e.registry).toBe(r.resource_url.split('/')[0]);
      expect(e.digest).toBe(r.digest);
      // pushed by digest: Harbor repeats the digest as the "tag"
      expect(e.tag).toBe(r.tag === r.digest ? undefined : r.tag);
      // Harbor's resource_url is exactly the pullable reference: host/repo:tag, or host/repo@digest
      expect(e.image).toBe(r.resource_url);
      expect(e.owner).toBe(body.operator);
      expect(e.deliveryId).toBe(body.specversion ? body.id : undefined);
      expect(e.occurredAt).toBe(
        body.specversion ? new Date(body.time).toISOString() : new Date(body.occur_at * 1000).toISOString(),
      );
    });
  });

  it('normalizes the docs push-by-digest example exactly', () => {
    const result = harbor.parse(request(fixture('harbor/push_artifact-default-harbor-docs-2.8-by-digest.json')), {});
    expect(result).toEqual({
      kind: 'events',
      events: [
        {
          provider: 'harbor',
          kind: 'image',
          action: 'push',
          deliveryId: undefined,
          registry: 'localhost',
          namespace: 'harbor',
          repository: 'alpine',
          repoFullName: 'harbor/alpine',
          tag: undefined,
          digest: 'sha256:954b378c375d852eb3c63ab88978f640b4348b01c1b3456a024a81536dafbbf4',
          image: 'localhost/harbor/alpine@sha256:954b378c375d852eb3c63ab88978f640b4348b01c1b3456a024a81536dafbbf4',
          owner: 'harbor-jobservice',
          occurredAt: '2023-04-03T06:04:53.000Z',
        },
      ],
    });
  });

  it('normalizes the CloudEvents delete example exactly', () => {
    const result = harbor.parse(request(fixture('harbor/delete_artifact-cloudevents-harbor-docs-2.8.json')), {});
    expect(result).toMatchObject({
      kind: 'events',
      events: [
        {
          action: 'delete',
          deliveryId: '343f1623-7cba-487c-88f1-c5ebf55e93aa',
          registry: 'localhost',
          repoFullName: 'harbor/alpine',
          tag: '3.8',
          image: 'localhost/harbor/alpine:3.8',
          occurredAt: '2023-04-03T06:16:38.000Z',
        },
      ],
    });
  });

  it('normalizes the Harbor 1.10 pushImage event exactly', () => {
    const result = harbor.parse(request(fixture('harbor/pushImage-harbor-1.10-style-keel-test.json')), {});
    expect(result).toMatchObject({
      kind: 'events',
      events: [
        {
          action: 'push',
          registry: 'harbor.mydomain.com',
          namespace: 'library',
          repository: 'ai-rag',
          tag: '1.2.3',
          image: 'harbor.mydomain.com/library/ai-rag:1.2.3',
          owner: 'user',
          occurredAt: '2020-02-25T14:24:48.000Z',
        },
      ],
    });
  });

  it('keeps a pull as an event with action "pull" (the matcher decides), not as ignored', () => {
    const result = harbor.parse(request(fixture('harbor/pull_artifact-default-harbor-docs-2.8.json')), {});
    expect(result.kind).toBe('events');
    if (result.kind === 'events') {
      expect(result.events.map((e) => e.action)).toEqual(['pull']);
      expect(result.events[0].owner).toMatch(/^robot\$harbor\+/);
    }
  });

  it('splits a nested repository after the project', () => {
    const raw = edited(PUSH, (b) => {
      b.event_data.repository.repo_full_name = 'library/team/rumput';
      b.event_data.repository.name = 'team/rumput';
      b.event_data.resources[0].resource_url = 'hb.nicolas.my.id/library/team/rumput:v1';
    });
    const result = harbor.parse(request(raw), {});
    expect(result).toMatchObject({
      kind: 'events',
      events: [
        {
          namespace: 'library',
          repository: 'team/rumput',
          repoFullName: 'library/team/rumput',
          image: 'hb.nicolas.my.id/library/team/rumput:v1',
        },
      ],
    });
  });

  it('takes the registry host from resource_url even when it has no dot or has a port', () => {
    const raw = edited(PUSH, (b) => {
      b.event_data.resources[0].resource_url = 'harbor-core:8443/library/rumput:v1';
    });
    const result = harbor.parse(request(raw), {});
    expect(result).toMatchObject({
      events: [{ registry: 'harbor-core:8443', image: 'harbor-core:8443/library/rumput:v1' }],
    });
  });

  it('emits one event per resource', () => {
    const raw = edited(PUSH, (b) => {
      b.event_data.resources.push({
        ...b.event_data.resources[0],
        tag: 'latest',
        resource_url: 'hb.nicolas.my.id/library/rumput:latest',
      });
    });
    const result = harbor.parse(request(raw), {});
    expect(result.kind === 'events' && result.events.map((e) => e.tag)).toEqual(['v1', 'latest']);
  });

  it('normalizes Harbor 1.x chart uploads as charts without an image reference', () => {
    const raw = edited('harbor/pushImage-harbor-1.10-style-keel-test.json', (b) => {
      b.type = 'uploadChart';
      b.event_data.resources = [
        { tag: '0.1.0', resource_url: 'https://harbor.mydomain.com/chartrepo/library/charts/ai-rag-0.1.0.tgz' },
      ];
    });
    const result = harbor.parse(request(raw), {});
    expect(result).toMatchObject({
      kind: 'events',
      events: [
        {
          kind: 'chart',
          action: 'chart_push',
          registry: 'harbor.mydomain.com',
          repoFullName: 'library/ai-rag',
          tag: '0.1.0',
        },
      ],
    });
    expect(result.kind === 'events' && result.events[0].image).toBeUndefined();
  });
});

describe('harbor: events we do not act on are ignored, whatever their body', () => {
  it.each([
    'SCANNING_COMPLETED',
    'SCANNING_FAILED',
    'QUOTA_EXCEED',
    'QUOTA_WARNING',
    'REPLICATION',
    'TAG_RETENTION',
    'harbor.scan.completed',
    'harbor.quota.warned',
    'DOWNLOAD_CHART',
  ])('%s', (type) => {
    const raw = JSON.stringify({ type, occur_at: 1680502372, event_data: { whatever: true } });
    const result = harbor.parse(request(raw), {});
    expect(result.kind).toBe('ignored');
    if (result.kind === 'ignored') expect(result.reason).toContain(`"${type}"`);
  });
});

describe('harbor: what identifies the artifact is required, the rest derived from the field that names it', () => {
  const url = 'hb.nicolas.my.id/library/rumput:v1';
  it.each([
    [
      'no resource_url: no registry host, nothing invented',
      (b: any) => delete b.event_data.resources[0].resource_url,
      { registry: undefined, repoFullName: 'library/rumput', tag: 'v1', image: 'library/rumput:v1' },
    ],
    [
      'a resource_url without a host does not make the namespace a registry',
      (b: any) => (b.event_data.resources[0].resource_url = 'library/rumput:v1'),
      { registry: undefined, namespace: 'library', repoFullName: 'library/rumput', image: 'library/rumput:v1' },
    ],
    [
      'an in-cluster host with a port is a host',
      (b: any) => (b.event_data.resources[0].resource_url = 'harbor-core:8443/library/rumput:v1'),
      { registry: 'harbor-core:8443', image: 'harbor-core:8443/library/rumput:v1' },
    ],
    [
      'no repository object: the repository from resource_url',
      (b: any) => delete b.event_data.repository,
      {
        registry: 'hb.nicolas.my.id',
        namespace: 'library',
        repository: 'rumput',
        repoFullName: 'library/rumput',
        image: url,
      },
    ],
    [
      'no repo_full_name nor namespace: the repository from resource_url',
      (b: any) => {
        delete b.event_data.repository.repo_full_name;
        delete b.event_data.repository.namespace;
      },
      { repoFullName: 'library/rumput' },
    ],
    [
      'no tag field: the tag from resource_url',
      (b: any) => delete b.event_data.resources[0].tag,
      { tag: 'v1', image: url },
    ],
    [
      'no tag nor digest field: the digest from a by-digest resource_url',
      (b: any) => {
        delete b.event_data.resources[0].tag;
        delete b.event_data.resources[0].digest;
        b.event_data.resources[0].resource_url = `hb.nicolas.my.id/library/rumput@sha256:${'a'.repeat(64)}`;
      },
      {
        tag: undefined,
        digest: `sha256:${'a'.repeat(64)}`,
        image: `hb.nicolas.my.id/library/rumput@sha256:${'a'.repeat(64)}`,
      },
    ],
    [
      'neither tag nor digest anywhere: none invented',
      (b: any) => {
        delete b.event_data.resources[0].tag;
        delete b.event_data.resources[0].digest;
        b.event_data.resources[0].resource_url = 'hb.nicolas.my.id/library/rumput';
      },
      { tag: undefined, digest: undefined, image: 'hb.nicolas.my.id/library/rumput' },
    ],
  ])('%s', (_name, edit, expected) => {
    const result = harbor.parse(
      request(edited('harbor/push_artifact-default-real-capture-nicolasjulian.json', edit)),
      {},
    );
    expect(result).toMatchObject({ kind: 'events', events: [expected] });
  });
});

describe('harbor: malformed bodies name the field', () => {
  it.each([
    ['no body', undefined, []],
    ['no type', edited(PUSH, (b) => delete b.type), ['type']],
    ['no event_data', edited(PUSH, (b) => delete b.event_data), ['event_data']],
    ['no resources', edited(PUSH, (b) => (b.event_data.resources = [])), ['event_data', 'resources']],
    [
      'no repository and no resource_url: nothing names the artifact',
      edited(PUSH, (b) => {
        delete b.event_data.resources[0].resource_url;
        delete b.event_data.repository;
      }),
      ['event_data', 'resources', 0, 'resource_url'],
    ],
    [
      'no repo_full_name, no namespace, and a resource_url without a path',
      edited(PUSH, (b) => {
        delete b.event_data.repository.repo_full_name;
        delete b.event_data.repository.namespace;
        b.event_data.resources[0].resource_url = ' ';
      }),
      ['event_data', 'resources', 0, 'resource_url'],
    ],
    ['occur_at as a string', edited(PUSH, (b) => (b.occur_at = '2023-04-03')), ['occur_at']],
    ['CloudEvents without data', edited(CE_PUSH, (b) => delete b.data), ['data']],
    ['CloudEvents with a bad time', edited(CE_PUSH, (b) => (b.time = 'yesterday')), ['time']],
  ])('%s', (_name, raw, path) => {
    expect(zodPath(() => harbor.parse(request(raw ?? ''), {}))).toEqual(path);
  });
});
