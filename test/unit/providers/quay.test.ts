import { quay } from '../../../lib/receive/providers/quay';
import { edited, fixture, fixtureFiles, request } from '../../helpers/fixtures';
import { zodPath } from '../../helpers/zod';

const SECRET = 's3cret-value';
const NOW = new Date();

const DOCS = 'quay/repo_push-quay-docs-guides-notifications.json';
const LEGACY = 'quay/repo_push-quay-docs-legacy-2016-updated_tags-object.json';

describe('quay: verify (?token=)', () => {
  const body = fixture(DOCS);
  it.each([
    ['good token', {}, { token: SECRET }, true],
    ['wrong token', {}, { token: 'nope' }, false],
    ['missing token', {}, {}, false],
    ['secret in a header instead', { Authorization: `Bearer ${SECRET}` }, {}, false],
  ])('%s', (_name, headers, query, ok) => {
    const result = quay.verify(request(body, headers, query as Record<string, string>), [SECRET], NOW);
    expect(result.ok).toBe(ok);
    if (!result.ok) expect(result.reason).not.toContain(SECRET);
  });

  it('accepts the previous secret during rotation', () => {
    expect(quay.verify(request(body, {}, { token: 'old' }), [SECRET, 'old'], NOW).ok).toBe(true);
  });
});

describe('quay: every fixture parses and normalizes', () => {
  it.each(fixtureFiles('quay'))('%s', (_name, raw) => {
    const result = quay.parse(request(raw), {});
    expect(result.kind).toBe('events');
    if (result.kind !== 'events') return;
    const body = JSON.parse(raw);
    const tags: string[] = Array.isArray(body.updated_tags) ? body.updated_tags : Object.keys(body.updated_tags);
    expect(result.events.map((e) => e.tag)).toEqual(tags);
    for (const e of result.events) {
      expect(e.provider).toBe('quay');
      expect(e.kind).toBe('image');
      expect(e.action).toBe('push');
      expect(e.repoFullName).toBe(body.repository);
      expect(e.namespace).toBe(body.namespace);
      expect(e.repository).toBe(body.name);
      expect(e.registry).toBe(body.docker_url.split('/')[0]);
      // docker_url is the pullable repository, so the image is it plus the tag
      expect(e.image).toBe(`${body.docker_url}:${e.tag}`);
    }
  });

  it('normalizes the docs example exactly', () => {
    expect(quay.parse(request(fixture(DOCS)), {})).toEqual({
      kind: 'events',
      events: [
        {
          provider: 'quay',
          kind: 'image',
          action: 'push',
          registry: 'quay.io',
          namespace: 'mynamespace',
          repository: 'repository',
          repoFullName: 'mynamespace/repository',
          tag: 'latest',
          digest: undefined,
          image: 'quay.io/mynamespace/repository:latest',
        },
      ],
    });
  });

  it('does not take the legacy V1 image id (not sha256:) for a digest', () => {
    const result = quay.parse(request(fixture(LEGACY)), {});
    expect(result).toMatchObject({
      kind: 'events',
      events: [{ tag: 'latest', image: 'quay.io/mynamespace/repository:latest' }],
    });
    expect(result.kind === 'events' && result.events[0].digest).toBeUndefined();
  });

  it('records a legacy value that is a sha256 digest', () => {
    const digest = `sha256:${'b750fe79269d2ec9'.repeat(4)}`;
    const raw = edited(LEGACY, (b) => (b.updated_tags = { latest: digest, '1.0': 'not-a-digest' }));
    const result = quay.parse(request(raw), {});
    expect(result.kind === 'events' && result.events.map((e) => [e.tag, e.digest])).toEqual([
      ['latest', digest],
      ['1.0', undefined],
    ]);
  });

  it('emits one event per updated tag', () => {
    const raw = edited(DOCS, (b) => (b.updated_tags = ['latest', '1.2.3']));
    const result = quay.parse(request(raw), {});
    expect(result.kind === 'events' && result.events.map((e) => e.image)).toEqual([
      'quay.io/mynamespace/repository:latest',
      'quay.io/mynamespace/repository:1.2.3',
    ]);
  });

  it('keeps the host of a self-hosted Quay with a port', () => {
    const raw = edited(DOCS, (b) => (b.docker_url = 'quay.example.com:8443/mynamespace/repository'));
    expect(quay.parse(request(raw), {})).toMatchObject({
      events: [{ registry: 'quay.example.com:8443', image: 'quay.example.com:8443/mynamespace/repository:latest' }],
    });
  });
});

describe('quay: notifications we do not act on are ignored', () => {
  it.each([
    // the other Quay notifications carry repository/docker_url but no updated_tags
    [
      'a build notification',
      edited(DOCS, (b) => {
        delete b.updated_tags;
        b.build_id = '296ec063-5f86-4706-a469-f0a400bf9df2';
        b.docker_tags = ['latest'];
      }),
    ],
    [
      'a vulnerability notification',
      edited(DOCS, (b) => {
        delete b.updated_tags;
        b.tags = ['latest'];
        b.vulnerability = { id: 'CVE-1', priority: 'High' };
      }),
    ],
    ['a push that updated no tags', edited(DOCS, (b) => (b.updated_tags = []))],
    ['a legacy push that updated no tags', edited(LEGACY, (b) => (b.updated_tags = {}))],
  ])('%s', (_name, raw) => {
    const result = quay.parse(request(raw), {});
    expect(result.kind).toBe('ignored');
    if (result.kind === 'ignored') expect(result.reason).toMatch(/tags/);
  });
});

describe('quay: the repository and host from whichever field names them', () => {
  it.each([
    [
      'no repository: from docker_url',
      (b: any) => delete b.repository,
      {
        registry: 'quay.io',
        namespace: 'mynamespace',
        repository: 'repository',
        image: 'quay.io/mynamespace/repository:latest',
      },
    ],
    [
      'no docker_url: the host from homepage',
      (b: any) => delete b.docker_url,
      { registry: 'quay.io', repoFullName: 'mynamespace/repository', image: 'quay.io/mynamespace/repository:latest' },
    ],
    [
      'a docker_url without a host does not make the namespace a registry',
      (b: any) => {
        b.docker_url = 'mynamespace/repository';
        delete b.homepage;
      },
      { registry: undefined, repoFullName: 'mynamespace/repository', image: 'mynamespace/repository:latest' },
    ],
    [
      'neither docker_url nor homepage: no host invented',
      (b: any) => {
        delete b.docker_url;
        delete b.homepage;
      },
      { registry: undefined, image: 'mynamespace/repository:latest' },
    ],
  ])('%s', (_name, edit, expected) => {
    expect(quay.parse(request(edited(DOCS, edit)), {})).toMatchObject({ kind: 'events', events: [expected] });
  });
});

describe('quay: malformed bodies name the field', () => {
  it.each([
    ['no body', '', []],
    ['empty object', '{}', ['repository']],
    [
      'no repository and no docker_url',
      edited(DOCS, (b) => {
        delete b.docker_url;
        delete b.repository;
      }),
      ['repository'],
    ],
    [
      'no repository and a docker_url without a host',
      edited(DOCS, (b) => {
        b.docker_url = 'mynamespace/repository';
        delete b.repository;
      }),
      ['repository'],
    ],
    ['updated_tags as a string', edited(DOCS, (b) => (b.updated_tags = 'latest')), ['updated_tags']],
    ['an empty tag name', edited(DOCS, (b) => (b.updated_tags = [''])), ['updated_tags', 0]],
  ])('%s', (_name, raw, path) => {
    expect(zodPath(() => quay.parse(request(raw), {}))).toEqual(path);
  });
});
