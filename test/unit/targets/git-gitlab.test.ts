import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { NormalizedEvent } from '../../../lib/core/event';
import { clearSecretCache } from '../../../lib/deploy/secrets';
import { gitTarget, gitTargetSchema, GIT_PUSH_TRIES, type GitTargetConfig } from '../../../lib/deploy/targets/git';
import type { DeployContext } from '../../../lib/deploy/targets/types';
import { startGitLabServer, type GitLabServer } from '../../helpers/gitlab-server';

process.env.ALLOW_PRIVATE_TARGETS = 'true';
const ssm = mockClient(SSMClient);
const TOKEN = 'glpat-s3cr3tT0kenValue1234567';
const fx = (n: string) => readFileSync(path.join(__dirname, '../../fixtures/gitops', n), 'utf8');
const kustomization = fx('kustomization.yaml');
const deployment = fx('deployment.yaml');

const event = (tag: string): NormalizedEvent => ({
  provider: 'gitlab',
  kind: 'image',
  action: 'push',
  registry: 'ghcr.io',
  namespace: 'acme',
  repository: 'web',
  repoFullName: 'acme/web',
  tag,
  image: `ghcr.io/acme/web:${tag}`,
});
const ctx = (ev: NormalizedEvent, logId = 'log-1'): DeployContext => ({
  triggerId: 'trg-1',
  triggerName: 'web-prod',
  logId,
  event: ev,
  allowPrivateTargets: true,
});

let gl: GitLabServer;
beforeEach(async () => {
  clearSecretCache();
  ssm.reset();
  ssm
    .on(GetParameterCommand, { Name: '/triggerfish/gitlab', WithDecryption: true })
    .resolves({ Parameter: { Value: TOKEN } });
  gl = await startGitLabServer({ project: 'acme/platform/deploy', branch: 'main', token: TOKEN });
  gl.setFile('apps/web.yaml', deployment, 'initial');
  gl.setFile(
    'overlays/prod/kustomization.yaml',
    kustomization.replace('name: demo/hello', 'name: ghcr.io/acme/web'),
    'initial',
  );
});
afterEach(() => gl.close());

const target = (over: Partial<GitTargetConfig> = {}) =>
  gitTargetSchema.parse({
    type: 'git',
    url: `${gl.url}/acme/platform/deploy.git`,
    via: 'gitlab',
    branch: 'main',
    auth: { token: { ssmParameter: '/triggerfish/gitlab' } },
    files: [
      { path: 'apps/web.yaml', yamlPath: 'spec.template.spec.containers[name=web].image' },
      { path: 'overlays/prod/kustomization.yaml', kustomize: { image: 'ghcr.io/acme/web' } },
    ],
    ...over,
  });

describe('git target via gitlab (commits API)', () => {
  it('one commit with every changed file and last_commit_id; only the image lines change', async () => {
    const r = await gitTarget.deploy(target(), ctx(event('1.5.0')));
    expect(r.error).toBeUndefined();
    expect(r.ok).toBe(true);
    expect(gl.commits[0]).toMatchObject({
      paths: ['apps/web.yaml', 'overlays/prod/kustomization.yaml'],
      author_name: 'Triggerfish',
    });
    expect(r.details).toMatchObject({
      via: 'gitlab',
      commit: gl.commits[0].id,
      commitUrl: expect.stringContaining('/-/commit/'),
      changedPaths: ['apps/web.yaml', 'overlays/prod/kustomization.yaml'],
    });
    const after = gl.files.get('apps/web.yaml')!.text;
    expect(after.split('\n').filter((l, i) => l !== deployment.split('\n')[i])).toEqual([
      '          image: ghcr.io/acme/web:1.5.0 # {"$imagepolicy": "flux-system:web"}',
    ]);
    const post = gl.requests.find((q) => q.method === 'POST')!;
    expect(post.url).toBe('/api/v4/projects/acme%2Fplatform%2Fdeploy/repository/commits');
    expect(post.body.actions[0]).toMatchObject({
      action: 'update',
      file_path: 'apps/web.yaml',
      last_commit_id: expect.stringMatching(/^[0-9a-f]{40}$/),
    });
    expect(JSON.stringify(r)).not.toContain(TOKEN);
  });

  it('a stale last_commit_id is read again and re-applied, bounded', async () => {
    gl.beforeCommit = (n) => {
      if (n === 1) gl.setFile('apps/web.yaml', deployment.replace('replicas: 3', 'replicas: 4'));
    };
    const r = await gitTarget.deploy(target(), ctx(event('1.6.0')));
    expect(r.ok).toBe(true);
    expect(r.details?.tries).toBe(2);
    expect(gl.files.get('apps/web.yaml')!.text).toContain('replicas: 4');
    expect(gl.files.get('apps/web.yaml')!.text).toContain('image: ghcr.io/acme/web:1.6.0 #');

    gl.beforeCommit = (n) => gl.setFile('apps/web.yaml', deployment.replace('replicas: 3', `replicas: ${n + 10}`));
    const busy = await gitTarget.deploy(target(), ctx(event('1.7.0')));
    expect(busy).toMatchObject({ ok: false, retryable: true, statusCode: 400 });
    expect(busy.error).toBe(`commit to main conflicted ${GIT_PUSH_TRIES} times (the files keep changing)`);
  });

  it('nothing to change: no commit; a crash-retry names its earlier commit', async () => {
    const first = await gitTarget.deploy(target(), ctx(event('2.0.0'), 'log-crash'));
    expect(first.ok).toBe(true);
    const count = gl.commits.length;
    const again = await gitTarget.deploy(target(), ctx(event('2.0.0'), 'log-crash'));
    expect(again).toMatchObject({
      ok: true,
      response: `already in Git (commit ${first.details?.commit})`,
      details: { changedPaths: [] },
    });
    expect(gl.commits.length).toBe(count);
  });

  it('a bad token and a missing file fail without retry', async () => {
    ssm
      .on(GetParameterCommand, { Name: '/triggerfish/bad', WithDecryption: true })
      .resolves({ Parameter: { Value: 'bad-token-value-xyz' } });
    const bad = await gitTarget.deploy(
      target({ auth: { token: { ssmParameter: '/triggerfish/bad' } } }),
      ctx(event('3.0.0')),
    );
    expect(bad).toMatchObject({ ok: false, retryable: false, statusCode: 401 });
    const missing = await gitTarget.deploy(
      target({ files: [{ path: 'nope.yaml', yamlPath: 'a.b' }] }),
      ctx(event('3.0.0')),
    );
    expect(missing).toMatchObject({ ok: false, retryable: false, statusCode: 404 });
    expect(gl.commits).toHaveLength(2);
  });
});

describe('git target via gitlab, merge-request mode', () => {
  const mr = (over: Partial<GitTargetConfig> = {}) => target({ mode: 'pull-request', ...over });
  const imageOn = (branch: string) =>
    /image: (ghcr\.io\/acme\/web:[^ ]+) # \{"\$imagepolicy": "flux-system:web"\}/.exec(
      gl.branches.get(branch)!.get('apps/web.yaml')!.text,
    )![1];

  it('opens one MR from the trigger branch (start_branch), updates it in place, base untouched; merged → a new one', async () => {
    const first = await gitTarget.deploy(mr(), ctx(event('1.5.0'), 'log-a'));
    expect(first.error).toBeUndefined();
    expect(first.details).toMatchObject({
      mode: 'pull-request',
      base: 'main',
      branch: 'triggerfish/web-prod',
      pullRequestAction: 'opened',
      pullRequestNumber: 1,
      pullRequest: gl.mrs[0].web_url,
    });
    expect(imageOn('main')).toBe('ghcr.io/acme/web:1.4.0');
    expect(imageOn('triggerfish/web-prod')).toBe('ghcr.io/acme/web:1.5.0');
    expect(gl.mrs[0]).toMatchObject({
      source_branch: 'triggerfish/web-prod',
      target_branch: 'main',
      title: 'Deploy ghcr.io/acme/web:1.5.0',
      state: 'opened',
    });
    expect(gl.mrs[0].description).toContain('log entry: `log-a`');
    expect(gl.requests.find((q) => q.method === 'POST' && q.url.endsWith('/repository/commits'))!.body).toMatchObject({
      branch: 'triggerfish/web-prod',
      start_branch: 'main',
      force: true,
    });

    const second = await gitTarget.deploy(mr(), ctx(event('1.6.0'), 'log-b'));
    expect(second.details).toMatchObject({ pullRequestAction: 'updated', pullRequestNumber: 1 });
    expect(gl.mrs).toHaveLength(1);
    expect(gl.mrs[0].title).toBe('Deploy ghcr.io/acme/web:1.6.0');
    expect(imageOn('triggerfish/web-prod')).toBe('ghcr.io/acme/web:1.6.0');
    expect(imageOn('main')).toBe('ghcr.io/acme/web:1.4.0');

    // merged
    gl.setFile(
      'apps/web.yaml',
      gl.branches.get('triggerfish/web-prod')!.get('apps/web.yaml')!.text,
      'Merge branch triggerfish/web-prod',
    );
    gl.setFile(
      'overlays/prod/kustomization.yaml',
      gl.branches.get('triggerfish/web-prod')!.get('overlays/prod/kustomization.yaml')!.text,
      'Merge',
    );
    gl.mrs[0].state = 'merged';
    const same = await gitTarget.deploy(mr(), ctx(event('1.6.0'), 'log-c'));
    expect(same).toMatchObject({ ok: true, response: 'already in Git (main)' });
    const next = await gitTarget.deploy(mr(), ctx(event('1.7.0'), 'log-d'));
    expect(next.details).toMatchObject({ pullRequestAction: 'opened', pullRequestNumber: 2 });
    expect(imageOn('triggerfish/web-prod')).toBe('ghcr.io/acme/web:1.7.0');
  });
});

describe('git target via gitlab: limits', () => {
  it('a file over the per-file limit is refused naming it, nothing committed', async () => {
    gl.setFile('apps/web.yaml', `${deployment}#${'x'.repeat(1024 * 1024)}\n`);
    const before = gl.commits.length;
    const r = await gitTarget.deploy(target(), ctx(event('9.9.9')));
    expect(r).toMatchObject({ ok: false, retryable: false });
    expect(r.error).toMatch(/^apps\/web\.yaml is \d+ bytes, over the per-file limit of 1 MiB$/);
    expect(gl.commits.length).toBe(before);
  });
});
