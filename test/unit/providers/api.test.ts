import { api } from '../../../lib/receive/providers/api';
import { expectFields } from '../../helpers/events';
import { request } from '../../helpers/fixtures';
import { zodError, zodPaths } from '../../helpers/zod';

const SECRET = 's3cret-value';
const NOW = new Date();
const DIGEST = 'sha256:457f4aa83fc9a6663ab9d1b0a6e2dce25a12a943ed5bf2c1747c58d48bbb4917';

/** An API call as a CI system sends it. */
const call = (body: Record<string, unknown>) => request(JSON.stringify({ secret_key: SECRET, ...body }));

describe('api: provider contract', () => {
  it('is the api provider, with the credential in the body', () => {
    expect(api.id).toBe('api');
    expect(api.credentialBodyFields).toEqual(['secret_key']);
    expect(api.credentialHeaders).toEqual([]);
  });
});

describe('api: verify (secret_key in the body)', () => {
  it.each([
    ['good secret_key', JSON.stringify({ secret_key: SECRET }), true],
    ['good secret_key with tag and image', JSON.stringify({ secret_key: SECRET, tag: 'v1', image: 'ns/web' }), true],
    ['wrong secret_key', JSON.stringify({ secret_key: 'nope' }), false],
    ['tampered: secret_key changed by one character', JSON.stringify({ secret_key: `${SECRET}x`, tag: 'v1' }), false],
    ['missing secret_key', JSON.stringify({ tag: 'v1' }), false],
    ['empty secret_key', JSON.stringify({ secret_key: '' }), false],
    ['secret_key not a string', JSON.stringify({ secret_key: 12345 }), false],
    ['secret_key as an array holding the secret', JSON.stringify({ secret_key: [SECRET] }), false],
    ['body is an array', JSON.stringify([{ secret_key: SECRET }]), false],
    ['body is a string', JSON.stringify(SECRET), false],
    ['body is not JSON', 'secret_key=' + SECRET, false],
    ['empty body', '', false],
  ])('%s', (_name, raw, ok) => {
    const result = api.verify(request(raw), [SECRET], NOW);
    expect(result.ok).toBe(ok);
    if (!result.ok) {
      expect(result.reason).not.toContain(SECRET);
      expect(result.reason).not.toContain('nope');
    }
  });

  it.each([
    ['missing', JSON.stringify({ tag: 'v1' })],
    ['empty', JSON.stringify({ secret_key: '' })],
    ['not a string', JSON.stringify({ secret_key: 12345 })],
    ['no body', ''],
  ])('says the secret_key is missing when it is %s', (_name, raw) => {
    expect(api.verify(request(raw), [SECRET], NOW)).toEqual({ ok: false, reason: 'missing secret_key in body' });
  });

  it('does not look for the secret in the query or headers', () => {
    const req = request('{}', { Authorization: `Bearer ${SECRET}` }, { token: SECRET, secret_key: SECRET });
    expect(api.verify(req, [SECRET], NOW).ok).toBe(false);
  });

  it('accepts the previous secret during rotation', () => {
    expect(api.verify(request(JSON.stringify({ secret_key: 'old' })), [SECRET, 'old'], NOW).ok).toBe(true);
  });
});

describe('api: parse', () => {
  it('deploys the image named in the body', () => {
    expect(api.parse(call({ image: 'registry.example.com/ns/web:2.0.0' }), {})).toEqual({
      kind: 'events',
      events: [
        {
          provider: 'api',
          kind: 'image',
          action: 'push',
          registry: 'registry.example.com',
          namespace: 'ns',
          repository: 'web',
          repoFullName: 'ns/web',
          tag: '2.0.0',
          image: 'registry.example.com/ns/web:2.0.0',
        },
      ],
    });
  });

  it('replaces the tracked image tag with the body tag', () => {
    expect(api.parse(call({ tag: '1.5.0' }), { trackedImage: 'library/web:1.4.0' })).toEqual({
      kind: 'events',
      events: [
        {
          provider: 'api',
          kind: 'image',
          action: 'push',
          namespace: 'library',
          repository: 'web',
          repoFullName: 'library/web',
          tag: '1.5.0',
          image: 'library/web:1.5.0',
        },
      ],
    });
  });

  it.each([
    // [name, body, trackedImage, expected fields]
    [
      'body image wins over the tracked image',
      { image: 'ns/api:3' },
      'library/web:1.4.0',
      { repoFullName: 'ns/api', tag: '3', image: 'ns/api:3' },
    ],
    [
      'body tag overrides the body image tag',
      { image: 'ns/web:2.0.0', tag: '2.1.0' },
      undefined,
      { tag: '2.1.0', image: 'ns/web:2.1.0' },
    ],
    [
      'tracked image as it is without a body tag',
      {},
      'registry.example.com/ns/web:1.4.0',
      { registry: 'registry.example.com', namespace: 'ns', tag: '1.4.0', image: 'registry.example.com/ns/web:1.4.0' },
    ],
    [
      'tracked image with a registry port',
      { tag: '1.5.0' },
      'registry.example.com:5000/ns/web:1.4.0',
      {
        registry: 'registry.example.com:5000',
        repoFullName: 'ns/web',
        image: 'registry.example.com:5000/ns/web:1.5.0',
      },
    ],
    [
      'tracked image without a tag gets the body tag',
      { tag: '1.5.0' },
      'ns/web',
      { tag: '1.5.0', image: 'ns/web:1.5.0' },
    ],
    [
      'an image without a namespace',
      { image: 'nginx:1.27' },
      undefined,
      { namespace: undefined, repository: 'nginx', repoFullName: 'nginx', image: 'nginx:1.27' },
    ],
    [
      'a nested repository',
      { image: 'registry.example.com/team/apps/web:1' },
      undefined,
      { namespace: 'team', repository: 'apps/web', repoFullName: 'team/apps/web' },
    ],
    [
      'an image by digest',
      { image: `ns/web@${DIGEST}` },
      undefined,
      { tag: undefined, digest: DIGEST, image: `ns/web@${DIGEST}` },
    ],
    [
      'a new tag drops the digest pinning the old one',
      { tag: '1.5.0' },
      `ns/web:1.4.0@${DIGEST}`,
      { tag: '1.5.0', digest: undefined, image: 'ns/web:1.5.0' },
    ],
    ['the longest valid tag', { tag: 'a'.repeat(128) }, 'ns/web:1', { tag: 'a'.repeat(128) }],
    ['a tag starting with an underscore', { tag: '_x.y-z' }, 'ns/web:1', { tag: '_x.y-z' }],
  ])('%s', (_name, body, trackedImage, expected) => {
    const result = api.parse(call(body), { trackedImage });
    expect(result.kind).toBe('events');
    if (result.kind !== 'events') return;
    expect(result.events).toHaveLength(1);
    expectFields(result.events[0], { provider: 'api', kind: 'image', action: 'push', ...expected });
  });

  it('never puts the secret into the event', () => {
    const result = api.parse(call({ tag: '1.5.0' }), { trackedImage: 'ns/web:1.4.0' });
    expect(JSON.stringify(result)).not.toContain(SECRET);
  });

  it('sets no deliveryId (the API trigger sends none)', () => {
    const result = api.parse(call({}), { trackedImage: 'ns/web:1.4.0' });
    expect(result.kind).toBe('events');
    if (result.kind === 'events') expect(result.events[0].deliveryId).toBeUndefined();
  });
});

describe('api: a malformed body throws a ZodError naming the field', () => {
  it.each([
    ['no image', { trackedImage: undefined }],
    ['no image and an empty tracked image', { trackedImage: '' }],
  ])('image is required when the trigger tracks none (%s)', (_name, ctx) => {
    const error = zodError(() => api.parse(call({ tag: '1.5.0' }), ctx));
    expect(error.issues.map((i) => i.path)).toEqual([['image']]);
    expect(error.issues[0].message).toBe('image is required when the trigger tracks no image');
  });

  it.each([
    ['a space', 'bad tag'],
    ['a leading dash', '-v1'],
    ['a leading dot', '.v1'],
    ['empty', ''],
    ['129 characters', 'a'.repeat(129)],
    ['a colon', 'v1:2'],
    ['a slash', 'feature/x'],
    ['a plus (semver build metadata)', '1.0.0+abc'],
    ['a number', 15],
  ])('tag with %s', (_name, tag) => {
    expect(zodPaths(() => api.parse(call({ tag }), { trackedImage: 'ns/web:1.4.0' }))).toEqual([['tag']]);
  });

  it.each([
    ['uppercase repository', 'ns/Web:1'],
    ['a space in the tag', 'ns/web:bad tag'],
    ['a URL', 'https://registry.example.com/ns/web:1'],
    ['a malformed digest', 'ns/web@sha256:zz'],
    ['empty', ''],
    ['only a tag', ':1.0'],
    ['a number', 7],
  ])('image with %s', (_name, image) => {
    expect(zodPaths(() => api.parse(call({ image }), { trackedImage: 'ns/web:1.4.0' }))).toEqual([['image']]);
  });

  it('a body that is not an object', () => {
    expect(zodPaths(() => api.parse(request('[]'), { trackedImage: 'ns/web:1.4.0' }))).toEqual([[]]);
  });
});
