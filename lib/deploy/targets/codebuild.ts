/**
 * `codebuild` deploy target ("build from source"): starts a CodeBuild build for the event and does not wait for it.
 *
 * - Code events: sourceVersion is the head commit's id, else refs/heads/<branch> or refs/tags/<tag>. Image events
 *   (also allowed) build the project's default source version: no sourceVersion is sent.
 * - The event reaches the build as PLAINTEXT environment variables (Code Stream's injected parameters):
 *   TRIGGERFISH_OWNER, _IMAGE, _REPOSITORY, _NAMESPACE, _TAG, _BRANCH, _COMMIT_ID, _COMMIT_MESSAGE (truncated),
 *   _PROVIDER, _ACTION, _TRIGGER_ID, _LOG_ID, each only when the event has a value; then the config's static
 *   `environment` (names may not start with TRIGGERFISH_ or CODEBUILD_).
 * - A fresh idempotencyToken per attempt: the SDK's own retries of a StartBuild whose answer was lost do not start
 *   a second build; a later attempt (retry, redelivery) does start a new one.
 * - Errors: ResourceNotFoundException (no such project), InvalidInputException, AccountSuspendedException,
 *   OAuthProviderException and access errors are not retried. AccountLimitExceededException IS retried: CodeBuild
 *   answers it when the account's concurrent-build quota is used up, which frees up as running builds finish
 *   (the deployer's growing retry delay fits that). Throttling, server faults, network errors and timeouts too.
 */
import { randomUUID } from 'node:crypto';
import type { CodeBuildClient, EnvironmentVariable } from '@aws-sdk/client-codebuild';
import * as z from 'zod';
import { verifySchema } from '../verify/schema';
import type { NormalizedEvent } from '../../core/event';
import {
  Budget,
  awsErrorInfo,
  awsErrorText,
  checkArnRegions,
  clientCache,
  lazy,
  isRetryableAwsError,
  regionSchema,
  targetRegion,
  type AwsErrorInfo,
} from './aws-common';
import { REDACTED, type DeployContext, type DeployTarget } from './types';

/** default total budget of one attempt (one StartBuild call, with the SDK's retries) */
export const CODEBUILD_TIMEOUT_MS = 30_000;
/** TRIGGERFISH_COMMIT_MESSAGE is cut to this many characters */
export const COMMIT_MESSAGE_LIMIT = 1024;
export const MAX_STATIC_VARIABLES = 50;
const MAX_VALUE_CHARS = 4096;

const PROJECT_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{1,254}$/;
const PROJECT_ARN = /^arn:aws[a-z-]*:codebuild:[a-z0-9-]+:\d{12}:project\/[A-Za-z0-9][A-Za-z0-9_-]{1,254}$/;
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,254}$/;

const environmentSchema = z.record(z.string(), z.string().max(MAX_VALUE_CHARS)).superRefine((env, ctx) => {
  const names = Object.keys(env);
  if (names.length > MAX_STATIC_VARIABLES) {
    ctx.addIssue({ code: 'custom', message: `at most ${MAX_STATIC_VARIABLES} variables` });
  }
  for (const name of names) {
    if (!VARIABLE_NAME.test(name)) {
      ctx.addIssue({ code: 'custom', path: [name], message: 'not a valid environment variable name' });
    } else if (/^TRIGGERFISH_/i.test(name)) {
      ctx.addIssue({ code: 'custom', path: [name], message: 'TRIGGERFISH_ variables are set from the event' });
    } else if (/^CODEBUILD_/i.test(name)) {
      ctx.addIssue({ code: 'custom', path: [name], message: 'CODEBUILD_ variables are reserved by CodeBuild' });
    }
  }
});

export const codebuildTargetSchema = z
  .strictObject({
    type: z.literal('codebuild'),
    /** after the target accepted: what makes the deploy succeeded (lib/deploy/verify) */
    verify: verifySchema.optional(),
    /** project name, or its ARN (a project shared from another account) */
    projectName: z
      .string()
      .refine((v) => PROJECT_NAME.test(v) || PROJECT_ARN.test(v), 'not a CodeBuild project name or ARN'),
    /** default: the region in the project ARN, else the deployment's own region */
    region: regionSchema.optional(),
    /** extra static PLAINTEXT variables for every build (keep secrets in the project, from Secrets Manager/SSM) */
    environment: environmentSchema.optional(),
  })
  .superRefine((t, ctx) => checkArnRegions(t.region, [['projectName', t.projectName]], ctx));

export type CodebuildTargetConfig = z.infer<typeof codebuildTargetSchema>;

// the SDK is loaded on the first deploy of this kind, not in every cold start (bench: deployer/admin cold start)
const codebuildSdk = /* @__PURE__ */ lazy(() => import('@aws-sdk/client-codebuild'));
const codebuildClient = /* @__PURE__ */ clientCache(
  async (region): Promise<CodeBuildClient> => new (await codebuildSdk()).CodeBuildClient({ region }),
);

const CODEBUILD_NOT_RETRYABLE = [
  'ResourceNotFoundException',
  'InvalidInputException',
  'AccountSuspendedException',
  'OAuthProviderException',
  'AccessDeniedException',
] as const;
const CODEBUILD_RETRYABLE = ['AccountLimitExceededException'] as const;

function codebuildRetryable(info: AwsErrorInfo): boolean {
  return isRetryableAwsError(info, { notRetryable: CODEBUILD_NOT_RETRYABLE, retryable: CODEBUILD_RETRYABLE });
}

/** The first `limit` UTF-16 units of `s`, not cutting a surrogate pair. */
function clip(s: string, limit: number): string {
  if (s.length <= limit) return s;
  let end = limit;
  const c = s.charCodeAt(end - 1);
  if (c >= 0xd800 && c <= 0xdbff) end--;
  return s.slice(0, end);
}

/** The git revision to build: code events only. */
export function sourceVersionFor(event: NormalizedEvent): string | undefined {
  if (event.kind !== 'code') return undefined;
  if (event.commit?.id) return event.commit.id;
  if (event.branch) return `refs/heads/${event.branch}`;
  if (event.tag) return `refs/tags/${event.tag}`;
  return undefined;
}

/** TRIGGERFISH_* variables for the event (only those with a value), then the static ones. */
export function buildVariables(ctx: DeployContext, extra: Record<string, string> | undefined): EnvironmentVariable[] {
  const e = ctx.event;
  const fromEvent: Array<[string, string | undefined]> = [
    ['OWNER', e.owner],
    ['IMAGE', e.image],
    ['REPOSITORY', e.repository],
    ['NAMESPACE', e.namespace],
    ['TAG', e.tag],
    ['BRANCH', e.branch],
    ['COMMIT_ID', e.commit?.id],
    ['COMMIT_MESSAGE', e.commit?.message === undefined ? undefined : clip(e.commit.message, COMMIT_MESSAGE_LIMIT)],
    ['PROVIDER', e.provider],
    ['ACTION', e.action],
    ['TRIGGER_ID', ctx.triggerId],
    ['LOG_ID', ctx.logId],
  ];
  const vars: EnvironmentVariable[] = [];
  for (const [name, value] of fromEvent) {
    if (value) vars.push({ name: `TRIGGERFISH_${name}`, value, type: 'PLAINTEXT' });
  }
  for (const [name, value] of Object.entries(extra ?? {})) {
    // the schema refuses these; a stored config from before a rule change must not override the event's
    if (/^(TRIGGERFISH|CODEBUILD)_/i.test(name)) continue;
    vars.push({ name, value, type: 'PLAINTEXT' });
  }
  return vars;
}

function secretName(name: string): boolean {
  return /token|secret|key|pass|auth|credential|sig|cookie|session/i.test(name);
}

/** The config as admin answers show it (a function of its own, so the admin bundles leave out the deploy code). */
export function redactCodebuildTarget(config: CodebuildTargetConfig): CodebuildTargetConfig {
  if (!config.environment) return { ...config };
  const environment = Object.fromEntries(
    Object.entries(config.environment).map(([k, v]) => [k, secretName(k) ? REDACTED : v]),
  );
  return { ...config, environment };
}

export const codebuildTarget: DeployTarget<CodebuildTargetConfig> = {
  type: 'codebuild',
  schema: codebuildTargetSchema,

  async deploy(config, ctx) {
    const budget = new Budget(ctx.timeoutMs ?? CODEBUILD_TIMEOUT_MS);
    const sourceVersion = sourceVersionFor(ctx.event);
    const details: Record<string, unknown> = { sourceVersion };
    const client = await codebuildClient(targetRegion(config.region, config.projectName));
    try {
      const out = await client.send(
        new (await codebuildSdk()).StartBuildCommand({
          projectName: config.projectName,
          ...(sourceVersion !== undefined ? { sourceVersion } : {}),
          environmentVariablesOverride: buildVariables(ctx, config.environment),
          idempotencyToken: randomUUID(),
        }),
        budget.call(),
      );
      details.buildId = out.build?.id;
      details.buildNumber = out.build?.buildNumber;
      if (!out.build?.id) {
        return {
          ok: false,
          retryable: true,
          durationMs: budget.elapsed(),
          details,
          error: 'StartBuild returned no build',
        };
      }
      return { ok: true, retryable: false, durationMs: budget.elapsed(), details };
    } catch (err) {
      const info = awsErrorInfo(err);
      return {
        ok: false,
        retryable: codebuildRetryable(info),
        durationMs: budget.elapsed(),
        statusCode: info.httpStatus,
        error: awsErrorText('StartBuild', info),
        details,
      };
    }
  },

  redact: redactCodebuildTarget,
};
