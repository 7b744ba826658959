import { dockerhub } from '../../../lib/receive/providers/dockerhub';
import { fixture, fixtureFiles, request } from '../../helpers/fixtures';
import { zodPath } from '../../helpers/zod';

const SECRET = 's3cret-value';
const NOW = new Date();

describe('dockerhub: verify (?token=)', () => {
  const body = fixture('dockerhub/push-docs-example.json');
  it.each([
    ['good token', { token: SECRET }, true],
    ['wrong token', { token: 'nope' }, false],
    ['missing token', {}, false],
  ])('%s', (_name, query, ok) => {
    const result = dockerhub.verify(request(body, {}, query as Record<string, string>), [SECRET], NOW);
    expect(result.ok).toBe(ok);
    if (!result.ok) expect(result.reason).not.toContain(SECRET);
  });
  it('accepts the previous secret during rotation', () => {
    expect(dockerhub.verify(request(body, {}, { token: 'old' }), [SECRET, 'old'], NOW).ok).toBe(true);
  });
});

describe('dockerhub: every fixture parses and normalizes', () => {
  it.each(fixtureFiles('dockerhub'))('%s', (_name, raw) => {
    const result = dockerhub.parse(request(raw), {});
    expect(result.kind).toBe('events');
    if (result.kind !== 'events') return;
    const [e] = result.events;
    const body = JSON.parse(raw);
    expect(e.action).toBe('push');
    expect(e.repoFullName).toBe(body.repository.repo_name);
    expect(e.tag).toBe(body.push_data.tag);
    expect(e.image).toBe(`${body.repository.repo_name}:${body.push_data.tag}`);
    expect(e.owner).toBe(body.push_data.pusher);
  });

  it('normalizes the docs example exactly', () => {
    const result = dockerhub.parse(request(fixture('dockerhub/push-docs-example.json')), {});
    expect(result).toMatchObject({
      kind: 'events',
      events: [
        {
          provider: 'dockerhub',
          namespace: 'svendowideit',
          repository: 'testhook',
          tag: 'latest',
          occurredAt: '2014-12-03T00:22:41.000Z',
        },
      ],
    });
  });

  it.each([
    ['namespace and name', { namespace: 'svendowideit', name: 'testhook' }, 'svendowideit/testhook'],
    ['an official image: name only', { name: 'ubuntu' }, 'ubuntu'],
  ])('takes the repository from %s when repo_name is absent', (_name, repository, repoFullName) => {
    const raw = JSON.stringify({ push_data: { tag: '1.0' }, repository });
    expect(dockerhub.parse(request(raw), {})).toMatchObject({
      kind: 'events',
      events: [{ repoFullName, image: `${repoFullName}:1.0` }],
    });
  });

  it('rejects a repository without repo_name or name, naming the field', () => {
    expect(
      zodPath(() => dockerhub.parse(request('{"push_data":{"tag":"1"},"repository":{"namespace":"a"}}'), {})),
    ).toEqual(['repository', 'repo_name']);
  });

  it('never defaults a tag: a push without push_data.tag is refused, naming the field', () => {
    expect(zodPath(() => dockerhub.parse(request('{"push_data":{},"repository":{"repo_name":"a/b"}}'), {}))).toEqual([
      'push_data',
      'tag',
    ]);
  });
});
