import { cloudevents } from '../../../lib/receive/providers/cloudevents';
import { edited, fixture, request } from '../../helpers/fixtures';
import { hmacHex } from '../../helpers/hmac';
import { zodPath } from '../../helpers/zod';

const SECRET = 'ce-s3cret-value';
const NOW = new Date();
const HARBOR = 'cloudevents/harbor.artifact.pushed-harbor-docs-2.8.json';
const ZOT = 'cloudevents/zotregistry.image.updated-binary-zot-source.raw.json';
const zotHeaders = JSON.parse(fixture('cloudevents/zotregistry.image.updated-binary-zot-source.headers.json'));
const raw = fixture(HARBOR);
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('cloudevents: verify', () => {
  it.each([
    ['Bearer <secret>', { Authorization: `Bearer ${SECRET}` }, [SECRET], true, undefined],
    ['Basic with the secret as password (Zot)', { Authorization: basic('zot', SECRET) }, [SECRET], true, undefined],
    ['X-Signature sha256', { 'X-Signature': `sha256=${hmacHex(SECRET, raw)}` }, [SECRET], true, undefined],
    ['X-Signature sha1', { 'X-Signature': `sha1=${hmacHex(SECRET, raw, 'sha1')}` }, [SECRET], true, undefined],
    ['the previous secret during rotation', { Authorization: `Bearer ${SECRET}` }, ['new', SECRET], true, undefined],
    ['wrong bearer', { Authorization: 'Bearer nope' }, [SECRET], false, /does not match/],
    ['Basic with a wrong password', { Authorization: basic('zot', 'nope') }, [SECRET], false, /does not match/],
    ['a bare secret (no Bearer)', { Authorization: SECRET }, [SECRET], false, /not a Bearer credential/],
    [
      'a signature of other bytes',
      { 'X-Signature': `sha256=${hmacHex(SECRET, `${raw} `)}` },
      [SECRET],
      false,
      /does not match the body/,
    ],
    [
      'a valid Bearer does not rescue a bad signature',
      { Authorization: `Bearer ${SECRET}`, 'X-Signature': 'sha256=00' },
      [SECRET],
      false,
      /does not match the body/,
    ],
    ['nothing', {}, [SECRET], false, /^missing Authorization header \(Bearer <secret>\) or X-Signature header$/],
  ])('%s', (_name, headers, secrets, ok, reason) => {
    const result = cloudevents.verify(request(raw, headers as Record<string, string>), secrets, NOW);
    expect(result.ok).toBe(ok);
    if (!result.ok) {
      expect(result.reason).not.toContain(SECRET);
      if (reason) expect(result.reason).toMatch(reason);
    }
  });

  it('redacts both credential headers', () => {
    expect(cloudevents.credentialHeaders).toEqual(expect.arrayContaining(['authorization', 'x-signature']));
    expect(cloudevents.credential.headers!(SECRET)).toEqual({ Authorization: `Bearer ${SECRET}` });
  });
});

describe('cloudevents: structured mode (Harbor CloudEvents format)', () => {
  it('maps harbor.artifact.pushed with the CloudEvents id as delivery id', () => {
    const body = JSON.parse(raw);
    const result = cloudevents.parse(request(raw, { 'content-type': 'application/cloudevents+json' }), {});
    expect(result).toEqual({
      kind: 'events',
      events: [
        expect.objectContaining({
          provider: 'cloudevents',
          kind: 'image',
          action: 'push',
          deliveryId: body.id,
          registry: 'localhost',
          repoFullName: 'harbor/alpine',
          tag: undefined,
          digest: body.data.resources[0].digest,
          image: `localhost/harbor/alpine@${body.data.resources[0].digest}`,
          occurredAt: '2023-04-03T06:04:46.000Z',
        }),
      ],
    });
  });

  it('maps harbor.artifact.deleted as a delete', () => {
    const result = cloudevents.parse(request(fixture('cloudevents/harbor.artifact.deleted-harbor-docs-2.8.json')), {});
    expect(result.kind === 'events' && result.events[0].action).toBe('delete');
  });

  it('a batch (application/cloudevents-batch+json) maps each event', () => {
    const other = JSON.parse(edited(HARBOR, (b) => ((b.id = 'second'), (b.type = 'harbor.scan.completed'))));
    const batch = JSON.stringify([JSON.parse(raw), other]);
    const result = cloudevents.parse(request(batch), {});
    expect(result.kind === 'events' && result.events.map((e) => e.deliveryId)).toEqual([JSON.parse(raw).id]);
  });

  it('data_base64 is decoded', () => {
    const b64 = edited(HARBOR, (b) => {
      b.data_base64 = Buffer.from(JSON.stringify(b.data)).toString('base64');
      delete b.data;
    });
    expect(cloudevents.parse(request(b64), {}).kind).toBe('events');
  });

  it('another type is ignored with a reason (202 untriggered)', () => {
    const scan = edited(HARBOR, (b) => (b.type = 'harbor.scan.completed'));
    expect(cloudevents.parse(request(scan), {})).toEqual({
      kind: 'ignored',
      reason: expect.stringMatching(/^CloudEvents type "harbor.scan.completed" is not an image event Triggerfish maps/),
    });
  });

  it('a malformed envelope or known data names the field', () => {
    expect(zodPath(() => cloudevents.parse(request(edited(HARBOR, (b) => delete b.id)), {}))).toEqual(['id']);
    expect(zodPath(() => cloudevents.parse(request(edited(HARBOR, (b) => (b.specversion = '0.3'))), {}))).toEqual([
      'specversion',
    ]);
    // Harbor's data names the repository in `repository` or in each resource's `resource_url` (read from there when
    // `repository` is missing): only a body with neither is refused
    const neither = edited(HARBOR, (b) => {
      delete b.data.repository;
      for (const r of b.data.resources) delete r.resource_url;
    });
    expect(zodPath(() => cloudevents.parse(request(neither), {}))[0]).toBe('data');
  });
});

describe('cloudevents: binary mode (Zot events extension)', () => {
  const zot = fixture(ZOT);
  it('maps zotregistry.image.updated from ce-* headers and the data body', () => {
    const result = cloudevents.parse(request(zot, zotHeaders), {});
    const data = JSON.parse(zot);
    expect(result).toEqual({
      kind: 'events',
      events: [
        {
          provider: 'cloudevents',
          kind: 'image',
          action: 'push',
          deliveryId: zotHeaders['Ce-Id'],
          registry: undefined,
          repository: 'golang',
          repoFullName: 'golang',
          tag: 'latest',
          digest: data.digest,
          image: 'golang:latest',
          occurredAt: '2026-12-01T22:20:05.123Z',
        },
      ],
    });
  });

  it('a delete by digest reference has no tag', () => {
    const headers = { ...zotHeaders, 'Ce-Type': 'zotregistry.image.deleted' };
    const body = edited(ZOT, (b) => (b.reference = b.digest));
    const result = cloudevents.parse(request(body, headers), {});
    expect(result.kind === 'events' && result.events[0]).toMatchObject({
      action: 'delete',
      tag: undefined,
      image: `golang@${JSON.parse(body).digest}`,
    });
  });

  it('repository.created and lint failures are ignored', () => {
    for (const type of ['zotregistry.repository.created', 'zotregistry.image.lint_failed']) {
      expect(cloudevents.parse(request(zot, { ...zotHeaders, 'Ce-Type': type }), {}).kind).toBe('ignored');
    }
  });

  it('a binary event without ce-id names the header', () => {
    const { 'Ce-Id': _id, ...headers } = zotHeaders;
    expect(zodPath(() => cloudevents.parse(request(zot, headers), {}))).toEqual(['headers', 'ce-id']);
  });
});

describe('cloudevents: ECR image actions relayed from EventBridge', () => {
  const ecr = fixture('aws-ecr/ecr_image_action-push-aws-docs.json');
  it('an EventBridge ECR event as data maps as the ecr provider does, with this provider and the CloudEvents id', () => {
    const envelope = JSON.stringify({
      specversion: '1.0',
      id: 'relay-1',
      source: 'relay',
      type: 'aws.ecr.image.action',
      data: JSON.parse(ecr),
    });
    const result = cloudevents.parse(request(envelope), {});
    const d = JSON.parse(ecr).detail;
    expect(result.kind === 'events' && result.events[0]).toMatchObject({
      provider: 'cloudevents',
      deliveryId: 'relay-1',
      action: 'push',
      repoFullName: d['repository-name'],
      tag: d['image-tag'],
    });
  });
});
