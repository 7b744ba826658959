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
    ['a tampered body (one byte)', rothubRaw.replace('logically', 'Logically'), rothubHeaders, [ROTHUB_SECRET], false, /does not match/],
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
    const headers = { 'X-Hub-Signature-256': 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17' };
    expect(github.verify(request('Hello, World!', headers), ["It's a Secret to Everybody"], NOW).ok).toBe(true);
    expect(github.verify(request('Hello, World?', headers), ["It's a Secret to Everybody"], NOW).ok).toBe(false);
  });

  it('signs every fixture body byte for byte', () => {
    for (const [, raw] of fixtureFiles('github')) {
      expect(github.verify(request(raw, { 'X-Hub-Signature-256': sha256Signature('s3cret', raw) }), ['s3cret'], NOW).ok).toBe(true);
      expect(github.verify(request(`${raw} `, { 'X-Hub-Signature-256': sha256Signature('s3cret', raw) }), ['s3cret'], NOW).ok).toBe(false);
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
    // package / registry_package
    const pkg = body.package ?? body.registry_package;
    const meta = pkg.package_version.container_metadata;
    expect(result.kind).toBe('events');
    if (result.kind !== 'events') return;
    const [e] = result.events;
    expect(e).toMatchObject({
      provider: 'github',
      kind: 'image',
      action: 'push',
      registry: 'ghcr.io',
      repository: pkg.name.toLowerCase(),
      digest: meta.tag.digest,
      owner: body.sender.login,
    });
    expect(e.tag).toBe(meta.tag.name || undefined);
    expect(e.image).toBe(
      `ghcr.io/${e.repoFullName}${meta.tag.name ? `:${meta.tag.name}` : `@${meta.tag.digest}`}`,
    );
    expect(e.repoFullName).toBe(`${e.namespace}/${pkg.name.toLowerCase()}`);
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

  it('takes an untagged push (tag name "") as digest-only, despite package_type "npm"', () => {
    const raw = fixture('github/registry_package-published-docker-octokit.json');
    expect(github.parse(request(raw, { 'X-GitHub-Event': 'registry_package' }), {})).toMatchObject({
      kind: 'events',
      events: [
        {
          namespace: 'codertocat',
          repository: 'hello-world-npm',
          tag: undefined,
          digest: 'sha256:6c62fb45fe66bfb1ea9a66abc38f6a0cc974292b',
          image: 'ghcr.io/codertocat/hello-world-npm@sha256:6c62fb45fe66bfb1ea9a66abc38f6a0cc974292b',
          owner: 'github-actions[bot]',
          occurredAt: '2019-05-09T23:28:29.000Z',
        },
      ],
    });
  });

  it('falls back to the package_version digest when container_metadata has none', () => {
    const body = JSON.parse(fixture('github/package-published-docker-octokit.json'));
    delete body.package.package_version.container_metadata;
    const result = github.parse(request(JSON.stringify(body), { 'X-GitHub-Event': 'package' }), {});
    expect(result).toMatchObject({ kind: 'events', events: [{ digest: body.package.package_version.version }] });
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
    ['no event header', push, {}, 'missing X-GitHub-Event header'],
    ['an npm package', npm, { 'X-GitHub-Event': 'package' }, 'github package "hello-world-npm" is a npm package, not a container image'],
    ['a package action that is not a publish', '{"action":"deleted"}', { 'X-GitHub-Event': 'package' }, 'github package action "deleted" is not a publish'],
    ['a deleted branch', deletedBranch, { 'X-GitHub-Event': 'push' }, 'branch "master" was deleted'],
  ])('%s', (_name, raw, headers, reason) => {
    expect(github.parse(request(raw, headers), {})).toMatchObject({ kind: 'ignored', reason });
  });

  it('cuts a long event name in the reason', () => {
    const result = github.parse(request('{}', { 'X-GitHub-Event': 'x'.repeat(500) }), {});
    expect(result.kind === 'ignored' && result.reason.length).toBeLessThan(120);
  });
});

describe('github: malformed bodies name the field', () => {
  const withoutFullName = edited('github/push-go-scm.json', (b) => delete b.repository.full_name);
  it.each([
    ['push without repository.full_name', 'push', withoutFullName, ['repository', 'full_name']],
    ['push without ref', 'push', '{"repository":{"full_name":"a/b"}}', ['ref']],
    ['package without name', 'package', '{"action":"published","package":{}}', ['package', 'name']],
    ['registry_package without name', 'registry_package', '{"action":"published","registry_package":{}}', ['registry_package', 'name']],
  ])('%s', (_name, event, raw, path) => {
    expect(zodPath(() => github.parse(request(raw, { 'X-GitHub-Event': event }), {}))).toEqual(path);
  });
});
