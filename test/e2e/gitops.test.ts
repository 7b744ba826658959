/**
 * End to end on the local stack with the `git` target: a Docker Hub push webhook becomes a commit in a bare
 * repository served by a real `git http-backend`, recorded in the trigger log with its SHA and changed paths.
 */
import { apiClient } from '../helpers/api';
import { fixture } from '../helpers/fixtures';
import { startGitServer, type GitServer } from '../helpers/git-server';
import { startTestStack } from '../helpers/stack';

const TERMINAL = (e: any) => e?.status === 'succeeded' || e?.status === 'failed';
const KUSTOMIZATION = `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - deployment.yaml   # the app
images:
  - name: svendowideit/testhook
    newTag: release-v1.0 # set by Triggerfish
`;

let stack: Awaited<ReturnType<typeof startTestStack>>;
let api: ReturnType<typeof apiClient>;
let git: GitServer;

beforeAll(async () => {
  stack = await startTestStack({ maxReceiveCount: 2, retryBaseSeconds: 0 });
  api = apiClient(stack.url, stack.adminToken);
  git = await startGitServer();
  git.createRepo('gitops.git', { 'apps/testhook/kustomization.yaml': KUSTOMIZATION });
});
afterAll(async () => {
  await stack?.stop();
  await git?.close();
});

const dockerhubBody = (tag: string, pushedAt: number) => {
  const body = JSON.parse(fixture('dockerhub/push-docs-example.json'));
  body.push_data.tag = tag;
  body.push_data.pushed_at = pushedAt;
  return JSON.stringify(body);
};

describe('git target on the local stack', () => {
  it('a registry push becomes a commit; the same image again is "already in Git"', async () => {
    const created = await api.admin('POST', '/admin/triggers', {
      name: 'testhook-gitops',
      provider: 'dockerhub',
      target: {
        type: 'git',
        url: `${git.url}/gitops.git`,
        via: 'git',
        branch: 'main',
        files: [{ path: 'apps/testhook/kustomization.yaml', kustomize: { image: 'svendowideit/testhook' } }],
        commitMessage: 'deploy {{image}}',
      },
    });
    expect(created.status).toBe(201);
    const trigger = created.body as { id: string; webhookUrl: string };

    const res = await api.hook(trigger.webhookUrl.slice(stack.url.length), dockerhubBody('release-v1.2', 1417566161));
    expect(res.status).toBe(202);
    const entry = await api.waitForLog(trigger.id, res.body.log, TERMINAL);
    expect(entry.status).toBe('succeeded');
    const head = git.git('gitops.git', 'rev-parse', 'main').trim();
    expect(entry.attempts[0].details).toMatchObject({
      commit: head,
      changedPaths: ['apps/testhook/kustomization.yaml'],
      branch: 'main',
    });
    expect(git.show('gitops.git', 'apps/testhook/kustomization.yaml')).toBe(
      KUSTOMIZATION.replace('newTag: release-v1.0 #', 'newTag: release-v1.2 #'),
    );
    expect(git.git('gitops.git', 'log', '-1', '--format=%B', 'main')).toBe(
      `deploy svendowideit/testhook:release-v1.2\n\nTriggerfish-Trigger: ${trigger.id}\nTriggerfish-Log: ${res.body.log}\n\n`,
    );

    // redeliver (a new log entry for the same event): the image is there already, nothing is committed twice
    const again = await api.admin('POST', `/admin/triggers/${trigger.id}/logs/${res.body.log}/redeliver`);
    expect(again.status).toBeLessThan(300);
    const redo = await api.waitForLog(
      trigger.id,
      (again.body as any).log ?? res.body.log,
      (e: any) => TERMINAL(e) && e.attempts.length >= 1 && e.attempts.at(-1).response?.startsWith('already'),
    );
    expect(redo.status).toBe('succeeded');
    expect(redo.attempts.at(-1)).toMatchObject({
      response: 'already in Git',
      details: { commit: head, changedPaths: [] },
    });
    expect(git.git('gitops.git', 'rev-list', '--count', 'main').trim()).toBe('2');
  });

  it('a pusher name holding a forged trailer and headers yields one commit whose headers and trailers are ours (issue 20)', async () => {
    git.createRepo('encode.git', { 'kustomization.yaml': KUSTOMIZATION });
    const created = await api.admin('POST', '/admin/triggers', {
      name: 'testhook-gitops-encode',
      provider: 'dockerhub',
      target: {
        type: 'git',
        url: `${git.url}/encode.git`,
        via: 'git',
        files: [{ path: 'kustomization.yaml', kustomize: { image: 'svendowideit/testhook' } }],
        commitMessage: 'deploy {{image}} by {{owner}}',
        author: { name: '{{owner}}', email: 'bot@example.com' },
      },
    });
    expect(created.status).toBe(201);
    const trigger = created.body as { id: string; webhookUrl: string };
    const body = JSON.parse(dockerhubBody('release-v2.0', 1417566170));
    body.push_data.pusher =
      'eve\nTriggerfish-Log: forged\ncommitter Mallory <m@evil.example> 0 +0000\nencoding ISO-8859-1';
    const res = await api.hook(trigger.webhookUrl.slice(stack.url.length), JSON.stringify(body));
    expect(res.status).toBe(202);
    const entry = await api.waitForLog(trigger.id, res.body.log, TERMINAL);
    expect(entry.status).toBe('succeeded');

    expect(git.git('encode.git', 'rev-list', '--count', 'main').trim()).toBe('2');
    const raw = git.git('encode.git', 'cat-file', '-p', 'main');
    const headers = raw.slice(0, raw.indexOf('\n\n')).split('\n');
    expect(headers.map((h) => h.split(' ')[0])).toEqual(['tree', 'parent', 'author', 'committer']);
    expect(git.git('encode.git', 'log', '-1', '--format=%an|%ae', 'main')).toBe(
      'eve Triggerfish-Log: forged committer Mallory m@evil.example 0 +0000 encoding ISO-8859-1|bot@example.com\n',
    );
    const trailer = (key: string) =>
      git
        .git('encode.git', 'log', '-1', `--format=%(trailers:key=${key},valueonly)`, 'main')
        .split('\n')
        .filter(Boolean);
    expect(trailer('Triggerfish-Log')).toEqual([res.body.log]);
    expect(trailer('Triggerfish-Trigger')).toEqual([trigger.id]);
    expect(git.git('encode.git', 'log', '-1', '--format=%B', 'main')).toBe(
      'deploy svendowideit/testhook:release-v2.0 by eve Triggerfish-Log: forged committer Mallory <m@evil.example> 0 +0000 encoding ISO-8859-1\n\n' +
        `Triggerfish-Trigger: ${trigger.id}\nTriggerfish-Log: ${res.body.log}\n\n`,
    );
  });

  it('a bad rule is a 400 naming the field', async () => {
    const res = await api.admin('POST', '/admin/triggers', {
      name: 'bad-gitops',
      provider: 'dockerhub',
      target: { type: 'git', url: `${git.url}/gitops.git`, files: [{ path: 'a.yaml', yamlPath: 'spec..image' }] },
    });
    expect(res.status).toBe(400);
    expect(res.body.field).toBe('target.files.0.yamlPath');
  });
});
