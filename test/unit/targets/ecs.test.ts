import {
  AccessDeniedException,
  ClientException,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  ServerException,
  UpdateServiceCommand,
  type Deployment,
  type Service,
  type TaskDefinition,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import type { NormalizedEvent } from '../../../lib/core/event';
import { ecsPolling, ecsTarget, ecsTargetSchema, type EcsTargetConfig } from '../../../lib/deploy/targets/ecs';
import type { DeployContext } from '../../../lib/deploy/targets/types';

const ecs = mockClient(ECSClient);

const REGISTRY = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
const OLD_IMAGE = `${REGISTRY}/acme/web:1.3.0`;
const NEW_IMAGE = `${REGISTRY}/acme/web:1.4.0`;
const DIGEST = 'sha256:4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945';
const TD_ARN = 'arn:aws:ecs:eu-west-1:123456789012:task-definition/web:41';
const NEW_TD_ARN = 'arn:aws:ecs:eu-west-1:123456789012:task-definition/web:42';
const SIDECAR_IMAGE = 'public.ecr.aws/aws-observability/aws-otel-collector:v0.40.0';

const event: NormalizedEvent = {
  provider: 'ecr',
  kind: 'image',
  action: 'push',
  registry: REGISTRY,
  namespace: 'acme',
  repository: 'web',
  repoFullName: 'acme/web',
  image: NEW_IMAGE,
  tag: '1.4.0',
  digest: DIGEST,
};

const ctx = (over: Partial<DeployContext> = {}, ev: Partial<NormalizedEvent> = {}): DeployContext => ({
  triggerId: 'trg_1',
  logId: 'log_1',
  event: { ...event, ...ev },
  allowPrivateTargets: false,
  ...over,
});

const config = (over: Partial<EcsTargetConfig> = {}): EcsTargetConfig => ({
  type: 'ecs',
  cluster: 'prod',
  service: 'web',
  container: 'app',
  region: 'eu-west-1',
  ...over,
});

/** every field DescribeTaskDefinition can answer, read-only ones included */
const taskDefinition = (appImage = OLD_IMAGE): TaskDefinition => ({
  taskDefinitionArn: TD_ARN,
  family: 'web',
  taskRoleArn: 'arn:aws:iam::123456789012:role/web-task',
  executionRoleArn: 'arn:aws:iam::123456789012:role/web-exec',
  networkMode: 'awsvpc',
  revision: 41,
  containerDefinitions: [
    {
      name: 'app',
      image: appImage,
      cpu: 256,
      memory: 512,
      essential: true,
      portMappings: [{ containerPort: 8080, hostPort: 8080, protocol: 'tcp' }],
      environment: [{ name: 'MODE', value: 'prod' }],
      secrets: [{ name: 'DB_URL', valueFrom: 'arn:aws:ssm:eu-west-1:123456789012:parameter/web/db' }],
      logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': '/ecs/web' } },
      dependsOn: [{ containerName: 'sidecar', condition: 'START' }],
    },
    { name: 'sidecar', image: SIDECAR_IMAGE, essential: false, mountPoints: [], volumesFrom: [] },
  ],
  volumes: [{ name: 'data', efsVolumeConfiguration: { fileSystemId: 'fs-12345678' } }],
  status: 'ACTIVE',
  requiresAttributes: [{ name: 'com.amazonaws.ecs.capability.task-iam-role' }],
  placementConstraints: [{ type: 'memberOf', expression: 'attribute:ecs.os-type == linux' }],
  compatibilities: ['EC2', 'FARGATE'],
  runtimePlatform: { cpuArchitecture: 'ARM64', operatingSystemFamily: 'LINUX' },
  requiresCompatibilities: ['FARGATE'],
  cpu: '512',
  memory: '1024',
  inferenceAccelerators: [{ deviceName: 'gpu0', deviceType: 'eia2.medium' }],
  pidMode: 'task',
  ipcMode: 'task',
  proxyConfiguration: { type: 'APPMESH', containerName: 'sidecar', properties: [{ name: 'AppPorts', value: '8080' }] },
  registeredAt: new Date('2025-01-02T03:04:05Z'),
  deregisteredAt: new Date('2025-02-02T03:04:05Z'),
  deleteRequestedAt: new Date('2025-03-02T03:04:05Z'),
  registeredBy: 'arn:aws:sts::123456789012:assumed-role/ci/session',
  ephemeralStorage: { sizeInGiB: 30 },
  enableFaultInjection: true,
});

/** what RegisterTaskDefinition must receive for taskDefinition(): written out, not derived */
const expectedRegister = (image: string) => ({
  family: 'web',
  taskRoleArn: 'arn:aws:iam::123456789012:role/web-task',
  executionRoleArn: 'arn:aws:iam::123456789012:role/web-exec',
  networkMode: 'awsvpc',
  containerDefinitions: [
    {
      name: 'app',
      image,
      cpu: 256,
      memory: 512,
      essential: true,
      portMappings: [{ containerPort: 8080, hostPort: 8080, protocol: 'tcp' }],
      environment: [{ name: 'MODE', value: 'prod' }],
      secrets: [{ name: 'DB_URL', valueFrom: 'arn:aws:ssm:eu-west-1:123456789012:parameter/web/db' }],
      logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': '/ecs/web' } },
      dependsOn: [{ containerName: 'sidecar', condition: 'START' }],
    },
    { name: 'sidecar', image: SIDECAR_IMAGE, essential: false, mountPoints: [], volumesFrom: [] },
  ],
  volumes: [{ name: 'data', efsVolumeConfiguration: { fileSystemId: 'fs-12345678' } }],
  placementConstraints: [{ type: 'memberOf', expression: 'attribute:ecs.os-type == linux' }],
  requiresCompatibilities: ['FARGATE'],
  cpu: '512',
  memory: '1024',
  tags: [
    { key: 'team', value: 'web' },
    { key: 'cost-center', value: '42' },
  ],
  pidMode: 'task',
  ipcMode: 'task',
  proxyConfiguration: { type: 'APPMESH', containerName: 'sidecar', properties: [{ name: 'AppPorts', value: '8080' }] },
  inferenceAccelerators: [{ deviceName: 'gpu0', deviceType: 'eia2.medium' }],
  ephemeralStorage: { sizeInGiB: 30 },
  runtimePlatform: { cpuArchitecture: 'ARM64', operatingSystemFamily: 'LINUX' },
  enableFaultInjection: true,
});

const service = (over: Partial<Service> = {}): Service => ({
  serviceName: 'web',
  serviceArn: 'arn:aws:ecs:eu-west-1:123456789012:service/prod/web',
  status: 'ACTIVE',
  taskDefinition: TD_ARN,
  deploymentController: { type: 'ECS' },
  deployments: [{ id: 'ecs-svc/1111', status: 'PRIMARY', taskDefinition: TD_ARN, rolloutState: 'COMPLETED' }],
  ...over,
});
const deployment = (over: Partial<Deployment>): Deployment => ({
  id: 'ecs-svc/2222',
  status: 'PRIMARY',
  taskDefinition: NEW_TD_ARN,
  desiredCount: 2,
  runningCount: 0,
  rolloutState: 'IN_PROGRESS',
  ...over,
});
const withDeployments = (...deployments: Deployment[]) => ({
  services: [service({ taskDefinition: NEW_TD_ARN, deployments })],
});

function happyPath(appImage = OLD_IMAGE) {
  ecs.on(DescribeServicesCommand).resolves({ services: [service()], failures: [] });
  ecs.on(DescribeTaskDefinitionCommand).resolves({
    taskDefinition: taskDefinition(appImage),
    tags: [
      { key: 'team', value: 'web' },
      { key: 'aws:cloudformation:stack-name', value: 'web-stack' },
      { key: 'cost-center', value: '42' },
    ],
  });
  ecs
    .on(RegisterTaskDefinitionCommand)
    .resolves({ taskDefinition: { ...taskDefinition(), taskDefinitionArn: NEW_TD_ARN, revision: 42 } });
  ecs.on(UpdateServiceCommand).resolves({
    service: service({
      taskDefinition: NEW_TD_ARN,
      deployments: [
        deployment({}),
        { id: 'ecs-svc/1111', status: 'ACTIVE', taskDefinition: TD_ARN, rolloutState: 'COMPLETED' },
      ],
    }),
  });
}

/** every command sent, in order, as [name, input] */
function sent(): Array<[string, unknown]> {
  return ecs.calls().map((c) => [(c.args[0] as object).constructor.name, (c.args[0] as { input: unknown }).input]);
}
const names = () => sent().map(([n]) => n);

function awsError(
  name: string,
  message: string,
  status: number,
  fault: 'client' | 'server' = status >= 500 ? 'server' : 'client',
) {
  return Object.assign(new Error(message), { name, $fault: fault, $metadata: { httpStatusCode: status } });
}

beforeEach(() => {
  ecs.reset();
  ecsPolling.intervalMs = 0;
});

describe('ecs target: a new image', () => {
  it('registers a revision copying every registrable field, then points the service at it', async () => {
    happyPath();
    const r = await ecsTarget.deploy(config(), ctx());
    expect(r).toMatchObject({ ok: true, retryable: false });
    expect(r.error).toBeUndefined();
    expect(typeof r.durationMs).toBe('number');
    expect(r.details).toEqual({
      taskDefinition: NEW_TD_ARN,
      previousImage: OLD_IMAGE,
      image: NEW_IMAGE,
      action: 'new-revision',
      deploymentId: 'ecs-svc/2222',
      rolloutState: 'IN_PROGRESS',
    });
    expect(sent()).toEqual([
      ['DescribeServicesCommand', { cluster: 'prod', services: ['web'] }],
      ['DescribeTaskDefinitionCommand', { taskDefinition: TD_ARN, include: ['TAGS'] }],
      ['RegisterTaskDefinitionCommand', expectedRegister(NEW_IMAGE)],
      [
        'UpdateServiceCommand',
        { cluster: 'prod', service: 'web', taskDefinition: NEW_TD_ARN, forceNewDeployment: false },
      ],
    ]);
  });

  it('never sends the read-only fields, and leaves the other containers as they were', async () => {
    happyPath();
    await ecsTarget.deploy(config(), ctx());
    const input = ecs.commandCalls(RegisterTaskDefinitionCommand)[0].args[0].input as unknown as Record<
      string,
      unknown
    >;
    for (const field of [
      'taskDefinitionArn',
      'revision',
      'status',
      'requiresAttributes',
      'compatibilities',
      'registeredAt',
      'registeredBy',
      'deregisteredAt',
      'deleteRequestedAt',
    ]) {
      expect(input).not.toHaveProperty(field);
    }
    const [app, sidecar] = input.containerDefinitions as Array<{ name: string; image: string }>;
    expect(app.image).toBe(NEW_IMAGE);
    expect(sidecar).toEqual(taskDefinition().containerDefinitions![1]);
  });

  it('registers no tags when the old revision has none (only aws: ones)', async () => {
    happyPath();
    ecs.on(DescribeTaskDefinitionCommand).resolves({
      taskDefinition: taskDefinition(),
      tags: [{ key: 'aws:cloudformation:stack-name', value: 'web-stack' }],
    });
    await ecsTarget.deploy(config(), ctx());
    const input = ecs.commandCalls(RegisterTaskDefinitionCommand)[0].args[0].input;
    expect(input).not.toHaveProperty('tags');
    const { tags: _tags, ...rest } = expectedRegister(NEW_IMAGE);
    expect(input).toEqual(rest);
  });

  it('with pinDigest deploys repo@digest', async () => {
    happyPath();
    const r = await ecsTarget.deploy(config({ pinDigest: true }), ctx());
    expect(r.ok).toBe(true);
    const pinned = `${REGISTRY}/acme/web@${DIGEST}`;
    expect(r.details?.image).toBe(pinned);
    expect(ecs.commandCalls(RegisterTaskDefinitionCommand)[0].args[0].input).toEqual(expectedRegister(pinned));
  });

  it('without pinDigest deploys the tag; with no tag, the digest', async () => {
    happyPath();
    expect((await ecsTarget.deploy(config({ pinDigest: false }), ctx())).details?.image).toBe(NEW_IMAGE);
    ecs.resetHistory();
    const r = await ecsTarget.deploy(config(), ctx({}, { tag: undefined }));
    expect(r.details?.image).toBe(`${REGISTRY}/acme/web@${DIGEST}`);
    expect(ecs.commandCalls(RegisterTaskDefinitionCommand)[0].args[0].input).toEqual(
      expectedRegister(`${REGISTRY}/acme/web@${DIGEST}`),
    );
  });

  it('uses the region from the config, else from the cluster ARN', async () => {
    happyPath();
    await ecsTarget.deploy(config({ region: 'ap-southeast-2' }), ctx());
    expect(await ecs.call(0).thisValue.config.region()).toBe('ap-southeast-2');
    ecs.resetHistory();
    await ecsTarget.deploy(
      config({ region: undefined, cluster: 'arn:aws:ecs:ca-central-1:123456789012:cluster/prod' }),
      ctx(),
    );
    expect(await ecs.call(0).thisValue.config.region()).toBe('ca-central-1');
    expect(ecs.call(0).args[0].input).toEqual({
      cluster: 'arn:aws:ecs:ca-central-1:123456789012:cluster/prod',
      services: ['web'],
    });
  });
});

describe('ecs target: the same image', () => {
  it('only forces a new deployment', async () => {
    happyPath(NEW_IMAGE);
    ecs
      .on(UpdateServiceCommand)
      .resolves({ service: service({ deployments: [deployment({ id: 'ecs-svc/3333', taskDefinition: TD_ARN })] }) });
    const r = await ecsTarget.deploy(config(), ctx());
    expect(r).toMatchObject({ ok: true, retryable: false });
    expect(r.details).toEqual({
      taskDefinition: TD_ARN,
      previousImage: NEW_IMAGE,
      image: NEW_IMAGE,
      action: 'force-new-deployment',
      deploymentId: 'ecs-svc/3333',
      rolloutState: 'IN_PROGRESS',
    });
    expect(sent()).toEqual([
      ['DescribeServicesCommand', { cluster: 'prod', services: ['web'] }],
      ['DescribeTaskDefinitionCommand', { taskDefinition: TD_ARN, include: ['TAGS'] }],
      ['UpdateServiceCommand', { cluster: 'prod', service: 'web', forceNewDeployment: true }],
    ]);
  });
});

describe('ecs target: refusals (nothing registered or updated)', () => {
  it('a container the task definition does not have', async () => {
    happyPath();
    const r = await ecsTarget.deploy(config({ container: 'worker' }), ctx());
    expect(r).toMatchObject({ ok: false, retryable: false });
    expect(r.error).toContain('container worker is not in task definition');
    expect(r.error).toContain('app, sidecar');
    expect(names()).toEqual(['DescribeServicesCommand', 'DescribeTaskDefinitionCommand']);
  });

  it('a missing service', async () => {
    ecs.on(DescribeServicesCommand).resolves({
      services: [],
      failures: [{ arn: 'arn:aws:ecs:eu-west-1:123456789012:service/prod/web', reason: 'MISSING' }],
    });
    const r = await ecsTarget.deploy(config(), ctx());
    expect(r).toMatchObject({ ok: false, retryable: false });
    expect(r.error).toBe('service web not found in cluster prod (MISSING)');
    expect(names()).toEqual(['DescribeServicesCommand']);
  });

  it('an INACTIVE service', async () => {
    ecs.on(DescribeServicesCommand).resolves({ services: [service({ status: 'INACTIVE' })] });
    const r = await ecsTarget.deploy(config(), ctx());
    expect(r).toMatchObject({ ok: false, retryable: false, error: 'service web is INACTIVE' });
    expect(names()).toEqual(['DescribeServicesCommand']);
  });

  it('a service deployed by CodeDeploy', async () => {
    ecs
      .on(DescribeServicesCommand)
      .resolves({ services: [service({ deploymentController: { type: 'CODE_DEPLOY' } })] });
    const r = await ecsTarget.deploy(config(), ctx());
    expect(r).toMatchObject({ ok: false, retryable: false });
    expect(r.error).toContain('CODE_DEPLOY');
    expect(names()).toEqual(['DescribeServicesCommand']);
  });

  it('a cluster that does not exist (ClusterNotFoundException)', async () => {
    ecs.on(DescribeServicesCommand).rejects(awsError('ClusterNotFoundException', 'Cluster not found.', 400));
    const r = await ecsTarget.deploy(config(), ctx());
    expect(r).toMatchObject({ ok: false, retryable: false, statusCode: 400 });
    expect(r.error).toBe('DescribeServices: ClusterNotFoundException: Cluster not found.');
  });

  it.each([
    ['no tag and no digest', { tag: undefined, digest: undefined }, 'no tag or digest'],
    ['a code event', { kind: 'code' as const, registry: undefined }, 'this is a code event'],
    ['a delete event', { action: 'delete' as const }, 'delete event'],
  ])('%s: fails without calling AWS', async (_what, ev, message) => {
    happyPath();
    const r = await ecsTarget.deploy(config(), ctx({}, ev));
    expect(r).toMatchObject({ ok: false, retryable: false });
    expect(r.error).toContain(message);
    expect(ecs.calls()).toHaveLength(0);
  });
});

describe('ecs target: AWS errors', () => {
  it('throttling is retryable', async () => {
    ecs.on(DescribeServicesCommand).rejects(awsError('ThrottlingException', 'Rate exceeded', 400));
    const r = await ecsTarget.deploy(config(), ctx());
    expect(r).toMatchObject({
      ok: false,
      retryable: true,
      error: 'DescribeServices: ThrottlingException: Rate exceeded',
    });
  });

  it('ServerException on UpdateService is retryable', async () => {
    happyPath();
    ecs
      .on(UpdateServiceCommand)
      .rejects(new ServerException({ message: 'Service unavailable', $metadata: { httpStatusCode: 500 } }));
    const r = await ecsTarget.deploy(config(), ctx());
    expect(r).toMatchObject({
      ok: false,
      retryable: true,
      error: 'UpdateService: ServerException: Service unavailable',
    });
    expect(r.details?.taskDefinition).toBe(NEW_TD_ARN);
  });

  it('a network error is retryable', async () => {
    ecs.on(DescribeServicesCommand).rejects(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    const r = await ecsTarget.deploy(config(), ctx());
    expect(r).toMatchObject({
      ok: false,
      retryable: true,
      error: 'DescribeServices: Error: socket hang up (ECONNRESET)',
    });
  });

  it('AccessDenied on RegisterTaskDefinition is not retryable and updates nothing', async () => {
    happyPath();
    const message =
      'User: arn:aws:sts::123456789012:assumed-role/deployer/x is not authorized to perform: iam:PassRole';
    ecs
      .on(RegisterTaskDefinitionCommand)
      .rejects(new AccessDeniedException({ message, $metadata: { httpStatusCode: 400 } }));
    const r = await ecsTarget.deploy(config(), ctx());
    expect(r).toMatchObject({
      ok: false,
      retryable: false,
      error: `RegisterTaskDefinition: AccessDeniedException: ${message}`,
    });
    expect(names()).not.toContain('UpdateServiceCommand');
  });

  it('ClientException and InvalidParameterException are not retryable', async () => {
    happyPath();
    ecs
      .on(RegisterTaskDefinitionCommand)
      .rejects(new ClientException({ message: 'Invalid cpu', $metadata: { httpStatusCode: 400 } }));
    expect(await ecsTarget.deploy(config(), ctx())).toMatchObject({ ok: false, retryable: false });
    ecs.on(RegisterTaskDefinitionCommand).resolves({ taskDefinition: { taskDefinitionArn: NEW_TD_ARN } });
    ecs.on(UpdateServiceCommand).rejects(awsError('InvalidParameterException', 'bad', 400));
    expect(await ecsTarget.deploy(config(), ctx())).toMatchObject({
      ok: false,
      retryable: false,
      error: 'UpdateService: InvalidParameterException: bad',
    });
  });
});

describe('ecs target: waitForSteadyState', () => {
  it('polls until the deployment is COMPLETED', async () => {
    happyPath();
    ecs
      .on(DescribeServicesCommand)
      .resolvesOnce({ services: [service()] })
      .resolvesOnce(withDeployments(deployment({ runningCount: 1 }), { id: 'ecs-svc/1111', status: 'ACTIVE' }))
      .rejectsOnce(awsError('ThrottlingException', 'Rate exceeded', 400))
      .resolvesOnce(withDeployments(deployment({ runningCount: 2, rolloutState: 'COMPLETED' })));
    const r = await ecsTarget.deploy(config({ waitForSteadyState: true, waitSeconds: 30 }), ctx());
    expect(r).toMatchObject({ ok: true, retryable: false });
    expect(r.details).toMatchObject({
      deploymentId: 'ecs-svc/2222',
      rolloutState: 'COMPLETED',
      action: 'new-revision',
    });
    expect(names()).toEqual([
      'DescribeServicesCommand',
      'DescribeTaskDefinitionCommand',
      'RegisterTaskDefinitionCommand',
      'UpdateServiceCommand',
      'DescribeServicesCommand',
      'DescribeServicesCommand',
      'DescribeServicesCommand',
    ]);
    for (const call of ecs.commandCalls(DescribeServicesCommand)) {
      expect(call.args[0].input).toEqual({ cluster: 'prod', services: ['web'] });
    }
  });

  it('FAILED: not retryable, with the rollout reason', async () => {
    happyPath();
    const reason = 'ECS deployment circuit breaker: tasks failed to start.';
    ecs
      .on(DescribeServicesCommand)
      .resolvesOnce({ services: [service()] })
      .resolves(
        withDeployments(
          { id: 'ecs-svc/1111', status: 'PRIMARY', taskDefinition: TD_ARN, rolloutState: 'IN_PROGRESS' },
          deployment({ status: 'ACTIVE', rolloutState: 'FAILED', rolloutStateReason: reason }),
        ),
      );
    const r = await ecsTarget.deploy(config({ waitForSteadyState: true }), ctx());
    expect(r).toMatchObject({ ok: false, retryable: false, error: `deployment ecs-svc/2222 failed: ${reason}` });
    expect(r.details).toMatchObject({ rolloutState: 'FAILED', taskDefinition: NEW_TD_ARN });
  });

  it('a deployment superseded by another one is a failure', async () => {
    happyPath();
    ecs
      .on(DescribeServicesCommand)
      .resolvesOnce({ services: [service()] })
      .resolves(withDeployments(deployment({ id: 'ecs-svc/9999' }), deployment({ status: 'ACTIVE' })));
    const r = await ecsTarget.deploy(config({ waitForSteadyState: true }), ctx());
    expect(r).toMatchObject({ ok: false, retryable: false });
    expect(r.error).toContain('superseded');
  });

  it('stops waiting at the end of the budget (not retried: ECS keeps deploying)', async () => {
    happyPath();
    ecsPolling.intervalMs = 5;
    ecs
      .on(DescribeServicesCommand)
      .resolvesOnce({ services: [service()] })
      .resolves(withDeployments(deployment({})));
    const r = await ecsTarget.deploy(config({ waitForSteadyState: true, waitSeconds: 600 }), ctx({ timeoutMs: 100 }));
    expect(r).toMatchObject({ ok: false, retryable: false });
    expect(r.error).toMatch(/^deployment ecs-svc\/2222 started but was still IN_PROGRESS after \d+ s of waiting$/);
    expect(ecs.commandCalls(DescribeServicesCommand).length).toBeGreaterThan(1);
  });

  it('without waitForSteadyState does not poll', async () => {
    happyPath();
    await ecsTarget.deploy(config({ waitForSteadyState: false }), ctx());
    expect(ecs.commandCalls(DescribeServicesCommand)).toHaveLength(1);
  });
});

describe('ecs target: the verification phase (the default wait)', () => {
  const verifyCtx = { triggerId: 'trg_1', logId: 'log_1', event, allowPrivateTargets: false };
  const details = { deploymentId: 'ecs-svc/2222' };
  it('is not done while our deployment runs, done when COMPLETED, failed when FAILED or replaced', async () => {
    ecs
      .on(DescribeServicesCommand)
      .resolvesOnce(withDeployments(deployment({ runningCount: 1 }), { id: 'ecs-svc/1111', status: 'ACTIVE' }))
      .resolvesOnce(withDeployments(deployment({ runningCount: 2, rolloutState: 'COMPLETED' })))
      .resolvesOnce(
        withDeployments(deployment({ rolloutState: 'FAILED', rolloutStateReason: 'tasks failed to start' })),
      )
      .resolvesOnce(withDeployments(deployment({ id: 'ecs-svc/3333' })));
    const poll = () => ecsTarget.verify!(config(), { ...verifyCtx, details });
    expect(await poll()).toEqual({ done: false, message: 'deployment ecs-svc/2222 IN_PROGRESS: 1 of 2 tasks running' });
    expect(await poll()).toMatchObject({ done: true, ok: true });
    expect(await poll()).toEqual({
      done: true,
      ok: false,
      message: 'deployment ecs-svc/2222 failed: tasks failed to start',
    });
    expect(await poll()).toMatchObject({ done: true, ok: false, message: expect.stringMatching(/no longer listed/) });
  });
  it('a throttled DescribeServices is "not yet"; with waitForSteadyState the attempt waited already', async () => {
    ecs.on(DescribeServicesCommand).rejects(awsError('ThrottlingException', 'Rate exceeded', 400));
    expect(await ecsTarget.verify!(config(), { ...verifyCtx, details })).toMatchObject({ done: false });
    expect(await ecsTarget.verify!(config({ waitForSteadyState: true }), { ...verifyCtx, details })).toMatchObject({
      done: true,
      ok: true,
    });
  });
});

describe('ecs target: config', () => {
  it('accepts a full config and names or ARNs', () => {
    const ok = {
      type: 'ecs',
      cluster: 'arn:aws:ecs:eu-west-1:123456789012:cluster/prod',
      service: 'arn:aws:ecs:eu-west-1:123456789012:service/prod/web',
      container: 'app',
      region: 'eu-west-1',
      pinDigest: true,
      waitForSteadyState: true,
      waitSeconds: 600,
    };
    expect(ecsTargetSchema.parse(ok)).toEqual(ok);
    expect(ecsTargetSchema.safeParse({ type: 'ecs', cluster: 'prod', service: 'web', container: 'app' }).success).toBe(
      true,
    );
  });

  it.each([
    ['an unknown key', { extra: 1 }],
    ['waitSeconds over 600', { waitForSteadyState: true, waitSeconds: 601 }],
    ['waitSeconds without waiting', { waitSeconds: 60 }],
    ['a bad region', { region: 'eu-west-1.evil.example' }],
    ['a cluster ARN in another region', { cluster: 'arn:aws:ecs:us-east-1:123456789012:cluster/prod' }],
    ['a bad container name', { container: 'app web' }],
    ['a bad cluster name', { cluster: 'prod/x' }],
  ])('refuses %s', (_what, over) => {
    const base = { type: 'ecs', cluster: 'prod', service: 'web', container: 'app', region: 'eu-west-1' };
    expect(ecsTargetSchema.safeParse({ ...base, ...over }).success).toBe(false);
  });

  it('redact returns the config unchanged (nothing secret)', () => {
    expect(ecsTarget.redact(config({ pinDigest: true }))).toEqual(config({ pinDigest: true }));
  });
});
