import { gogs } from '../../../lib/receive/providers/gogs';
import { edited, fixture, fixtureFiles, request } from '../../helpers/fixtures';
import { hmacHex } from '../../helpers/hmac';
import { zodPath } from '../../helpers/zod';

const SECRET = 'gogs-s3cret-value';
const NOW = new Date();
const PUSH = 'gogs/push-gogs-docs-2017-unknwon-webhooks.json';
const raw = fixture(PUSH);

describe('gogs: verify (X-Gogs-Signature, hex HMAC-SHA256 of the body)', () => {
  const good = hmacHex(SECRET, raw);
  it.each([
    ['good signature', raw, { 'X-Gogs-Signature': good }, [SECRET], true, undefined],
    ['upper-case hex', raw, { 'X-Gogs-Signature': good.toUpperCase() }, [SECRET], true, undefined],
    ['the previous secret during rotation', raw, { 'X-Gogs-Signature': good }, ['new', SECRET], true, undefined],
    ['wrong secret', raw, { 'X-Gogs-Signature': hmacHex('other', raw) }, [SECRET], false, /does not match/],
    [
      'tampered body',
      raw.replace('develop', 'master'),
      { 'X-Gogs-Signature': good },
      [SECRET],
      false,
      /does not match/,
    ],
    ['a sha256= prefix (not Gogs)', raw, { 'X-Gogs-Signature': `sha256=${good}` }, [SECRET], false, /does not match/],
    ['missing header', raw, {}, [SECRET], false, /^missing X-Gogs-Signature header$/],
    // the signature published with this capture; its secret was never published
    [
      'the published signature under our secret',
      raw,
      { 'X-Gogs-Signature': '1921679ed6274399b6514721056337f6913b6ff1cb35a24d340e983745d637f1' },
      [SECRET],
      false,
      /does not match/,
    ],
  ])('%s', (_name, body, headers, secrets, ok, reason) => {
    const result = gogs.verify(request(body, headers as Record<string, string>), secrets, NOW);
    expect(result.ok).toBe(ok);
    if (!result.ok) {
      expect(result.reason).not.toContain(SECRET);
      expect(result.reason).not.toContain(good);
      if (reason) expect(result.reason).toMatch(reason);
    }
  });

  it('signs every fixture body byte for byte', () => {
    for (const [, text] of fixtureFiles('gogs')) {
      expect(gogs.verify(request(text, { 'X-Gogs-Signature': hmacHex(SECRET, text) }), [SECRET], NOW).ok).toBe(true);
      expect(gogs.verify(request(`${text}\n`, { 'X-Gogs-Signature': hmacHex(SECRET, text) }), [SECRET], NOW).ok).toBe(
        false,
      );
    }
  });
});

describe('gogs: every fixture parses and normalizes', () => {
  it.each(fixtureFiles('gogs'))('%s', (name, text) => {
    const body = JSON.parse(text);
    const result = gogs.parse(request(text, { 'X-Gogs-Event': 'push', 'X-Gogs-Delivery': `d-${name}` }), {});
    expect(result.kind).toBe('events');
    if (result.kind !== 'events') return;
    const [e] = result.events;
    const head = body.commits.find((c: { id: string }) => c.id === body.after);
    expect(e).toMatchObject({
      provider: 'gogs',
      kind: 'code',
      action: 'push',
      deliveryId: `d-${name}`,
      repoFullName: body.repository.full_name,
      namespace: body.repository.owner.username,
      repository: body.repository.name,
      branch: body.ref.replace('refs/heads/', ''),
      owner: body.pusher.username,
      commit: { id: body.after, message: head.message, author: head.author.name, url: head.url },
      occurredAt: new Date(head.timestamp).toISOString(),
    });
  });

  it('normalizes the 2017 capture exactly', () => {
    expect(
      gogs.parse(
        request(raw, { 'X-Gogs-Event': 'push', 'X-Gogs-Delivery': 'f6266f16-1bf3-46a5-9ea4-602e06ead473' }),
        {},
      ),
    ).toEqual({
      kind: 'events',
      events: [
        {
          provider: 'gogs',
          kind: 'code',
          action: 'push',
          deliveryId: 'f6266f16-1bf3-46a5-9ea4-602e06ead473',
          namespace: 'unknwon',
          repository: 'webhooks',
          repoFullName: 'unknwon/webhooks',
          branch: 'develop',
          tag: undefined,
          owner: 'unknwon',
          commit: {
            id: 'bffeb74224043ba2feb48d137756c8a9331c449a',
            message: '!@#0^%>>>><<<<>>>>\n',
            author: 'Unknwon',
            url: 'http://localhost:3000/unknwon/webhooks/commit/bffeb74224043ba2feb48d137756c8a9331c449a',
          },
          occurredAt: '2017-03-13T17:52:11.000Z',
        },
      ],
    });
  });

  it('takes a tag ref as a tag push', () => {
    const text = edited(PUSH, (b) => (b.ref = 'refs/tags/v1.2.3'));
    expect(gogs.parse(request(text, { 'X-Gogs-Event': 'push' }), {})).toMatchObject({
      events: [{ action: 'tag_push', tag: 'v1.2.3', branch: undefined }],
    });
  });

  it('takes the first listed commit as the newest when `after` is not listed (Gogs lists newest first)', () => {
    const body = JSON.parse(raw);
    const newest = body.commits[0];
    body.commits = [newest, { ...newest, id: 'a'.repeat(40), message: 'older' }];
    body.after = 'f'.repeat(40);
    expect(gogs.parse(request(JSON.stringify(body), { 'X-Gogs-Event': 'push' }), {})).toMatchObject({
      events: [{ commit: { id: newest.id } }],
    });
  });
});

describe('gogs: ignored deliveries', () => {
  it.each([
    [
      'create (a push follows)',
      '{"ref":"v1","ref_type":"tag"}',
      { 'X-Gogs-Event': 'create' },
      'gogs event "create" is not a push (Gogs also sends a push for the new ref)',
    ],
    ['issues', '{}', { 'X-Gogs-Event': 'issues' }, 'gogs event "issues" is not a push'],
    ['no event header', raw, {}, 'missing X-Gogs-Event header'],
    ['a Gitea header is not read', raw, { 'X-Gitea-Event': 'push' }, 'missing X-Gogs-Event header'],
  ])('%s', (_name, text, headers, reason) => {
    expect(gogs.parse(request(text, headers as Record<string, string>), {})).toEqual({ kind: 'ignored', reason });
  });
});

describe('gogs: malformed bodies name the field', () => {
  it.each([
    ['no ref', '{"repository":{"full_name":"a/b"}}', ['ref']],
    ['no repository', '{"ref":"refs/heads/main"}', ['repository']],
    [
      'a commit without id',
      '{"ref":"refs/heads/main","repository":{"full_name":"a/b"},"commits":[{}]}',
      ['commits', 0, 'id'],
    ],
  ])('%s', (_name, text, path) => {
    expect(zodPath(() => gogs.parse(request(text, { 'X-Gogs-Event': 'push' }), {}))).toEqual(path);
  });
});
