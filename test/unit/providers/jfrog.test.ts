import { jfrog } from '../../../lib/receive/providers/jfrog';
import { edited, fixture, fixtureFiles, request } from '../../helpers/fixtures';
import { hmacHex } from '../../helpers/hmac';
import { zodPaths } from '../../helpers/zod';

const SECRET = 's3cret-value';
const NOW = new Date();
const ENVELOPE = 'jfrog-artifactory/docker-pushed-envelope-keel-test.json';
const DATA_ONLY = 'jfrog-artifactory/docker-pushed-data-object-jfrog-docs.json';

/**
 * Every fixture as the request JFrog sends. The docs fixture is only the `data` member (SOURCES.md):
 * the real request wraps it in the envelope, so it is put in place of the envelope fixture's data.
 */
function asRequestBody(raw: string): string {
  const parsed = JSON.parse(raw);
  if ('domain' in parsed) return raw;
  const envelope = JSON.parse(fixture(ENVELOPE));
  envelope.data = parsed;
  return JSON.stringify(envelope);
}

describe('jfrog: provider contract', () => {
  it('is the jfrog provider, whose credential header is redacted', () => {
    expect(jfrog.id).toBe('jfrog');
    expect(jfrog.credentialHeaders).toEqual(['x-jfrog-event-auth']);
  });
});

describe('jfrog: verify (X-JFrog-Event-Auth, plain secret or HMAC-SHA256 of the body)', () => {
  const body = fixture(ENVELOPE);
  const compact = JSON.stringify(JSON.parse(body));
  it.each([
    ['plain: good secret', body, { 'X-JFrog-Event-Auth': SECRET }, true],
    ['plain: wrong secret', body, { 'X-JFrog-Event-Auth': 'nope' }, false],
    ['plain: the secret of another trigger', body, { 'X-JFrog-Event-Auth': `${SECRET}x` }, false],
    ['HMAC: good signature', body, { 'X-JFrog-Event-Auth': hmacHex(SECRET, body) }, true],
    [
      'HMAC: good signature in upper case hex',
      body,
      { 'X-JFrog-Event-Auth': hmacHex(SECRET, body).toUpperCase() },
      true,
    ],
    ['HMAC: good signature of the compact body', compact, { 'X-JFrog-Event-Auth': hmacHex(SECRET, compact) }, true],
    ['HMAC: signed with a wrong secret', body, { 'X-JFrog-Event-Auth': hmacHex('nope', body) }, false],
    ['HMAC: tampered body', body.replace('"latest"', '"evil"'), { 'X-JFrog-Event-Auth': hmacHex(SECRET, body) }, false],
    ['HMAC: re-serialized body', compact, { 'X-JFrog-Event-Auth': hmacHex(SECRET, body) }, false],
    ['missing header', body, {}, false],
    ['empty header', body, { 'X-JFrog-Event-Auth': '' }, false],
    ['the secret in another header', body, { Authorization: SECRET }, false],
  ])('%s', (_name, raw, headers, ok) => {
    const result = jfrog.verify(request(raw, headers as Record<string, string>), [SECRET], NOW);
    expect(result.ok).toBe(ok);
    if (!result.ok) {
      expect(result.reason).not.toContain(SECRET);
      expect(result.reason).not.toContain('nope');
      expect(result.reason).toContain('X-JFrog-Event-Auth');
    }
  });

  it.each([
    ['plain', (s: string) => s],
    ['HMAC', (s: string) => hmacHex(s, body)],
  ])('accepts the previous secret during rotation (%s)', (_name, credential) => {
    const req = request(body, { 'X-JFrog-Event-Auth': credential('old') });
    expect(jfrog.verify(req, [SECRET, 'old'], NOW).ok).toBe(true);
    expect(jfrog.verify(req, [SECRET], NOW).ok).toBe(false);
  });

  it('does not echo a received credential in the reason', () => {
    const result = jfrog.verify(request(body, { 'X-JFrog-Event-Auth': 'received-credential' }), [SECRET], NOW);
    expect(result).toEqual({ ok: false, reason: expect.not.stringContaining('received-credential') });
  });
});

describe('jfrog: every fixture parses and normalizes', () => {
  it.each(fixtureFiles('jfrog-artifactory'))('%s', (_name, raw) => {
    const requestBody = asRequestBody(raw);
    const result = jfrog.parse(request(requestBody), {});
    expect(result.kind).toBe('events');
    if (result.kind !== 'events') return;
    expect(result.events).toHaveLength(1);
    const [e] = result.events;
    const body = JSON.parse(requestBody);
    const host = new URL(body.jpd_origin).host;
    const [ns, ...rest] = body.data.image_name.split('/');
    expect(e.provider).toBe('jfrog');
    expect(e.kind).toBe('image');
    expect(e.action).toBe('push');
    expect(e.registry).toBe(host);
    expect(e.repoFullName).toBe(body.data.image_name);
    expect(e.namespace).toBe(rest.length ? ns : undefined);
    expect(e.repository).toBe(rest.length ? rest.join('/') : ns);
    expect(e.tag).toBe(body.data.tag);
    expect(e.digest).toBe(`sha256:${body.data.sha256}`);
    expect(e.image).toBe(`${host}/${body.data.image_name}:${body.data.tag}`);
  });

  it('normalizes the keel envelope exactly', () => {
    expect(jfrog.parse(request(fixture(ENVELOPE)), {})).toEqual({
      kind: 'events',
      events: [
        {
          provider: 'jfrog',
          kind: 'image',
          action: 'push',
          registry: 'example.jfrog.io',
          namespace: 'library',
          repository: 'ubuntu',
          repoFullName: 'library/ubuntu',
          tag: 'latest',
          digest: 'sha256:35c4a2c15539c6c1e4e5fa4e554dac323ad0107d8eb5c582d6ff386b383b7dce',
          image: 'example.jfrog.io/library/ubuntu:latest',
        },
      ],
    });
  });

  it('the docs data object, enveloped, normalizes like the keel envelope', () => {
    const wrapped = jfrog.parse(request(asRequestBody(fixture(DATA_ONLY))), {});
    expect(wrapped).toEqual(jfrog.parse(request(fixture(ENVELOPE)), {}));
  });

  it('the bare data object (not a request JFrog sends) is malformed', () => {
    expect(zodPaths(() => jfrog.parse(request(fixture(DATA_ONLY)), {}))).toContainEqual(['domain']);
  });
});

describe('jfrog: docker event types and optional fields', () => {
  it.each([
    ['pushed', 'push'],
    ['deleted', 'delete'],
    ['promoted', 'promote'],
  ])('docker %s -> %s', (type, action) => {
    const result = jfrog.parse(request(edited(ENVELOPE, (b) => (b.event_type = b.data.event_type = type))), {});
    expect(result).toMatchObject({
      kind: 'events',
      events: [{ action, repoFullName: 'library/ubuntu', tag: 'latest' }],
    });
  });

  it('an image without a namespace has none', () => {
    const result = jfrog.parse(request(edited(ENVELOPE, (b) => (b.data.image_name = 'ubuntu'))), {});
    expect(result).toMatchObject({
      kind: 'events',
      events: [{ repository: 'ubuntu', repoFullName: 'ubuntu', image: 'example.jfrog.io/ubuntu:latest' }],
    });
    if (result.kind === 'events') expect(result.events[0].namespace).toBeUndefined();
  });

  it.each([
    ['no jpd_origin', (b: any) => delete b.jpd_origin, undefined, 'library/ubuntu:latest'],
    [
      'jpd_origin with a path',
      (b: any) => (b.jpd_origin = 'https://Art.Example.com:8443/artifactory'),
      'art.example.com:8443',
      'art.example.com:8443/library/ubuntu:latest',
    ],
    ['jpd_origin that is no URL', (b: any) => (b.jpd_origin = 'http://'), undefined, 'library/ubuntu:latest'],
  ])('registry: %s', (_name, edit, registry, image) => {
    const result = jfrog.parse(request(edited(ENVELOPE, edit)), {});
    if (result.kind !== 'events') throw new Error('expected events');
    expect(result.events[0].registry).toBe(registry);
    expect(result.events[0].image).toBe(image);
  });

  it.each([
    ['a docs placeholder', 'sample_checksum'],
    ['too short', 'abc123'],
    ['missing', undefined],
  ])('a sha256 that is %s gives no digest', (_name, sha) => {
    const result = jfrog.parse(request(edited(ENVELOPE, (b) => (b.data.sha256 = sha))), {});
    expect(result).toMatchObject({ kind: 'events', events: [{ digest: undefined, tag: 'latest' }] });
  });

  it('the user is userContext.id when sent, never the sending service in `source`', () => {
    const withUser = jfrog.parse(
      request(edited(ENVELOPE, (b) => (b.userContext = { id: 'johndoe', isToken: false }))),
      {},
    );
    expect(withUser).toMatchObject({ kind: 'events', events: [{ owner: 'johndoe' }] });
    const without = jfrog.parse(request(fixture(ENVELOPE)), {});
    expect(without).toMatchObject({ kind: 'events', events: [{ owner: undefined }] });
  });
});

describe('jfrog: ignored events', () => {
  it.each([
    ['artifact', 'deployed', { repo_key: 'libs', path: 'a/b.jar', name: 'b.jar', sha256: 'x', size: 1 }],
    ['build', 'uploaded', { build_name: 'b', build_number: '1' }],
    ['release_bundle', 'created', { release_bundle_name: 'n', release_bundle_version: '1.0.0' }],
  ])('domain %s is not docker', (domain, type, data) => {
    const body = JSON.stringify({ domain, event_type: type, data, jpd_origin: 'https://example.jfrog.io' });
    expect(jfrog.parse(request(body), {})).toEqual({
      kind: 'ignored',
      reason: `jfrog domain "${domain}" is not docker`,
    });
  });

  it('another docker event type is ignored, whatever its data', () => {
    const result = jfrog.parse(request(JSON.stringify({ domain: 'docker', event_type: 'pulled', data: {} })), {});
    expect(result).toEqual({
      kind: 'ignored',
      reason: expect.stringContaining('jfrog docker event "pulled" is not handled'),
    });
  });

  it('a very long domain is clipped in the reason', () => {
    const domain = 'x'.repeat(500);
    const result = jfrog.parse(request(JSON.stringify({ domain, event_type: 'e', data: {} })), {});
    if (result.kind !== 'ignored') throw new Error('expected ignored');
    expect(result.reason.length).toBeLessThan(120);
  });
});

describe('jfrog: image and tag from data.path when the payload omits them', () => {
  it.each([
    ['no image_name', (b: any) => delete b.data.image_name, { repoFullName: 'library/ubuntu', tag: 'latest' }],
    ['no tag', (b: any) => delete b.data.tag, { repoFullName: 'library/ubuntu', tag: 'latest' }],
    [
      'neither, from a single-arch manifest path',
      (b: any) => {
        delete b.data.image_name;
        delete b.data.tag;
        b.data.path = 'team/web/1.4.0/manifest.json';
      },
      { namespace: 'team', repository: 'web', tag: '1.4.0', image: 'example.jfrog.io/team/web:1.4.0' },
    ],
  ])('%s', (_name, edit, expected) => {
    const raw = edited(ENVELOPE, (b) => {
      b.jpd_origin = 'https://example.jfrog.io';
      edit(b);
    });
    expect(jfrog.parse(request(raw), {})).toMatchObject({ kind: 'events', events: [expected] });
  });

  it("takes no registry from a jpd_origin whose host is not a registry host by Docker's rule", () => {
    const result = jfrog.parse(request(edited(ENVELOPE, (b) => (b.jpd_origin = 'http://artifactory/artifactory'))), {});
    expect(result).toMatchObject({ kind: 'events', events: [{ registry: undefined, image: 'library/ubuntu:latest' }] });
  });
});

describe('jfrog: malformed bodies name the field', () => {
  it.each([
    ['no domain', (b: any) => delete b.domain, ['domain']],
    ['no event_type', (b: any) => delete b.event_type, ['event_type']],
    ['no data', (b: any) => delete b.data, ['data']],
    [
      'no image_name and no path',
      (b: any) => {
        delete b.data.image_name;
        delete b.data.path;
      },
      ['data', 'image_name'],
    ],
    ['empty image_name', (b: any) => (b.data.image_name = ''), ['data', 'image_name']],
    [
      'no tag and a path that is no manifest',
      (b: any) => {
        delete b.data.tag;
        b.data.path = 'library/ubuntu/latest';
      },
      ['data', 'tag'],
    ],
    ['tag is a number', (b: any) => (b.data.tag = 1), ['data', 'tag']],
    ['size is a string', (b: any) => (b.data.size = 'big'), ['data', 'size']],
  ])('%s', (_name, edit, path) => {
    expect(zodPaths(() => jfrog.parse(request(edited(ENVELOPE, edit)), {}))).toEqual([path]);
  });

  it('an empty body', () => {
    expect(zodPaths(() => jfrog.parse(request(''), {}))).toEqual([[]]);
  });
});
