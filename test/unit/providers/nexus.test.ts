import { nexus } from '../../../lib/receive/providers/nexus';
import { edited, fixture, fixtureFiles, request } from '../../helpers/fixtures';
import { hmacHex } from '../../helpers/hmac';
import { zodPaths } from '../../helpers/zod';

const SECRET = 's3cret-value';
const NOW = new Date();
const DOCS = 'sonatype-nexus/repository_component-created-sonatype-docs.json';
const COMPONENT_HEADERS = { 'X-Nexus-Webhook-Id': 'rm:repository:component', 'X-Nexus-Webhook-Delivery': 'delivery-1' };

/** Nexus sends (and signs) compact JSON; the fixture is pretty-printed. */
const compact = (raw: string) => JSON.stringify(JSON.parse(raw));

/**
 * No real docker sample exists (SOURCES.md: the only published one is npm). Nexus documents the same
 * component body for every format, with format "docker", name = the image and version = the tag, so
 * this is the npm sample with only those fields changed.
 */
const dockerBody = (edit: (body: any) => void = () => {}) =>
  edited(DOCS, (b) => {
    b.repositoryName = 'docker-hosted';
    b.component.format = 'docker';
    b.component.name = 'team/web';
    b.component.group = null;
    b.component.version = '1.4.0';
    edit(b);
  });

describe('nexus: provider contract', () => {
  it('is the nexus provider, whose signature header is redacted', () => {
    expect(nexus.id).toBe('nexus');
    expect(nexus.credentialHeaders).toEqual(['x-nexus-webhook-signature']);
  });
});

describe('nexus: verify (X-Nexus-Webhook-Signature: hex HMAC-SHA1 of the body)', () => {
  const body = compact(fixture(DOCS));
  it.each([
    ['good signature', body, { 'X-Nexus-Webhook-Signature': hmacHex(SECRET, body, 'sha1') }, true],
    [
      'good signature, upper case hex',
      body,
      { 'X-Nexus-Webhook-Signature': hmacHex(SECRET, body, 'sha1').toUpperCase() },
      true,
    ],
    ['signed with a wrong secret', body, { 'X-Nexus-Webhook-Signature': hmacHex('nope', body, 'sha1') }, false],
    [
      'tampered body',
      body.replace('"CREATED"', '"DELETED"'),
      { 'X-Nexus-Webhook-Signature': hmacHex(SECRET, body, 'sha1') },
      false,
    ],
    [
      're-serialized (pretty-printed) body',
      fixture(DOCS),
      { 'X-Nexus-Webhook-Signature': hmacHex(SECRET, body, 'sha1') },
      false,
    ],
    ['HMAC-SHA256 instead of SHA-1', body, { 'X-Nexus-Webhook-Signature': hmacHex(SECRET, body) }, false],
    ['the secret itself', body, { 'X-Nexus-Webhook-Signature': SECRET }, false],
    // the docs example's signature: its secret is not published, so it must not verify with ours
    [
      'the docs example signature',
      body,
      { 'X-Nexus-Webhook-Signature': '687f3719b87232cf1c11b3ef7ea10c49218b6df1' },
      false,
    ],
    ['missing header', body, {}, false],
  ])('%s', (_name, raw, headers, ok) => {
    const result = nexus.verify(request(raw, headers as Record<string, string>), [SECRET], NOW);
    expect(result.ok).toBe(ok);
    if (!result.ok) {
      expect(result.reason).not.toContain(SECRET);
      expect(result.reason).toContain('X-Nexus-Webhook-Signature');
    }
  });

  it('accepts the previous secret during rotation', () => {
    const req = request(body, { 'X-Nexus-Webhook-Signature': hmacHex('old', body, 'sha1') });
    expect(nexus.verify(req, [SECRET, 'old'], NOW).ok).toBe(true);
    expect(nexus.verify(req, [SECRET], NOW).ok).toBe(false);
  });
});

describe('nexus: every fixture parses', () => {
  // every real sample is a non-docker component: acknowledged, with the format named
  it.each(fixtureFiles('sonatype-nexus'))('%s', (_name, raw) => {
    const body = JSON.parse(raw);
    const result = nexus.parse(request(raw, COMPONENT_HEADERS), {});
    expect(body.component.format).not.toBe('docker');
    expect(result).toEqual({
      kind: 'ignored',
      reason: `nexus component format "${body.component.format}" is not docker`,
    });
  });

  it.each(fixtureFiles('sonatype-nexus'))('%s as a docker component normalizes', (_name, raw) => {
    const body = JSON.parse(raw);
    body.component.format = 'docker';
    const result = nexus.parse(request(JSON.stringify(body), COMPONENT_HEADERS), {});
    expect(result.kind).toBe('events');
    if (result.kind !== 'events') return;
    const [e] = result.events;
    expect(e.provider).toBe('nexus');
    expect(e.kind).toBe('image');
    expect(e.action).toBe({ CREATED: 'push', UPDATED: 'push', DELETED: 'delete' }[body.action as string]);
    expect(e.repoFullName).toBe(body.component.name);
    expect(e.tag).toBe(body.component.version);
    expect(e.image).toBe(`${body.component.name}:${body.component.version}`);
    expect(e.owner).toBe(body.initiator.split('/')[0]);
    expect(e.registry).toBeUndefined();
    expect(e.deliveryId).toBe(COMPONENT_HEADERS['X-Nexus-Webhook-Delivery']);
    expect(Date.parse(e.occurredAt!)).toBe(Date.parse(body.timestamp.replace(/(\d{2})(\d{2})$/, '$1:$2')));
  });

  it('normalizes a docker component exactly', () => {
    const result = nexus.parse(
      request(
        dockerBody((b) => (b.initiator = 'admin/127.0.0.1')),
        {
          'X-Nexus-Webhook-Id': 'rm:repository:component',
          'X-Nexus-Webhook-Delivery': '7f3b2a8e-6f2c-4d4b-9d1e-2c5a1b0f9e77',
        },
      ),
      {},
    );
    expect(result).toEqual({
      kind: 'events',
      events: [
        {
          provider: 'nexus',
          kind: 'image',
          action: 'push',
          deliveryId: '7f3b2a8e-6f2c-4d4b-9d1e-2c5a1b0f9e77',
          namespace: 'team',
          repository: 'web',
          repoFullName: 'team/web',
          tag: '1.4.0',
          image: 'team/web:1.4.0',
          owner: 'admin',
          occurredAt: '2016-11-14T19:32:13.515Z',
        },
      ],
    });
  });
});

describe('nexus: docker actions and fields', () => {
  it.each([
    ['CREATED', 'push'],
    ['UPDATED', 'push'],
    ['DELETED', 'delete'],
  ])('%s -> %s', (nexusAction, action) => {
    const result = nexus.parse(
      request(
        dockerBody((b) => (b.action = nexusAction)),
        COMPONENT_HEADERS,
      ),
      {},
    );
    expect(result).toMatchObject({ kind: 'events', events: [{ action, repoFullName: 'team/web', tag: '1.4.0' }] });
  });

  it('an image without a namespace has none', () => {
    const result = nexus.parse(
      request(
        dockerBody((b) => (b.component.name = 'web')),
        COMPONENT_HEADERS,
      ),
      {},
    );
    expect(result).toMatchObject({
      kind: 'events',
      events: [{ repository: 'web', repoFullName: 'web', image: 'web:1.4.0' }],
    });
    if (result.kind === 'events') expect(result.events[0].namespace).toBeUndefined();
  });

  it.each([
    ['user/address', 'deployer/10.0.0.7', 'deployer'],
    ['no address', 'deployer', 'deployer'],
    ['missing', undefined, undefined],
  ])('owner from initiator: %s', (_name, initiator, owner) => {
    const result = nexus.parse(
      request(
        dockerBody((b) => (b.initiator = initiator)),
        COMPONENT_HEADERS,
      ),
      {},
    );
    expect(result).toMatchObject({ kind: 'events', events: [{ owner }] });
  });

  it('without the delivery header there is no deliveryId; without a timestamp no occurredAt', () => {
    const result = nexus.parse(
      request(
        dockerBody((b) => delete b.timestamp),
        { 'X-Nexus-Webhook-Id': 'rm:repository:component' },
      ),
      {},
    );
    expect(result).toMatchObject({ kind: 'events', events: [{ deliveryId: undefined, occurredAt: undefined }] });
  });

  it('a component body without the event header is still a component event', () => {
    expect(nexus.parse(request(dockerBody()), {})).toMatchObject({ kind: 'events', events: [{ tag: '1.4.0' }] });
  });
});

describe('nexus: ignored events', () => {
  it('asset events are ignored (the component event is the one acted on)', () => {
    const asset = JSON.stringify({
      timestamp: '2016-11-14T19:32:13.515+0000',
      initiator: 'admin/127.0.0.1',
      repositoryName: 'docker-hosted',
      action: 'CREATED',
      asset: { id: 'a', assetId: 'b', format: 'docker', name: 'v2/team/web/manifests/1.4.0' },
    });
    expect(nexus.parse(request(asset, { 'X-Nexus-Webhook-Id': 'rm:repository:asset' }), {})).toEqual({
      kind: 'ignored',
      reason: 'nexus webhook "rm:repository:asset" is not handled (only rm:repository:component)',
    });
    expect(nexus.parse(request(asset), {})).toEqual({
      kind: 'ignored',
      reason: 'nexus asset events are not handled (only rm:repository:component)',
    });
  });

  it('global events are ignored, whatever their body', () => {
    const result = nexus.parse(request('{"audit":{}}', { 'X-Nexus-Webhook-Id': 'rm:global:audit' }), {});
    expect(result).toEqual({ kind: 'ignored', reason: expect.stringContaining('"rm:global:audit" is not handled') });
  });

  it.each(['maven2', 'raw', 'helm'])('format %s is ignored, whatever the rest of its body', (format) => {
    const body = JSON.stringify({ component: { format } });
    expect(nexus.parse(request(body, COMPONENT_HEADERS), {})).toEqual({
      kind: 'ignored',
      reason: `nexus component format "${format}" is not docker`,
    });
  });
});

describe('nexus: malformed bodies name the field', () => {
  it.each([
    ['no component', (b: any) => delete b.component, ['component']],
    ['no format', (b: any) => delete b.component.format, ['component', 'format']],
    ['no action', (b: any) => delete b.action, ['action']],
    ['unknown action', (b: any) => (b.action = 'MOVED'), ['action']],
    ['no name', (b: any) => delete b.component.name, ['component', 'name']],
    ['no version (the tag)', (b: any) => delete b.component.version, ['component', 'version']],
    ['empty version', (b: any) => (b.component.version = ''), ['component', 'version']],
    ['timestamp that is no date', (b: any) => (b.timestamp = 'yesterday'), ['timestamp']],
  ])('%s', (_name, edit, path) => {
    expect(zodPaths(() => nexus.parse(request(dockerBody(edit), COMPONENT_HEADERS), {}))).toEqual([path]);
  });
});
