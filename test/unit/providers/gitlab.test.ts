import { createHash, createHmac } from 'node:crypto';
import { gitlab, gitlabSigningKey, gitlabSigningToken } from '../../../lib/receive/providers/gitlab';
import { edited, fixture, fixtureFiles, hookOf, request } from '../../helpers/fixtures';
import { zodPath } from '../../helpers/zod';

// shaped like a Triggerfish secret: 32 bytes, base64url
const SECRET = createHash('sha256').update('triggerfish gitlab test').digest('base64url');
const NOW = new Date('2026-03-01T12:00:00Z');
const NOW_S = Math.floor(NOW.getTime() / 1000);
const PUSH = 'gitlab/push-gitlab-docs-example.json';
const raw = fixture(PUSH);

/** Signs the way GitLab does: with the key inside the whsec_ token the user pasted. */
function gitlabSigns(token: string, id: string, timestamp: number, body: string): string {
  const key = Buffer.from(token.slice('whsec_'.length), 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}
const signed = (opts: { token?: string; id?: string; ts?: number; body?: string; sig?: string } = {}) => {
  const id = opts.id ?? 'f1d8a7c2-0000-4000-8000-000000000001';
  const ts = opts.ts ?? NOW_S;
  return {
    'webhook-id': id,
    'webhook-timestamp': String(ts),
    'webhook-signature': opts.sig ?? gitlabSigns(opts.token ?? gitlabSigningToken(SECRET)!, id, ts, opts.body ?? raw),
  };
};

describe('gitlab: signing token of a Triggerfish secret', () => {
  it('is whsec_ + the same 32 bytes in standard base64', () => {
    const token = gitlabSigningToken(SECRET)!;
    expect(token).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(token.slice(6), 'base64')).toEqual(Buffer.from(SECRET, 'base64url'));
    expect(gitlabSigningKey(token)).toEqual(gitlabSigningKey(SECRET));
  });
  it('does not exist for a secret that is not 32 base64url bytes', () => {
    expect(gitlabSigningToken('my-own-password')).toBeUndefined();
    expect(gitlabSigningToken(`${SECRET}x`)).toBeUndefined();
  });
});

describe('gitlab: verify', () => {
  const gitlabToken = gitlabSigningToken(SECRET)!;
  it.each([
    ['X-Gitlab-Token: the secret', { 'X-Gitlab-Token': SECRET }, raw, true, undefined],
    [
      'X-Gitlab-Token: a wrong secret',
      { 'X-Gitlab-Token': 'nope' },
      raw,
      false,
      /X-Gitlab-Token header does not match/,
    ],
    [
      'no credential header',
      { 'X-Gitlab-Event': 'Push Hook' },
      raw,
      false,
      /^missing X-Gitlab-Token or webhook-signature header$/,
    ],
    [
      'webhook-id/-timestamp alone (sent on every delivery)',
      { 'webhook-id': 'x', 'webhook-timestamp': String(NOW_S) },
      raw,
      false,
      /^missing X-Gitlab-Token or webhook-signature header$/,
    ],
    ['signing token', signed(), raw, true, undefined],
    [
      'signing token, signed with another token',
      signed({ token: gitlabSigningToken(createHash('sha256').update('other').digest('base64url')) }),
      raw,
      false,
      /webhook-signature does not match/,
    ],
    [
      'signing token, tampered body',
      signed(),
      raw.replace('fixed readme', 'fixed README'),
      false,
      /webhook-signature does not match/,
    ],
    [
      'signing token, tampered webhook-id',
      { ...signed(), 'webhook-id': 'another-id' },
      raw,
      false,
      /webhook-signature does not match/,
    ],
    ['signing token, 301 s old', signed({ ts: NOW_S - 301 }), raw, false, /more than 5 minutes/],
    ['signing token, 301 s ahead', signed({ ts: NOW_S + 301 }), raw, false, /more than 5 minutes/],
    ['signing token, 299 s old', signed({ ts: NOW_S - 299 }), raw, true, undefined],
    [
      'signing token, no webhook-timestamp',
      { ...signed(), 'webhook-timestamp': '' },
      raw,
      false,
      /missing webhook-id or webhook-timestamp/,
    ],
    [
      'signing token, timestamp not a number',
      { ...signed(), 'webhook-timestamp': '2026-03-01' },
      raw,
      false,
      /not a unix time/,
    ],
    [
      'several signatures, one good (rotation)',
      { ...signed(), 'webhook-signature': `v1,bm9wZQ== ${signed()['webhook-signature']}` },
      raw,
      true,
      undefined,
    ],
    [
      'only a v1a signature',
      { ...signed(), 'webhook-signature': signed()['webhook-signature'].replace('v1,', 'v1a,') },
      raw,
      false,
      /no v1 signature/,
    ],
    [
      'a stale signature but a good X-Gitlab-Token',
      { ...signed({ ts: NOW_S - 3600 }), 'X-Gitlab-Token': SECRET },
      raw,
      true,
      undefined,
    ],
    [
      'a bad signature and a bad X-Gitlab-Token',
      { ...signed({ body: '{}' }), 'X-Gitlab-Token': 'nope' },
      raw,
      false,
      /^webhook-signature does not match the body; X-Gitlab-Token header does not match$/,
    ],
  ])('%s', (_name, headers, body, ok, reason) => {
    const result = gitlab.verify(request(body, headers as Record<string, string>), [SECRET], NOW);
    expect(result.ok).toBe(ok);
    if (!result.ok) {
      expect(result.reason).not.toContain(SECRET);
      expect(result.reason).not.toContain(gitlabToken.slice(6));
      if (reason) expect(result.reason).toMatch(reason);
    }
  });

  it('accepts the previous secret during rotation, both ways', () => {
    const old = createHash('sha256').update('old').digest('base64url');
    expect(gitlab.verify(request(raw, { 'X-Gitlab-Token': old }), [SECRET, old], NOW).ok).toBe(true);
    const headers = signed({ token: gitlabSigningToken(old) });
    expect(gitlab.verify(request(raw, headers), [SECRET, old], NOW).ok).toBe(true);
    expect(gitlab.verify(request(raw, headers), [SECRET], NOW).ok).toBe(false);
  });

  it('verifies the published Standard Webhooks vector with a whsec_ secret', () => {
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const headers = {
      'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek',
      'webhook-timestamp': '1614265330',
      'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
    };
    const body = '{"test": 2432232314}';
    expect(gitlab.verify(request(body, headers), [secret], new Date(1614265330_000)).ok).toBe(true);
    expect(gitlab.verify(request(body, headers), [secret], NOW)).toEqual({
      ok: false,
      reason: 'webhook-timestamp is more than 5 minutes from now',
    });
    expect(gitlab.verify(request('{"test": 2432232315}', headers), [secret], new Date(1614265330_000)).ok).toBe(false);
  });

  it('a secret that cannot be a signing token still works as X-Gitlab-Token', () => {
    const own = 'my-own-password';
    expect(gitlab.verify(request(raw, { 'X-Gitlab-Token': own }), [own], NOW).ok).toBe(true);
    // signed with the secret's UTF-8 bytes: GitLab could never have produced this, so it is refused
    const sig = `v1,${createHmac('sha256', own).update(`i.${NOW_S}.${raw}`).digest('base64')}`;
    const result = gitlab.verify(
      request(raw, { 'webhook-id': 'i', 'webhook-timestamp': String(NOW_S), 'webhook-signature': sig }),
      [own],
      NOW,
    );
    expect(result).toEqual({ ok: false, reason: 'webhook-signature does not match the body' });
  });
});

describe('gitlab: every fixture parses and normalizes', () => {
  it.each(fixtureFiles('gitlab'))('%s', (name, text) => {
    const body = JSON.parse(text);
    const withHeader = gitlab.parse(
      request(text, { 'X-Gitlab-Event': hookOf(name), 'X-Gitlab-Event-UUID': `u-${name}` }),
      {},
    );
    expect(withHeader.kind).toBe('events');
    if (withHeader.kind !== 'events') return;
    const [e] = withHeader.events;
    const isTag = body.object_kind === 'tag_push';
    const head = body.commits.find((c: { id: string }) => c.id === body.checkout_sha);
    expect(e).toMatchObject({
      provider: 'gitlab',
      kind: 'code',
      action: body.object_kind,
      deliveryId: `u-${name}`,
      repoFullName: body.project.path_with_namespace,
      namespace: body.project.path_with_namespace.split('/')[0],
      repository: body.project.path_with_namespace.split('/').slice(1).join('/'),
      owner: body.user_username ?? body.user_name,
      // the commit the ref points to, not `after` (an annotated tag's object id)
      commit: { id: body.checkout_sha, message: head?.message ?? '' },
      occurredAt: head ? new Date(head.timestamp).toISOString() : undefined,
    });
    expect(isTag ? e.tag : e.branch).toBe(body.ref.replace(/^refs\/(heads|tags)\//, ''));
    expect(isTag ? e.branch : e.tag).toBeUndefined();

    // no X-Gitlab-Event header: object_kind says the same
    const withoutHeader = gitlab.parse(request(text), {});
    expect(withoutHeader).toEqual({ kind: 'events', events: [{ ...e, deliveryId: undefined }] });
  });

  it('normalizes the docs push exactly', () => {
    expect(gitlab.parse(request(raw, { 'X-Gitlab-Event': 'Push Hook' }), {})).toEqual({
      kind: 'events',
      events: [
        {
          provider: 'gitlab',
          kind: 'code',
          action: 'push',
          deliveryId: undefined,
          namespace: 'mike',
          repository: 'diaspora',
          repoFullName: 'mike/diaspora',
          branch: 'master',
          tag: undefined,
          owner: 'jsmith',
          commit: {
            id: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7',
            message: 'fixed readme',
            author: 'GitLab dev user',
            url: 'http://example.com/mike/diaspora/commit/da1560886d4f094c3e6c9ef40349f7d38b5d27d7',
          },
          occurredAt: '2012-01-03T21:36:29.000Z',
        },
      ],
    });
  });

  it('keeps a nested group in the repository part', () => {
    const text = edited(PUSH, (b) => (b.project.path_with_namespace = 'group/sub/app'));
    const result = gitlab.parse(request(text, { 'X-Gitlab-Event': 'Push Hook' }), {});
    expect(result).toMatchObject({
      events: [{ namespace: 'group', repository: 'sub/app', repoFullName: 'group/sub/app' }],
    });
  });

  it('takes the delivery id from X-Gitlab-Event-UUID, then Idempotency-Key, then webhook-id', () => {
    const id = (headers: Record<string, string>) => {
      const r = gitlab.parse(request(raw, { 'X-Gitlab-Event': 'Push Hook', ...headers }), {});
      return r.kind === 'events' ? r.events[0].deliveryId : 'ignored';
    };
    expect(id({ 'X-Gitlab-Event-UUID': 'a', 'Idempotency-Key': 'b', 'webhook-id': 'c' })).toBe('a');
    expect(id({ 'Idempotency-Key': 'b', 'webhook-id': 'c' })).toBe('b');
    expect(id({ 'webhook-id': 'c' })).toBe('c');
  });

  it('keeps checkout_sha (the commit), not after (the annotated tag object), when no commit is listed', () => {
    const body = JSON.parse(fixture('gitlab/tag_push-woodpecker-selfhosted.json'));
    expect(body.after).not.toBe(body.checkout_sha);
    body.commits = [];
    const result = gitlab.parse(request(JSON.stringify(body), { 'X-Gitlab-Event': 'Tag Push Hook' }), {});
    expect(result).toMatchObject({
      events: [{ tag: 'v22', commit: { id: body.checkout_sha, message: '' }, occurredAt: undefined }],
    });
  });

  it('uses the newest listed commit when checkout_sha is not listed', () => {
    const body = JSON.parse(raw);
    body.checkout_sha = body.after = 'f'.repeat(40);
    const result = gitlab.parse(request(JSON.stringify(body), { 'X-Gitlab-Event': 'Push Hook' }), {});
    expect(result).toMatchObject({ events: [{ commit: { id: body.commits[body.commits.length - 1].id } }] });
  });
});

describe('gitlab: ignored deliveries', () => {
  const deleted = (file: string) =>
    edited(file, (b) => Object.assign(b, { after: '0'.repeat(40), checkout_sha: null, commits: [] }));
  it.each([
    [
      'a merge request',
      '{"object_kind":"merge_request"}',
      { 'X-Gitlab-Event': 'Merge Request Hook' },
      'gitlab event "Merge Request Hook" is not a push',
    ],
    ['a system hook', raw, { 'X-Gitlab-Event': 'System Hook' }, 'gitlab event "System Hook" is not a push'],
    ['no header, a pipeline body', '{"object_kind":"pipeline"}', {}, 'missing X-Gitlab-Event header'],
    ['no header, no body', '', {}, 'missing X-Gitlab-Event header'],
    ['a deleted branch', deleted(PUSH), { 'X-Gitlab-Event': 'Push Hook' }, 'branch "master" was deleted'],
    [
      'a deleted tag',
      deleted('gitlab/tag_push-gitlab-docs-example.json'),
      { 'X-Gitlab-Event': 'Tag Push Hook' },
      'tag "v1.0.0" was deleted',
    ],
  ])('%s', (_name, text, headers, reason) => {
    expect(gitlab.parse(request(text, headers as Record<string, string>), {})).toMatchObject({
      kind: 'ignored',
      reason,
    });
  });
});

describe('gitlab: malformed bodies name the field', () => {
  it.each([
    [
      'no project path',
      '{"object_kind":"push","ref":"refs/heads/main","project":{"name":"x"}}',
      ['project', 'path_with_namespace'],
    ],
    ['no ref', '{"object_kind":"push","project":{"path_with_namespace":"a/b"}}', ['ref']],
    [
      'a commit without id',
      '{"ref":"refs/heads/main","project":{"path_with_namespace":"a/b"},"commits":[{"message":"m"}]}',
      ['commits', 0, 'id'],
    ],
  ])('%s', (_name, text, path) => {
    expect(zodPath(() => gitlab.parse(request(text, { 'X-Gitlab-Event': 'Push Hook' }), {}))).toEqual(path);
  });
});
