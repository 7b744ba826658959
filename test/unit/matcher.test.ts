import { RE2JS } from 're2js';
import { splitRepoFullName, type NormalizedEvent } from '../../lib/core/event';
import {
  matchEvent,
  matchSchema,
  selectEvent,
  tagRuleSchema,
  type MatchState,
  type TagRule,
  type TriggerMatch,
} from '../../lib/match/matcher';

/** An image push for "namespace/repo[/more]:tag"; pass tag undefined for a digest-only push. */
function imageEvent(
  repoFullName: string,
  tag: string | undefined,
  over: Partial<NormalizedEvent> = {},
): NormalizedEvent {
  return {
    provider: 'tcr',
    kind: 'image',
    action: 'push',
    ...splitRepoFullName(repoFullName),
    tag,
    digest: 'sha256:' + 'a'.repeat(64),
    ...over,
  };
}

function codeEvent(over: Partial<NormalizedEvent> = {}): NormalizedEvent {
  return {
    provider: 'github',
    kind: 'code',
    action: 'push',
    namespace: 'acme',
    repository: 'app',
    repoFullName: 'acme/app',
    branch: 'main',
    commit: { id: 'abc123', message: 'fix: thing @deploy' },
    ...over,
  };
}

/** Validates the match block like trigger creation does, then matches. */
function run(match: unknown, event: NormalizedEvent, state?: MatchState) {
  return matchEvent(matchSchema.parse(match), event, state);
}

const ok = { matched: true };
const no = (reason: string) => ({ matched: false, reason });

describe('TCR pattern table (典型场景)', () => {
  // [pattern, repository inside the namespace, expected]
  it.each<[string, string, boolean]>([
    // ** or empty: every repository in the namespace
    ['**', 'nginx', true],
    ['**', 'a/b/c', true],
    ['', 'nginx', true],
    ['', 'a/b/c', true],
    ['/', 'a/b', true],
    // /path*: first-level repositories with prefix path
    ['/path*', 'path', true],
    ['/path*', 'path-api', true],
    ['/path*', 'path1/sub', false],
    ['/path*', 'xpath', false],
    // /path** acts like /path* (** is a globstar only as a whole segment)
    ['/path**', 'path1', true],
    ['/path**', 'path1/sub', false],
    // /path/**: everything under the directory path
    ['/path/**', 'path/a', true],
    ['/path/**', 'path/a/b', true],
    ['/path/**', 'pathx/a', false],
    // /path*/**: every repository with prefix path, at any depth
    ['/path*/**', 'path1/a', true],
    ['/path*/**', 'pathfoo/a/b', true],
    ['/path*/**', 'other/a', false],
    // /{path1, path2}*: first-level repositories with prefix path1 or path2 (space after comma ignored)
    ['/{path1, path2}*', 'path1', true],
    ['/{path1, path2}*', 'path2-web', true],
    ['/{path1, path2}*', 'path3', false],
    ['/{path1, path2}*', 'path1/sub', false],
    // /{path1, path2}/**: every repository under path1/ or path2/
    ['/{path1, path2}/**', 'path1/a', true],
    ['/{path1, path2}/**', 'path2/a/b', true],
    ['/{path1, path2}/**', 'path3/a', false],
    ['/{path1, path2}/**', 'path1x/a', false],
    // /{path1, path2}*/**: every repository with prefix path1 or path2, at any depth
    ['/{path1, path2}*/**', 'path1x/a', true],
    ['/{path1, path2}*/**', 'path2/a/b', true],
    ['/{path1, path2}*/**', 'path3/a', false],
    // * never crosses "/", ? is one character but "/"
    ['*', 'web', true],
    ['*', 'web/api', false],
    ['a?c', 'abc', true],
    ['a?c', 'a/c', false],
    ['a?c', 'abbc', false],
    // dot files are ordinary names
    ['*', '.hidden', true],
  ])('repository %j vs %j -> %s', (pattern, repository, expected) => {
    const result = run({ repository: pattern }, imageEvent(`team/${repository}`, '1.0'));
    expect(result.matched).toBe(expected);
  });

  it.each<[string, string, boolean]>([
    // 1.?: every 1.x tag
    ['1.?', '1.0', true],
    ['1.?', '1.x', true],
    ['1.?', '1.10', false],
    ['1.?', '2.0', false],
    // {env1*, env2*}: tags with prefix env1 or env2
    ['{env1*, env2*}', 'env1', true],
    ['{env1*, env2*}', 'env2-prod', true],
    ['{env1*, env2*}', 'env3', false],
    ['{env1*, env2*}', 'xenv1', false],
  ])('tag glob %j vs %j -> %s', (pattern, tag, expected) => {
    expect(run({ tags: { glob: pattern } }, imageEvent('team/web', tag)).matched).toBe(expected);
  });

  it.each<[string, string | undefined, boolean]>([
    ['library', 'library', true],
    ['/library', 'library', true],
    ['team-*', 'team-a', true],
    ['{a, b}', 'b', true],
    ['library', 'team', false],
    ['**', undefined, true],
    ['*', undefined, false],
  ])('namespace %j vs %j -> %s', (pattern, namespace, expected) => {
    const event = imageEvent('team/web', '1.0', { namespace });
    expect(run({ namespace: pattern }, event).matched).toBe(expected);
  });

  it('names the namespace, repository and patterns in the reason', () => {
    expect(run({ namespace: 'library' }, imageEvent('team/web', '1.0'))).toEqual(
      no('namespace "team" does not match "library"'),
    );
    expect(run({ repository: 'web-*' }, imageEvent('team/api', '1.0'))).toEqual(
      no('repository "api" does not match "web-*"'),
    );
    expect(run({ namespace: 'library' }, imageEvent('web', '1.0'))).toEqual(
      no('event has no namespace to match "library"'),
    );
  });
});

describe('tag rules', () => {
  // [rule, tag, expected reason or null when it matches]
  it.each<[string, TagRule | undefined, string, string | null]>([
    ['absent', undefined, 'anything', null],
    ['all', { all: true }, 'anything', null],
    ['list hit', { list: ['latest', 'stable'] }, 'stable', null],
    ['list miss', { list: ['latest', 'stable'] }, 'dev', 'tag "dev" is not one of latest, stable'],
    ['list is exact', { list: ['latest'] }, 'latest2', 'tag "latest2" is not one of latest'],
    ['regex hit', { regex: 'release-v.*' }, 'release-v1.2', null],
    ['regex miss', { regex: 'release-v.*' }, 'dev', 'tag "dev" does not match regex release-v.*'],
    [
      'regex is whole: prefix',
      { regex: 'release-v.*' },
      'xrelease-v1',
      'tag "xrelease-v1" does not match regex release-v.*',
    ],
    ['regex is whole: suffix', { regex: 'v[0-9]+' }, 'v12-rc', 'tag "v12-rc" does not match regex v[0-9]+'],
    ['regex alternation is whole', { regex: 'a|b' }, 'ab', 'tag "ab" does not match regex a|b'],
    ['regex RE2 class', { regex: '\\d+\\.\\d+' }, '10.2', null],
    ['glob hit', { glob: 'v1.*' }, 'v1.2', null],
    ['glob miss', { glob: 'v1.*' }, 'v2.0', 'tag "v2.0" does not match glob v1.*'],
    ['glob braces with spaces', { glob: '{env1*, env2*}' }, 'env2', null],
    ['semver hit', { semver: '^1.2.0' }, '1.4.0', null],
    ['semver miss', { semver: '^1.2.0' }, '2.0.0', 'tag "2.0.0" does not satisfy semver ^1.2.0'],
    ['semver v-prefixed tag', { semver: '>=1.0.0' }, 'v1.2.3', null],
    ['semver v-prefixed range', { semver: '>=v1.0.0' }, '1.2.3', null],
    [
      'semver not a version',
      { semver: '>=1.0.0' },
      'latest',
      'tag "latest" is not a semver version (rule semver >=1.0.0)',
    ],
    ['semver partial version is not one', { semver: '*' }, '1.2', 'tag "1.2" is not a semver version (rule semver *)'],
    [
      'semver pre-release excluded',
      { semver: '>=1.0.0' },
      '1.0.0-rc.1',
      'tag "1.0.0-rc.1" does not satisfy semver >=1.0.0',
    ],
    ['semver pre-release when the range names one', { semver: '>=1.0.0-rc.0' }, '1.0.0-rc.1', null],
    [
      'semver pre-release of another version',
      { semver: '>=1.0.0-rc.0' },
      '1.1.0-rc.1',
      'tag "1.1.0-rc.1" does not satisfy semver >=1.0.0-rc.0',
    ],
  ])('%s', (_name, tags, tag, reason) => {
    const result = run(tags === undefined ? {} : { tags }, imageEvent('team/web', tag));
    expect(result).toEqual(reason === null ? ok : no(reason));
  });

  it('runs a pathological regex in linear time with the right answer', () => {
    const evil = 'a'.repeat(50_000) + '!';
    expect(run({ tags: { regex: '(a+)+$' } }, imageEvent('team/web', evil)).matched).toBe(false);
    expect(run({ tags: { regex: '(a+)+$' } }, imageEvent('team/web', 'a'.repeat(50_000))).matched).toBe(true);
    expect(run({ tags: { regex: '(.*a){20}' } }, imageEvent('team/web', 'a'.repeat(30) + 'b')).matched).toBe(false);
  });

  it('compiles each regex once and reuses it', () => {
    const compile = jest.spyOn(RE2JS, 'compile');
    try {
      const match: TriggerMatch = { tags: { regex: 'cache-me-[0-9]+' } };
      expect(matchEvent(match, imageEvent('team/web', 'cache-me-1')).matched).toBe(true);
      expect(matchEvent(match, imageEvent('team/web', 'cache-me-x')).matched).toBe(false);
      expect(matchEvent(match, imageEvent('team/web', 'cache-me-2')).matched).toBe(true);
      expect(compile.mock.calls.filter(([p]) => p === 'cache-me-[0-9]+')).toHaveLength(1);
    } finally {
      compile.mockRestore();
    }
  });
});

describe('semver newerOnly', () => {
  // [tags rule, image, state.trackedImage, tag, expected reason or null]
  it.each<[string, string | undefined, string | undefined, string, string | null]>([
    ['newer than tracked', undefined, 'library/web:1.3.0', '1.4.0', null],
    [
      'older than tracked',
      undefined,
      'library/web:1.3.0',
      '1.2.0',
      'tag "1.2.0" is not newer than the tracked tag 1.3.0',
    ],
    [
      'equal to tracked',
      undefined,
      'library/web:1.3.0',
      '1.3.0',
      'tag "1.3.0" is not newer than the tracked tag 1.3.0',
    ],
    [
      'v-prefixed tracked tag',
      undefined,
      'web:v1.3.0',
      'v1.2.9',
      'tag "v1.2.9" is not newer than the tracked tag v1.3.0',
    ],
    ['v-prefixed newer', undefined, 'web:v1.3.0', 'v1.3.1', null],
    ['tracked tag not semver: no comparison', undefined, 'web:latest', '1.0.0', null],
    ['tracked image without tag: no comparison', undefined, 'web', '1.0.0', null],
    ['no tracked image at all', undefined, undefined, '1.0.0', null],
    [
      'match.image is the baseline before any deploy',
      'web:1.4.0',
      undefined,
      '1.3.0',
      'tag "1.3.0" is not newer than the tracked tag 1.4.0',
    ],
    [
      'state.trackedImage wins over match.image',
      'web:1.4.0',
      'web:1.6.0',
      '1.5.0',
      'tag "1.5.0" is not newer than the tracked tag 1.6.0',
    ],
    ['state.trackedImage wins (newer passes)', 'web:1.4.0', 'web:1.6.0', '1.7.0', null],
  ])('%s', (_name, image, trackedImage, tag, reason) => {
    const match = { image, tags: { semver: '>=1.0.0', newerOnly: true } };
    const state = trackedImage === undefined ? undefined : { trackedImage };
    expect(run(match, imageEvent('library/web', tag), state)).toEqual(reason === null ? ok : no(reason));
  });

  it('ignores the tracked tag without newerOnly', () => {
    expect(
      run({ tags: { semver: '>=1.0.0' } }, imageEvent('library/web', '1.2.0'), { trackedImage: 'library/web:1.3.0' }),
    ).toEqual(ok);
  });
});

describe('digest-only events (no tag)', () => {
  it.each<[string, TagRule | undefined, boolean]>([
    ['absent', undefined, true],
    ['all', { all: true }, true],
    ['list', { list: ['latest'] }, false],
    ['regex', { regex: '.*' }, false],
    ['glob', { glob: '**' }, false],
    ['semver', { semver: '*' }, false],
  ])('tags %s -> %s', (_name, tags, expected) => {
    const result = run(tags === undefined ? {} : { tags }, imageEvent('team/web', undefined));
    expect(result).toEqual(expected ? ok : no('event has no tag (digest-only push)'));
  });
});

describe('image rule (Kato)', () => {
  // [image, tags, state.trackedImage, event repoFullName, event tag, event registry, expected reason or null]
  it.each<[string, string, TagRule | undefined, string | undefined, string, string | undefined, string | null]>([
    ['exact', 'library/web:1.4.0', undefined, undefined, 'library/web', '1.4.0', null],
    [
      'other repository',
      'library/web:1.4.0',
      undefined,
      undefined,
      'library/api',
      '1.0',
      'image "library/api:1.0" is not the tracked image library/web:1.4.0',
    ],
    [
      'other tag',
      'library/web:1.4.0',
      undefined,
      undefined,
      'library/web',
      '1.5.0',
      'image "library/web:1.5.0" is not the tracked image library/web:1.4.0',
    ],
    [
      // v3: a tracked image's host pins the registry (v2 ignored it)
      'a tracked host pins it: another host is refused',
      'registry.example.com:5000/team/web:2',
      undefined,
      undefined,
      'team/web',
      '2',
      'registry "other-host.example.com" is not allowed: the trigger is pinned to registry.example.com:5000 (the host of its tracked image)',
    ],
    ['registry host ignored (event side)', 'team/web:2', undefined, undefined, 'team/web', '2', null],
    [
      'docker.io pins Docker Hub',
      'docker.io/library/nginx:1.2',
      undefined,
      undefined,
      'nginx',
      '1.2',
      'registry "other-host.example.com" is not allowed: the trigger is pinned to docker.io (the host of its tracked image)',
    ],
    ['library/ prefix normalized', 'nginx:1.2', undefined, undefined, 'library/nginx', '1.2', null],
    [
      'index.docker.io pins Docker Hub (one host with docker.io)',
      'index.docker.io/library/nginx:1.2',
      undefined,
      undefined,
      'library/nginx',
      '1.2',
      'registry "other-host.example.com" is not allowed: the trigger is pinned to index.docker.io (the host of its tracked image)',
    ],
    ['image without a tag: any tag', 'team/web', undefined, undefined, 'team/web', 'whatever', null],
    [
      'image without a tag: still the repository',
      'team/web',
      undefined,
      undefined,
      'team/web2',
      'x',
      'image "team/web2:x" is not the tracked image team/web',
    ],
    [
      'digest-only push vs tagged image',
      'team/web:1',
      undefined,
      undefined,
      'team/web',
      undefined,
      `image "team/web@sha256:${'a'.repeat(64)}" is not the tracked image team/web:1`,
    ],
    ['tracked image from state wins', 'team/web:1', undefined, 'team/web:2', 'team/web', '2', null],
    [
      'tracked image from state wins (old tag refused)',
      'team/web:1',
      undefined,
      'team/web:2',
      'team/web',
      '1',
      'image "team/web:1" is not the tracked image team/web:2',
    ],
    [
      'with tags: rule decides the tag',
      'library/web:1.4.0',
      { semver: '^1.0.0' },
      undefined,
      'library/web',
      '1.9.0',
      null,
    ],
    [
      'with tags: rule refuses the tag',
      'library/web:1.4.0',
      { semver: '^1.0.0' },
      undefined,
      'library/web',
      '2.0.0',
      'tag "2.0.0" does not satisfy semver ^1.0.0',
    ],
    [
      'with tags: repository must still equal',
      'library/web:1.4.0',
      { regex: '.*' },
      undefined,
      'library/api',
      '1.9.0',
      'repository "library/api" is not the tracked repository library/web',
    ],
    [
      'with tags: the host still pins',
      'docker.io/library/web:1.4.0',
      { all: true },
      undefined,
      'web',
      'dev',
      'registry "other-host.example.com" is not allowed: the trigger is pinned to docker.io (the host of its tracked image)',
    ],
    [
      'with tags: state repository wins',
      'team/web:1',
      { all: true },
      'team/web-v2:1',
      'team/web',
      '5',
      'repository "team/web" is not the tracked repository team/web-v2',
    ],
  ])('%s', (_name, image, tags, trackedImage, repoFullName, tag, reason) => {
    const match = tags === undefined ? { image } : { image, tags };
    const state = trackedImage === undefined ? undefined : { trackedImage };
    const event = imageEvent(repoFullName, tag, { registry: 'other-host.example.com' });
    expect(run(match, event, state)).toEqual(reason === null ? ok : no(reason));
  });
});

describe('registry pin (match.registry, or the tracked image host)', () => {
  const at = (registry: string | undefined, provider = 'distribution') =>
    imageEvent('library/nginx', '1.2', { registry, provider });
  it.each<[string, Record<string, unknown>, NormalizedEvent, string | null]>([
    [
      'docker.io and index.docker.io are one host',
      { image: 'docker.io/library/nginx:1.2' },
      at('index.docker.io'),
      null,
    ],
    ['registry-1.docker.io too', { image: 'index.docker.io/nginx' }, at('registry-1.docker.io'), null],
    [
      'Docker Hub implies docker.io when it names none',
      { image: 'docker.io/library/nginx:1.2' },
      at(undefined, 'dockerhub'),
      null,
    ],
    [
      'host letter case is ignored',
      { image: 'Registry.Acme.Internal:5000/library/nginx' },
      at('registry.acme.internal:5000'),
      null,
    ],
    [
      'a port is part of the host',
      { image: 'registry.acme.internal:5000/library/nginx' },
      at('registry.acme.internal'),
      'registry "registry.acme.internal" is not allowed: the trigger is pinned to registry.acme.internal:5000 (the host of its tracked image)',
    ],
    [
      'an event naming no host, from a provider that implies none, is refused under a pin',
      { image: 'registry.acme.internal:5000/library/nginx' },
      at(undefined, 'tcr'),
      'event names no registry host, and the trigger is pinned to registry.acme.internal:5000 (the host of its tracked image)',
    ],
    ['no host in the tracked image: any host', { image: 'library/nginx:1.2' }, at('evil.example.com'), null],
    ['match.registry: one host', { registry: 'ghcr.io' }, at('ghcr.io'), null],
    [
      'match.registry: another host is refused',
      { registry: 'ghcr.io' },
      at('evil.example.com'),
      'registry "evil.example.com" is not allowed: the trigger is pinned to ghcr.io (match.registry)',
    ],
    ['match.registry: a glob', { registry: ['ghcr.io', '*.azurecr.io'] }, at('team.azurecr.io'), null],
    [
      'match.registry: a glob does not cross into another domain',
      { registry: ['*.azurecr.io'] },
      at('azurecr.io.evil.example'),
      'registry "azurecr.io.evil.example" is not allowed: the trigger is pinned to *.azurecr.io (match.registry)',
    ],
    [
      'match.registry replaces the tracked image pin',
      { registry: 'mirror.acme.internal', image: 'registry.acme.internal:5000/library/nginx' },
      at('mirror.acme.internal'),
      null,
    ],
    ['match.registry docker.io takes Docker Hub webhooks', { registry: 'docker.io' }, at(undefined, 'dockerhub'), null],
  ])('%s', (_name, match, event, reason) => {
    expect(run(match, event)).toEqual(reason === null ? ok : no(reason));
  });

  it('code pushes are never pinned', () => {
    expect(run({ registry: 'ghcr.io' }, codeEvent())).toEqual(ok);
  });

  it.each([[''], ['a/b'], [[]], [Array(21).fill('ghcr.io')], ['{a,b']])('refuses match.registry %j', (registry) => {
    expect(matchSchema.safeParse({ registry }).success).toBe(false);
  });
});

describe('actions', () => {
  it.each<[string[] | undefined, NormalizedEvent['action'], string | null]>([
    // without `actions` a trigger acts on pushes only: a `match: {}` trigger never "deploys" a deleted image
    [undefined, 'push', null],
    [undefined, 'tag_push', null],
    [undefined, 'chart_push', null],
    [
      undefined,
      'delete',
      'action "delete" is acted on only by a trigger that lists it in match.actions (default: push, tag_push, chart_push)',
    ],
    [
      [],
      'delete',
      'action "delete" is acted on only by a trigger that lists it in match.actions (default: push, tag_push, chart_push)',
    ],
    [
      undefined,
      'pull',
      'action "pull" is acted on only by a trigger that lists it in match.actions (default: push, tag_push, chart_push)',
    ],
    [
      undefined,
      'chart_delete',
      'action "chart_delete" is acted on only by a trigger that lists it in match.actions (default: push, tag_push, chart_push)',
    ],
    [['delete'], 'delete', null],
    [['push', 'chart_push'], 'chart_push', null],
    [['push', 'chart_push'], 'delete', 'action "delete" is not one of push, chart_push'],
    [['pull'], 'push', 'action "push" is not one of pull'],
  ])('%j with %s', (actions, action, reason) => {
    const match = actions === undefined ? {} : { actions };
    expect(run(match, imageEvent('team/web', '1', { action }))).toEqual(reason === null ? ok : no(reason));
  });
});

describe('branches', () => {
  it.each<[string, string[], Partial<NormalizedEvent>, string | null]>([
    ['listed branch', ['main'], {}, null],
    ['other branch', ['main'], { branch: 'dev' }, 'branch "dev" does not match main'],
    ['one of several', ['main', 'release/*'], { branch: 'release/1.2' }, null],
    ['* does not cross /', ['release*'], { branch: 'release/1.2' }, 'branch "release/1.2" does not match release*'],
    ['** crosses /', ['feature/**'], { branch: 'feature/a/b' }, null],
    ['braces with spaces', ['{main, dev}'], { branch: 'dev' }, null],
    [
      'tag push has no branch',
      ['main'],
      { action: 'tag_push', branch: undefined, tag: 'v1.0.0' },
      'event has no branch (tag push "v1.0.0") to match main',
    ],
    ['empty list is any', [], { branch: 'dev' }, null],
  ])('%s', (_name, branches, over, reason) => {
    expect(run({ branches }, codeEvent(over))).toEqual(reason === null ? ok : no(reason));
  });

  it('do not apply to image events', () => {
    expect(run({ branches: ['main'] }, imageEvent('team/web', '1'))).toEqual(ok);
  });
});

describe('keyword', () => {
  it.each<[string, Partial<NormalizedEvent>, string | null]>([
    ['@deploy', {}, null],
    ['@deploy', { commit: { id: 'x', message: 'chore: no magic word' } }, 'commit message does not contain "@deploy"'],
    ['@Deploy', {}, 'commit message does not contain "@Deploy"'],
    ['@deploy', { commit: undefined }, 'event has no commit message to search for "@deploy"'],
    ['', { commit: undefined }, null],
  ])('%j', (keyword, over, reason) => {
    expect(run({ keyword }, codeEvent(over))).toEqual(reason === null ? ok : no(reason));
  });
});

describe('check order: the first failure is reported', () => {
  const match = {
    actions: ['push'],
    namespace: 'team',
    repository: 'web',
    image: 'team/web:1',
    tags: { list: ['1'] },
    keyword: '@deploy',
  };
  it.each<[string, NormalizedEvent, string]>([
    [
      'action before namespace',
      imageEvent('other/api', '2', { action: 'delete' }),
      'action "delete" is not one of push',
    ],
    ['namespace before repository', imageEvent('other/api', '2'), 'namespace "other" does not match "team"'],
    ['repository before image', imageEvent('team/api', '2'), 'repository "api" does not match "web"'],
    ['tags before keyword', imageEvent('team/web', '2'), 'tag "2" is not one of 1'],
    ['keyword last', imageEvent('team/web', '1'), 'event has no commit message to search for "@deploy"'],
  ])('%s', (_name, event, reason) => {
    expect(run(match, event)).toEqual(no(reason));
  });

  it('image before tags', () => {
    expect(run({ image: 'team/web', tags: { list: ['1'] } }, imageEvent('team/api', '2'))).toEqual(
      no('repository "team/api" is not the tracked repository team/web'),
    );
  });

  it('tags before branches', () => {
    expect(run({ tags: { list: ['v1'] }, branches: ['main'] }, codeEvent({ branch: undefined, tag: 'v2' }))).toEqual(
      no('tag "v2" is not one of v1'),
    );
  });
});

describe('matchSchema validation', () => {
  const issues = (input: unknown) => {
    const result = matchSchema.safeParse(input);
    return result.success ? [] : result.error.issues.map((i) => i.path);
  };

  it.each<[string, unknown, (string | number)[]]>([
    ['broken regex', { tags: { regex: '[' } }, ['tags', 'regex']],
    ['backreference (not RE2)', { tags: { regex: '(a)\\1' } }, ['tags', 'regex']],
    ['lookahead (not RE2)', { tags: { regex: 'a(?=b)' } }, ['tags', 'regex']],
    ['lookbehind (not RE2)', { tags: { regex: '(?<=a)b' } }, ['tags', 'regex']],
    ['regex too long', { tags: { regex: 'a'.repeat(1025) } }, ['tags', 'regex']],
    ['invalid semver range', { tags: { semver: 'latest' } }, ['tags', 'semver']],
    ['empty semver range', { tags: { semver: ' ' } }, ['tags', 'semver']],
    ['list of 11', { tags: { list: Array.from({ length: 11 }, (_, i) => `t${i}`) } }, ['tags', 'list']],
    ['empty list', { tags: { list: [] } }, ['tags', 'list']],
    ['empty tag in list', { tags: { list: ['a', ''] } }, ['tags', 'list', 1]],
    ['unclosed brace in tag glob', { tags: { glob: '{env1*, env2*' } }, ['tags', 'glob']],
    ['brace bomb in tag glob', { tags: { glob: '{a,b}'.repeat(10) } }, ['tags', 'glob']],
    ['two tag rules at once', { tags: { regex: 'x', all: true } }, ['tags']],
    ['all: false', { tags: { all: false } }, ['tags']],
    ['empty tag rule', { tags: {} }, ['tags']],
    ['unclosed brace in repository', { repository: '/{path1, path2*' }, ['repository']],
    ['stray } in namespace', { namespace: 'team}' }, ['namespace']],
    ['unclosed [ in repository', { repository: 'web[0-9' }, ['repository']],
    ['bad branch glob', { branches: ['main', '{a'] }, ['branches', 1]],
    ['unknown action', { actions: ['push', 'explode'] }, ['actions', 1]],
    ['empty image', { image: '' }, ['image']],
    ['image with spaces', { image: 'team/web app:1' }, ['image']],
    ['unknown field (typo)', { tag: { all: true } }, []],
  ])('%s', (_name, input, path) => {
    expect(issues(input)).toEqual([path]);
  });

  it.each<[string, unknown]>([
    ['empty', {}],
    [
      'full contract example',
      {
        actions: ['push'],
        namespace: 'library',
        repository: 'web-*',
        image: 'library/web:1.4.0',
        tags: { regex: 'release-v.*' },
        branches: ['main'],
        keyword: '@deploy',
      },
    ],
    ['every TCR pattern', { repository: '/{path1, path2}*/**', namespace: '**' }],
    ['list of 10', { tags: { list: Array.from({ length: 10 }, (_, i) => `t${i}`) } }],
    ['semver with v and newerOnly', { tags: { semver: '>=v1.0.0', newerOnly: true } }],
    ['RE2 syntax', { tags: { regex: '(?i)release-\\d+\\Q.x\\E' } }],
    ['glob', { tags: { glob: '1.?' } }],
  ])('accepts %s', (_name, input) => {
    expect(matchSchema.safeParse(input).success).toBe(true);
  });

  it('tagRuleSchema works on its own with relative paths', () => {
    const result = tagRuleSchema.safeParse({ regex: '(?=x)' });
    expect(result.success).toBe(false);
    if (!result.success) expect(result.error.issues.map((i) => i.path)).toEqual([['regex']]);
  });

  it('names the problem in the message', () => {
    const result = matchSchema.safeParse({ tags: { list: Array.from({ length: 11 }, (_, i) => `t${i}`) } });
    expect(result.success).toBe(false);
    if (!result.success) expect(result.error.issues[0].message).toBe('list has 11 tags; at most 10');
  });
});

describe('selectEvent', () => {
  const three = (tags: (string | undefined)[]) => tags.map((tag) => imageEvent('team/web', tag));

  it.each<[string, TriggerMatch, (string | undefined)[], string | undefined, boolean]>([
    ['semver: the highest matching', { tags: { semver: '>=1.0.0' } }, ['1.2.0', '1.10.0', '1.9.9'], '1.10.0', true],
    [
      'semver: v prefixes compared as versions',
      { tags: { semver: '*' } },
      ['v1.2.0', 'v2.0.0', '1.5.0'],
      'v2.0.0',
      true,
    ],
    [
      'semver: non-matching skipped',
      { tags: { semver: '^1.0.0' } },
      ['latest', '2.0.0', '1.1.0', '1.0.5'],
      '1.1.0',
      true,
    ],
    ['semver: tie keeps the first', { tags: { semver: '*' } }, ['v1.0.0', '1.0.0'], 'v1.0.0', true],
    ['list: the first matching', { tags: { list: ['stable', 'latest'] } }, ['dev', 'latest', 'stable'], 'latest', true],
    ['no rule: the first', {}, ['1.0.0', '9.0.0'], '1.0.0', true],
    ['none match: the first with its failure', { tags: { list: ['prod'] } }, ['dev', 'qa'], 'dev', false],
  ])('%s', (_name, match, tags, expectedTag, matched) => {
    const { event, result } = selectEvent(match, three(tags));
    expect(event.tag).toBe(expectedTag);
    expect(result.matched).toBe(matched);
  });

  it('returns the failure reason of the first event when none match', () => {
    expect(selectEvent({ tags: { list: ['prod'] } }, three(['dev', 'qa'])).result).toEqual(
      no('tag "dev" is not one of prod'),
    );
  });

  it('respects newerOnly with the tracked image', () => {
    const { event, result } = selectEvent(
      { tags: { semver: '*', newerOnly: true } },
      three(['1.1.0', '1.3.0', '1.2.0']),
      { trackedImage: 'team/web:1.2.0' },
    );
    expect(result).toEqual(ok);
    expect(event.tag).toBe('1.3.0');
  });
});
