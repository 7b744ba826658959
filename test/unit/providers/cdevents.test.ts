import { cdevents, imageOfPurl, parsePurl } from '../../../lib/receive/providers/cdevents';
import { cloudevents } from '../../../lib/receive/providers/cloudevents';
import { edited, fixture, fixtureFiles, request } from '../../helpers/fixtures';
import { hmacHex } from '../../helpers/hmac';
import { zodPath } from '../../helpers/zod';

const SECRET = 'cdevents-s3cret';
const NOW = new Date();
const PUBLISHED = 'cdevents/artifact_published-conformance-spec-0.6.0-draft.json';
// the spec's own example of an OCI artifact id (continuous-integration.md, artifact subject)
const OCI_PURL =
  'pkg:oci/myapp@sha256%3A0b31b1c02ff458ad9b7b81cbdf8f028bd54699fa151f221d1e8de6817db93427?repository_url=mycr.io/myapp';
const DIGEST = 'sha256:0b31b1c02ff458ad9b7b81cbdf8f028bd54699fa151f221d1e8de6817db93427';
const ociPublished = (edit: (b: any) => void = () => {}) =>
  edited(PUBLISHED, (b) => {
    b.subject.id = OCI_PURL;
    edit(b);
  });
/** CloudEvents binary mode as the spec's cloudevents-binding.md shows it: context in ce-* headers, the CDEvent as body */
const binary = (body: string) => {
  const ctx = JSON.parse(body).context;
  return {
    'ce-specversion': '1.0',
    'ce-id': ctx.id,
    'ce-source': ctx.source,
    'ce-type': ctx.type,
    'ce-time': ctx.timestamp,
    'content-type': 'application/json',
  };
};

describe('cdevents: verify (same credentials as cloudevents)', () => {
  const raw = fixture(PUBLISHED);
  it('Bearer, or X-Signature over the body', () => {
    expect(cdevents.verify(request(raw, { Authorization: `Bearer ${SECRET}` }), [SECRET], NOW).ok).toBe(true);
    expect(
      cdevents.verify(request(raw, { 'X-Signature': `sha512=${hmacHex(SECRET, raw, 'sha512')}` }), [SECRET], NOW).ok,
    ).toBe(true);
    const bad = cdevents.verify(request(raw, { Authorization: 'Bearer x' }), [SECRET], NOW);
    expect(bad).toEqual({ ok: false, reason: 'Authorization header does not match' });
  });
});

describe('cdevents: purls', () => {
  it.each([
    [OCI_PURL, { registry: 'mycr.io', repoFullName: 'myapp', tag: undefined, digest: DIGEST }],
    [`${OCI_PURL}&tag=v1.2`, { registry: 'mycr.io', repoFullName: 'myapp', tag: 'v1.2', digest: DIGEST }],
    [
      'pkg:oci/myapp@sha256%3Aabc123',
      { registry: undefined, repoFullName: 'myapp', tag: undefined, digest: 'sha256:abc123' },
    ],
    [
      'pkg:docker/team/web@1.4.0?repository_url=ghcr.io',
      { registry: 'ghcr.io', repoFullName: 'team/web', tag: '1.4.0', digest: undefined },
    ],
    [
      'pkg:docker/library/nginx@sha256%3Aabc',
      { registry: undefined, repoFullName: 'library/nginx', tag: undefined, digest: 'sha256:abc' },
    ],
  ])('%s', (purl, want) => {
    expect(imageOfPurl(purl)).toEqual(want);
  });

  it('other purl types are not images', () => {
    expect(parsePurl('pkg:golang/mygit.com/myorg/myapp@234fd47e07d1004f0aed9c')).toMatchObject({
      type: 'golang',
      version: '234fd47e07d1004f0aed9c',
    });
    expect(imageOfPurl('pkg:golang/mygit.com/myorg/myapp@234fd47e07d1004f0aed9c')).toBeUndefined();
    expect(imageOfPurl('not a purl')).toBeUndefined();
  });
});

describe('cdevents: every spec conformance sample', () => {
  const expected: Record<string, string> = {
    'artifact_published-conformance-spec-0.6.0-draft.json': 'ignored', // a golang purl: not an image
    'artifact_packaged-conformance-spec-0.6.0-draft.json': 'ignored',
    'artifact_deleted-conformance-spec-0.6.0-draft.json': 'ignored',
    'change_merged-conformance-spec-0.6.0-draft.json': 'events',
    'build_finished-conformance-spec-0.6.0-draft.json': 'ignored',
  };
  it.each(fixtureFiles('cdevents'))('%s: bare, binary and structured give the same result', (name, text) => {
    const bare = cdevents.parse(request(text), {});
    expect(bare.kind).toBe(expected[name]);
    expect(cdevents.parse(request(text, binary(text)), {})).toEqual(bare);
    const ctx = JSON.parse(text).context;
    const structured = JSON.stringify({
      specversion: '1.0',
      id: ctx.id,
      source: ctx.source,
      type: ctx.type,
      data: JSON.parse(text),
    });
    expect(cdevents.parse(request(structured), {})).toEqual(bare);
    // the cloudevents provider hands dev.cdevents.* types to the same mapping
    const viaCe = cloudevents.parse(request(structured), {});
    expect(viaCe.kind).toBe(bare.kind);
  });

  it('a golang artifact says why it is ignored', () => {
    expect(cdevents.parse(request(fixture(PUBLISHED)), {})).toEqual({
      kind: 'ignored',
      reason:
        'artifact pkg:golang/mygit.com/myorg/myapp@234fd47e07d1004f0aed9c is not a container image (pkg:oci/ or pkg:docker/)',
    });
  });

  it('change.merged is a code push of the repository, with the CDEvent id as delivery id', () => {
    const result = cdevents.parse(request(fixture('cdevents/change_merged-conformance-spec-0.6.0-draft.json')), {});
    expect(result).toEqual({
      kind: 'events',
      events: [
        {
          provider: 'cdevents',
          kind: 'code',
          action: 'push',
          deliveryId: '271069a8-fc18-44f1-b38f-9d70a1695819',
          occurredAt: '2023-03-20T14:27:05.315Z',
          namespace: 'TestRepo',
          repository: 'TestOrg',
          repoFullName: 'TestRepo/TestOrg',
        },
      ],
    });
  });
});

describe('cdevents: OCI artifacts', () => {
  it('artifact.published with the spec example OCI purl is an image push (the spec sample with its subject id changed)', () => {
    const body = ociPublished();
    const result = cdevents.parse(request(body, binary(body)), {});
    expect(result.kind === 'events' && result.events[0]).toMatchObject({
      provider: 'cdevents',
      kind: 'image',
      action: 'push',
      registry: 'mycr.io',
      repoFullName: 'myapp',
      digest: DIGEST,
      image: `mycr.io/myapp@${DIGEST}`,
      owner: 'mybot-myapp',
      deliveryId: '271069a8-fc18-44f1-b38f-9d70a1695819',
    });
  });

  it('artifact.packaged pushes, artifact.deleted deletes', () => {
    const packaged = edited(
      'cdevents/artifact_packaged-conformance-spec-0.6.0-draft.json',
      (b) => (b.subject.id = `${OCI_PURL}&tag=1.0`),
    );
    expect(cdevents.parse(request(packaged), {})).toMatchObject({
      kind: 'events',
      events: [{ action: 'push', tag: '1.0', image: 'mycr.io/myapp:1.0' }],
    });
    const deleted = edited(
      'cdevents/artifact_deleted-conformance-spec-0.6.0-draft.json',
      (b) => (b.subject.id = OCI_PURL),
    );
    expect(cdevents.parse(request(deleted), {})).toMatchObject({ kind: 'events', events: [{ action: 'delete' }] });
  });

  it('a CDEvent without context.id names the field; in structured mode under data', () => {
    const body = ociPublished((b) => delete b.context.id);
    expect(zodPath(() => cdevents.parse(request(body), {}))).toEqual(['context', 'id']);
    const structured = JSON.stringify({
      specversion: '1.0',
      id: 'x',
      source: 's',
      type: 'dev.cdevents.artifact.published.0.3.0',
      data: JSON.parse(body),
    });
    expect(zodPath(() => cdevents.parse(request(structured), {}))).toEqual(['data', 'context', 'id']);
  });
});
