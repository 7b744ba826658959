/**
 * The deploy-target registry. A new target type is one new file exporting a DeployTarget and its zod schema
 * (a z.object with a `type` literal), added to `targetSchema` and `targets` below.
 */
import * as z from 'zod';
import { codebuildTarget, codebuildTargetSchema } from './codebuild';
import { ecsTarget, ecsTargetSchema } from './ecs';
import { gitTarget, gitTargetSchema } from './git';
import { httpTarget, httpTargetSchema } from './http';
import { kubernetesTarget, kubernetesTargetSchema } from './kubernetes';
import { lambdaTarget, lambdaTargetSchema } from './lambda';
import type { AttemptResult, DeployContext, DeployTarget } from './types';

export type { AttemptResult, DeployContext, DeployTarget } from './types';
export { REDACTED } from './types';

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
  if (!target) return { ok: false, retryable: false, durationMs: 0, error: `unknown target type ${JSON.stringify(type)}` };
  const parsed = target.schema.safeParse(config);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue.path.length ? `${issue.path.join('.')}: ` : '';
    return { ok: false, retryable: false, durationMs: 0, error: `invalid ${type} target: ${path}${issue.message}` };
  }
  try {
    return await target.deploy(parsed.data, ctx);
  } catch (err) {
    return { ok: false, retryable: true, durationMs: 0, error: `${type} target failed: ${(err as Error)?.message ?? String(err)}` };
  }
}

/** The config with its secrets replaced by REDACTED, for the admin API. */
export function redactTarget(config: TargetConfig): TargetConfig {
  const target = lookupTarget(config.type);
  return target ? target.redact(config) : config;
}
