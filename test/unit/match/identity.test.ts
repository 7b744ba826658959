/** Lanes, artifacts and re-delivery claims: what "the same event" and "the same thing" mean (issue 8). */
import type { NormalizedEvent } from '../../../lib/core/event';
import { messageDeduplicationId, redeliveryClaims } from '../../../lib/match/dedup';
import { artifactOf, describeArtifact, laneOf } from '../../../lib/match/identity';

const image = (over: Partial<NormalizedEvent> = {}): NormalizedEvent => ({
  provider: 'harbor',
  kind: 'image',
  action: 'push',
  registry: 'hub.example.com',
  namespace: 'team',
  repository: 'web',
  repoFullName: 'team/web',
  tag: '1.0.0',
  digest: `sha256:${'a'.repeat(64)}`,
  ...over,
});
const code = (over: Partial<NormalizedEvent> = {}): NormalizedEvent => ({
  provider: 'github',
  kind: 'code',
  action: 'push',
  namespace: 'team',
  repository: 'web',
  repoFullName: 'team/web',
  branch: 'main',
  commit: { id: '1'.repeat(40), message: 'm' },
  ...over,
});

describe('laneOf', () => {
  it.each<[string, NormalizedEvent, NormalizedEvent, boolean]>([
    ['two tags of one image repository', image({ tag: '1.0.0' }), image({ tag: '1.1.0' }), true],
    ['two repositories', image(), image({ repoFullName: 'team/api', repository: 'api' }), false],
    ['the same path on two registries', image(), image({ registry: 'other.example.com' }), false],
    ['two pushes to one branch', code(), code({ commit: { id: '2'.repeat(40), message: '' } }), true],
    ['two branches', code(), code({ branch: 'feature' }), false],
    ['a branch and a tag push', code(), code({ branch: undefined, tag: 'v1', action: 'tag_push' }), false],
    ['two tag pushes', code({ branch: undefined, tag: 'v1' }), code({ branch: undefined, tag: 'v2' }), true],
    ['an image and a chart of one name', image(), image({ kind: 'chart' }), false],
  ])('%s: same lane %s', (_, a, b, same) => {
    expect(laneOf(a) === laneOf(b)).toBe(same);
  });
});

describe('artifactOf', () => {
  it.each<[string, NormalizedEvent, string | undefined]>([
    ['an image: its digest', image(), `sha256:${'a'.repeat(64)}`],
    ['an image without digest (Docker Hub): none, deploys on every push', image({ digest: undefined }), undefined],
    ['code: its commit', code(), '1'.repeat(40)],
    ['code without a commit: none', code({ commit: undefined }), undefined],
    ['an image with an empty digest: none', image({ digest: '' }), undefined],
  ])('%s', (_, event, artifact) => {
    expect(artifactOf(event)).toBe(artifact);
  });

  it('names artifacts briefly in reasons', () => {
    expect(describeArtifact({ artifact: `sha256:${'a'.repeat(64)}`, image: 'h/t/w:1' }, 'image')).toBe(
      'sha256:aaaaaaaaaaaa… (h/t/w:1)',
    );
    expect(describeArtifact({ artifact: 'abcdef0123456789' }, 'code')).toBe('commit abcdef012345');
    expect(describeArtifact({ image: 'team/web:latest' }, 'image')).toBe('team/web:latest');
  });
});

describe('redeliveryClaims', () => {
  it('a delivery id decides, whatever the body', () => {
    const a = redeliveryClaims(image({ deliveryId: 'd-1' }), 'body-1');
    const b = redeliveryClaims(image({ deliveryId: 'd-1' }), 'body-2');
    const c = redeliveryClaims(image({ deliveryId: 'd-2' }), 'body-1');
    expect(a).toHaveLength(1);
    expect(a[0].key).toBe(b[0].key);
    expect(a[0].key).not.toBe(c[0].key);
    expect(a[0].ttlSeconds).toBe(3 * 24 * 3600);
  });

  it('without a delivery id the body bytes decide, for a short window', () => {
    const a = redeliveryClaims(image(), 'body-1');
    expect(a).toEqual([{ key: expect.stringMatching(/^body:/), ttlSeconds: 600 }]);
    expect(redeliveryClaims(image(), 'body-2')[0].key).not.toBe(a[0].key);
    // the same bytes to another provider's trigger are another delivery
    expect(redeliveryClaims(image({ provider: 'quay' }), 'body-1')[0].key).not.toBe(a[0].key);
  });

  it('the windows are settings', () => {
    process.env.REDELIVERY_WINDOW_SECONDS = '60';
    process.env.DEDUP_WINDOW_SECONDS = '3600';
    try {
      expect(redeliveryClaims(image(), 'b')[0].ttlSeconds).toBe(60);
      expect(redeliveryClaims(image({ deliveryId: 'x' }))[0].ttlSeconds).toBe(3600);
    } finally {
      delete process.env.REDELIVERY_WINDOW_SECONDS;
      delete process.env.DEDUP_WINDOW_SECONDS;
    }
  });

  it('an admin redeliver-style event with neither claims nothing; SQS dedup ids are per entry', () => {
    expect(redeliveryClaims(image())).toEqual([]);
    expect(messageDeduplicationId('t', 'l1')).not.toBe(messageDeduplicationId('t', 'l2'));
    expect(messageDeduplicationId('t', 'l1').length).toBeLessThanOrEqual(128);
  });
});
