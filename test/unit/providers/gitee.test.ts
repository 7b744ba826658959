import { gitee } from '../../../lib/receive/providers/gitee';
import { edited, fixture, fixtureFiles, hookOf, request } from '../../helpers/fixtures';
import { zodPath } from '../../helpers/zod';

// real signing-key-mode deliveries and their secret (SOURCES.md §1, vector 3)
const KIT101_SECRET = 'bBg5lrt03VixkX85CNqYIcecC0SIGASE';
const PUSH = 'gitee/push-go-scm-kit101-signed.json';
const push = fixture(PUSH);
const tagPush = fixture('gitee/tag_push-go-scm-kit101-signed.json');
const passwordPush = fixture('gitee/push-go-playground-test-hook-password.json');
const VECTORS: Array<[string, string, string]> = [
  ['push delivery', '1633686799688', 'OyjGt7PDU9xXl5khawx5APOUmODD+SaulKYnS/Nifew='],
  ['tag delivery', '1633680073933', 'EDYOaI5dlyJgaiRE3jAe/fwaqZPNt1kLsRW1HY0p4tA='],
  ['go-scm header pair', '1633679083918', 'Xvh4YPVe6l31XpDRL9J2yeaEXabsckIoUUschpXiVck='],
];
const near = (ts: string, deltaMs = 0) => new Date(Number(ts) + deltaMs);
const headers = (timestamp: string, token: string) => ({ 'X-Gitee-Timestamp': timestamp, 'X-Gitee-Token': token });

function expectRefused(
  result: ReturnType<typeof gitee.verify>,
  secrets: string[],
  token: string | undefined,
  reason: RegExp,
) {
  expect(result.ok).toBe(false);
  if (result.ok) return;
  for (const s of secrets) expect(result.reason).not.toContain(s);
  if (token) expect(result.reason).not.toContain(token);
  expect(result.reason).toMatch(reason);
}

describe('gitee: verify, signing-key mode (X-Gitee-Token = Base64 HMAC of timestamp + secret)', () => {
  it.each(VECTORS)('accepts the %s near its timestamp', (_name, ts, token) => {
    expect(gitee.verify(request(push, headers(ts, token)), [KIT101_SECRET], near(ts, 5_000)).ok).toBe(true);
  });

  it.each(VECTORS)('refuses the %s today: stale', (_name, ts, token) => {
    const result = gitee.verify(request(push, headers(ts, token)), [KIT101_SECRET], new Date());
    expectRefused(result, [KIT101_SECRET], token, /^X-Gitee-Timestamp is more than 1 hour from now$/);
  });

  it('checks the window both ways, at 1 hour', () => {
    const [, ts, token] = VECTORS[0];
    const req = request(push, headers(ts, token));
    expect(gitee.verify(req, [KIT101_SECRET], near(ts, 3_600_000)).ok).toBe(true);
    expect(gitee.verify(req, [KIT101_SECRET], near(ts, 3_600_001)).ok).toBe(false);
    expect(gitee.verify(req, [KIT101_SECRET], near(ts, -3_600_001)).ok).toBe(false);
  });

  it("matches each body's own timestamp and sign fields", () => {
    for (const text of [push, tagPush]) {
      const body = JSON.parse(text);
      const req = request(text, headers(body.timestamp, body.sign));
      expect(gitee.verify(req, [KIT101_SECRET], near(body.timestamp)).ok).toBe(true);
    }
  });

  it.each([
    [
      'a wrong secret',
      push,
      headers(VECTORS[0][1], VECTORS[0][2]),
      ['bBg5lrt03VixkX85CNqYIcecC0SIGASF'],
      /X-Gitee-Token does not match/,
    ],
    [
      'a token for another timestamp',
      push,
      headers('1633686799689', VECTORS[0][2]),
      [KIT101_SECRET],
      /X-Gitee-Token does not match/,
    ],
    ['no timestamp header', push, { 'X-Gitee-Token': VECTORS[0][2] }, [KIT101_SECRET], /no valid X-Gitee-Timestamp/],
    [
      'a timestamp that is not a number',
      push,
      headers('16336867996.88', VECTORS[0][2]),
      [KIT101_SECRET],
      /no valid X-Gitee-Timestamp/,
    ],
    [
      'no token header',
      push,
      { 'X-Gitee-Timestamp': VECTORS[0][1] },
      [KIT101_SECRET],
      /^missing X-Gitee-Token header$/,
    ],
  ])('refuses %s', (_name, text, hdrs, secrets, reason) => {
    const token = (hdrs as Record<string, string>)['X-Gitee-Token'];
    expectRefused(gitee.verify(request(text, hdrs), secrets, near(VECTORS[0][1])), secrets, token, reason);
  });

  it('accepts the previous secret during rotation', () => {
    const [, ts, token] = VECTORS[0];
    expect(gitee.verify(request(push, headers(ts, token)), ['new-secret', KIT101_SECRET], near(ts)).ok).toBe(true);
  });

  it('does not cover the body: Gitee signs only the timestamp (documented, not a bug)', () => {
    const [, ts, token] = VECTORS[0];
    const tampered = push.replace('feat-2-1', 'main');
    expect(gitee.verify(request(tampered, headers(ts, token)), [KIT101_SECRET], near(ts)).ok).toBe(true);
  });
});

describe('gitee: verify, password mode (X-Gitee-Token = the password)', () => {
  const password = JSON.parse(passwordPush).password as string;
  it.each([
    ['the password', { 'X-Gitee-Token': password }, [password], true],
    ['the password, no timestamp', { 'X-Gitee-Token': password, 'X-Gitee-Timestamp': '' }, [password], true],
    // a password carries no time, so an old X-Gitee-Timestamp next to it does not matter
    [
      'the password with an old timestamp',
      { 'X-Gitee-Token': password, 'X-Gitee-Timestamp': '1586956180000' },
      [password],
      true,
    ],
    ['a wrong password', { 'X-Gitee-Token': 'test1234' }, [password], false],
    ['the password of another trigger', { 'X-Gitee-Token': password }, ['other-secret'], false],
  ])('%s', (_name, hdrs, secrets, ok) => {
    const result = gitee.verify(request(passwordPush, hdrs), secrets, new Date());
    expect(result.ok).toBe(ok);
    if (!result.ok) expectRefused(result, secrets, hdrs['X-Gitee-Token'], /X-Gitee-Token does not match/);
  });

  it('redacts the token header and the body copies of the credential', () => {
    expect(gitee.credentialHeaders).toEqual(['x-gitee-token']);
    expect(gitee.credentialBodyFields).toEqual(expect.arrayContaining(['password', 'sign']));
    expect(gitee.credential.headers).toBeUndefined();
  });
});

describe('gitee: every fixture parses and normalizes', () => {
  it.each(fixtureFiles('gitee'))('%s', (name, text) => {
    const body = JSON.parse(text);
    const result = gitee.parse(request(text, { 'X-Gitee-Event': hookOf(name) }), {});
    expect(result.kind).toBe('events');
    if (result.kind !== 'events') return;
    const [e] = result.events;
    const isTag = hookOf(name) === 'Tag Push Hook';
    const [namespace, repository] = body.repository.full_name.split('/');
    expect(e).toMatchObject({
      provider: 'gitee',
      kind: 'code',
      action: isTag ? 'tag_push' : 'push',
      repoFullName: body.repository.full_name,
      namespace,
      repository: body.repository.path,
      owner: body.pusher.username,
      commit: { id: body.head_commit.id, message: body.head_commit.message, url: body.head_commit.url },
      occurredAt: new Date(body.repository.pushed_at).toISOString(),
    });
    expect(repository).toBe(body.repository.path);
    expect(e.deliveryId).toBeUndefined();
    expect(isTag ? e.tag : e.branch).toBe(body.ref.replace(/^refs\/(heads|tags)\//, ''));

    // the legacy header and the body's hook_name say the same
    expect(gitee.parse(request(text, { 'X-Git-Oschina-Event': hookOf(name) }), {})).toEqual(result);
    expect(gitee.parse(request(text), {})).toEqual(result);
  });

  it('normalizes the kit101 push exactly', () => {
    expect(gitee.parse(request(push, { 'X-Gitee-Event': 'Push Hook' }), {})).toEqual({
      kind: 'events',
      events: [
        {
          provider: 'gitee',
          kind: 'code',
          action: 'push',
          deliveryId: undefined,
          namespace: 'kit101',
          repository: 'drone-yml-test',
          repoFullName: 'kit101/drone-yml-test',
          branch: 'feat-2-1',
          tag: undefined,
          owner: 'kit101',
          commit: {
            id: '9921e45e570db8e57e544650baf837932fb2100f',
            message: 'feat-2-1\n',
            author: 'kit101',
            url: 'https://gitee.com/kit101/drone-yml-test/commit/9921e45e570db8e57e544650baf837932fb2100f',
          },
          occurredAt: '2021-10-08T09:53:18.000Z',
        },
      ],
    });
  });

  it('names the repository by its path, not its display name', () => {
    const body = JSON.parse(passwordPush);
    expect(body.repository.name).toBe('Gitee FeedBack');
    expect(gitee.parse(request(passwordPush, { 'X-Gitee-Event': 'Push Hook' }), {})).toMatchObject({
      events: [{ repository: 'git-osc', repoFullName: 'oschina/git-osc', owner: 'oschina-org' }],
    });
  });
});

describe('gitee: ignored deliveries', () => {
  const deletedBranch = edited(PUSH, (b) =>
    Object.assign(b, { deleted: true, after: '0'.repeat(40), head_commit: null, commits: [] }),
  );
  it.each([
    [
      'a test delivery (X-Gitee-Ping)',
      passwordPush,
      { 'X-Gitee-Event': 'Push Hook', 'X-Gitee-Ping': 'true' },
      'gitee test delivery (X-Gitee-Ping)',
    ],
    [
      'a merge request',
      '{"hook_name":"merge_request_hooks"}',
      { 'X-Gitee-Event': 'Merge Request Hook' },
      'gitee event "Merge Request Hook" is not a push',
    ],
    ['no header, a note body', '{"hook_name":"note_hooks"}', {}, 'missing X-Gitee-Event header'],
    ['a deleted branch', deletedBranch, { 'X-Gitee-Event': 'Push Hook' }, 'branch "feat-2-1" was deleted'],
  ])('%s', (_name, text, hdrs, reason) => {
    expect(gitee.parse(request(text, hdrs as Record<string, string>), {})).toMatchObject({ kind: 'ignored', reason });
  });
});

describe('gitee: malformed bodies name the field', () => {
  it.each([
    ['no ref', '{"repository":{"full_name":"a/b"}}', ['ref']],
    ['no repository.full_name', '{"ref":"refs/heads/main","repository":{"name":"b"}}', ['repository', 'full_name']],
  ])('%s', (_name, text, path) => {
    expect(zodPath(() => gitee.parse(request(text, { 'X-Gitee-Event': 'Push Hook' }), {}))).toEqual(path);
  });
});

describe('gitee: the repository path from another field when full_name is missing', () => {
  const headers = { 'X-Gitee-Event': 'Push Hook' };
  it.each([
    ['path_with_namespace', (b: any) => delete b.repository.full_name, 'oschina/git-osc'],
    [
      'namespace + path',
      (b: any) => {
        delete b.repository.full_name;
        delete b.repository.path_with_namespace;
      },
      'oschina/git-osc',
    ],
  ])('%s', (_name, edit, repoFullName) => {
    const result = gitee.parse(request(edited('gitee/push-go-playground-test-hook-password.json', edit), headers), {});
    expect(result).toMatchObject({
      kind: 'events',
      events: [{ repoFullName, namespace: 'oschina', repository: 'git-osc' }],
    });
  });

  it('never the owner login + display name ("oschina-org/Gitee FeedBack")', () => {
    const raw = edited('gitee/push-go-playground-test-hook-password.json', (b) => {
      delete b.repository.full_name;
      delete b.repository.path_with_namespace;
      delete b.repository.path;
    });
    expect(zodPath(() => gitee.parse(request(raw, headers), {}))).toEqual(['repository', 'full_name']);
  });
});
