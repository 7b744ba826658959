import {
  AccountLimitExceededException,
  CodeBuildClient,
  InvalidInputException,
  ResourceNotFoundException,
  StartBuildCommand,
} from '@aws-sdk/client-codebuild';
import { mockClient } from 'aws-sdk-client-mock';
import type { NormalizedEvent } from '../../../lib/core/event';
import { REDACTED } from '../../../lib/deploy/targets/types';
import {
  COMMIT_MESSAGE_LIMIT,
  codebuildTarget,
  codebuildTargetSchema,
  type CodebuildTargetConfig,
} from '../../../lib/deploy/targets/codebuild';
import type { DeployContext } from '../../../lib/deploy/targets/types';

const codebuild = mockClient(CodeBuildClient);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const SHA = '6113728f27ae82c7b1a177c8d03f9e96e0adf246';

/** what the github provider makes of a push to main */
const codeEvent: NormalizedEvent = {
  provider: 'github',
  kind: 'code',
  action: 'push',
  deliveryId: '72d3162e-cc78-11e3-81ab-4c9367dc0958',
  namespace: 'octo-org',
  repository: 'web',
  repoFullName: 'octo-org/web',
  branch: 'main',
  owner: 'octocat',
  commit: {
    id: SHA,
    message: 'Fix the header\n\n@deploy',
    author: 'Octo Cat',
    url: `https://github.com/octo-org/web/commit/${SHA}`,
  },
  occurredAt: '2026-01-02T03:04:05Z',
};

/** what the dockerhub provider makes of a push */
const imageEvent: NormalizedEvent = {
  provider: 'dockerhub',
  kind: 'image',
  action: 'push',
  namespace: 'acme',
  repository: 'web',
  repoFullName: 'acme/web',
  image: 'acme/web:1.4.0',
  tag: '1.4.0',
  owner: 'acmebot',
};

const ctx = (event: NormalizedEvent, over: Partial<DeployContext> = {}): DeployContext => ({
  triggerId: 'trg_01J0000000000000000000000',
  logId: 'log_01J0000000000000000000001',
  event,
  allowPrivateTargets: false,
  ...over,
});
const config = (over: Partial<CodebuildTargetConfig> = {}): CodebuildTargetConfig => ({
  type: 'codebuild',
  projectName: 'web-build',
  region: 'eu-west-1',
  ...over,
});

const BUILD_ID = 'web-build:8f7c1e2a-1111-2222-3333-444455556666';

function started() {
  codebuild.on(StartBuildCommand).resolves({ build: { id: BUILD_ID, buildNumber: 17, buildStatus: 'IN_PROGRESS' } });
}
const startBuildInputs = () => codebuild.commandCalls(StartBuildCommand).map((c) => c.args[0].input);
const plain = (name: string, value: string) => ({ name, value, type: 'PLAINTEXT' });

beforeEach(() => codebuild.reset());

describe('codebuild target', () => {
  it('starts a build of the pushed commit with the event as environment variables', async () => {
    started();
    const r = await codebuildTarget.deploy(
      config({ environment: { STAGE: 'prod', DEPLOY_REGION: 'eu-west-1' } }),
      ctx(codeEvent),
    );
    expect(r).toMatchObject({ ok: true, retryable: false });
    expect(r.error).toBeUndefined();
    expect(typeof r.durationMs).toBe('number');
    expect(r.details).toEqual({ buildId: BUILD_ID, buildNumber: 17, sourceVersion: SHA });
    expect(codebuild.calls()).toHaveLength(1);
    expect(startBuildInputs()).toEqual([
      {
        projectName: 'web-build',
        sourceVersion: SHA,
        environmentVariablesOverride: [
          plain('TRIGGERFISH_OWNER', 'octocat'),
          plain('TRIGGERFISH_REPOSITORY', 'web'),
          plain('TRIGGERFISH_NAMESPACE', 'octo-org'),
          plain('TRIGGERFISH_BRANCH', 'main'),
          plain('TRIGGERFISH_COMMIT_ID', SHA),
          plain('TRIGGERFISH_COMMIT_MESSAGE', 'Fix the header\n\n@deploy'),
          plain('TRIGGERFISH_PROVIDER', 'github'),
          plain('TRIGGERFISH_ACTION', 'push'),
          plain('TRIGGERFISH_TRIGGER_ID', 'trg_01J0000000000000000000000'),
          plain('TRIGGERFISH_LOG_ID', 'log_01J0000000000000000000001'),
          plain('STAGE', 'prod'),
          plain('DEPLOY_REGION', 'eu-west-1'),
        ],
        idempotencyToken: expect.stringMatching(UUID),
      },
    ]);
    expect(await codebuild.call(0).thisValue.config.region()).toBe('eu-west-1');
  });

  it('an image event: no source version, the image fields as variables', async () => {
    started();
    const r = await codebuildTarget.deploy(
      config({ projectName: 'arn:aws:codebuild:eu-west-1:123456789012:project/web-build' }),
      ctx(imageEvent),
    );
    expect(r).toMatchObject({ ok: true, details: { buildId: BUILD_ID, buildNumber: 17, sourceVersion: undefined } });
    const [input] = startBuildInputs();
    expect(input).not.toHaveProperty('sourceVersion');
    expect(input).toEqual({
      projectName: 'arn:aws:codebuild:eu-west-1:123456789012:project/web-build',
      environmentVariablesOverride: [
        plain('TRIGGERFISH_OWNER', 'acmebot'),
        plain('TRIGGERFISH_IMAGE', 'acme/web:1.4.0'),
        plain('TRIGGERFISH_REPOSITORY', 'web'),
        plain('TRIGGERFISH_NAMESPACE', 'acme'),
        plain('TRIGGERFISH_TAG', '1.4.0'),
        plain('TRIGGERFISH_PROVIDER', 'dockerhub'),
        plain('TRIGGERFISH_ACTION', 'push'),
        plain('TRIGGERFISH_TRIGGER_ID', 'trg_01J0000000000000000000000'),
        plain('TRIGGERFISH_LOG_ID', 'log_01J0000000000000000000001'),
      ],
      idempotencyToken: expect.stringMatching(UUID),
    });
  });

  it('a code event without a commit builds the branch or tag ref', async () => {
    started();
    const { commit: _c, ...noCommit } = codeEvent;
    await codebuildTarget.deploy(config(), ctx(noCommit));
    await codebuildTarget.deploy(config(), ctx({ ...noCommit, action: 'tag_push', branch: undefined, tag: 'v1.4.0' }));
    expect(startBuildInputs().map((i) => i.sourceVersion)).toEqual(['refs/heads/main', 'refs/tags/v1.4.0']);
    const names = startBuildInputs()[1].environmentVariablesOverride!.map((v) => v.name);
    expect(names).toContain('TRIGGERFISH_TAG');
    expect(names).not.toContain('TRIGGERFISH_BRANCH');
    expect(names).not.toContain('TRIGGERFISH_COMMIT_ID');
    expect(names).not.toContain('TRIGGERFISH_COMMIT_MESSAGE');
  });

  it('truncates the commit message and leaves out an empty one', async () => {
    started();
    const long = `${'x'.repeat(COMMIT_MESSAGE_LIMIT - 1)}😀tail`;
    await codebuildTarget.deploy(config(), ctx({ ...codeEvent, commit: { id: SHA, message: long } }));
    await codebuildTarget.deploy(config(), ctx({ ...codeEvent, commit: { id: SHA, message: '' } }));
    const [first, second] = startBuildInputs();
    const message = first.environmentVariablesOverride!.find((v) => v.name === 'TRIGGERFISH_COMMIT_MESSAGE')!.value!;
    // the emoji straddles the limit: cut before it rather than in half
    expect(message).toBe('x'.repeat(COMMIT_MESSAGE_LIMIT - 1));
    expect(second.environmentVariablesOverride!.map((v) => v.name)).not.toContain('TRIGGERFISH_COMMIT_MESSAGE');
  });

  it('a new idempotency token per attempt', async () => {
    started();
    await codebuildTarget.deploy(config(), ctx(codeEvent));
    await codebuildTarget.deploy(config(), ctx(codeEvent));
    const [a, b] = startBuildInputs().map((i) => i.idempotencyToken);
    expect(a).toMatch(UUID);
    expect(b).toMatch(UUID);
    expect(a).not.toBe(b);
  });

  it.each([
    [
      'a missing project',
      new ResourceNotFoundException({
        message: 'Project cannot be found: arn:aws:codebuild:eu-west-1:123456789012:project/web-build',
        $metadata: { httpStatusCode: 400 },
      }),
      false,
    ],
    [
      'invalid input',
      new InvalidInputException({ message: 'Invalid source version', $metadata: { httpStatusCode: 400 } }),
      false,
    ],
    [
      'the concurrent build limit',
      new AccountLimitExceededException({
        message: 'Cannot have more than 60 active builds for the account',
        $metadata: { httpStatusCode: 400 },
      }),
      true,
    ],
    [
      'access denied',
      Object.assign(new Error('not authorized to perform: codebuild:StartBuild'), {
        name: 'AccessDeniedException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
      }),
      false,
    ],
    [
      'throttling',
      Object.assign(new Error('Rate exceeded'), {
        name: 'ThrottlingException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
      }),
      true,
    ],
    ['a network error', Object.assign(new Error('connect ETIMEDOUT'), { code: 'ETIMEDOUT' }), true],
  ])('%s', async (_what, err, retryable) => {
    codebuild.on(StartBuildCommand).rejects(err);
    const r = await codebuildTarget.deploy(config(), ctx(codeEvent));
    expect(r).toMatchObject({ ok: false, retryable, details: { sourceVersion: SHA } });
    expect(r.error).toMatch(new RegExp(`^StartBuild: ${err.name}: `));
  });
});

describe('codebuild target: config', () => {
  it('accepts a name or an ARN and static variables', () => {
    const ok = {
      type: 'codebuild',
      projectName: 'web-build',
      region: 'eu-west-1',
      environment: { STAGE: 'prod', _X1: '' },
    };
    expect(codebuildTargetSchema.parse(ok)).toEqual(ok);
    expect(
      codebuildTargetSchema.safeParse({
        type: 'codebuild',
        projectName: 'arn:aws:codebuild:eu-west-1:123456789012:project/web-build',
      }).success,
    ).toBe(true);
  });

  it.each([
    ['a TRIGGERFISH_ variable', { environment: { TRIGGERFISH_TAG: 'x' } }],
    ['a CODEBUILD_ variable', { environment: { CODEBUILD_SRC_DIR: 'x' } }],
    ['a bad variable name', { environment: { 'MY-VAR': 'x' } }],
    ['too many variables', { environment: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`V${i}`, 'x'])) }],
    ['an unknown key', { buildspec: 'x' }],
    ['a bad project name', { projectName: '-web' }],
    ['a project ARN in another region', { projectName: 'arn:aws:codebuild:us-east-1:123456789012:project/web-build' }],
  ])('refuses %s', (_what, over) => {
    const base = { type: 'codebuild', projectName: 'web-build', region: 'eu-west-1' };
    expect(codebuildTargetSchema.safeParse({ ...base, ...over }).success).toBe(false);
  });

  it('redacts secret-looking variable values', () => {
    const c = config({ environment: { STAGE: 'prod', API_TOKEN: 't0p', DB_PASSWORD: 'pw', SIGNING_KEY: 'k' } });
    expect(codebuildTarget.redact(c)).toEqual({
      ...c,
      environment: { STAGE: 'prod', API_TOKEN: REDACTED, DB_PASSWORD: REDACTED, SIGNING_KEY: REDACTED },
    });
    expect(c.environment!.API_TOKEN).toBe('t0p');
  });
});
