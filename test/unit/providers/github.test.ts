import { github } from '../../../lib/receive/providers/github';
import type { WebhookRequest } from '../../../lib/receive/providers/types';
import { bytesRequest, edited, eventOf, fixture, fixtureFiles, request } from '../../helpers/fixtures';
import { createHmac } from 'node:crypto';
import { sha256Signature } from '../../helpers/hmac';
import { zodPath } from '../../helpers/zod';

const NOW = new Date();
// the real delivery and its secret (SOURCES.md §1, vector 2)
const ROTHUB_SECRET = '437EBE55A75911E8';
const rothubRaw = fixture('github/ping-signed-rothub.raw.json');
const rothubHeaders: Record<string, string> = JSON.parse(fixture('github/ping-signed-rothub.headers.json'));
const { 'X-Hub-Signature-256': rothubSig256, ...rothubWithout256 } = rothubHeaders;

function expectVerify(req: WebhookRequest, secrets: string[], ok: boolean, reason?: RegExp) {
  const result = github.verify(req, secrets, NOW);
  expect(result.ok).toBe(ok);
  if (!result.ok) {
    for (const s of secrets) expect(result.reason).not.toContain(s);
    expect(result.reason).not.toContain(rothubSig256.slice('sha256='.length));
    if (reason) expect(result.reason).toMatch(reason);
  }
}

describe('github: verify (X-Hub-Signature-256)', () => {
  it.each([
    ['the real delivery with its headers', rothubRaw, rothubHeaders, [ROTHUB_SECRET], true, undefined],
    ['the previous secret during rotation', rothubRaw, rothubHeaders, ['new-secret', ROTHUB_SECRET], true, undefined],
    ['a wrong secret', rothubRaw, rothubHeaders, ['437EBE55A75911E9'], false, /does not match/],
    [
      'a tampered body (one byte)',
      rothubRaw.replace('logically', 'Logically'),
      rothubHeaders,
      [ROTHUB_SECRET],
      false,
      /does not match/,
    ],
    ['only the legacy sha1 header', rothubRaw, rothubWithout256, [ROTHUB_SECRET], false, /missing X-Hub-Signature-256/],
    ['no headers at all', rothubRaw, {}, [ROTHUB_SECRET], false, /missing X-Hub-Signature-256/],
    [
      'the hex without the sha256= prefix',
      rothubRaw,
      { 'X-Hub-Signature-256': rothubSig256.slice('sha256='.length) },
      [ROTHUB_SECRET],
      false,
      /must start with "sha256="/,
    ],
  ])('%s', (_name, raw, headers, secrets, ok, reason) => {
    expectVerify(request(raw, headers), secrets, ok, reason);
  });

  it('matches the GitHub docs vector', () => {
    const headers = {
      'X-Hub-Signature-256': 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17',
    };
    expect(github.verify(request('Hello, World!', headers), ["It's a Secret to Everybody"], NOW).ok).toBe(true);
    expect(github.verify(request('Hello, World?', headers), ["It's a Secret to Everybody"], NOW).ok).toBe(false);
  });

  it('signs every fixture body byte for byte', () => {
    for (const [, raw] of fixtureFiles('github')) {
      expect(
        github.verify(request(raw, { 'X-Hub-Signature-256': sha256Signature('s3cret', raw) }), ['s3cret'], NOW).ok,
      ).toBe(true);
      expect(
        github.verify(request(`${raw} `, { 'X-Hub-Signature-256': sha256Signature('s3cret', raw) }), ['s3cret'], NOW)
          .ok,
      ).toBe(false);
    }
  });

  it('signs the exact received bytes, also when they are not UTF-8 (a form body, a Latin-1 body)', () => {
    const latin1 = Buffer.from([...Buffer.from('{"m":"caf'), 0xe9, ...Buffer.from('"}')]);
    const formBytes = Buffer.from(`payload=${encodeURIComponent(fixture('github/push-go-scm.json'))}`);
    for (const bytes of [latin1, formBytes]) {
      const sig = `sha256=${createHmac('sha256', 's3cret').update(bytes).digest('hex')}`;
      expect(github.verify(bytesRequest(bytes, { 'X-Hub-Signature-256': sig }), ['s3cret'], NOW).ok).toBe(true);
      // the same signature over the decoded (lossy) text does not match: only the bytes count
      const tampered = Buffer.concat([bytes, Buffer.from(' ')]);
      expect(github.verify(bytesRequest(tampered, { 'X-Hub-Signature-256': sig }), ['s3cret'], NOW).ok).toBe(false);
    }
    const sigOfText = `sha256=${createHmac('sha256', 's3cret').update(latin1.toString('utf8')).digest('hex')}`;
    expect(github.verify(bytesRequest(latin1, { 'X-Hub-Signature-256': sigOfText }), ['s3cret'], NOW).ok).toBe(false);
  });

  it('takes form bodies (formPayload)', () => {
    expect(github.formPayload).toBe(true);
  });

  it('redacts both signature headers', () => {
    expect(github.credentialHeaders).toEqual(expect.arrayContaining(['x-hub-signature-256', 'x-hub-signature']));
    expect(github.credential.headers).toBeUndefined();
  });
});

/** Every real package / registry_package sample (SOURCES.md) and exactly what it deploys, or why not. */
const PACKAGE_FIXTURES: Array<[string, object]> = [
  // GHCR today: package_type, ecosystem and registry.type all CONTAINER, tag in container_metadata and package_url
  [
    'package-published-ghcr-theryangeary-2025.json',
    {
      kind: 'events',
      events: [
        {
          registry: 'ghcr.io',
          namespace: 'theryangeary',
          repository: 'www',
          repoFullName: 'theryangeary/www',
          tag: '0e2a89b',
          digest: 'sha256:89160c587d0c36bf54090497a465445c14980ba48efbcf3b0d03c49b76f3feb8',
          image: 'ghcr.io/theryangeary/www:0e2a89b',
          owner: 'theryangeary',
          occurredAt: '2025-11-03T13:50:26.000Z',
        },
      ],
    },
  ],
  // early GHCR (2021): only ecosystem CONTAINER, action "create", no package_url, Go zero dates
  [
    'package-create-container-keel-dingggu.json',
    {
      kind: 'events',
      events: [
        {
          registry: 'ghcr.io',
          namespace: 'utaitebox',
          repository: 'utaitebox-server',
          repoFullName: 'utaitebox/utaitebox-server',
          tag: '3.2.1',
          digest: 'sha256:7d3848ba2f2e7f69bebb4b576e5fad0379b64a0b1512aee6ad0ec9e7c6319fed',
          image: 'ghcr.io/utaitebox/utaitebox-server:3.2.1',
          owner: 'DingGGu',
          occurredAt: undefined,
        },
      ],
    },
  ],
  // the 2019 Docker registry: package_type/registry.type "docker", the tag only in package_version.version,
  // the host and owner/repo in registry.url, no digest anywhere (package_files are layer blobs)
  [
    'registry_package-published-docker-pkg-keel-dingggu-2019.json',
    {
      kind: 'events',
      events: [
        {
          registry: 'docker.pkg.github.com',
          namespace: 'dingggu',
          repository: 'utaitebox/server',
          repoFullName: 'dingggu/utaitebox/server',
          tag: '1.2.3',
          digest: undefined,
          image: 'docker.pkg.github.com/dingggu/utaitebox/server:1.2.3',
          owner: 'DingGGu',
        },
      ],
    },
  ],
  // GitHub's own examples: registry.type CONTAINER despite package_type "npm"; untagged (tag name ""),
  // package_url "ghcr.io/Codertocat/hello-world:" names the image (the package name says hello-world-npm)
  ...(['package-published-docker-octokit.json', 'registry_package-published-docker-octokit.json'] as const).map(
    (f): [string, object] => [
      f,
      {
        kind: 'events',
        events: [
          {
            registry: 'ghcr.io',
            namespace: 'codertocat',
            repository: 'hello-world',
            repoFullName: 'codertocat/hello-world',
            tag: undefined,
            digest: 'sha256:6c62fb45fe66bfb1ea9a66abc38f6a0cc974292b',
            image: 'ghcr.io/codertocat/hello-world@sha256:6c62fb45fe66bfb1ea9a66abc38f6a0cc974292b',
            occurredAt: '2019-05-09T23:28:29.000Z',
          },
        ],
      },
    ],
  ),
  // an npm package although ecosystem says "docker", version.name is a sha256 and source_url is on ghcr.io
  [
    'package-published-npm-octokit.json',
    {
      kind: 'ignored',
      reason: 'github package "hello-world-npm" is a npm package (registry.type), not a container image',
    },
  ],
];

describe('github: every package shape GitHub has sent', () => {
  it.each(PACKAGE_FIXTURES)('%s', (name, expected) => {
    const result = github.parse(
      request(fixture(`github/${name}`), { 'X-GitHub-Event': eventOf(name), 'X-GitHub-Delivery': 'd-9' }),
      {},
    );
    expect(result).toMatchObject(expected);
    if (result.kind === 'events') {
      for (const e of result.events)
        expect(e).toMatchObject({ provider: 'github', kind: 'image', action: 'push', deliveryId: 'd-9' });
    }
  });

  const ghcr = 'github/package-published-ghcr-theryangeary-2025.json';
  const docker2019 = 'github/registry_package-published-docker-pkg-keel-dingggu-2019.json';
  const parse = (raw: string, event = 'package') => github.parse(request(raw, { 'X-GitHub-Event': event }), {});
  const untagged = (b: any) => {
    delete b.package.package_version.container_metadata;
    b.package.package_version.package_url = 'ghcr.io/theryangeary/www';
    b.package.package_version.installation_command = 'docker pull ghcr.io/theryangeary/www';
  };
  it.each([
    [
      'the tag from package_url when container_metadata has none',
      ghcr,
      'package',
      (b: any) => {
        delete b.package.package_version.container_metadata;
      },
      {
        tag: '0e2a89b',
        digest: 'sha256:89160c587d0c36bf54090497a465445c14980ba48efbcf3b0d03c49b76f3feb8',
        image: 'ghcr.io/theryangeary/www:0e2a89b',
      },
    ],
    [
      'the tag from installation_command when nothing else has one',
      ghcr,
      'package',
      (b: any) => {
        untagged(b);
        b.package.package_version.installation_command = 'docker pull ghcr.io/theryangeary/www:v2';
      },
      { tag: 'v2', image: 'ghcr.io/theryangeary/www:v2' },
    ],
    [
      'the digest from package_version.version (GHCR puts it there)',
      ghcr,
      'package',
      (b: any) => {
        untagged(b);
        b.package.package_version.name = 'www';
      },
      {
        tag: undefined,
        digest: 'sha256:89160c587d0c36bf54090497a465445c14980ba48efbcf3b0d03c49b76f3feb8',
        image: 'ghcr.io/theryangeary/www@sha256:89160c587d0c36bf54090497a465445c14980ba48efbcf3b0d03c49b76f3feb8',
      },
    ],
    [
      'the registry host of a GitHub Enterprise Server package_url',
      ghcr,
      'package',
      (b: any) => {
        b.package.package_version.package_url = 'containers.ghe.example.com/theryangeary/www:0e2a89b';
        b.package.html_url = 'https://ghe.example.com/theryangeary/packages/9056324';
      },
      { registry: 'containers.ghe.example.com', image: 'containers.ghe.example.com/theryangeary/www:0e2a89b' },
    ],
    [
      'no host for a GitHub Enterprise Server package without a pull reference',
      ghcr,
      'package',
      (b: any) => {
        delete b.package.package_version.package_url;
        delete b.package.package_version.installation_command;
        b.package.html_url = 'https://ghe.example.com/theryangeary/packages/9056324';
      },
      { registry: undefined, image: 'theryangeary/www:0e2a89b', repoFullName: 'theryangeary/www' },
    ],
    [
      'the path from the manifest uri when there is no pull reference (a nested name)',
      ghcr,
      'package',
      (b: any) => {
        delete b.package.package_version.package_url;
        delete b.package.package_version.installation_command;
        b.package.name = 'www/api';
        b.package.package_version.container_metadata.manifest.uri =
          'repositories/theryangeary/www/api/manifests/sha256:89160c';
      },
      { namespace: 'theryangeary', repository: 'www/api', image: 'ghcr.io/theryangeary/www/api:0e2a89b' },
    ],
    [
      'the package named only by package_url (no name)',
      ghcr,
      'package',
      (b: any) => {
        delete b.package.name;
      },
      { repoFullName: 'theryangeary/www', image: 'ghcr.io/theryangeary/www:0e2a89b' },
    ],
    [
      'one event per tag listed in docker_metadata',
      ghcr,
      'package',
      (b: any) => {
        untagged(b);
        b.package.package_version.docker_metadata = [{ tags: ['1.4.0', 'latest'] }];
      },
      undefined,
    ],
    [
      'the 2019 docker registry without registry.url: repository.full_name + name',
      docker2019,
      'registry_package',
      (b: any) => {
        delete b.registry_package.registry.url;
      },
      { registry: 'docker.pkg.github.com', repoFullName: 'dingggu/utaitebox/server', tag: '1.2.3' },
    ],
  ])('reads %s', (_name, path, event, edit, expected) => {
    const result = parse(edited(path, edit), event);
    expect(result.kind).toBe('events');
    if (result.kind !== 'events') return;
    if (expected) {
      expect(result.events).toHaveLength(1);
      expect(result.events[0]).toMatchObject(expected);
    } else {
      expect(result.events.map((e) => [e.tag, e.image])).toEqual([
        ['1.4.0', 'ghcr.io/theryangeary/www:1.4.0'],
        ['latest', 'ghcr.io/theryangeary/www:latest'],
      ]);
    }
  });

  it('invents no tag or digest: a package naming neither is one event with neither (dispatch answers it untriggered)', () => {
    const result = parse(
      edited(ghcr, (b) => {
        untagged(b);
        b.package.package_version.version = 'www';
        b.package.package_version.name = 'www';
      }),
    );
    expect(result).toMatchObject({
      kind: 'events',
      events: [{ tag: undefined, digest: undefined, image: 'ghcr.io/theryangeary/www' }],
    });
    if (result.kind === 'events') expect(result.events).toHaveLength(1);
  });

  it.each([
    [
      'package_type npm, even with ecosystem docker and no registry',
      (b: any) => {
        delete b.package.registry;
        b.package.package_type = 'npm';
        b.package.ecosystem = 'docker';
      },
      'github package "www" is a npm package (package_type), not a container image',
    ],
    [
      'maven by registry.type',
      (b: any) => {
        b.package.registry.type = 'maven';
      },
      'github package "www" is a maven package (registry.type), not a container image',
    ],
    [
      'rubygems by package_type',
      (b: any) => {
        delete b.package.registry;
        b.package.package_type = 'rubygems';
      },
      'github package "www" is a rubygems package (package_type), not a container image',
    ],
    [
      'nuget by ecosystem alone',
      (b: any) => {
        delete b.package.registry;
        delete b.package.package_type;
        b.package.ecosystem = 'NUGET';
      },
      'github package "www" is a NUGET package (ecosystem), not a container image',
    ],
    [
      'registry.type CONTAINER but package_type npm and no container metadata',
      (b: any) => {
        b.package.package_type = 'npm';
        delete b.package.package_version.container_metadata;
      },
      'github package "www" is a npm package (package_type) without container metadata, not a container image',
    ],
    [
      'no type at all',
      (b: any) => {
        delete b.package.registry;
        delete b.package.package_type;
        delete b.package.ecosystem;
      },
      'github package "www" does not say its type (registry.type, package_type, ecosystem)',
    ],
  ])('ignores %s', (_name, edit, reason) => {
    expect(parse(edited(ghcr, edit))).toEqual({ kind: 'ignored', reason });
  });

  it('ignores a 2019 Docker registry package that names neither registry.url nor its repository', () => {
    const raw = edited(docker2019, (b) => {
      delete b.registry_package.registry.url;
      delete b.repository;
    });
    expect(parse(raw, 'registry_package')).toEqual({
      kind: 'ignored',
      reason: 'github package "server" does not say where its image is (no owner or pull reference)',
    });
  });
});

describe('github: every fixture parses and normalizes', () => {
  it.each(fixtureFiles('github'))('%s', (name, raw) => {
    const event = eventOf(name);
    const body = JSON.parse(raw);
    const result = github.parse(request(raw, { 'X-GitHub-Event': event, 'X-GitHub-Delivery': `id-${name}` }), {});

    if (event === 'ping') {
      expect(result).toEqual({ kind: 'ignored', reason: 'github event "ping" is not a push' });
      return;
    }
    if (event === 'push') {
      const ref: string = body.ref;
      const name_ = ref.replace(/^refs\/(heads|tags)\//, '');
      const isTag = ref.startsWith('refs/tags/');
      if (body.deleted) {
        expect(result.kind).toBe('ignored');
        if (result.kind === 'ignored') expect(result.reason).toBe(`${isTag ? 'tag' : 'branch'} "${name_}" was deleted`);
        return;
      }
      expect(result.kind).toBe('events');
      if (result.kind !== 'events') return;
      const [e] = result.events;
      expect(e).toMatchObject({
        provider: 'github',
        kind: 'code',
        action: isTag ? 'tag_push' : 'push',
        deliveryId: `id-${name}`,
        repoFullName: body.repository.full_name,
        namespace: body.repository.owner.login,
        repository: body.repository.name,
        owner: body.pusher.name,
        commit: { id: body.head_commit.id, message: body.head_commit.message, url: body.head_commit.url },
        occurredAt: new Date(body.repository.pushed_at * 1000).toISOString(),
      });
      expect(isTag ? e.tag : e.branch).toBe(name_);
      return;
    }
    // package / registry_package: every real shape, exactly (below)
    expect(PACKAGE_FIXTURES.map(([f]) => f)).toContain(name);
  });

  it('normalizes a branch push exactly', () => {
    const raw = fixture('github/push-octokit-with-new-branch.json');
    const result = github.parse(request(raw, { 'X-GitHub-Event': 'push', 'X-GitHub-Delivery': 'd-1' }), {});
    expect(result).toEqual({
      kind: 'events',
      events: [
        {
          provider: 'github',
          kind: 'code',
          action: 'push',
          deliveryId: 'd-1',
          namespace: 'Codertocat',
          repository: 'Hello-World',
          repoFullName: 'Codertocat/Hello-World',
          branch: 'master',
          tag: undefined,
          owner: 'Codertocat',
          commit: {
            id: '6113728f27ae82c7b1a177c8d03f9e96e0adf246',
            message: 'Initial commit',
            author: 'Codertocat',
            url: 'https://github.com/Codertocat/Hello-World/commit/6113728f27ae82c7b1a177c8d03f9e96e0adf246',
          },
          occurredAt: '2019-05-15T15:20:57.000Z',
        },
      ],
    });
  });

  it('normalizes a tagged GHCR package exactly (lowercased for docker)', () => {
    const raw = fixture('github/package-create-container-keel-dingggu.json');
    expect(github.parse(request(raw, { 'X-GitHub-Event': 'package' }), {})).toMatchObject({
      kind: 'events',
      events: [
        {
          provider: 'github',
          kind: 'image',
          action: 'push',
          registry: 'ghcr.io',
          namespace: 'utaitebox',
          repository: 'utaitebox-server',
          repoFullName: 'utaitebox/utaitebox-server',
          tag: '3.2.1',
          digest: 'sha256:7d3848ba2f2e7f69bebb4b576e5fad0379b64a0b1512aee6ad0ec9e7c6319fed',
          image: 'ghcr.io/utaitebox/utaitebox-server:3.2.1',
          owner: 'DingGGu',
          // the delivery's dates are Go zero values: no time is better than year 1
          occurredAt: undefined,
        },
      ],
    });
  });

  it('takes the registry host from package_url (GitHub Enterprise)', () => {
    const raw = edited('github/package-published-docker-octokit.json', (b) => {
      b.package.package_version.package_url = 'containers.ghe.example.com/codertocat/hello-world:1.0';
    });
    const result = github.parse(request(raw, { 'X-GitHub-Event': 'package' }), {});
    expect(result).toMatchObject({ kind: 'events', events: [{ registry: 'containers.ghe.example.com' }] });
  });
});

describe('github: ignored deliveries', () => {
  const push = fixture('github/push-go-scm.json');
  const npm = edited('github/package-published-docker-octokit.json', (b) => {
    b.package.package_type = 'npm';
    b.package.ecosystem = 'npm';
    b.package.registry.type = 'npm';
  });
  const deletedBranch = edited('github/push-go-scm.json', (b) =>
    Object.assign(b, { deleted: true, after: '0'.repeat(40), head_commit: null, commits: [] }),
  );
  it.each([
    ['ping', fixture('github/ping-octokit.json'), { 'X-GitHub-Event': 'ping' }, 'github event "ping" is not a push'],
    ['issues', '{"action":"opened"}', { 'X-GitHub-Event': 'issues' }, 'github event "issues" is not a push'],
    [
      'an npm package',
      npm,
      { 'X-GitHub-Event': 'package' },
      'github package "hello-world-npm" is a npm package (registry.type), not a container image',
    ],
    [
      'a package action that is not a publish',
      '{"action":"deleted"}',
      { 'X-GitHub-Event': 'package' },
      'github package action "deleted" is not a publish',
    ],
    ['a deleted branch', deletedBranch, { 'X-GitHub-Event': 'push' }, 'branch "master" was deleted'],
  ])('%s', (_name, raw, headers, reason) => {
    expect(github.parse(request(raw, headers), {})).toMatchObject({ kind: 'ignored', reason });
  });

  it('a request without X-GitHub-Event is refused naming the header (GitHub always sends it)', () => {
    expect(() => github.parse(request(push, {}), {})).toThrow(
      expect.objectContaining({ field: 'headers.X-GitHub-Event' }),
    );
  });

  it('cuts a long event name in the reason', () => {
    const result = github.parse(request('{}', { 'X-GitHub-Event': 'x'.repeat(500) }), {});
    expect(result.kind === 'ignored' && result.reason.length).toBeLessThan(120);
  });
});

describe('code pushes: the repository path from another field when full_name is missing', () => {
  it('github/gogs/gitea: owner.login + name', () => {
    const raw = edited('github/push-go-scm.json', (b) => delete b.repository.full_name);
    expect(github.parse(request(raw, { 'X-GitHub-Event': 'push' }), {})).toMatchObject({
      kind: 'events',
      events: [{ namespace: 'Codertocat', repository: 'Hello-World', repoFullName: 'Codertocat/Hello-World' }],
    });
  });

  it('not from a name that is a display name (Gitee)', () => {
    const raw = edited('github/push-go-scm.json', (b) => {
      delete b.repository.full_name;
      b.repository.name = 'Hello World';
    });
    expect(zodPath(() => github.parse(request(raw, { 'X-GitHub-Event': 'push' }), {}))).toEqual([
      'repository',
      'full_name',
    ]);
  });
});

describe('github: malformed bodies name the field', () => {
  const withoutFullName = edited('github/push-go-scm.json', (b) => {
    delete b.repository.full_name;
    delete b.repository.owner;
  });
  it.each([
    ['push without repository.full_name nor owner', 'push', withoutFullName, ['repository', 'full_name']],
    ['push without ref', 'push', '{"repository":{"full_name":"a/b"}}', ['ref']],
    ['package without name', 'package', '{"action":"published","package":{}}', ['package', 'name']],
    [
      'registry_package without name',
      'registry_package',
      '{"action":"published","registry_package":{}}',
      ['registry_package', 'name'],
    ],
  ])('%s', (_name, event, raw, path) => {
    expect(zodPath(() => github.parse(request(raw, { 'X-GitHub-Event': event }), {}))).toEqual(path);
  });
});
