/**
 * Every provider through the real HTTP API on the local stack: a real sample, signed or tokened the way
 * that sender does it, is triggered and deployed; the same sample with a wrong credential is a 401.
 * Plus ECR through its EventBridge function, and one deploy per digest.
 */
import { createHmac } from 'node:crypto';
import { handler as ecrHandler } from '../../functions/ecr';
import { apiClient } from '../helpers/api';
import { fixture, placeholdersFilled } from '../helpers/fixtures';
import { startTestStack } from '../helpers/stack';
import { startTargetServer } from '../helpers/target-server';

let stack: Awaited<ReturnType<typeof startTestStack>>;
let api: ReturnType<typeof apiClient>;
let target: Awaited<ReturnType<typeof startTargetServer>>;
const DONE = (e: any) => e?.status === 'succeeded' || e?.status === 'failed';

beforeAll(async () => {
  stack = await startTestStack({ maxReceiveCount: 2, retryBaseSeconds: 0 });
  api = apiClient(stack.url, stack.adminToken);
  target = await startTargetServer();
});
afterAll(async () => {
  await stack?.stop();
  await target?.close();
});

const hex = (alg: 'sha1' | 'sha256', secret: string, body: string) =>
  createHmac(alg, secret).update(body).digest('hex');
const gar = (data: string) => {
  const envelope = JSON.parse(fixture('google-artifact-registry/pubsub-push-envelope-google-pubsub-docs-generic.json'));
  envelope.message.data = Buffer.from(data).toString('base64');
  return JSON.stringify(envelope);
};
const nexusDocker = () => {
  const body = JSON.parse(fixture('sonatype-nexus/repository_component-created-sonatype-docs.json'));
  body.component.format = 'docker'; // no real docker sample exists (SOURCES.md); the npm one with its format changed
  body.component.name = 'team/web';
  return JSON.stringify(body);
};

interface Case {
  provider: string;
  body: () => string;
  /** headers and query a correctly configured sender sends */
  credential: (secret: string, body: string) => { headers?: Record<string, string>; query?: string };
  headers?: Record<string, string>;
  match?: Record<string, unknown>;
}

const query = (secret: string) => ({ query: `?token=${encodeURIComponent(secret)}` });
const bearer = (secret: string) => ({ headers: { authorization: `Bearer ${secret}` } });

const CASES: Case[] = [
  { provider: 'dockerhub', body: () => fixture('dockerhub/push-docs-example.json'), credential: query },
  // documentation samples with placeholders (a capitalized repository, a masked digest) are filled in here; sent
  // verbatim they are refused at ingest (integrity-names.test.ts)
  { provider: 'acr', body: () => placeholdersFilled('aliyun-acr/push-aliyun-docs-example.json'), credential: query },
  {
    provider: 'tcr',
    body: () => placeholdersFilled('tencent-tcr/pushImage-tcr-docs-example.json'),
    credential: bearer,
  },
  {
    provider: 'harbor',
    body: () => fixture('harbor/push_artifact-default-harbor-docs-2.0-debian.json'),
    credential: bearer,
  },
  {
    provider: 'harbor',
    body: () => fixture('harbor/push_artifact-cloudevents-harbor-docs-2.8.json'),
    credential: bearer,
  },
  { provider: 'quay', body: () => fixture('quay/repo_push-quay-docs-guides-notifications.json'), credential: query },
  { provider: 'azure-acr', body: () => fixture('azure-acr/push-azure-docs-2017.json'), credential: bearer },
  {
    provider: 'gar',
    body: () => gar(placeholdersFilled('google-artifact-registry/message-data-insert-with-tag-gar-docs.json')),
    credential: query,
  },
  {
    provider: 'gar',
    body: () => gar(placeholdersFilled('google-artifact-registry/message-data-insert-digest-only-gar-docs.json')),
    credential: query,
  },
  {
    provider: 'jfrog',
    body: () => fixture('jfrog-artifactory/docker-pushed-envelope-keel-test.json'),
    credential: (s) => ({ headers: { 'x-jfrog-event-auth': s } }),
  },
  {
    provider: 'nexus',
    body: nexusDocker,
    headers: { 'x-nexus-webhook-id': 'rm:repository:component', 'x-nexus-webhook-delivery': 'nexus-delivery-1' },
    credential: (s, b) => ({ headers: { 'x-nexus-webhook-signature': hex('sha1', s, b) } }),
  },
  {
    provider: 'github',
    body: () => fixture('github/push-go-playground-binkkatal.json'),
    headers: { 'x-github-event': 'push', 'x-github-delivery': 'gh-1' },
    credential: (s, b) => ({ headers: { 'x-hub-signature-256': `sha256=${hex('sha256', s, b)}` } }),
  },
  {
    provider: 'github',
    body: () => fixture('github/package-create-container-keel-dingggu.json'),
    headers: { 'x-github-event': 'package', 'x-github-delivery': 'gh-2' },
    credential: (s, b) => ({ headers: { 'x-hub-signature-256': `sha256=${hex('sha256', s, b)}` } }),
  },
  {
    provider: 'gitlab',
    body: () => fixture('gitlab/push-gitlab-docs-example.json'),
    headers: { 'x-gitlab-event': 'Push Hook', 'x-gitlab-event-uuid': 'gl-1' },
    credential: (s) => ({ headers: { 'x-gitlab-token': s } }),
  },
  {
    provider: 'gitee',
    body: () => fixture('gitee/push-makewheels-cf-git-synchronizer.json'),
    headers: { 'x-gitee-event': 'Push Hook' },
    credential: (s) => ({ headers: { 'x-gitee-token': s } }),
  },
  {
    provider: 'gogs',
    body: () => fixture('gogs/push-gogs-docs-current-alice-moonlanding.json'),
    headers: { 'x-gogs-event': 'push', 'x-gogs-delivery': 'gogs-1' },
    credential: (s, b) => ({ headers: { 'x-gogs-signature': hex('sha256', s, b) } }),
  },
  {
    provider: 'gitea',
    body: () => fixture('gitea/push-woodpecker-multi-line-secrets.json'),
    headers: { 'x-gitea-event': 'push', 'x-gitea-delivery': 'gitea-1', 'x-github-event': 'push' },
    credential: (s, b) => ({ headers: { 'x-gitea-signature': hex('sha256', s, b) } }),
  },
  {
    provider: 'bitbucket',
    body: () => fixture('bitbucket/repo_push-go-scm-brydzewski-foo.json'),
    headers: { 'x-event-key': 'repo:push', 'x-request-uuid': 'bb-1' },
    credential: (s, b) => ({ headers: { 'x-hub-signature': `sha256=${hex('sha256', s, b)}` } }),
  },
  {
    provider: 'api',
    body: () => JSON.stringify({ tag: '1.5.0' }),
    // Kato: a tracked image with a tag rule; the deployed tag becomes the tracked one
    match: { image: 'registry.example.com/team/web:1.4.0', tags: { all: true } },
    credential: () => ({}),
  },
];

describe.each(CASES.map((c, i) => [`${c.provider} #${i}`, c, i] as const))('%s', (_name, c, i) => {
  let trigger: { id: string; secret: string };
  beforeAll(async () => {
    const res = await api.admin('POST', '/admin/triggers', {
      name: `e2e-${c.provider}-${i}`,
      provider: c.provider,
      match: c.match ?? {},
      target: {
        type: 'http',
        url: `${target.url}/deploy/${c.provider}`,
        body: {
          image: '{{image}}',
          tag: '{{tag}}',
          digest: '{{digest}}',
          branch: '{{branch}}',
          repo: '{{repoFullName}}',
          log: '{{logId}}',
        },
      },
    });
    expect(res.status).toBe(201);
    trigger = res.body;
  });

  const send = (secret: string) => {
    let body = c.body();
    if (c.provider === 'api') body = JSON.stringify({ ...JSON.parse(body), secret_key: secret });
    const cred = c.credential(secret, body);
    return api.hook(`/hooks/${c.provider}/${trigger.id}${cred.query ?? ''}`, body, { ...c.headers, ...cred.headers });
  };

  it('a wrong credential is a 401 and an unauthorized entry', async () => {
    const res = await send('wrong-secret');
    expect(res.status).toBe(401);
    const entry = (await api.admin('GET', `/admin/triggers/${trigger.id}/logs/${res.body.log}`)).body;
    expect(entry.status).toBe('unauthorized');
    expect(JSON.stringify(entry)).not.toContain('wrong-secret');
  });

  it('the real sample is triggered, deployed with the templated body, and logged succeeded', async () => {
    const res = await send(trigger.secret);
    expect(res.status).toBe(202);
    expect(res.body.status).toBe('triggered');
    const entry = await api.waitForLog(trigger.id, res.body.log, DONE);
    expect(entry.status).toBe('succeeded');
    expect(JSON.stringify(entry)).not.toContain(trigger.secret);
    const call = target.calls.find((x) => x.url === `/deploy/${c.provider}` && JSON.parse(x.body).log === res.body.log);
    expect(call).toBeDefined();
    expect(JSON.parse(call!.body)).toEqual({
      image: entry.event.image ?? '',
      tag: entry.event.tag ?? '',
      digest: entry.event.digest ?? '',
      branch: entry.event.branch ?? '',
      repo: entry.event.repoFullName,
      log: res.body.log,
    });
    expect(entry.event.repoFullName).toEqual(expect.any(String));
    if (c.provider === 'api') {
      expect(entry.event.image).toBe('registry.example.com/team/web:1.5.0');
      const after = await api.admin('GET', `/admin/triggers/${trigger.id}`);
      expect(after.body.trackedImage).toBe('registry.example.com/team/web:1.5.0');
    }
  });
});

describe('one deploy per digest', () => {
  it('Harbor announcing one digest under two tags (two requests) deploys once; the second is "already"', async () => {
    const created = await api.admin('POST', '/admin/triggers', {
      name: 'harbor-digest',
      provider: 'harbor',
      target: { type: 'http', url: `${target.url}/harbor-digest` },
    });
    const { id, secret } = created.body;
    const withTag = (tag: string) => {
      const body = JSON.parse(fixture('harbor/push_artifact-default-harbor-docs-2.0-debian.json'));
      body.event_data.resources[0].tag = tag;
      return JSON.stringify(body);
    };
    const first = await api.hook(`/hooks/harbor/${id}`, withTag('1.2.0'), { authorization: `Bearer ${secret}` });
    const second = await api.hook(`/hooks/harbor/${id}`, withTag('latest'), { authorization: `Bearer ${secret}` });
    expect(first.status).toBe(202);
    expect(second.status).toBe(202);
    expect(second.body).toMatchObject({ status: 'untriggered' });
    expect(second.body.reason).toMatch(
      new RegExp(`^already (deploying|running) sha256:.* \\(log ${first.body.log}\\)$`),
    );
    await api.waitForLog(id, first.body.log, DONE);
    // announced again after the deploy: the target runs it now
    const third = await api.hook(`/hooks/harbor/${id}`, withTag('stable'), { authorization: `Bearer ${secret}` });
    expect(third.body.reason).toMatch(new RegExp(`^already running sha256:.* \\(log ${first.body.log}\\)$`));
    expect(target.calls.filter((c) => c.url === '/harbor-digest')).toHaveLength(1);
  });

  it('a Quay push of several tags deploys once, with the highest tag under a semver rule', async () => {
    const created = await api.admin('POST', '/admin/triggers', {
      name: 'quay-semver',
      provider: 'quay',
      match: { tags: { semver: '>=1.0.0' } },
      target: { type: 'http', url: `${target.url}/quay-semver`, body: { tag: '{{tag}}' } },
    });
    const body = JSON.parse(fixture('quay/repo_push-quay-docs-guides-notifications.json'));
    body.updated_tags = ['latest', 'v1.9.0', '1.10.0', '1.2.3'];
    const res = await api.hook(`/hooks/quay/${created.body.id}?token=${created.body.secret}`, JSON.stringify(body));
    expect(res.body.status).toBe('triggered');
    await api.waitForLog(created.body.id, res.body.log, DONE);
    const calls = target.calls.filter((c) => c.url === '/quay-semver');
    expect(calls.map((c) => JSON.parse(c.body).tag)).toEqual(['1.10.0']);
  });
});

describe('ECR through EventBridge', () => {
  // the AWS sample's digest is 60 hex (cut short in the docs): filled in, as integrity-names.test.ts explains
  const event = () => JSON.parse(placeholdersFilled('aws-ecr/ecr_image_action-push-aws-docs.json'));

  it('fires every trigger of the repository once, found through the index, and a repeat is a duplicate', async () => {
    const ids: string[] = [];
    for (const name of ['ecr-a', 'ecr-b']) {
      const res = await api.admin('POST', '/admin/triggers', {
        name,
        provider: 'ecr',
        match: { repository: 'my-repository-name' },
        target: { type: 'http', url: `${target.url}/${name}`, body: { image: '{{image}}' } },
      });
      expect(res.status).toBe(201);
      ids.push(res.body.id);
    }
    const other = await api.admin('POST', '/admin/triggers', {
      name: 'ecr-other',
      provider: 'ecr',
      match: { repository: 'another-repo' },
      target: { type: 'http', url: `${target.url}/ecr-other` },
    });

    const summary = await ecrHandler(event());
    expect(summary.outcomes.map((o) => o.triggerId).sort()).toEqual([...ids].sort());
    expect(summary.outcomes.every((o) => o.status === 'triggered')).toBe(true);
    for (const o of summary.outcomes) expect((await api.waitForLog(o.triggerId, o.log, DONE)).status).toBe('succeeded');
    for (const name of ['ecr-a', 'ecr-b']) {
      const calls = target.calls.filter((c) => c.url === `/${name}`);
      expect(calls.map((c) => JSON.parse(c.body).image)).toEqual([
        '123456789012.dkr.ecr.us-west-2.amazonaws.com/my-repository-name:latest',
      ]);
    }
    expect(target.calls.some((c) => c.url === '/ecr-other')).toBe(false);
    expect((await api.admin('GET', `/admin/triggers/${other.body.id}/logs`)).body.items).toHaveLength(0);

    const again = await ecrHandler(event());
    expect(again.outcomes.map((o) => o.status)).toEqual(['duplicate', 'duplicate']);
  });

  it('refuses an ECR trigger without an exact repository (the index needs one)', async () => {
    const res = await api.admin('POST', '/admin/triggers', {
      name: 'ecr-glob',
      provider: 'ecr',
      match: { repository: 'web-*' },
      target: { type: 'http', url: `${target.url}/x` },
    });
    expect(res.status).toBe(400);
    expect(res.body.field).toBe('match.repository');
  });

  it('ignores a failed push', async () => {
    const failed = event();
    failed.detail.result = 'FAILURE';
    expect((await ecrHandler(failed)).ignored).toMatch(/FAILURE/);
  });
});
