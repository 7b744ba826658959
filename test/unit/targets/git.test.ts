import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { NormalizedEvent } from '../../../lib/core/event';
import { clearSecretCache } from '../../../lib/deploy/secrets';
import {
  gitTarget,
  gitTargetSchema,
  gitVia,
  GIT_PUSH_TRIES,
  type GitTargetConfig,
} from '../../../lib/deploy/targets/git';
import { runTarget, targetSchema } from '../../../lib/deploy/targets';
import type { DeployContext } from '../../../lib/deploy/targets/types';
import { startGitServer, type GitServer } from '../../helpers/git-server';

process.env.ALLOW_PRIVATE_TARGETS = 'true';
const sm = mockClient(SecretsManagerClient);
const TOKEN = 'glpat-s3cr3tT0kenValue1234';

const fixture = (name: string) => readFileSync(path.join(__dirname, '../../fixtures/gitops', name), 'utf8');
const kustomization = fixture('kustomization.yaml');
const values = fixture('values.yaml');
const deployment = fixture('deployment.yaml');

function event(tag: string, over: Partial<NormalizedEvent> = {}): NormalizedEvent {
  return {
    provider: 'dockerhub',
    kind: 'image',
    action: 'push',
    namespace: 'demo',
    repository: 'hello',
    repoFullName: 'demo/hello',
    tag,
    image: `demo/hello:${tag}`,
    ...over,
  };
}
function ctx(ev: NormalizedEvent, logId = 'log-1'): DeployContext {
  return { triggerId: 'trg-1', triggerName: 'web-prod', logId, event: ev, allowPrivateTargets: true };
}

const servers: GitServer[] = [];
async function server(opts?: Parameters<typeof startGitServer>[0]): Promise<GitServer> {
  const s = await startGitServer(opts);
  servers.push(s);
  s.createRepo('manifests.git', {
    'overlays/prod/kustomization.yaml': kustomization,
    'charts/web/values.yaml': values,
    'apps/web.yaml': deployment,
  });
  return s;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
beforeEach(() => {
  clearSecretCache();
  sm.reset();
  sm.on(GetSecretValueCommand, { SecretId: 'triggerfish/git' }).resolves({ SecretString: TOKEN });
});

function target(s: GitServer, over: Partial<GitTargetConfig> = {}): GitTargetConfig {
  return gitTargetSchema.parse({
    type: 'git',
    url: `${s.url}/manifests.git`,
    via: 'git',
    branch: 'main',
    files: [{ path: 'overlays/prod/kustomization.yaml', kustomize: { image: 'demo/hello' } }],
    ...over,
  });
}

function only(before: string, after: string): string[] {
  const a = before.split('\n');
  const b = after.split('\n');
  expect(b).toHaveLength(a.length);
  return b.filter((line, i) => line !== a[i]);
}

describe('git target over git http-backend', () => {
  it('commits the new tag to the branch, changing only the image line; records commit and paths', async () => {
    const s = await server();
    const before = s.git('manifests.git', 'rev-parse', 'main').trim();
    const r = await gitTarget.deploy(
      target(s, {
        commitMessage: 'chore: deploy {{image}} ({{provider}})',
        author: { name: 'Deploy Bot', email: 'bot@example.com' },
      }),
      ctx(event('1.2.3')),
    );
    expect(r.error).toBeUndefined();
    expect(r.ok).toBe(true);
    const head = s.git('manifests.git', 'rev-parse', 'main').trim();
    expect(r.details).toMatchObject({
      commit: head,
      parent: before,
      changedPaths: ['overlays/prod/kustomization.yaml'],
      branch: 'main',
      tries: 1,
    });
    expect(r.response).toBe(`committed ${head} to main`);
    expect(only(kustomization, s.show('manifests.git', 'overlays/prod/kustomization.yaml'))).toEqual([
      '    newTag: "1.2.3"    # bumped by CI',
    ]);
    expect(s.show('manifests.git', 'charts/web/values.yaml')).toBe(values);
    const msg = s.git('manifests.git', 'log', '-1', '--format=%an <%ae>%n%B', 'main');
    expect(msg).toBe(
      'Deploy Bot <bot@example.com>\nchore: deploy demo/hello:1.2.3 (dockerhub)\n\nTriggerfish-Trigger: trg-1\nTriggerfish-Log: log-1\n\n',
    );
    expect(s.git('manifests.git', 'rev-list', '--count', 'main').trim()).toBe('2');
  });

  it('several files in one commit: helm values, a Deployment by yamlPath, setter markers', async () => {
    const s = await server();
    const ghcr = {
      registry: 'ghcr.io',
      namespace: 'acme',
      repository: 'web',
      repoFullName: 'acme/web',
      image: 'ghcr.io/acme/web:1.6.0',
    };
    const r = await gitTarget.deploy(
      target(s, {
        files: [
          { path: 'charts/web/values.yaml', helmValues: { tag: 'image.tag' } },
          { path: 'apps/web.yaml', setters: true },
        ],
      }),
      ctx(event('1.6.0', ghcr)),
    );
    expect(s.errors).toEqual([]);
    expect(r.error).toBeUndefined();
    expect(r.details?.changedPaths).toEqual(['charts/web/values.yaml', 'apps/web.yaml']);
    expect(only(values, s.show('manifests.git', 'charts/web/values.yaml'))).toEqual([
      "  tag: '1.6.0'      # keep quoted",
    ]);
    expect(only(deployment, s.show('manifests.git', 'apps/web.yaml'))).toEqual([
      '          image: ghcr.io/acme/web:1.6.0 # {"triggerfish": "web-prod"}',
      '          image: ghcr.io/acme/web:1.6.0 # {"$imagepolicy": "flux-system:web"}',
    ]);
    expect(s.git('manifests.git', 'rev-list', '--count', 'main').trim()).toBe('2');
  });

  it('no commit when the image is already in Git; a retry of the same event after a crash names its commit', async () => {
    const s = await server();
    const same = await gitTarget.deploy(target(s), ctx(event('1.0.0')));
    expect(same).toMatchObject({ ok: true, response: 'already in Git', details: { changedPaths: [] } });
    expect(s.git('manifests.git', 'rev-list', '--count', 'main').trim()).toBe('1');

    const first = await gitTarget.deploy(target(s), ctx(event('2.0.0'), 'log-crash'));
    expect(first.ok).toBe(true);
    // the deployer crashed before recording: the queue delivers the same event again
    const again = await gitTarget.deploy(target(s), ctx(event('2.0.0'), 'log-crash'));
    expect(again).toMatchObject({
      ok: true,
      response: `already in Git (commit ${first.details?.commit})`,
      details: { commit: first.details?.commit, changedPaths: [] },
    });
    expect(s.git('manifests.git', 'rev-list', '--count', 'main').trim()).toBe('2');
  });

  it('a push rejected because the branch moved is redone on the new head (bounded)', async () => {
    const s = await server();
    let moved = 0;
    s.beforeReceive = (n) => {
      if (n === 1) {
        moved++;
        s.commitOnServer('manifests.git', { 'README.md': 'someone else\n' }, 'another writer');
      }
    };
    const r = await gitTarget.deploy(target(s), ctx(event('3.0.0')));
    expect(moved).toBe(1);
    expect(r.error).toBeUndefined();
    expect(r.details?.tries).toBe(2);
    expect(s.git('manifests.git', 'log', '--format=%s', 'main').trim().split('\n')).toEqual([
      'Deploy demo/hello:3.0.0',
      'another writer',
      'initial manifests',
    ]);
    expect(s.show('manifests.git', 'README.md')).toBe('someone else\n');

    // a branch that moves on every push: give up after GIT_PUSH_TRIES, retryable, nothing forced
    s.beforeReceive = (n) => s.commitOnServer('manifests.git', { 'README.md': `writer ${n}\n` }, `writer ${n}`);
    const busy = await gitTarget.deploy(target(s), ctx(event('4.0.0')));
    expect(busy).toMatchObject({ ok: false, retryable: true, details: { tries: GIT_PUSH_TRIES } });
    expect(busy.error).toMatch(/rejected 3 times/);
    expect(s.show('manifests.git', 'overlays/prod/kustomization.yaml')).toContain('newTag: "3.0.0"');
  });

  it('basic auth with the token from Secrets Manager; wrong or missing token fails without retry, token never shown', async () => {
    const s = await server({ basicAuth: { username: 'deployer', password: TOKEN } });
    const ok = await gitTarget.deploy(
      target(s, { auth: { token: { secretsManager: 'triggerfish/git' }, username: 'deployer' } }),
      ctx(event('5.0.0')),
    );
    expect(ok.error).toBeUndefined();
    expect(ok.ok).toBe(true);
    expect(s.requests.some((q) => q.authorized && q.url.includes('git-receive-pack'))).toBe(true);

    const none = await gitTarget.deploy(target(s), ctx(event('5.1.0')));
    expect(none).toMatchObject({ ok: false, retryable: false, statusCode: 401 });
    sm.on(GetSecretValueCommand, { SecretId: 'triggerfish/wrong' }).resolves({ SecretString: 'wrong-token-value-123' });
    const wrong = await gitTarget.deploy(
      target(s, { auth: { token: { secretsManager: 'triggerfish/wrong' }, username: 'deployer' } }),
      ctx(event('5.1.0')),
    );
    expect(wrong).toMatchObject({ ok: false, retryable: false });
    expect(JSON.stringify([ok, none, wrong])).not.toContain(TOKEN);
    expect(JSON.stringify(wrong)).not.toContain('wrong-token-value-123');
    expect(s.show('manifests.git', 'overlays/prod/kustomization.yaml')).toContain('newTag: "5.0.0"');
  });

  it('a missing branch, file or entry fails without retry and commits nothing', async () => {
    const s = await server();
    const branch = await gitTarget.deploy(target(s, { branch: 'release' }), ctx(event('6.0.0')));
    expect(branch).toMatchObject({ ok: false, retryable: false });
    const file = await gitTarget.deploy(
      target(s, { files: [{ path: 'nope.yaml', yamlPath: 'a.b' }] }),
      ctx(event('6.0.0')),
    );
    expect(file).toMatchObject({ ok: false, retryable: false, error: 'files.0: nope.yaml is not in main' });
    const entry = await gitTarget.deploy(
      target(s, { files: [{ path: 'overlays/prod/kustomization.yaml', kustomize: { image: 'other' } }] }),
      ctx(event('6.0.0')),
    );
    expect(entry.error).toBe('files.0 (overlays/prod/kustomization.yaml): no images entry with name "other"');
    expect(s.git('manifests.git', 'rev-list', '--count', 'main').trim()).toBe('1');
  });

  it('a private address is refused at deploy time unless private targets are allowed', async () => {
    const s = await server();
    const r = await gitTarget.deploy(target(s), { ...ctx(event('7.0.0')), allowPrivateTargets: false });
    expect(r).toMatchObject({ ok: false, retryable: false });
    expect(r.error).toMatch(/refused/);
    expect(s.requests).toHaveLength(0);
  });
});

describe('git target validation', () => {
  const base = {
    type: 'git',
    url: 'https://git.example.com/acme/manifests.git',
    files: [{ path: 'k.yaml', kustomize: { image: 'a' } }],
  };
  const issue = (t: unknown) => {
    const r = targetSchema.safeParse(t);
    return r.success ? undefined : `${r.error.issues[0].path.join('.')}: ${r.error.issues[0].message}`;
  };
  it('accepts the contract shape and runs through the registry', async () => {
    expect(issue(base)).toBeUndefined();
    expect(
      issue({
        ...base,
        branch: 'env/prod',
        auth: { token: { ssmParameter: '/triggerfish/git' } },
        commitMessage: 'deploy {{tag}}',
        author: { name: 'a', email: 'b' },
      }),
    ).toBeUndefined();
    const r = await runTarget(
      { ...base, files: [{ path: 'k.yaml', kustomize: { image: 'a' } }] } as never,
      ctx(event('1', { kind: 'code' })),
    );
    expect(r).toMatchObject({
      ok: false,
      retryable: false,
      error: 'nothing to deploy: the event is a code push, not an image',
    });
  });
  it('names the bad field', () => {
    expect(issue({ ...base, files: [{ path: 'k.yaml', yamlPath: 'a..b' }] })).toMatch(
      /^files\.0\.yamlPath: not a valid YAML path/,
    );
    expect(issue({ ...base, files: [{ path: '../k.yaml', setters: true }] })).toMatch(/^files\.0\.path: /);
    expect(issue({ ...base, files: [{ path: 'k.yaml', setters: true, yamlPath: 'a' }] })).toMatch(
      /^files\.0: each file has exactly one rule/,
    );
    expect(issue({ ...base, files: [] })).toMatch(/^files: /);
    expect(issue({ ...base, branch: 'a..b' })).toMatch(/^branch: "a\.\.b" is not a valid git branch name/);
    expect(issue({ ...base, auth: { token: 'inline' } })).toMatch(/^auth\.token: a secret reference/);
    expect(issue({ ...base, commitMessage: '{{nope}}' })).toBe('commitMessage: unknown placeholder {{nope}}');
    expect(issue({ ...base, url: 'https://user:pw@git.example.com/x.git' })).toMatch(/^url: /);
    expect(issue({ ...base, via: 'gitlab', url: 'https://gitlab.com/only-group' })).toMatch(
      /^url: a GitLab project URL/,
    );
    expect(issue({ ...base, via: 'github', url: 'https://github.com/only-owner' })).toMatch(
      /^url: a GitHub repository URL/,
    );
    expect(issue({ ...base, mode: 'pull-request' })).toMatch(/^mode: pull-request mode needs a host API/);
    expect(issue({ ...base, via: 'gitlab', mode: 'pull-request' })).toBeUndefined();
    expect(issue({ ...base, via: 'github', mode: 'pull-request' })).toBeUndefined();
  });
  it.each(['HEAD', 'main.', 'main.lock', '-main', 'a/.b', 'a@{1}', 'a b', 'a~1', 'a:b', 'refs/heads/'])(
    'branch %j is refused as git refuses it',
    (branch) => expect(issue({ ...base, branch })).toMatch(/^branch: .* is not a valid git branch name/),
  );
  it.each(['main', 'release/1.2', 'deploy-prod'])('branch %j is accepted', (branch) =>
    expect(issue({ ...base, branch })).toBeUndefined(),
  );
  it.each(['.git/config', '.GIT/config', 'a/.Git/hooks/post-checkout', '.gIt'])(
    'files[].path %j is refused: .git in any letter case',
    (path) => expect(issue({ ...base, files: [{ path, setters: true }] })).toMatch(/^files\.0\.path: .*\.git/),
  );
  it('private and loopback hosts only with ALLOW_PRIVATE_TARGETS', () => {
    process.env.ALLOW_PRIVATE_TARGETS = 'false';
    try {
      expect(issue({ ...base, url: 'http://127.0.0.1:8080/x.git' })).toMatch(/^url: .*(loopback|private|not allowed)/);
      expect(issue({ ...base, url: 'http://localhost:8080/x.git' })).toMatch(/^url: /);
    } finally {
      process.env.ALLOW_PRIVATE_TARGETS = 'true';
    }
    expect(issue({ ...base, url: 'http://127.0.0.1:8080/x.git' })).toBeUndefined();
  });
  it('via defaults from the host', () => {
    expect(gitVia({ url: 'https://github.com/a/b.git' })).toBe('github');
    expect(gitVia({ url: 'https://gitlab.com/a/b.git' })).toBe('gitlab');
    expect(gitVia({ url: 'https://codeberg.org/a/b.git' })).toBe('git');
    expect(gitVia({ url: 'https://github.com/a/b.git', via: 'git' })).toBe('git');
  });
});
