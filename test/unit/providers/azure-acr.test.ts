import { azureAcr } from '../../../lib/receive/providers/azure-acr';
import { edited, fixture, fixtureFiles, request } from '../../helpers/fixtures';
import { zodPath } from '../../helpers/zod';

const SECRET = 's3cret-value';
const NOW = new Date();

const PUSH = 'azure-acr/push-azure-docs-2017.json';
const CHART_PUSH = 'azure-acr/chart_push-azure-docs-2023.json';

describe('azure-acr: verify (Authorization: Bearer, custom header)', () => {
  const body = fixture(PUSH);
  it.each([
    ['Bearer secret', { Authorization: `Bearer ${SECRET}` }, {}, true],
    ['lowercase bearer scheme', { authorization: `bearer ${SECRET}` }, {}, true],
    ['wrong Bearer secret', { Authorization: 'Bearer nope' }, {}, false],
    ['bare secret (not Bearer)', { Authorization: SECRET }, {}, false],
    ['Basic scheme', { Authorization: `Basic ${SECRET}` }, {}, false],
    ['missing header', {}, {}, false],
    ['secret in the query instead', {}, { token: SECRET }, false],
  ])('%s', (_name, headers, query, ok) => {
    const result = azureAcr.verify(request(body, headers, query as Record<string, string>), [SECRET], NOW);
    expect(result.ok).toBe(ok);
    if (!result.ok) expect(result.reason).not.toContain(SECRET);
  });

  it('accepts the previous secret during rotation', () => {
    expect(azureAcr.verify(request(body, { Authorization: 'Bearer old' }), [SECRET, 'old'], NOW).ok).toBe(true);
  });

  it('tells the user to configure the header verify accepts, and redacts it', () => {
    const headers = azureAcr.credential.headers!(SECRET);
    expect(headers).toEqual({ Authorization: `Bearer ${SECRET}` });
    expect(azureAcr.verify(request(body, headers), [SECRET], NOW).ok).toBe(true);
    expect(azureAcr.id).toBe('azure-acr');
    expect(azureAcr.credentialHeaders).toEqual(['authorization']);
  });
});

describe('azure-acr: every fixture parses and normalizes', () => {
  it.each(fixtureFiles('azure-acr'))('%s', (_name, raw) => {
    const result = azureAcr.parse(request(raw), {});
    expect(result.kind).toBe('events');
    if (result.kind !== 'events') return;
    const body = JSON.parse(raw);
    const t = body.target;
    expect(result.events).toHaveLength(1);
    const [e] = result.events;
    expect(e.provider).toBe('azure-acr');
    // ACR's action names are ours
    expect(e.action).toBe(body.action);
    expect(e.deliveryId).toBe(body.id);
    expect(e.registry).toBe(body.request?.host);
    expect(e.digest).toBe(t.digest);
    expect(e.occurredAt).toBe(new Date(body.timestamp).toISOString());
    if (body.action.startsWith('chart_')) {
      expect(e.kind).toBe('chart');
      expect(e.namespace).toBe(t.repository);
      expect(e.repository).toBe(t.name);
      expect(e.repoFullName).toBe(`${t.repository}/${t.name}`);
      // the documented version is "5.4.0.tgz"; the tag is the version without the package suffix
      expect(`${e.tag}.tgz`).toBe(t.version);
      expect(t.tag).toBe(`${t.name}-${e.tag}.tgz`);
      expect(e.image).toBeUndefined();
    } else {
      expect(e.kind).toBe('image');
      expect(e.repoFullName).toBe(t.repository);
      expect(e.tag).toBe(t.tag);
      expect(e.image).toBe(
        t.tag ? `${body.request.host}/${t.repository}:${t.tag}` : `${body.request.host}/${t.repository}@${t.digest}`,
      );
    }
  });

  it('normalizes the docs push example exactly', () => {
    expect(azureAcr.parse(request(fixture(PUSH)), {})).toEqual({
      kind: 'events',
      events: [
        {
          provider: 'azure-acr',
          kind: 'image',
          action: 'push',
          deliveryId: 'cb8c3971-9adc-488b-bdd8-43cbb4974ff5',
          registry: 'myregistry.azurecr.io',
          repository: 'hello-world',
          repoFullName: 'hello-world',
          tag: 'v1',
          digest: 'sha256:80f0d5c8786bb9e621a45ece0db56d11cdc624ad20da9fe62e9d25490f331d7d',
          image: 'myregistry.azurecr.io/hello-world:v1',
          occurredAt: '2017-11-17T16:52:01.343Z',
        },
      ],
    });
  });

  it('normalizes the docs chart_push example exactly (masked digest kept as sent)', () => {
    expect(azureAcr.parse(request(fixture(CHART_PUSH)), {})).toEqual({
      kind: 'events',
      events: [
        {
          provider: 'azure-acr',
          kind: 'chart',
          action: 'chart_push',
          deliveryId: '6356e9e0-627f-4fed-xxxx-d9059b5143ac',
          registry: undefined,
          namespace: 'repo',
          repository: 'wordpress',
          repoFullName: 'repo/wordpress',
          tag: '5.4.0',
          digest: 'sha256:xxxx8075264b5ba7c14c23672xxxx52ae6a3ebac1c47916e4efe19cd624dxxxx',
          occurredAt: '2023-03-05T23:45:31.261Z',
        },
      ],
    });
  });

  it('normalizes a delete without a tag to a digest reference', () => {
    expect(azureAcr.parse(request(fixture('azure-acr/delete-azure-docs-2017.json')), {})).toMatchObject({
      events: [
        {
          action: 'delete',
          tag: undefined,
          image:
            'myregistry.azurecr.io/hello-world@sha256:80f0d5c8786bb9e621a45ece0db56d11cdc624ad20da9fe62e9d25490f331d7d',
        },
      ],
    });
  });

  it('splits a nested repository after its first segment', () => {
    const raw = edited(PUSH, (b) => (b.target.repository = 'team/api/web'));
    expect(azureAcr.parse(request(raw), {})).toMatchObject({
      events: [{ namespace: 'team', repository: 'api/web', image: 'myregistry.azurecr.io/team/api/web:v1' }],
    });
  });

  it('falls back to the chart package name when there is no version', () => {
    const raw = edited(CHART_PUSH, (b) => delete b.target.version);
    expect(azureAcr.parse(request(raw), {})).toMatchObject({ events: [{ tag: 'wordpress-5.4.0.tgz' }] });
  });
});

describe('azure-acr: actions we do not act on are ignored, whatever their body', () => {
  it.each(['ping', 'quarantine'])('%s', (action) => {
    const result = azureAcr.parse(request(JSON.stringify({ id: 'x', action, target: {} })), {});
    expect(result.kind).toBe('ignored');
    if (result.kind === 'ignored') expect(result.reason).toContain(`"${action}"`);
  });
});

describe('azure-acr: the registry only from a real host', () => {
  it.each([
    ['a registry host', 'myregistry.azurecr.io', 'myregistry.azurecr.io', 'myregistry.azurecr.io/hello-world:v1'],
    ["a bare name is not a registry host (Docker's rule)", 'myregistry', undefined, 'hello-world:v1'],
    ['no request.host', undefined, undefined, 'hello-world:v1'],
  ])('%s', (_name, host, registry, image) => {
    const raw = edited(PUSH, (b) => {
      if (host === undefined) delete b.request;
      else b.request.host = host;
    });
    expect(azureAcr.parse(request(raw), {})).toMatchObject({ kind: 'events', events: [{ registry, image }] });
  });
});

describe('azure-acr: malformed bodies name the field', () => {
  it.each([
    ['no body', '', []],
    ['no action', edited(PUSH, (b) => delete b.action), ['action']],
    ['no target', edited(PUSH, (b) => delete b.target), ['target']],
    ['push without a repository', edited(PUSH, (b) => delete b.target.repository), ['target', 'repository']],
    ['a host with a path', edited(PUSH, (b) => (b.request.host = 'evil.example.com/x')), ['request', 'host']],
    ['a bad timestamp', edited(PUSH, (b) => (b.timestamp = 'Friday')), ['timestamp']],
    [
      'chart without name or repository',
      edited(CHART_PUSH, (b) => {
        delete b.target.name;
        delete b.target.repository;
      }),
      ['target', 'name'],
    ],
  ])('%s', (_name, raw, path) => {
    expect(zodPath(() => azureAcr.parse(request(raw), {}))).toEqual(path);
  });
});
