/**
 * The artifact-name grammars (lib/core/artifact-names.ts), case by case from the specs: the OCI distribution spec
 * (repository names, tags), distribution/reference (registry hosts), the OCI image spec (digests), git
 * check-ref-format (branches, tags), SemVer 2 (chart versions); and what an event must satisfy per kind.
 */
import {
  chartVersionError,
  commitIdError,
  digestError,
  eventNameProblem,
  gitRefError,
  imageReferenceError,
  ociRepositoryError,
  ociTagError,
  registryHostError,
} from '../../lib/core/artifact-names';
import type { NormalizedEvent } from '../../lib/core/event';

const HEX64 = 'a'.repeat(64);
const valid = (fn: (s: string) => string | undefined, values: string[]) =>
  it.each(values)('accepts %j', (v) => expect(fn(v)).toBeUndefined());
const invalid = (fn: (s: string) => string | undefined, values: string[]) =>
  it.each(values)('refuses %j', (v) => expect(fn(v)).toEqual(expect.any(String)));

describe('OCI tag: [A-Za-z0-9_][A-Za-z0-9._-]{0,127}', () => {
  valid(ociTagError, ['v1', 'latest', '1.4.0', '_x', 'A-b_c.D', 'x'.repeat(128)]);
  invalid(ociTagError, [
    '',
    'v2,"newName":evil.example/x',
    '.hidden',
    '-dash',
    'x'.repeat(129),
    'v1 ',
    'v1\n',
    'a/b',
    'a:b',
    'a@b',
    'ünï',
    '1.0.0+build',
  ]);
});

describe('OCI repository name: path components joined by "/"', () => {
  valid(ociRepositoryError, [
    'web',
    'team/web',
    'a/b/c',
    'my-app',
    'my--app',
    'my__app',
    'my_app',
    'a.b',
    'library/nginx',
  ]);
  invalid(ociRepositoryError, [
    '',
    'Team/web',
    'repoTest',
    'team//web',
    '/web',
    'web/',
    '-web',
    'web-',
    'a___b',
    'a..b',
    'a b',
    'web:v1',
    'x'.repeat(256),
  ]);
});

describe('registry host[:port]', () => {
  valid(registryHostError, [
    'docker.io',
    'registry.acme.internal:5000',
    '127.0.0.1:15099',
    'localhost',
    'localhost:5000',
    '[::1]:5000',
    'my-registry.azurecr.io',
  ]);
  invalid(registryHostError, [
    '',
    'evil.example/x',
    'host:port',
    'a_b.example',
    '-a.example',
    'a.example:99999',
    'h st',
  ]);
});

describe('digest: algorithm:encoded, sha256 64 and sha512 128 lowercase hex', () => {
  valid(digestError, [
    `sha256:${HEX64}`,
    `sha512:${'0'.repeat(128)}`,
    'multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8',
  ]);
  invalid(digestError, [
    '',
    'sha256:...',
    'sha256:xxxx8075264b5ba7c14c23672xxxx52ae6a3ebac1c47916e4efe19cd624dxxxx',
    `sha256:${'a'.repeat(60)}`,
    `sha256:${'A'.repeat(64)}`,
    `sha512:${HEX64}`,
    HEX64,
    `SHA256:${HEX64}`,
    `sha256:${HEX64}\n`,
  ]);
});

describe('git branch names (git check-ref-format --branch)', () => {
  valid((b) => gitRefError(b, 'branch'), ['main', 'feature/x', 'release-1.2', 'v1.0', 'a@b', 'ünï']);
  invalid(
    (b) => gitRefError(b, 'branch'),
    [
      '',
      'HEAD',
      'main.',
      '-main',
      'a..b',
      'a b',
      'a~1',
      'a^',
      'a:b',
      'a?',
      'a*',
      'a[b',
      'a\\b',
      'a@{1}',
      '@',
      'a/',
      '/a',
      'a//b',
      '.hidden',
      'a/.b',
      'main.lock',
      'a.lock/b',
      'a\u0000b',
      'a\nb',
      'a\u007fb',
    ],
  );
  it('HEAD is a valid git tag name, not a branch', () => expect(gitRefError('HEAD', 'tag')).toBeUndefined());
});

describe('commit ids: 40 or 64 lowercase hex', () => {
  valid(commitIdError, ['a'.repeat(40), HEX64]);
  invalid(commitIdError, ['', 'a'.repeat(39), 'A'.repeat(40), 'g'.repeat(40), 'a'.repeat(41)]);
});

describe('chart versions: SemVer 2', () => {
  valid(chartVersionError, ['1.0.0', '0.1.0-rc.1', '1.2.3+build.5', 'v1.2.3']);
  invalid(chartVersionError, ['', '1.0', 'latest', '1.0.0,"x":1', '01.2.3']);
});

describe('image references', () => {
  valid(imageReferenceError, [
    'team/web',
    'team/web:v1',
    'registry.acme.internal:5000/team/web:v2',
    `team/web@sha256:${HEX64}`,
    `localhost/team/web:v1@sha256:${HEX64}`,
  ]);
  invalid(imageReferenceError, [
    'team/web:v2,"newName":evil.example/x',
    'Team/web:v1',
    'team/web@sha256:...',
    'bad_host.example/team/web:v1',
  ]);
});

describe('eventNameProblem: the grammar of each field by event kind', () => {
  const image: NormalizedEvent = {
    provider: 'distribution',
    kind: 'image',
    action: 'push',
    registry: 'registry.acme.internal:5000',
    namespace: 'team',
    repository: 'web',
    repoFullName: 'team/web',
    tag: 'v2',
    digest: `sha256:${HEX64}`,
    image: 'registry.acme.internal:5000/team/web:v2',
  };
  const code: NormalizedEvent = {
    provider: 'github',
    kind: 'code',
    action: 'push',
    namespace: 'Octocat',
    repository: 'Hello-World',
    repoFullName: 'Octocat/Hello-World',
    branch: 'main',
    commit: { id: 'a'.repeat(40), message: 'any text at all\n' },
  };

  it('accepts well-formed events of each kind', () => {
    expect(eventNameProblem(image)).toBeUndefined();
    expect(eventNameProblem(code)).toBeUndefined();
    expect(
      eventNameProblem({ ...image, kind: 'chart', action: 'chart_push', tag: '1.2.3+build', image: undefined }),
    ).toBeUndefined();
  });

  it.each([
    [{ ...image, tag: 'v2,"newName":evil.example/x' }, 'event.tag'],
    [{ ...image, repository: 'Web' }, 'event.repository'],
    [{ ...image, registry: 'evil.example/x' }, 'event.registry'],
    [{ ...image, digest: 'sha256:...' }, 'event.digest'],
    [{ ...image, image: 'team/web:v2 ' }, 'event.image'],
    [{ ...image, kind: 'chart' as const, tag: 'latest', image: undefined }, 'event.tag'],
    [{ ...code, branch: 'HEAD' }, 'event.branch'],
    [{ ...code, branch: 'main\nTriggerfish-Log: forged' }, 'event.branch'],
    [{ ...code, branch: undefined, tag: 'v1..2' }, 'event.tag'],
    [{ ...code, commit: { id: 'not-a-sha', message: '' } }, 'event.commit.id'],
    [{ ...code, repoFullName: 'a/b\nc' }, 'event.repoFullName'],
  ] as Array<[NormalizedEvent, string]>)('names the field: %#', (event, field) => {
    const problem = eventNameProblem(event);
    expect(problem?.field).toBe(field);
    expect(problem?.message).toMatch(new RegExp(`^invalid ${field.replace('.', '\\.')}: `));
    // the reason shows control characters escaped, never raw
    expect(problem?.message).not.toMatch(/\n/);
  });

  it('a code push may carry owner/repository names with capitals (code hosts allow them)', () => {
    expect(eventNameProblem({ ...code, repoFullName: 'Octocat/Hello-World' })).toBeUndefined();
  });
});
