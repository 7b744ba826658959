import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { NormalizedEvent } from '../../../lib/core/event';
import { clearSecretCache } from '../../../lib/deploy/secrets';
import { gitTarget, gitTargetSchema, GIT_PUSH_TRIES, type GitTargetConfig } from '../../../lib/deploy/targets/git';
import type { DeployContext } from '../../../lib/deploy/targets/types';
import { startGitHubServer, type GitHubServer } from '../../helpers/github-server';

process.env.ALLOW_PRIVATE_TARGETS = 'true';
const sm = mockClient(SecretsManagerClient);
const TOKEN = 'ghp_s3cr3tT0kenValue1234567890';
const values = readFileSync(path.join(__dirname, '../../fixtures/gitops/values.yaml'), 'utf8');

const event = (tag: string): NormalizedEvent => ({
  provider: 'github',
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

let gh: GitHubServer;
beforeEach(async () => {
  clearSecretCache();
  sm.reset();
  sm.on(GetSecretValueCommand, { SecretId: 'triggerfish/github' }).resolves({ SecretString: TOKEN });
  gh = await startGitHubServer({ owner: 'acme', repo: 'deploy', branch: 'main', token: TOKEN });
  gh.setFile('charts/web/values.yaml', values, 'initial');
});
afterEach(() => gh.close());

const target = (over: Partial<GitTargetConfig> = {}) =>
  gitTargetSchema.parse({
    type: 'git',
    url: `${gh.url}/acme/deploy.git`,
    via: 'github',
    branch: 'main',
    auth: { token: { secretsManager: 'triggerfish/github' } },
    files: [{ path: 'charts/web/values.yaml', helmValues: { tag: 'image.tag' } }],
    ...over,
  });

describe('git target via github (contents API)', () => {
  it('updates the file with its blob sha; only the tag line changes; records the commit', async () => {
    const r = await gitTarget.deploy(target(), ctx(event('1.5.0')));
    expect(r.error).toBeUndefined();
    expect(r.ok).toBe(true);
    const after = gh.files.get('charts/web/values.yaml')!;
    const changed = after.split('\n').filter((l, i) => l !== values.split('\n')[i]);
    expect(changed).toEqual(["  tag: '1.5.0'      # keep quoted"]);
    expect(after.split('\n')).toHaveLength(values.split('\n').length);
    expect(r.details).toMatchObject({
      via: 'github',
      commit: gh.commits[0].sha,
      changedPaths: ['charts/web/values.yaml'],
    });
    const put = gh.requests.find((q) => q.method === 'PUT')!;
    expect(put.url).toBe('/api/v3/repos/acme/deploy/contents/charts%2Fweb%2Fvalues.yaml');
    expect(put.body).toMatchObject({
      branch: 'main',
      sha: expect.stringMatching(/^[0-9a-f]{40}$/),
      message: 'Deploy ghcr.io/acme/web:1.5.0\n\nTriggerfish-Trigger: trg-1\nTriggerfish-Log: log-1\n',
    });
    expect(JSON.stringify(r)).not.toContain(TOKEN);
  });

  it('a 409 (the file changed meanwhile) is read again and re-applied, bounded', async () => {
    gh.beforePut = (n) => {
      if (n === 1) gh.setFile('charts/web/values.yaml', values.replace('replicaCount: 2', 'replicaCount: 3'));
    };
    const r = await gitTarget.deploy(target(), ctx(event('1.6.0')));
    expect(r.ok).toBe(true);
    expect(r.details?.tries).toBe(2);
    expect(gh.files.get('charts/web/values.yaml')).toBe(
      values.replace('replicaCount: 2', 'replicaCount: 3').replace("tag: 'v1.4.0'", "tag: '1.6.0'"),
    );

    gh.beforePut = (n) =>
      gh.setFile('charts/web/values.yaml', values.replace('replicaCount: 2', `replicaCount: ${n + 10}`));
    const busy = await gitTarget.deploy(target(), ctx(event('1.7.0')));
    expect(busy).toMatchObject({ ok: false, retryable: true, statusCode: 409 });
    expect(busy.error).toBe(
      `update of charts/web/values.yaml conflicted ${GIT_PUSH_TRIES} times (the branch keeps moving)`,
    );
  });

  it('nothing to change: no commit; a crash-retry names its earlier commit', async () => {
    const first = await gitTarget.deploy(target(), ctx(event('2.0.0'), 'log-crash'));
    const count = gh.commits.length;
    const again = await gitTarget.deploy(target(), ctx(event('2.0.0'), 'log-crash'));
    expect(again).toMatchObject({
      ok: true,
      response: `already in Git (commit ${first.details?.commit})`,
      details: { changedPaths: [] },
    });
    const other = await gitTarget.deploy(target(), ctx(event('2.0.0'), 'log-other'));
    expect(other).toMatchObject({ ok: true, response: 'already in Git' });
    expect(gh.commits.length).toBe(count);
  });

  it('a bad token and a missing file fail without retry', async () => {
    sm.on(GetSecretValueCommand, { SecretId: 'triggerfish/bad' }).resolves({ SecretString: 'bad-token-value-xyz' });
    const bad = await gitTarget.deploy(
      target({ auth: { token: { secretsManager: 'triggerfish/bad' } } }),
      ctx(event('3.0.0')),
    );
    expect(bad).toMatchObject({ ok: false, retryable: false, statusCode: 401 });
    expect(bad.error).toMatch(/check the token/);
    const missing = await gitTarget.deploy(
      target({ files: [{ path: 'nope.yaml', yamlPath: 'a.b' }] }),
      ctx(event('3.0.0')),
    );
    expect(missing).toMatchObject({ ok: false, retryable: false, statusCode: 404 });
    expect(gh.commits).toHaveLength(1);
  });
});

describe('git target via github, pull-request mode', () => {
  const pr = (over: Partial<GitTargetConfig> = {}) => target({ mode: 'pull-request', ...over });
  const tagOn = (branch: string) => /tag: '([^']*)'/.exec(gh.branches.get(branch)!.get('charts/web/values.yaml')!)![1];

  it('opens one PR from the trigger branch, updates it in place on later events, base untouched', async () => {
    const first = await gitTarget.deploy(pr(), ctx(event('1.5.0'), 'log-a'));
    expect(first.error).toBeUndefined();
    expect(first.details).toMatchObject({
      mode: 'pull-request',
      base: 'main',
      branch: 'triggerfish/web-prod',
      pullRequestAction: 'opened',
      pullRequest: gh.pulls[0].html_url,
      changedPaths: ['charts/web/values.yaml'],
    });
    expect(tagOn('main')).toBe('v1.4.0');
    expect(tagOn('triggerfish/web-prod')).toBe('1.5.0');
    expect(gh.pulls[0]).toMatchObject({
      head: 'triggerfish/web-prod',
      base: 'main',
      title: 'Deploy ghcr.io/acme/web:1.5.0',
      state: 'open',
    });
    expect(gh.pulls[0].body).toContain('log entry: `log-a`');
    expect(gh.pulls[0].body).toContain('event: github push acme/web tag 1.5.0');

    const second = await gitTarget.deploy(pr(), ctx(event('1.6.0'), 'log-b'));
    expect(second.details).toMatchObject({ pullRequestAction: 'updated', pullRequestNumber: 1 });
    expect(gh.pulls).toHaveLength(1);
    expect(gh.pulls[0].title).toBe('Deploy ghcr.io/acme/web:1.6.0');
    expect(tagOn('triggerfish/web-prod')).toBe('1.6.0');
    expect(tagOn('main')).toBe('v1.4.0');

    // the same event again (a crash-retry): its commit is found on the branch, no second commit
    const count = gh.commits.length;
    const again = await gitTarget.deploy(pr(), ctx(event('1.6.0'), 'log-b'));
    expect(again.ok).toBe(true);
    expect(again.response).toMatch(/^already in Git \(commit [0-9a-f]{40}\); pull request .* updated$/);
    expect(gh.commits.length).toBe(count);
  });

  it('after the PR was merged, the branch starts again from the base and a new PR opens; the base having it means no PR', async () => {
    await gitTarget.deploy(pr(), ctx(event('2.0.0'), 'log-a'));
    // merge: main gets the branch's file, the PR is closed
    gh.setFile(
      'charts/web/values.yaml',
      gh.branches.get('triggerfish/web-prod')!.get('charts/web/values.yaml')!,
      'Merge pull request #1',
    );
    gh.pulls[0].state = 'closed';

    const same = await gitTarget.deploy(pr(), ctx(event('2.0.0'), 'log-b'));
    expect(same).toMatchObject({ ok: true, response: 'already in Git (main)' });
    expect(gh.pulls).toHaveLength(1);

    gh.setFile(
      'charts/web/values.yaml',
      gh.files.get('charts/web/values.yaml')!.replace('replicaCount: 2', 'replicaCount: 5'),
      'scale up',
    );
    const next = await gitTarget.deploy(pr(), ctx(event('2.1.0'), 'log-c'));
    expect(next.details).toMatchObject({ pullRequestAction: 'opened', pullRequestNumber: 2 });
    const branchFile = gh.branches.get('triggerfish/web-prod')!.get('charts/web/values.yaml')!;
    expect(branchFile).toBe(gh.files.get('charts/web/values.yaml')!.replace("tag: '2.0.0'", "tag: '2.1.0'"));
  });
});

describe('git target via github: links and limits', () => {
  it('a symlink (to a file in the repository, or elsewhere) is refused, nothing is written', async () => {
    gh.links.set('charts/web/link.yaml', 'charts/web/values.yaml');
    gh.links.set('charts/web/away.yaml', '/etc/hostname');
    for (const p of ['charts/web/link.yaml', 'charts/web/away.yaml']) {
      for (const mode of ['commit', 'pull-request'] as const) {
        const r = await gitTarget.deploy(
          target({ mode, files: [{ path: p, helmValues: { tag: 'image.tag' } }] }),
          ctx(event('9.9.9')),
        );
        expect(r).toMatchObject({
          ok: false,
          retryable: false,
          error: `${p} is a symbolic link in the repository; links are not followed (point files[].path at the file itself)`,
        });
      }
    }
    expect(gh.requests.filter((q) => q.method !== 'GET')).toEqual([]);
  });

  it('a file over the per-file limit is refused naming it', async () => {
    gh.setFile('charts/web/values.yaml', `${values}#${'x'.repeat(1024 * 1024)}\n`);
    const r = await gitTarget.deploy(target(), ctx(event('9.9.9')));
    expect(r.ok).toBe(false);
    expect(r.error).toMatch(/^charts\/web\/values\.yaml is \d+ bytes, over the per-file limit of 1 MiB$/);
  });
});
