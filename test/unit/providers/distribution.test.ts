import { distribution } from '../../../lib/receive/providers/distribution';
import { edited, fixture, fixtureFiles, request } from '../../helpers/fixtures';
import { zodPath } from '../../helpers/zod';

const SECRET = 'distribution-s3cret';
const NOW = new Date();
const PUSH = 'distribution/push-manifest-oci-tag-skopeo-real.raw.json';
const raw = fixture(PUSH);
const recordedHeaders = JSON.parse(fixture('distribution/push-manifest-oci-tag-skopeo-real.headers.json'));

describe('distribution: verify (the Authorization header of the endpoint config)', () => {
  it.each([
    ['Bearer <secret>', { Authorization: `Bearer ${SECRET}` }, [SECRET], true, undefined],
    ['the bare secret', { Authorization: SECRET }, [SECRET], true, undefined],
    ['the previous secret during rotation', { Authorization: `Bearer ${SECRET}` }, ['new', SECRET], true, undefined],
    ['wrong secret', { Authorization: 'Bearer other' }, [SECRET], false, /does not match/],
    ['missing header', {}, [SECRET], false, /^missing Authorization header$/],
  ])('%s', (_name, headers, secrets, ok, reason) => {
    const result = distribution.verify(request(raw, headers as Record<string, string>), secrets, NOW);
    expect(result.ok).toBe(ok);
    if (!result.ok) {
      expect(result.reason).not.toContain(SECRET);
      if (reason) expect(result.reason).toMatch(reason);
    }
  });

  it('accepts the headers the real registry sent (recorded with Bearer rec-secret)', () => {
    expect(recordedHeaders['content-type']).toBe('application/vnd.docker.distribution.events.v1+json');
    expect(distribution.verify(request(raw, recordedHeaders), ['rec-secret'], NOW).ok).toBe(true);
    expect(distribution.verify(request(raw, recordedHeaders), [SECRET], NOW).ok).toBe(false);
  });

  it('asks the user to configure Authorization: Bearer <secret> and redacts it', () => {
    expect(distribution.credential.headers!(SECRET)).toEqual({ Authorization: `Bearer ${SECRET}` });
    expect(distribution.credential.query).toBeFalsy();
    expect(distribution.credentialHeaders).toEqual(['authorization']);
  });
});

describe('distribution: every recorded notification is acted on or ignored, never an error', () => {
  const expected: Record<
    string,
    { kind: 'events'; action: string; image: string } | { kind: 'ignored'; reason: RegExp }
  > = {
    'push-manifest-oci-tag-skopeo-real.raw.json': {
      kind: 'events',
      action: 'push',
      image: '127.0.0.1:15099/team/web:v1',
    },
    'push-manifest-docker-v2s2-skopeo-real.raw.json': {
      kind: 'events',
      action: 'push',
      image: '127.0.0.1:15099/team/api:1.0',
    },
    'pull-manifest-tag-skopeo-real.raw.json': { kind: 'events', action: 'pull', image: '127.0.0.1:15099/team/web:v1' },
    'pull-manifest-digest-skopeo-real.raw.json': {
      kind: 'events',
      action: 'pull',
      image: '127.0.0.1:15099/team/web@sha256:61d2c27c0f39e262a22bb6b8028d0fbc70be7ca519194d6d69ae675fb43baa82',
    },
    'delete-manifest-digest-skopeo-real.raw.json': {
      kind: 'events',
      action: 'delete',
      image: '127.0.0.1:15099/team/web@sha256:2b258e2e04a1980efc1739f75b6d5939430a2253365ca12115f785e320bf24a4',
    },
    'delete-tag-skopeo-real.raw.json': { kind: 'events', action: 'delete', image: '127.0.0.1:15099/team/web:v1' },
    'push-blob-skopeo-real.raw.json': {
      kind: 'ignored',
      reason: /^blob push \(application\/octet-stream\) is not acted on$/,
    },
    'pull-blob-head-skopeo-real.raw.json': {
      kind: 'ignored',
      reason: /^blob pull \(application\/octet-stream\) is not acted on$/,
    },
    'mount-blob-skopeo-real.raw.json': { kind: 'ignored', reason: /^blob mount is not acted on$/ },
    'push-envelope-three-events-distribution-docs.json': {
      kind: 'events',
      action: 'push',
      image:
        'registrycluster.local/library/test@sha256:fea8895f450959fa676bcc1df0611ea93823a735a01205fd8622846041d0c7cf',
    },
  };

  it('covers every fixture', () => {
    expect(
      fixtureFiles('distribution')
        .map(([n]) => n)
        .sort(),
    ).toEqual(Object.keys(expected).sort());
  });

  it.each(fixtureFiles('distribution'))('%s', (name, text) => {
    const body = JSON.parse(text);
    const result = distribution.parse(request(text), {});
    const want = expected[name];
    expect(result.kind).toBe(want.kind);
    if (result.kind === 'ignored') {
      expect(result.reason).toMatch((want as { reason: RegExp }).reason);
      return;
    }
    if (result.kind !== 'events' || want.kind !== 'events') return;
    const [e] = result.events;
    const first = body.events[0];
    expect(result.events).toHaveLength(1);
    expect(e).toMatchObject({
      provider: 'distribution',
      kind: 'image',
      action: want.action,
      image: want.image,
      deliveryId: first.id,
      registry: first.request.host,
      repoFullName: first.target.repository,
      occurredAt: new Date(first.timestamp).toISOString(),
    });
    expect(e.tag).toBe(first.target.tag);
    expect(e.digest).toBe(first.target.digest);
  });

  it('normalizes a real tagged OCI manifest push exactly', () => {
    const result = distribution.parse(request(raw), {});
    expect(result).toEqual({
      kind: 'events',
      events: [
        {
          provider: 'distribution',
          kind: 'image',
          action: 'push',
          deliveryId: 'e7bbd148-a9ab-4717-9584-d833035eced1',
          registry: '127.0.0.1:15099',
          namespace: 'team',
          repository: 'web',
          repoFullName: 'team/web',
          tag: 'v1',
          digest: 'sha256:2b258e2e04a1980efc1739f75b6d5939430a2253365ca12115f785e320bf24a4',
          image: '127.0.0.1:15099/team/web:v1',
          owner: undefined,
          occurredAt: '2026-12-01T22:19:59.984Z',
        },
      ],
      // each event of the envelope is a delivery of its own (a bad one is rejected alone at ingest)
      batch: true,
    });
  });

  it('the docs envelope of three events: the manifest is acted on, the two layer blobs are not', () => {
    const result = distribution.parse(
      request(fixture('distribution/push-envelope-three-events-distribution-docs.json')),
      {},
    );
    expect(result.kind === 'events' && result.events.map((e) => e.deliveryId)).toEqual(['asdf-asdf-asdf-asdf-0']);
    expect(result.kind === 'events' && result.events[0].owner).toBe('test-actor');
  });

  it('an envelope of only blobs says so once, and names each kind once', () => {
    const blobs = JSON.parse(fixture('distribution/push-envelope-three-events-distribution-docs.json'));
    blobs.events.shift();
    blobs.events.push(JSON.parse(fixture('distribution/mount-blob-skopeo-real.raw.json')).events[0]);
    const result = distribution.parse(request(JSON.stringify(blobs)), {});
    expect(result).toEqual({
      kind: 'ignored',
      reason:
        'blob push (application/vnd.docker.container.image.rootfs.diff+x-gtar) is not acted on; blob mount is not acted on',
    });
  });

  it('an image index push is acted on; a push by digest has no tag', () => {
    const index = edited(PUSH, (b) => {
      b.events[0].target.mediaType = 'application/vnd.oci.image.index.v1+json';
      delete b.events[0].target.tag;
    });
    const result = distribution.parse(request(index), {});
    expect(result.kind === 'events' && result.events[0]).toMatchObject({
      action: 'push',
      tag: undefined,
      image: '127.0.0.1:15099/team/web@sha256:2b258e2e04a1980efc1739f75b6d5939430a2253365ca12115f785e320bf24a4',
    });
  });

  it('other actions and media types are ignored with a reason', () => {
    const other = edited(PUSH, (b) => (b.events[0].action = 'something-new'));
    expect(distribution.parse(request(other), {})).toEqual({
      kind: 'ignored',
      reason: 'registry action "something-new" is not acted on',
    });
    const sig = edited(PUSH, (b) => (b.events[0].target.mediaType = 'application/vnd.dev.cosign.artifact.sig.v1+json'));
    expect(distribution.parse(request(sig), {})).toMatchObject({ kind: 'ignored' });
  });

  it('without request.host the host of target.url is the registry', () => {
    const noHost = edited(PUSH, (b) => delete b.events[0].request);
    const result = distribution.parse(request(noHost), {});
    expect(result.kind === 'events' && result.events[0].image).toBe('127.0.0.1:15099/team/web:v1');
  });

  it('a manifest event without a repository is malformed (400 naming events.0.target.repository)', () => {
    const bad = JSON.parse(edited(PUSH, (b) => delete b.events[0].target.repository));
    expect(zodPath(() => distribution.parse(request(JSON.stringify(bad)), {}))).toEqual([
      'events',
      0,
      'target',
      'repository',
    ]);
  });

  it('a body that is not an envelope is malformed (400 naming events)', () => {
    expect(zodPath(() => distribution.parse(request('{"hello": 1}'), {}))).toEqual(['events']);
    expect(zodPath(() => distribution.parse(request('{"events": []}'), {}))).toEqual(['events']);
  });

  it('a malformed blob event we do not act on is not an error', () => {
    const odd = JSON.stringify({ events: [{ action: 'push', target: { mediaType: 'application/octet-stream' } }] });
    expect(distribution.parse(request(odd), {})).toMatchObject({ kind: 'ignored' });
  });
});
