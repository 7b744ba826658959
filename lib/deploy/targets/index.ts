/**
 * The deploy-target registry. A new target type is one new file exporting a DeployTarget, its zod schema (a
 * z.object with a `type` literal) and its redact function, added to `targetSchema`, `redactors` and `targets` below
 * (the type checker refuses a registry that misses one).
 *
 * Redaction has its own list so that what the admin functions use (schemas, redaction) never refers to a target's
 * deploy code: esbuild then leaves the deploy code and the SDKs it loads on first use (the ECS, Lambda, CodeBuild
 * and Secrets Manager clients, isomorphic-git, Octokit, gitbeaker) out of the admin bundles.
 */
import * as z from 'zod';
import { codebuildTarget, codebuildTargetSchema, redactCodebuildTarget } from './codebuild';
import { ecsTarget, ecsTargetSchema, redactEcsTarget } from './ecs';
import { gitTarget, gitTargetSchema, redactGitTarget } from './git';
import { httpTarget, httpTargetSchema, redactHttpTarget } from './http';
import { kubernetesTarget, kubernetesTargetSchema, redactKubernetesTarget } from './kubernetes';
import { lambdaTarget, lambdaTargetSchema, redactLambdaTarget } from './lambda';
import type { AttemptResult, DeployContext, DeployTarget } from './types';

export type { AttemptResult, DeployContext, DeployTarget } from './types';
export { REDACTED } from './types';
import { REDACTED } from './types';

/** Validates a trigger's `target` (create and PATCH). */
export const targetSchema = z.discriminatedUnion('type', [
  httpTargetSchema,
  kubernetesTargetSchema,
  ecsTargetSchema,
  lambdaTargetSchema,
  codebuildTargetSchema,
  gitTargetSchema,
]);
export type TargetConfig = z.infer<typeof targetSchema>;
export type TargetType = TargetConfig['type'];

type TargetFor<T extends TargetType> = DeployTarget<Extract<TargetConfig, { type: T }>>;

/** Each target's redaction, keyed by type (for the admin API; see above why it is not read off `targets`). */
const redactors: { [T in TargetType]: TargetFor<T>['redact'] } = {
  http: redactHttpTarget,
  kubernetes: redactKubernetesTarget,
  ecs: redactEcsTarget,
  lambda: redactLambdaTarget,
  codebuild: redactCodebuildTarget,
  git: redactGitTarget,
};

/** Every deploy target, keyed by type. */
export const targets: { [T in TargetType]: TargetFor<T> } = {
  http: httpTarget,
  kubernetes: kubernetesTarget,
  ecs: ecsTarget,
  lambda: lambdaTarget,
  codebuild: codebuildTarget,
  git: gitTarget,
};

function lookupTarget(type: string): DeployTarget<TargetConfig> | undefined {
  return Object.prototype.hasOwnProperty.call(targets, type)
    ? (targets[type as TargetType] as unknown as DeployTarget<TargetConfig>)
    : undefined;
}

/**
 * Runs one deploy attempt. The stored config is validated again with the target's schema (the rules may have
 * tightened since the trigger was created); an invalid config or unknown type fails without retry. A target
 * that throws is answered as a retryable failure (targets should answer ok:false themselves).
 */
export async function runTarget(config: TargetConfig, ctx: DeployContext): Promise<AttemptResult> {
  const type = (config as { type?: unknown })?.type;
  const target = typeof type === 'string' ? lookupTarget(type) : undefined;
  if (!target)
    return { ok: false, retryable: false, durationMs: 0, error: `unknown target type ${JSON.stringify(type)}` };
  const parsed = target.schema.safeParse(config);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue.path.length ? `${issue.path.join('.')}: ` : '';
    return { ok: false, retryable: false, durationMs: 0, error: `invalid ${type} target: ${path}${issue.message}` };
  }
  try {
    return await target.deploy(parsed.data, ctx);
  } catch (err) {
    return {
      ok: false,
      retryable: true,
      durationMs: 0,
      error: `${type} target failed: ${(err as Error)?.message ?? String(err)}`,
    };
  }
}

/** The config with its secrets replaced by REDACTED, for the admin API. */
export function redactTarget(config: TargetConfig): TargetConfig {
  const redact = Object.prototype.hasOwnProperty.call(redactors, config.type)
    ? (redactors[config.type] as unknown as (c: TargetConfig) => TargetConfig)
    : undefined;
  const out = redact ? redact(config) : config;
  // verify.http's header values may be credentials (any target type may have them)
  const headers = out.verify ? out.verify.http?.headers : undefined;
  if (!headers || !out.verify) return out;
  const hidden = Object.fromEntries(Object.keys(headers).map((k) => [k, REDACTED]));
  return { ...out, verify: { ...out.verify, http: { ...out.verify.http!, headers: hidden } } };
}
