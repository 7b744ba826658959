import { acr } from '../../../lib/receive/providers/acr';
import { expectFields } from '../../helpers/events';
import { edited, fixture, fixtureFiles, request } from '../../helpers/fixtures';
import { zodPaths } from '../../helpers/zod';

const SECRET = 's3cret-value';
const NOW = new Date();
const DOCS = 'aliyun-acr/push-aliyun-docs-example.json';

describe('acr: provider contract', () => {
  it('is the acr provider, configured by a query token', () => {
    expect(acr.id).toBe('acr');
    expect(acr.credential.query).toBe(true);
    expect(acr.credentialHeaders).toEqual([]);
  });
});

describe('acr: verify (?token=)', () => {
  const body = fixture(DOCS);
  it.each([
    ['good token', { token: SECRET }, true],
    ['wrong token', { token: 'nope' }, false],
    ['a token that only starts like the secret', { token: SECRET.slice(0, 5) }, false],
    ['empty token', { token: '' }, false],
    ['missing token', {}, false],
    ['secret in another parameter', { secret: SECRET }, false],
  ])('%s', (_name, query, ok) => {
    const result = acr.verify(request(body, {}, query as Record<string, string>), [SECRET], NOW);
    expect(result.ok).toBe(ok);
    if (!result.ok) {
      expect(result.reason).not.toContain(SECRET);
      expect(result.reason).not.toContain('nope');
    }
  });

  it('accepts the previous secret during rotation', () => {
    expect(acr.verify(request(body, {}, { token: 'old' }), [SECRET, 'old'], NOW).ok).toBe(true);
  });

  it('refuses everything when no secret is configured', () => {
    expect(acr.verify(request(body, {}, { token: SECRET }), [], NOW).ok).toBe(false);
  });
});

describe('acr: every fixture parses and normalizes', () => {
  it.each(fixtureFiles('aliyun-acr'))('%s', (_name, raw) => {
    const result = acr.parse(request(raw), {});
    expect(result.kind).toBe('events');
    if (result.kind !== 'events') return;
    expect(result.events).toHaveLength(1);
    const [e] = result.events;
    const body = JSON.parse(raw);
    const registry = `registry.${body.repository.region}.aliyuncs.com`;
    expect(e.provider).toBe('acr');
    expect(e.kind).toBe('image');
    expect(e.action).toBe('push');
    expect(e.registry).toBe(registry);
    expect(e.namespace).toBe(body.repository.namespace);
    expect(e.repository).toBe(body.repository.name);
    expect(e.repoFullName).toBe(body.repository.repo_full_name);
    expect(e.tag).toBe(body.push_data.tag);
    expect(e.image).toBe(`${registry}/${body.repository.repo_full_name}:${body.push_data.tag}`);
    expect(e.digest).toBe(body.push_data.digest.replace(/\s/g, ''));
    expect(e.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    // the sender's wall-clock time is China Standard Time
    expect(e.occurredAt).toBe(new Date(`${body.push_data.pushed_at.replace(' ', 'T')}+08:00`).toISOString());
    expect(e.deliveryId).toBeUndefined();
  });

  it('normalizes the docs example exactly', () => {
    expect(acr.parse(request(fixture(DOCS)), {})).toEqual({
      kind: 'events',
      events: [
        {
          provider: 'acr',
          kind: 'image',
          action: 'push',
          registry: 'registry.cn-hangzhou.aliyuncs.com',
          namespace: 'namespace',
          repository: 'repoTest',
          repoFullName: 'namespace/repoTest',
          tag: 'latest',
          digest: 'sha256:457f4aa83fc9a6663ab9d1b0a6e2dce25a12a943ed5bf2c1747c58d48bbb4917',
          image: 'registry.cn-hangzhou.aliyuncs.com/namespace/repoTest:latest',
          occurredAt: '2016-11-29T04:25:46.000Z',
        },
      ],
    });
  });

  it('removes the whitespace a real delivery had inside its digest', () => {
    const result = acr.parse(request(fixture('aliyun-acr/push-rancher-cn-docs-digest-has-whitespace.json')), {});
    expect(result).toMatchObject({
      kind: 'events',
      events: [
        {
          digest: 'sha256:f66daa126e9fcac4e2d0b7131e78ffd5d8e0012a1e6cb150a953e5be8da5d980',
          image: 'registry.cn-shanghai.aliyuncs.com/rancher_cn/webhook:latest',
          occurredAt: '2019-03-13T15:38:07.000Z',
        },
      ],
    });
  });

  it('moves an early-morning China time back to the previous UTC day', () => {
    const raw = edited(DOCS, (b) => (b.push_data.pushed_at = '2016-11-29 03:00:00'));
    expect(acr.parse(request(raw), {})).toMatchObject({ events: [{ occurredAt: '2016-11-28T19:00:00.000Z' }] });
  });

  it('leaves out the registry host when the region is not given', () => {
    const raw = edited(DOCS, (b) => delete b.repository.region);
    const result = acr.parse(request(raw), {});
    expect(result.kind).toBe('events');
    if (result.kind === 'events')
      expectFields(result.events[0], { registry: undefined, image: 'namespace/repoTest:latest' });
  });

  it('composes repoFullName from namespace and name when repo_full_name is not given', () => {
    const raw = edited(DOCS, (b) => delete b.repository.repo_full_name);
    expect(acr.parse(request(raw), {})).toMatchObject({ events: [{ repoFullName: 'namespace/repoTest' }] });
  });

  it('tolerates a body without digest and pushed_at', () => {
    const raw = edited(DOCS, (b) => {
      delete b.push_data.digest;
      delete b.push_data.pushed_at;
    });
    const result = acr.parse(request(raw), {});
    expect(result.kind).toBe('events');
    if (result.kind === 'events')
      expectFields(result.events[0], { tag: 'latest', digest: undefined, occurredAt: undefined });
  });
});

describe('acr: the repository from repo_full_name when name or namespace is missing', () => {
  it.each([
    ['no name', (b: any) => delete b.repository.name],
    ['no namespace', (b: any) => delete b.repository.namespace],
    [
      'neither',
      (b: any) => {
        delete b.repository.name;
        delete b.repository.namespace;
      },
    ],
  ])('%s', (_name, edit) => {
    const body = JSON.parse(fixture(DOCS));
    const result = acr.parse(request(edited(DOCS, edit)), {});
    const [namespace, ...rest] = body.repository.repo_full_name.split('/');
    expect(result).toMatchObject({
      kind: 'events',
      events: [
        {
          namespace,
          repository: rest.join('/'),
          repoFullName: body.repository.repo_full_name,
          image: `registry.${body.repository.region}.aliyuncs.com/${body.repository.repo_full_name}:${body.push_data.tag}`,
        },
      ],
    });
  });
});

describe('acr: a malformed body throws a ZodError naming the field', () => {
  it.each([
    ['no push_data.tag', edited(DOCS, (b) => delete b.push_data.tag), ['push_data', 'tag']],
    ['empty push_data.tag', edited(DOCS, (b) => (b.push_data.tag = '')), ['push_data', 'tag']],
    ['no push_data', edited(DOCS, (b) => delete b.push_data), ['push_data']],
    [
      'no repository.name and no repo_full_name',
      edited(DOCS, (b) => {
        delete b.repository.name;
        delete b.repository.repo_full_name;
      }),
      ['repository', 'repo_full_name'],
    ],
    [
      'no repository.namespace and no repo_full_name',
      edited(DOCS, (b) => {
        delete b.repository.namespace;
        delete b.repository.repo_full_name;
      }),
      ['repository', 'repo_full_name'],
    ],
    [
      'pushed_at in another format',
      edited(DOCS, (b) => (b.push_data.pushed_at = '2016/11/29 12:25')),
      ['push_data', 'pushed_at'],
    ],
    [
      'pushed_at that is no date',
      edited(DOCS, (b) => (b.push_data.pushed_at = '2016-13-45 12:25:46')),
      ['push_data', 'pushed_at'],
    ],
    ['pushed_at as a number', edited(DOCS, (b) => (b.push_data.pushed_at = 1480393546)), ['push_data', 'pushed_at']],
    [
      'a region that is not a region id',
      edited(DOCS, (b) => (b.repository.region = 'evil.example/x')),
      ['repository', 'region'],
    ],
  ])('%s', (_name, raw, path) => {
    expect(zodPaths(() => acr.parse(request(raw), {}))).toEqual([path]);
  });

  it('an empty body', () => {
    expect(zodPaths(() => acr.parse(request(''), {}))).toEqual([[]]);
  });
});
