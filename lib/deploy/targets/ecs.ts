/**
 * `ecs` deploy target: rolls an ECS service onto the event's image.
 *
 * - DescribeServices -> the service's task definition -> DescribeTaskDefinition (with its tags).
 * - The named container already runs that exact image string: UpdateService {forceNewDeployment: true} (a re-pushed
 *   mutable tag gets pulled again). Otherwise RegisterTaskDefinition with every registrable field of the old revision
 *   copied and only that container's image changed, then UpdateService {taskDefinition: <new revision>}.
 * - `waitForSteadyState`: polls DescribeServices until our deployment's rolloutState is COMPLETED (ok) or FAILED
 *   (not retried), bounded by `waitSeconds` and the attempt's budget. Running out of time is a failure that is NOT
 *   retried: the deployment keeps going in ECS, and a retry would only force yet another deployment.
 * - Nothing is sent for an unusable event (not an image, no tag/digest), a missing or inactive service, a service
 *   driven by CodeDeploy/an external controller, or a missing container.
 * - Errors: AccessDenied*, ClientException, InvalidParameter, ServiceNotFound, ClusterNotFound, ... are not retried;
 *   throttling, ServerException, network errors and timeouts are. Errors name AWS's error and message only (no
 *   credentials, nothing from the config but names).
 *
 */
import type {
  Deployment,
  ECSClient,
  RegisterTaskDefinitionCommandInput,
  Service,
  UpdateServiceCommandInput,
} from '@aws-sdk/client-ecs';
import * as z from 'zod';
import { verifySchema } from '../verify/schema';
import {
  awsErrorInfo,
  awsErrorText,
  Budget,
  checkArnRegions,
  clientCache,
  lazy,
  deployImage,
  isRetryableAwsError,
  regionSchema,
  sleep,
  targetRegion,
  type AwsErrorInfo,
} from './aws-common';
import type { AttemptResult, DeployTarget, VerifyPoll } from './types';

/** default total budget of one attempt (the deployer Lambda runs for 90 s) */
export const ECS_TIMEOUT_MS = 60_000;
/** the longest `waitSeconds` accepted */
export const ECS_MAX_WAIT_SECONDS = 600;
/** DescribeServices polling while waiting for steady state; tests set it to 0 */
export const ecsPolling = { intervalMs: 6_000 };

const NAME = /^[A-Za-z0-9_-]{1,255}$/;
const CLUSTER_ARN = /^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:cluster\/[A-Za-z0-9_-]{1,255}$/;
const SERVICE_ARN = /^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:service\/([A-Za-z0-9_-]{1,255}\/)?[A-Za-z0-9_-]{1,255}$/;

const nameOrArn = (arn: RegExp, what: string) =>
  z.string().refine((v) => NAME.test(v) || arn.test(v), `not an ECS ${what} name or ARN`);

export const ecsTargetSchema = z
  .strictObject({
    type: z.literal('ecs'),
    /** after the target accepted: what makes the deploy succeeded (lib/deploy/verify) */
    verify: verifySchema.optional(),
    cluster: nameOrArn(CLUSTER_ARN, 'cluster'),
    service: nameOrArn(SERVICE_ARN, 'service'),
    /** the container (by name) in the service's task definition that runs the image */
    container: z.string().regex(NAME, 'not an ECS container name'),
    /** default: the region in the cluster/service ARN, else the deployment's own region */
    region: regionSchema.optional(),
    /** deploy repo@digest instead of repo:tag when the event has a digest */
    pinDigest: z.boolean().optional(),
    /** wait for the deployment to finish (default false) */
    waitForSteadyState: z.boolean().optional(),
    /** the longest wait (default: what is left of the attempt's budget) */
    waitSeconds: z.number().int().min(1).max(ECS_MAX_WAIT_SECONDS).optional(),
  })
  .superRefine((t, ctx) => {
    checkArnRegions(
      t.region,
      [
        ['cluster', t.cluster],
        ['service', t.service],
      ],
      ctx,
    );
    if (t.waitSeconds !== undefined && !t.waitForSteadyState) {
      ctx.addIssue({ code: 'custom', path: ['waitSeconds'], message: 'waitSeconds needs waitForSteadyState: true' });
    }
  });

export type EcsTargetConfig = z.infer<typeof ecsTargetSchema>;

// the SDK is loaded on the first deploy of this kind, not in every cold start (bench: deployer/admin cold start)
const ecsSdk = /* @__PURE__ */ lazy(() => import('@aws-sdk/client-ecs'));
const ecsClient = /* @__PURE__ */ clientCache(
  async (region): Promise<ECSClient> => new (await ecsSdk()).ECSClient({ region }),
);

/**
 * Every field RegisterTaskDefinition accepts. Typed as a complete record of the request's keys, so an SDK update
 * that adds a registrable field fails the typecheck here instead of silently dropping it from new revisions.
 * Read-only fields of a described task definition (taskDefinitionArn, revision, status, requiresAttributes,
 * compatibilities, registeredAt, registeredBy, deregisteredAt, deleteRequestedAt) are not in it.
 */
const REGISTRABLE: Record<keyof RegisterTaskDefinitionCommandInput, true> = {
  family: true,
  taskRoleArn: true,
  executionRoleArn: true,
  networkMode: true,
  containerDefinitions: true,
  volumes: true,
  placementConstraints: true,
  requiresCompatibilities: true,
  cpu: true,
  memory: true,
  tags: true,
  pidMode: true,
  ipcMode: true,
  proxyConfiguration: true,
  inferenceAccelerators: true,
  ephemeralStorage: true,
  runtimePlatform: true,
  enableFaultInjection: true,
};

/** ECS refuses to register tags with the reserved aws: prefix. */
function registrableTags(tags: Array<{ key?: string; value?: string }> | undefined) {
  return (tags ?? []).filter((t) => t.key !== undefined && !t.key.toLowerCase().startsWith('aws:'));
}

const ECS_NOT_RETRYABLE = [
  'ClientException',
  'InvalidParameterException',
  'ServiceNotFoundException',
  'ServiceNotActiveException',
  'ClusterNotFoundException',
  'AccessDeniedException',
  'UnsupportedFeatureException',
  'PlatformUnknownException',
  'PlatformTaskDefinitionIncompatibilityException',
  'LimitExceededException',
  'ResourceNotFoundException',
] as const;
const ECS_RETRYABLE = [
  'ServerException',
  'ThrottlingException',
  'UpdateInProgressException',
  'ConflictException',
] as const;

function ecsRetryable(info: AwsErrorInfo): boolean {
  return isRetryableAwsError(info, { notRetryable: ECS_NOT_RETRYABLE, retryable: ECS_RETRYABLE });
}

type Details = {
  taskDefinition?: string;
  previousImage?: string;
  image?: string;
  action?: 'new-revision' | 'force-new-deployment';
  deploymentId?: string;
  rolloutState?: string;
};

function findService(services: Service[] | undefined): Service | undefined {
  return services?.[0];
}

/** Our deployment in a described service: by id when known, else the PRIMARY one. */
function findDeployment(service: Service, id: string | undefined): Deployment | undefined {
  const deployments = service.deployments ?? [];
  return id ? deployments.find((d) => d.id === id) : deployments.find((d) => d.status === 'PRIMARY');
}

/** Whether our deployment finished (COMPLETED, or steady without rolloutState), failed, or still runs. */
function judgeDeployment(service: Service, dep: Deployment | undefined, note: string): VerifyPoll {
  if (!dep) return { done: true, ok: false, message: `${note} is no longer listed (superseded by another deployment)` };
  if (dep.rolloutState === 'FAILED')
    return {
      done: true,
      ok: false,
      message: `deployment ${dep.id} failed: ${dep.rolloutStateReason ?? 'no reason given'}`,
    };
  if (dep.rolloutState === 'COMPLETED') return { done: true, ok: true, message: `deployment ${dep.id} completed` };
  if (dep.status !== 'PRIMARY')
    return { done: true, ok: false, message: `${note} was superseded by another deployment` };
  // no rolloutState (e.g. behind a Classic Load Balancer): steady when it is the only deployment and fully running
  if (
    dep.rolloutState === undefined &&
    (service.deployments ?? []).length === 1 &&
    dep.desiredCount !== undefined &&
    dep.runningCount === dep.desiredCount
  )
    return { done: true, ok: true, message: `${dep.runningCount} of ${dep.desiredCount} tasks running` };
  return {
    done: false,
    message: `${note} ${dep.rolloutState ?? 'in progress'}: ${dep.runningCount ?? 0} of ${dep.desiredCount ?? '?'} tasks running`,
  };
}

/** The config as admin answers show it (a function of its own, so the admin bundles leave out the deploy code). */
export function redactEcsTarget(config: EcsTargetConfig): EcsTargetConfig {
  // nothing secret: names, a region and switches
  return { ...config };
}

export const ecsTarget: DeployTarget<EcsTargetConfig> = {
  type: 'ecs',
  schema: ecsTargetSchema,

  async deploy(config, ctx) {
    const budget = new Budget(ctx.timeoutMs ?? ECS_TIMEOUT_MS);
    const details: Details = {};
    const done = (r: Omit<AttemptResult, 'durationMs' | 'details'>): AttemptResult => ({
      ...r,
      durationMs: budget.elapsed(),
      details: { ...details },
    });
    const awsFailure = (operation: string, err: unknown): AttemptResult => {
      const info = awsErrorInfo(err);
      return done({
        ok: false,
        retryable: ecsRetryable(info),
        statusCode: info.httpStatus,
        error: awsErrorText(operation, info),
      });
    };

    const chosen = deployImage(ctx.event, config.pinDigest, 'ecs');
    if (chosen.error !== undefined) return done({ ok: false, retryable: false, error: chosen.error });
    const image = chosen.image;
    details.image = image;

    const { cluster, service: serviceName, container } = config;
    const client = await ecsClient(targetRegion(config.region, config.cluster, config.service));

    // 1. the service and its current task definition
    let service: Service | undefined;
    try {
      const out = await client.send(
        new (await ecsSdk()).DescribeServicesCommand({ cluster, services: [serviceName] }),
        budget.call(),
      );
      service = findService(out.services);
      if (!service) {
        const reason = out.failures?.[0]?.reason;
        return done({
          ok: false,
          retryable: false,
          error: `service ${serviceName} not found in cluster ${cluster}${reason ? ` (${reason})` : ''}`,
        });
      }
    } catch (err) {
      return awsFailure('DescribeServices', err);
    }
    if (service.status !== 'ACTIVE') {
      return done({
        ok: false,
        retryable: false,
        error: `service ${serviceName} is ${service.status ?? 'not active'}`,
      });
    }
    const controller = service.deploymentController?.type;
    if (controller && controller !== 'ECS') {
      return done({
        ok: false,
        retryable: false,
        error: `service ${serviceName} uses the ${controller} deployment controller; the ecs target drives rolling (ECS) deployments only`,
      });
    }
    const currentArn = service.taskDefinition;
    if (!currentArn)
      return done({ ok: false, retryable: false, error: `service ${serviceName} has no task definition` });

    let described;
    try {
      described = await client.send(
        new (await ecsSdk()).DescribeTaskDefinitionCommand({ taskDefinition: currentArn, include: ['TAGS'] }),
        budget.call(),
      );
    } catch (err) {
      return awsFailure('DescribeTaskDefinition', err);
    }
    const td = described.taskDefinition;
    if (!td)
      return done({ ok: false, retryable: true, error: `DescribeTaskDefinition: ${currentArn} was not returned` });
    const containers = td.containerDefinitions ?? [];
    const index = containers.findIndex((c) => c.name === container);
    if (index < 0) {
      const names = containers.map((c) => c.name).join(', ');
      return done({
        ok: false,
        retryable: false,
        error: `container ${container} is not in task definition ${currentArn} (it has: ${names || 'none'})`,
      });
    }
    details.previousImage = containers[index].image;

    // 2. a new revision (or the same one again), then the service update
    let update: UpdateServiceCommandInput;
    if (containers[index].image === image) {
      details.action = 'force-new-deployment';
      details.taskDefinition = currentArn;
      update = { cluster, service: serviceName, forceNewDeployment: true };
    } else {
      details.action = 'new-revision';
      const input: Record<string, unknown> = {};
      for (const key of Object.keys(REGISTRABLE) as Array<keyof RegisterTaskDefinitionCommandInput>) {
        if (key === 'tags' || key === 'containerDefinitions') continue;
        const value = (td as Record<string, unknown>)[key];
        if (value !== undefined) input[key] = value;
      }
      input.containerDefinitions = containers.map((c, i) => (i === index ? { ...c, image } : c));
      const tags = registrableTags(described.tags);
      if (tags.length) input.tags = tags;
      let newArn: string | undefined;
      try {
        const out = await client.send(
          new (await ecsSdk()).RegisterTaskDefinitionCommand(input as unknown as RegisterTaskDefinitionCommandInput),
          budget.call(),
        );
        newArn = out.taskDefinition?.taskDefinitionArn;
      } catch (err) {
        return awsFailure('RegisterTaskDefinition', err);
      }
      if (!newArn)
        return done({ ok: false, retryable: true, error: 'RegisterTaskDefinition returned no task definition ARN' });
      details.taskDefinition = newArn;
      update = { cluster, service: serviceName, taskDefinition: newArn, forceNewDeployment: false };
    }

    let updated: Service | undefined;
    try {
      updated = (await client.send(new (await ecsSdk()).UpdateServiceCommand(update), budget.call())).service;
    } catch (err) {
      return awsFailure('UpdateService', err);
    }
    const started = updated ? findDeployment(updated, undefined) : undefined;
    details.deploymentId = started?.id;
    details.rolloutState = started?.rolloutState;

    if (!config.waitForSteadyState) return done({ ok: true, retryable: false });

    // 3. wait for the rollout
    const waitMs = (config.waitSeconds ?? ECS_MAX_WAIT_SECONDS) * 1000;
    const waitStart = budget.elapsed();
    const waitLeft = () => Math.min(waitStart + waitMs - budget.elapsed(), budget.remaining());
    const startedNote = `deployment ${details.deploymentId ?? '(unknown id)'} started`;
    let lastProblem: string | undefined;
    for (;;) {
      const left = waitLeft();
      if (left <= 0) {
        const state = details.rolloutState ?? 'not finished';
        const why = lastProblem ? `; last poll: ${lastProblem}` : '';
        return done({
          ok: false,
          retryable: false,
          error: `${startedNote} but was still ${state} after ${Math.round((budget.elapsed() - waitStart) / 1000)} s of waiting${why}`,
        });
      }
      await sleep(Math.min(ecsPolling.intervalMs, left));
      if (waitLeft() <= 0) continue;
      let now: Service | undefined;
      try {
        now = findService(
          (
            await client.send(
              new (await ecsSdk()).DescribeServicesCommand({ cluster, services: [serviceName] }),
              budget.call(),
            )
          ).services,
        );
      } catch (err) {
        const info = awsErrorInfo(err);
        lastProblem = awsErrorText('DescribeServices', info);
        if (ecsRetryable(info)) continue;
        return done({
          ok: false,
          retryable: false,
          statusCode: info.httpStatus,
          error: `${startedNote}; ${lastProblem}`,
        });
      }
      if (!now)
        return done({ ok: false, retryable: false, error: `${startedNote} but service ${serviceName} disappeared` });
      const dep = findDeployment(now, details.deploymentId);
      details.deploymentId ??= dep?.id;
      details.rolloutState = dep?.rolloutState;
      const judged = judgeDeployment(now, dep, startedNote);
      if (judged.done)
        return done(
          judged.ok ? { ok: true, retryable: false } : { ok: false, retryable: false, error: judged.message },
        );
    }
  },

  /**
   * The verification phase (the default for ecs: a rollout no longer has to finish inside one attempt): one
   * DescribeServices per poll, judged as the in-attempt wait judges it. With waitForSteadyState the attempt
   * waited already: nothing more to look at.
   */
  async verify(config, ctx): Promise<VerifyPoll> {
    if (config.waitForSteadyState) return { done: true, ok: true, message: 'the attempt waited for steady state' };
    const deploymentId = typeof ctx.details?.deploymentId === 'string' ? ctx.details.deploymentId : undefined;
    const note = `deployment ${deploymentId ?? '(unknown id)'}`;
    const budget = new Budget(ECS_TIMEOUT_MS);
    let now: Service | undefined;
    try {
      const client = await ecsClient(targetRegion(config.region, config.cluster, config.service));
      const out = await client.send(
        new (await ecsSdk()).DescribeServicesCommand({ cluster: config.cluster, services: [config.service] }),
        budget.call(),
      );
      now = findService(out.services);
    } catch (err) {
      const info = awsErrorInfo(err);
      return { done: !ecsRetryable(info), ok: false, message: `${note}: ${awsErrorText('DescribeServices', info)}` };
    }
    if (!now) return { done: true, ok: false, message: `${note}: service ${config.service} disappeared` };
    return judgeDeployment(now, findDeployment(now, deploymentId), note);
  },

  redact: redactEcsTarget,
};
