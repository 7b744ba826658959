import { bitbucket } from '../../../lib/receive/providers/bitbucket';
import { edited, fixture, fixtureFiles, request } from '../../helpers/fixtures';
import { hmacHex, sha256Signature } from '../../helpers/hmac';
import { zodPaths } from '../../helpers/zod';

const SECRET = 's3cret-value';
const NOW = new Date();
const BRANCH = 'bitbucket/repo_push-go-scm-brydzewski-foo.json';
const TAG = 'bitbucket/repo_push-tag-create-go-scm.json';
const PUSH = { 'X-Event-Key': 'repo:push', 'X-Request-UUID': 'req-1', 'X-Hook-UUID': 'hook-1' };

describe('bitbucket: provider contract', () => {
  it('is the bitbucket provider, whose signature header is redacted', () => {
    expect(bitbucket.id).toBe('bitbucket');
    expect(bitbucket.credentialHeaders).toEqual(['x-hub-signature']);
  });
});

describe('bitbucket: verify (X-Hub-Signature: sha256=<hex HMAC-SHA256 of the raw body>)', () => {
  const body = fixture(BRANCH);
  it.each([
    ['good signature', body, { 'X-Hub-Signature': sha256Signature(SECRET, body) }, true],
    ['signed with a wrong secret', body, { 'X-Hub-Signature': sha256Signature('nope', body) }, false],
    ['tampered body', body.replace('"master"', '"main"'), { 'X-Hub-Signature': sha256Signature(SECRET, body) }, false],
    [
      're-serialized body',
      JSON.stringify(JSON.parse(body)),
      { 'X-Hub-Signature': sha256Signature(SECRET, body) },
      false,
    ],
    ['missing header', body, {}, false],
    [
      'signature without the sha256= prefix',
      body,
      { 'X-Hub-Signature': sha256Signature(SECRET, body).slice('sha256='.length) },
      false,
    ],
    [
      "GitHub's legacy SHA-1 value in the same header",
      body,
      { 'X-Hub-Signature': `sha1=${hmacHex(SECRET, body, 'sha1')}` },
      false,
    ],
    [
      'the good signature under the GitHub SHA-256 header name',
      body,
      { 'X-Hub-Signature-256': sha256Signature(SECRET, body) },
      false,
    ],
    ['the secret itself', body, { 'X-Hub-Signature': `sha256=${SECRET}` }, false],
  ])('%s', (_name, raw, headers, ok) => {
    const result = bitbucket.verify(request(raw, headers as Record<string, string>), [SECRET], NOW);
    expect(result.ok).toBe(ok);
    if (!result.ok) {
      expect(result.reason).not.toContain(SECRET);
      expect(result.reason).toContain('X-Hub-Signature');
    }
  });

  it('accepts the previous secret during rotation', () => {
    const req = request(body, { 'X-Hub-Signature': sha256Signature('old', body) });
    expect(bitbucket.verify(req, [SECRET, 'old'], NOW).ok).toBe(true);
    expect(bitbucket.verify(req, [SECRET], NOW).ok).toBe(false);
  });
});

describe('bitbucket: every fixture parses and normalizes', () => {
  it.each(fixtureFiles('bitbucket'))('%s', (_name, raw) => {
    const result = bitbucket.parse(request(raw, PUSH), {});
    expect(result.kind).toBe('events');
    if (result.kind !== 'events') return;
    const body = JSON.parse(raw);
    const changes = body.push.changes.filter((c: any) => c.new);
    expect(result.events).toHaveLength(changes.length);
    const [workspace, slug] = body.repository.full_name.split('/');
    result.events.forEach((e, i) => {
      const ref = changes[i].new;
      expect(e.provider).toBe('bitbucket');
      expect(e.kind).toBe('code');
      expect(e.action).toBe(ref.type === 'tag' ? 'tag_push' : 'push');
      expect(e.branch).toBe(ref.type === 'branch' ? ref.name : undefined);
      expect(e.tag).toBe(ref.type === 'tag' ? ref.name : undefined);
      expect(e.namespace).toBe(workspace);
      expect(e.repository).toBe(slug);
      expect(e.repoFullName).toBe(body.repository.full_name);
      expect(e.owner).toBe(body.actor.nickname ?? body.actor.username);
      expect(e.commit?.id).toBe(ref.target.hash);
      expect(e.commit?.message).toBe(ref.target.message);
      expect(e.commit?.url).toBe(ref.target.links.html.href);
      const author = ref.target.author;
      expect(e.commit?.author).toBe(author.raw ? author.raw.split(' <')[0] : (author.user ?? author).display_name);
      expect(e.deliveryId).toBe(PUSH['X-Request-UUID']);
      expect(Date.parse(e.occurredAt!)).toBe(Date.parse(ref.target.date));
      expect(e.image).toBeUndefined();
    });
  });

  it('normalizes the brydzewski/foo branch push exactly', () => {
    expect(
      bitbucket.parse(
        request(fixture(BRANCH), {
          'X-Event-Key': 'repo:push',
          'X-Request-UUID': '1b4e28ba-2fa1-11d2-883f-0016d3cca427',
        }),
        {},
      ),
    ).toEqual({
      kind: 'events',
      events: [
        {
          provider: 'bitbucket',
          kind: 'code',
          action: 'push',
          deliveryId: '1b4e28ba-2fa1-11d2-883f-0016d3cca427',
          namespace: 'brydzewski',
          repository: 'foo',
          repoFullName: 'brydzewski/foo',
          branch: 'master',
          owner: 'brydzewski',
          commit: {
            id: '141977fedf5cf35aa290ac87d4b5177ac4cd9de1',
            message: 'Update README\n',
            author: 'Brad Rydzewski',
            url: 'https://bitbucket.org/brydzewski/foo/commits/141977fedf5cf35aa290ac87d4b5177ac4cd9de1',
          },
          occurredAt: '2018-07-02T20:26:56.000Z',
        },
      ],
    });
  });

  it('normalizes the tag creation exactly (a tag name may contain "/")', () => {
    expect(bitbucket.parse(request(fixture(TAG), PUSH), {})).toMatchObject({
      kind: 'events',
      events: [
        {
          action: 'tag_push',
          tag: 'feature/x',
          branch: undefined,
          commit: { id: '141977fedf5cf35aa290ac87d4b5177ac4cd9de1' },
        },
      ],
    });
  });
});

describe('bitbucket: changes', () => {
  it('one event per change with a `new`, deletions skipped', () => {
    const raw = edited(BRANCH, (b) => {
      const push = b.push.changes[0];
      const tag = { ...push, new: { ...push.new, type: 'tag', name: 'v1.0.0' }, old: null };
      const deletion = { ...push, new: null, old: { type: 'branch', name: 'old-feature' }, closed: true };
      b.push.changes = [push, deletion, tag];
    });
    const result = bitbucket.parse(request(raw, PUSH), {});
    expect(result).toMatchObject({
      kind: 'events',
      events: [
        { action: 'push', branch: 'master', deliveryId: 'req-1' },
        { action: 'tag_push', tag: 'v1.0.0', deliveryId: 'req-1' },
      ],
    });
    if (result.kind === 'events') expect(result.events).toHaveLength(2);
  });

  it.each([
    ['a branch', { type: 'branch', name: 'feature/old' }, 'branch "feature/old" was deleted'],
    ['a tag', { type: 'tag', name: 'v0.1' }, 'tag "v0.1" was deleted'],
  ])('a push that only deletes %s is ignored', (_name, old, reason) => {
    const raw = edited(BRANCH, (b) => (b.push.changes = [{ new: null, old, closed: true, created: false }]));
    expect(bitbucket.parse(request(raw, PUSH), {})).toEqual({ kind: 'ignored', reason });
  });

  it('a push without changes is ignored', () => {
    const raw = edited(BRANCH, (b) => (b.push.changes = []));
    expect(bitbucket.parse(request(raw, PUSH), {})).toEqual({
      kind: 'ignored',
      reason: 'bitbucket push has no changes',
    });
  });

  it('a ref type that is neither branch nor tag is skipped', () => {
    const raw = edited(BRANCH, (b) => (b.push.changes[0].new.type = 'bookmark'));
    expect(bitbucket.parse(request(raw, PUSH), {})).toEqual({
      kind: 'ignored',
      reason: 'ref type "bookmark" is not a branch or tag',
    });
  });

  it.each([
    [
      'a linked user: the git author name',
      { raw: 'Jane Doe <jane@example.com>', user: { display_name: 'J. D.' } },
      'Jane Doe',
    ],
    ['no linked user', { raw: 'Jane Doe <jane@example.com>' }, 'Jane Doe'],
    ['only a user', { user: { display_name: 'J. D.' } }, 'J. D.'],
    ["an account (Atlassian's older example)", { nickname: 'emmap1', display_name: 'Emma' }, 'Emma'],
    ['a raw value that is only an address', { raw: '<jane@example.com>', user: { display_name: 'J. D.' } }, 'J. D.'],
    ['no author', undefined, undefined],
  ])('commit author: %s', (_name, author, expected) => {
    const raw = edited(BRANCH, (b) => (b.push.changes[0].new.target.author = author));
    expect(bitbucket.parse(request(raw, PUSH), {})).toMatchObject({
      kind: 'events',
      events: [{ commit: { author: expected } }],
    });
  });

  it.each([
    ['nickname first', { nickname: 'emmap1', username: 'emma', display_name: 'Emma' }, 'emmap1'],
    ['username when there is no nickname', { username: 'emma', display_name: 'Emma' }, 'emma'],
    ['display name as the last resort', { display_name: 'Emma' }, 'Emma'],
    ['no actor', undefined, undefined],
  ])('owner: %s', (_name, actor, owner) => {
    const raw = edited(BRANCH, (b) => (b.actor = actor));
    expect(bitbucket.parse(request(raw, PUSH), {})).toMatchObject({ kind: 'events', events: [{ owner }] });
  });

  it('without X-Request-UUID there is no deliveryId (X-Hook-UUID names the webhook, not the delivery)', () => {
    const result = bitbucket.parse(
      request(fixture(BRANCH), { 'X-Event-Key': 'repo:push', 'X-Hook-UUID': 'hook-1' }),
      {},
    );
    expect(result).toMatchObject({ kind: 'events', events: [{ deliveryId: undefined }] });
  });
});

describe('bitbucket: ignored events', () => {
  it.each(['pullrequest:created', 'repo:fork', 'repo:commit_status_updated', 'issue:created'])(
    '%s is not a push, whatever its body',
    (key) => {
      expect(bitbucket.parse(request('{}', { 'X-Event-Key': key }), {})).toEqual({
        kind: 'ignored',
        reason: `bitbucket event "${key}" is not a push`,
      });
    },
  );

  it('a request without X-Event-Key is ignored', () => {
    expect(bitbucket.parse(request(fixture(BRANCH)), {})).toEqual({
      kind: 'ignored',
      reason: 'missing X-Event-Key header',
    });
  });
});

describe('bitbucket: malformed bodies name the field', () => {
  it.each([
    ['no repository', (b: any) => delete b.repository, ['repository']],
    ['no full_name', (b: any) => delete b.repository.full_name, ['repository', 'full_name']],
    ['full_name without a workspace', (b: any) => (b.repository.full_name = 'foo'), ['repository', 'full_name']],
    ['no push', (b: any) => delete b.push, ['push']],
    ['changes is no array', (b: any) => (b.push.changes = {}), ['push', 'changes']],
    ['a new ref without a name', (b: any) => delete b.push.changes[0].new.name, ['push', 'changes', 0, 'new', 'name']],
    [
      'a new ref without a target',
      (b: any) => delete b.push.changes[0].new.target,
      ['push', 'changes', 0, 'new', 'target'],
    ],
    [
      'a target without a hash',
      (b: any) => delete b.push.changes[0].new.target.hash,
      ['push', 'changes', 0, 'new', 'target', 'hash'],
    ],
  ])('%s', (_name, edit, path) => {
    expect(zodPaths(() => bitbucket.parse(request(edited(BRANCH, edit), PUSH), {}))).toEqual([path]);
  });
});
