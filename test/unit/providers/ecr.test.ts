import { ecrEventSchema, ecrRepositoryKey, normalizeEcrEvent } from '../../../lib/receive/providers/ecr';
import { editedBody, fixtureFiles } from '../../helpers/fixtures';
import { zodPaths } from '../../helpers/zod';

const DOCS = 'aws-ecr/ecr_image_action-push-aws-docs.json';

describe('ecr: ecrRepositoryKey', () => {
  it('is ecr#<repository-name>, built from the field the event carries', () => {
    const e = ecrEventSchema.parse(editedBody(DOCS));
    expect(ecrRepositoryKey(e.detail['repository-name'])).toBe('ecr#my-repository-name');
    expect(ecrRepositoryKey('team/web')).not.toBe(ecrRepositoryKey('team/api'));
  });
});

describe('ecr: every fixture normalizes', () => {
  it.each(fixtureFiles('aws-ecr'))('%s', (_name, raw) => {
    const event = JSON.parse(raw);
    const result = normalizeEcrEvent(event);
    expect(result.kind).toBe('events');
    if (result.kind !== 'events') return;
    expect(result.events).toHaveLength(1);
    const [e] = result.events;
    const d = event.detail;
    const registry = `${event.account}.dkr.ecr.${event.region}.amazonaws.com`;
    expect(e.provider).toBe('ecr');
    expect(e.kind).toBe('image');
    expect(e.action).toBe({ PUSH: 'push', DELETE: 'delete' }[d['action-type'] as string]);
    expect(e.deliveryId).toBe(event.id);
    expect(e.registry).toBe(registry);
    expect(e.repoFullName).toBe(d['repository-name']);
    expect(e.tag).toBe(d['image-tag']);
    expect(e.digest).toBe(d['image-digest']);
    expect(e.image).toBe(`${registry}/${d['repository-name']}:${d['image-tag']}`);
    expect(Date.parse(e.occurredAt!)).toBe(Date.parse(event.time));
  });

  it('normalizes the AWS docs push exactly (the 60-hex digest kept as given)', () => {
    expect(normalizeEcrEvent(editedBody(DOCS))).toEqual({
      kind: 'events',
      events: [
        {
          provider: 'ecr',
          kind: 'image',
          action: 'push',
          deliveryId: '13cde686-328b-6117-af20-0e5566167482',
          registry: '123456789012.dkr.ecr.us-west-2.amazonaws.com',
          repository: 'my-repository-name',
          repoFullName: 'my-repository-name',
          tag: 'latest',
          digest: 'sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd1234',
          image: '123456789012.dkr.ecr.us-west-2.amazonaws.com/my-repository-name:latest',
          occurredAt: '2019-11-16T01:54:34.000Z',
        },
      ],
    });
  });
});

describe('ecr: actions and fields', () => {
  it('DELETE -> delete', () => {
    expect(normalizeEcrEvent(editedBody(DOCS, (e) => (e.detail['action-type'] = 'DELETE')))).toMatchObject({
      kind: 'events',
      events: [{ action: 'delete', tag: 'latest' }],
    });
  });

  it('a repository name with "/" splits into namespace and repository', () => {
    const result = normalizeEcrEvent(editedBody(DOCS, (e) => (e.detail['repository-name'] = 'team/backend/web')));
    expect(result).toMatchObject({
      kind: 'events',
      events: [
        {
          namespace: 'team',
          repository: 'backend/web',
          repoFullName: 'team/backend/web',
          image: '123456789012.dkr.ecr.us-west-2.amazonaws.com/team/backend/web:latest',
        },
      ],
    });
  });

  it('an untagged push is referenced by digest', () => {
    const result = normalizeEcrEvent(editedBody(DOCS, (e) => delete e.detail['image-tag']));
    expect(result).toMatchObject({
      kind: 'events',
      events: [
        {
          tag: undefined,
          image:
            '123456789012.dkr.ecr.us-west-2.amazonaws.com/my-repository-name@sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd1234',
        },
      ],
    });
  });

  it('a China region registry is under amazonaws.com.cn', () => {
    expect(normalizeEcrEvent(editedBody(DOCS, (e) => (e.region = 'cn-north-1')))).toMatchObject({
      kind: 'events',
      events: [{ registry: '123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn' }],
    });
  });
});

describe('ecr: ignored events (no credential: the EventBridge rule decides what arrives)', () => {
  it.each(['ECR Image Scan', 'ECR Replication Action', 'ECR Pull Through Cache Action', 'ECR Referrer Action'])(
    'detail-type %s is ignored, whatever its detail',
    (type) => {
      const result = normalizeEcrEvent(
        editedBody(DOCS, (e) => ((e['detail-type'] = type), (e.detail = { 'scan-status': 'COMPLETE' }))),
      );
      expect(result).toEqual({ kind: 'ignored', reason: `ECR event "${type}" is not an image action` });
    },
  );

  it.each(['FAILURE', 'IN_PROGRESS'])('result %s is ignored', (outcome) => {
    const result = normalizeEcrEvent(editedBody(DOCS, (e) => (e.detail.result = outcome)));
    expect(result).toEqual({ kind: 'ignored', reason: `ECR PUSH result is ${outcome}, not SUCCESS` });
  });

  it('a failed push without a digest is ignored, not malformed', () => {
    const result = normalizeEcrEvent(
      editedBody(DOCS, (e) => ((e.detail.result = 'FAILURE'), delete e.detail['image-digest'])),
    );
    expect(result.kind).toBe('ignored');
  });

  it('an action type other than PUSH/DELETE is ignored', () => {
    const result = normalizeEcrEvent(editedBody(DOCS, (e) => (e.detail['action-type'] = 'TAG')));
    expect(result).toEqual({ kind: 'ignored', reason: 'ECR action "TAG" is not handled (only PUSH, DELETE)' });
  });

  it('an event from another source is ignored (only AWS can send aws.* sources)', () => {
    const result = normalizeEcrEvent(editedBody(DOCS, (e) => (e.source = 'my.app')));
    expect(result).toEqual({ kind: 'ignored', reason: 'event source "my.app" is not aws.ecr' });
  });
});

describe('ecr: malformed events name the field', () => {
  it.each([
    ['no source', (e: any) => delete e.source, ['source']],
    ['no detail-type', (e: any) => delete e['detail-type'], ['detail-type']],
    ['no id', (e: any) => delete e.id, ['id']],
    ['no detail', (e: any) => delete e.detail, ['detail']],
    ['no repository-name', (e: any) => delete e.detail['repository-name'], ['detail', 'repository-name']],
    ['no result', (e: any) => delete e.detail.result, ['detail', 'result']],
    ['no action-type', (e: any) => delete e.detail['action-type'], ['detail', 'action-type']],
    ['digest that is no digest', (e: any) => (e.detail['image-digest'] = 'latest'), ['detail', 'image-digest']],
    ['account that is no account id', (e: any) => (e.account = 'evil.example.com/x'), ['account']],
    ['region that would change the host', (e: any) => (e.region = 'us-west-2.evil.example'), ['region']],
    ['time that is no time', (e: any) => (e.time = 'soon'), ['time']],
  ])('%s', (_name, edit, path) => {
    expect(zodPaths(() => normalizeEcrEvent(editedBody(DOCS, edit)))).toEqual([path]);
  });

  it('no event at all', () => {
    expect(zodPaths(() => normalizeEcrEvent(undefined))).toEqual([[]]);
  });
});
