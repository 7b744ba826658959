import { gitea } from '../../../lib/receive/providers/gitea';
import { edited, eventOf, fixture, fixtureFiles, request } from '../../helpers/fixtures';
import { hmacHex } from '../../helpers/hmac';
import { zodPath } from '../../helpers/zod';

const SECRET = 'gitea-s3cret-value';
const NOW = new Date();
const PUSH = 'gitea/push-woodpecker-multi-line-secrets.json';
const raw = fixture(PUSH);

describe('gitea: verify (X-Gitea-Signature, hex HMAC-SHA256 of the body)', () => {
  const good = hmacHex(SECRET, raw);
  it.each([
    ['good signature', raw, { 'X-Gitea-Signature': good }, [SECRET], true, undefined],
    [
      'good signature among all the copies Gitea sends',
      raw,
      { 'X-Gitea-Signature': good, 'X-Gogs-Signature': good, 'X-Hub-Signature-256': `sha256=${good}` },
      [SECRET],
      true,
      undefined,
    ],
    ['the previous secret during rotation', raw, { 'X-Gitea-Signature': good }, ['new', SECRET], true, undefined],
    ['wrong secret', raw, { 'X-Gitea-Signature': hmacHex('other', raw) }, [SECRET], false, /does not match/],
    [
      'tampered body',
      raw.replace('add some text', 'add some test'),
      { 'X-Gitea-Signature': good },
      [SECRET],
      false,
      /does not match/,
    ],
    ['missing header', raw, {}, [SECRET], false, /^missing X-Gitea-Signature header$/],
    // routing is by URL: a valid GitHub/Gogs-style copy alone does not make a Gitea delivery
    [
      'only the Gogs and GitHub copies',
      raw,
      { 'X-Gogs-Signature': good, 'X-Hub-Signature-256': `sha256=${good}` },
      [SECRET],
      false,
      /^missing X-Gitea-Signature header$/,
    ],
  ])('%s', (_name, body, headers, secrets, ok, reason) => {
    const result = gitea.verify(request(body, headers as Record<string, string>), secrets, NOW);
    expect(result.ok).toBe(ok);
    if (!result.ok) {
      expect(result.reason).not.toContain(SECRET);
      expect(result.reason).not.toContain(good);
      if (reason) expect(result.reason).toMatch(reason);
    }
  });

  it('signs every fixture body byte for byte', () => {
    for (const [, text] of fixtureFiles('gitea')) {
      expect(gitea.verify(request(text, { 'X-Gitea-Signature': hmacHex(SECRET, text) }), [SECRET], NOW).ok).toBe(true);
      expect(gitea.verify(request(` ${text}`, { 'X-Gitea-Signature': hmacHex(SECRET, text) }), [SECRET], NOW).ok).toBe(
        false,
      );
    }
  });

  it('redacts every signature copy, Authorization and the deprecated body secret', () => {
    expect(gitea.credentialHeaders).toEqual(
      expect.arrayContaining([
        'x-gitea-signature',
        'x-gogs-signature',
        'x-hub-signature',
        'x-hub-signature-256',
        'authorization',
      ]),
    );
    const docs = JSON.parse(fixture('gitea/push-gitea-docs-example.json'));
    expect(typeof docs.secret).toBe('string');
    expect(gitea.credentialBodyFields).toContain('secret');
  });
});

describe('gitea: every fixture parses and normalizes', () => {
  // package events have their own tests below
  it.each(fixtureFiles('gitea').filter(([name]) => eventOf(name) !== 'package'))('%s', (name, text) => {
    const body = JSON.parse(text);
    const event = eventOf(name);
    const result = gitea.parse(request(text, { 'X-Gitea-Event': event, 'X-Gitea-Delivery': `d-${name}` }), {});
    if (event === 'create') {
      expect(result).toEqual({
        kind: 'ignored',
        reason: 'gitea event "create" is not a push (Gitea also sends a push for the new ref)',
      });
      return;
    }
    expect(result.kind).toBe('events');
    if (result.kind !== 'events') return;
    const [e] = result.events;
    const head = body.head_commit ?? body.commits.find((c: { id: string }) => c.id === body.after);
    expect(e).toMatchObject({
      provider: 'gitea',
      kind: 'code',
      action: 'push',
      deliveryId: `d-${name}`,
      repoFullName: body.repository.full_name,
      namespace: body.repository.owner.login,
      repository: body.repository.name,
      branch: body.ref.replace('refs/heads/', ''),
      owner: body.pusher.username,
      commit: { id: body.after, message: head.message, author: head.author.name, url: head.url },
      occurredAt: new Date(head.timestamp).toISOString(),
    });
  });

  it('normalizes a recent delivery (with head_commit) exactly', () => {
    expect(gitea.parse(request(raw, { 'X-Gitea-Event': 'push', 'X-Gitea-Delivery': 'del-1' }), {})).toEqual({
      kind: 'events',
      events: [
        {
          provider: 'gitea',
          kind: 'code',
          action: 'push',
          deliveryId: 'del-1',
          namespace: 'Test-CI',
          repository: 'multi-line-secrets',
          repoFullName: 'Test-CI/multi-line-secrets',
          branch: 'main',
          tag: undefined,
          owner: 'test-user',
          commit: {
            id: '29be01c073851cf0db0c6a466e396b725a670453',
            message: 'add some text\n',
            author: '6543',
            url: 'http://127.0.0.1:3000/Test-CI/multi-line-secrets/commit/29be01c073851cf0db0c6a466e396b725a670453',
          },
          occurredAt: '2024-02-21T23:18:07.000Z',
        },
      ],
    });
  });

  it('prefers head_commit over the commit list', () => {
    const text = edited(PUSH, (b) => (b.head_commit = { ...b.head_commit, message: 'from head_commit' }));
    expect(gitea.parse(request(text, { 'X-Gitea-Event': 'push' }), {})).toMatchObject({
      events: [{ commit: { message: 'from head_commit' } }],
    });
  });

  it('takes a tag push without commits, keeping the sha', () => {
    const body = JSON.parse(raw);
    Object.assign(body, { ref: 'refs/tags/v2.0.0', head_commit: null, commits: [] });
    expect(gitea.parse(request(JSON.stringify(body), { 'X-Gitea-Event': 'push' }), {})).toMatchObject({
      events: [{ action: 'tag_push', tag: 'v2.0.0', commit: { id: body.after, message: '' } }],
    });
  });
});

describe('gitea: ignored deliveries', () => {
  const deletedTag = edited(PUSH, (b) =>
    Object.assign(b, { ref: 'refs/tags/v1', after: '0'.repeat(40), head_commit: null, commits: [] }),
  );
  it.each([
    ['pull_request', '{}', { 'X-Gitea-Event': 'pull_request' }, 'gitea event "pull_request" is not a push'],
    ['no event header', raw, {}, 'missing X-Gitea-Event header'],
    // Gitea sends the GitHub/Gogs copies too, but the URL chose gitea: only X-Gitea-Event counts
    [
      'only the GitHub/Gogs event headers',
      raw,
      { 'X-GitHub-Event': 'push', 'X-Gogs-Event': 'push' },
      'missing X-Gitea-Event header',
    ],
    ['a deleted tag', deletedTag, { 'X-Gitea-Event': 'push' }, 'tag "v1" was deleted'],
  ])('%s', (_name, text, headers, reason) => {
    expect(gitea.parse(request(text, headers as Record<string, string>), {})).toMatchObject({
      kind: 'ignored',
      reason,
    });
  });
});

describe('gitea: malformed bodies name the field', () => {
  it.each([
    ['no ref', '{"repository":{"full_name":"a/b"}}', ['ref']],
    ['an empty full_name', '{"ref":"refs/heads/main","repository":{"full_name":""}}', ['repository', 'full_name']],
    [
      'head_commit without id',
      '{"ref":"refs/heads/main","repository":{"full_name":"a/b"},"head_commit":{"message":"m"}}',
      ['head_commit', 'id'],
    ],
  ])('%s', (_name, text, path) => {
    expect(zodPath(() => gitea.parse(request(text, { 'X-Gitea-Event': 'push' }), {}))).toEqual(path);
  });
});

describe('gitea: package events (container packages of the built-in registry)', () => {
  const PKG = 'gitea/package-created-container-gitea-test-payload.json';
  const pkg = fixture(PKG);
  const parse = (text: string, event = 'package') =>
    gitea.parse(request(text, { 'X-Gitea-Event': event, 'X-Gitea-Delivery': 'pkg-1' }), {});

  it('a created container package is an image push of <gitea host>/<owner>/<name>:<version>', () => {
    expect(parse(pkg)).toEqual({
      kind: 'events',
      events: [
        {
          provider: 'gitea',
          kind: 'image',
          action: 'push',
          deliveryId: 'pkg-1',
          registry: 'localhost:3000',
          namespace: 'user1',
          repository: 'GiteaContainer',
          repoFullName: 'user1/GiteaContainer',
          tag: 'latest',
          digest: undefined,
          image: 'localhost:3000/user1/GiteaContainer:latest',
          owner: 'user1',
          // Go's zero time in the test payload is no time
          occurredAt: undefined,
        },
      ],
    });
  });

  it('a deleted one is a delete; a digest version has no tag', () => {
    expect(parse(edited(PKG, (b) => (b.action = 'deleted')))).toMatchObject({
      kind: 'events',
      events: [{ action: 'delete' }],
    });
    const digest = 'sha256:2b258e2e04a1980efc1739f75b6d5939430a2253365ca12115f785e320bf24a4';
    expect(parse(edited(PKG, (b) => (b.package.version = digest)))).toMatchObject({
      kind: 'events',
      events: [{ tag: undefined, digest, image: `localhost:3000/user1/GiteaContainer@${digest}` }],
    });
  });

  it('other package types and actions are ignored with a reason', () => {
    expect(parse(edited(PKG, (b) => (b.package.type = 'npm')))).toEqual({
      kind: 'ignored',
      reason: 'npm package events are not acted on (only container packages)',
    });
    expect(parse(edited(PKG, (b) => (b.action = 'updated')))).toMatchObject({ kind: 'ignored' });
  });

  it('a container package without html_url or owner names the field', () => {
    expect(zodPath(() => parse(edited(PKG, (b) => delete b.package.html_url)))).toEqual(['package', 'html_url']);
    expect(zodPath(() => parse(edited(PKG, (b) => (b.package.owner = {}))))).toEqual(['package', 'owner']);
  });

  it('the signature covers the package body as it does a push', () => {
    expect(gitea.verify(request(pkg, { 'X-Gitea-Signature': hmacHex(SECRET, pkg) }), [SECRET], NOW).ok).toBe(true);
  });
});
