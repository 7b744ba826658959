/**
 * `lambda` deploy target: points a container-image Lambda function at the event's image.
 *
 * - The image must be in Amazon ECR (<account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn]) in the function's
 *   region: Lambda runs nothing else. Anything else is refused before any AWS call.
 * - GetFunction (the image it ran before; a .zip function is refused) -> UpdateFunctionCode {FunctionName,
 *   ImageUri, Publish} -> polls GetFunctionConfiguration (the published version when one was published, else
 *   $LATEST) until LastUpdateStatus is Successful and State is Active. Failed -> not retried, with Lambda's reason.
 * - Running out of time while Lambda is still updating is retryable: a second UpdateFunctionCode with the same
 *   image is harmless (and answers ResourceConflictException, also retryable, while the first is still running).
 * - Errors: ResourceConflictException (an update in progress), throttling, ServiceException, network errors and
 *   timeouts are retried; ResourceNotFound, InvalidParameterValue, AccessDenied, ... are not.
 */
import type { FunctionConfiguration, LambdaClient } from '@aws-sdk/client-lambda';
import * as z from 'zod';
import { verifySchema } from '../verify/schema';
import {
  Budget,
  awsErrorInfo,
  awsErrorText,
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
import type { AttemptResult, DeployTarget } from './types';

/** default total budget of one attempt (the deployer Lambda runs for 90 s) */
export const LAMBDA_TIMEOUT_MS = 60_000;
/** GetFunctionConfiguration polling while the update runs; tests set it to 0 */
export const lambdaPolling = { intervalMs: 2_000 };

/** ECR registry hosts, capturing the region */
export const ECR_HOST = /^\d{12}\.dkr\.ecr(?:-fips)?\.([a-z]{2}(?:-[a-z]+)+-\d{1,2})\.amazonaws\.com(?:\.cn)?$/;

const FUNCTION_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const PARTIAL_ARN = /^\d{12}:function:[A-Za-z0-9_-]{1,64}$/;
const FUNCTION_ARN = /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}$/;

export const lambdaTargetSchema = z
  .strictObject({
    type: z.literal('lambda'),
    /** after the target accepted: what makes the deploy succeeded (lib/deploy/verify) */
    verify: verifySchema.optional(),
    /** name, partial ARN (123456789012:function:name) or ARN, without a version or alias */
    functionName: z
      .string()
      .refine(
        (v) => FUNCTION_NAME.test(v) || PARTIAL_ARN.test(v) || FUNCTION_ARN.test(v),
        'not a Lambda function name or ARN (without a qualifier)',
      ),
    /** default: the region in the function ARN, else the deployment's own region */
    region: regionSchema.optional(),
    /** deploy repo@digest instead of repo:tag when the event has a digest */
    pinDigest: z.boolean().optional(),
    /** publish a new version (default true) */
    publish: z.boolean().optional(),
  })
  .superRefine((t, ctx) => checkArnRegions(t.region, [['functionName', t.functionName]], ctx));

export type LambdaTargetConfig = z.infer<typeof lambdaTargetSchema>;

// the SDK is loaded on the first deploy of this kind, not in every cold start (bench: deployer/admin cold start)
const lambdaSdk = /* @__PURE__ */ lazy(() => import('@aws-sdk/client-lambda'));
const lambdaClient = /* @__PURE__ */ clientCache(
  async (region): Promise<LambdaClient> => new (await lambdaSdk()).LambdaClient({ region }),
);

const LAMBDA_NOT_RETRYABLE = [
  'ResourceNotFoundException',
  'InvalidParameterValueException',
  'AccessDeniedException',
  'CodeStorageExceededException',
  'CodeVerificationFailedException',
  'InvalidCodeSignatureException',
  'CodeSigningConfigNotFoundException',
  'PreconditionFailedException',
  'RequestTooLargeException',
] as const;
const LAMBDA_RETRYABLE = [
  'ResourceConflictException',
  'TooManyRequestsException',
  'ServiceException',
  'ResourceNotReadyException',
] as const;

function lambdaRetryable(info: AwsErrorInfo): boolean {
  return isRetryableAwsError(info, { notRetryable: LAMBDA_NOT_RETRYABLE, retryable: LAMBDA_RETRYABLE });
}

/** Done, failed (with why) or still updating. */
function updateState(c: FunctionConfiguration): { done: true } | { failed: string } | { pending: string } {
  if (c.LastUpdateStatus === 'Failed') {
    const code = c.LastUpdateStatusReasonCode ? ` (${c.LastUpdateStatusReasonCode})` : '';
    return { failed: `update failed: ${c.LastUpdateStatusReason ?? 'no reason given'}${code}` };
  }
  if (c.State === 'Failed') {
    const code = c.StateReasonCode ? ` (${c.StateReasonCode})` : '';
    return { failed: `function state Failed: ${c.StateReason ?? 'no reason given'}${code}` };
  }
  const updated = c.LastUpdateStatus === undefined || c.LastUpdateStatus === 'Successful';
  const active = c.State === undefined || c.State === 'Active';
  if (updated && active) return { done: true };
  return { pending: `LastUpdateStatus ${c.LastUpdateStatus ?? '-'}, State ${c.State ?? '-'}` };
}

/** The config as admin answers show it (a function of its own, so the admin bundles leave out the deploy code). */
export function redactLambdaTarget(config: LambdaTargetConfig): LambdaTargetConfig {
  // nothing secret: a function name, a region and switches
  return { ...config };
}

export const lambdaTarget: DeployTarget<LambdaTargetConfig> = {
  type: 'lambda',
  schema: lambdaTargetSchema,

  async deploy(config, ctx) {
    const budget = new Budget(ctx.timeoutMs ?? LAMBDA_TIMEOUT_MS);
    const details: Record<string, unknown> = {};
    const done = (r: Omit<AttemptResult, 'durationMs' | 'details'>): AttemptResult => ({
      ...r,
      durationMs: budget.elapsed(),
      details: { ...details },
    });
    const awsFailure = (operation: string, err: unknown, prefix = ''): AttemptResult => {
      const info = awsErrorInfo(err);
      return done({
        ok: false,
        retryable: lambdaRetryable(info),
        statusCode: info.httpStatus,
        error: prefix + awsErrorText(operation, info),
      });
    };

    const chosen = deployImage(ctx.event, config.pinDigest, 'lambda');
    if (chosen.error !== undefined) return done({ ok: false, retryable: false, error: chosen.error });
    const image = chosen.image;
    details.image = image;

    const region = targetRegion(config.region, config.functionName);
    const registry = ctx.event.registry;
    const ecr = registry ? ECR_HOST.exec(registry) : null;
    if (!ecr) {
      return done({
        ok: false,
        retryable: false,
        error: `Lambda runs images from Amazon ECR only (<account>.dkr.ecr.<region>.amazonaws.com); this image is from ${registry ?? 'Docker Hub (no registry host)'}`,
      });
    }
    if (ecr[1] !== region) {
      return done({
        ok: false,
        retryable: false,
        error: `the image is in ECR in ${ecr[1]}; Lambda needs it in the function's region ${region}`,
      });
    }

    const client = await lambdaClient(region);
    const FunctionName = config.functionName;

    // 1. what runs now
    try {
      const current = await client.send(new (await lambdaSdk()).GetFunctionCommand({ FunctionName }), budget.call());
      details.previousImage = current.Code?.ImageUri;
      const packageType = current.Configuration?.PackageType;
      if (packageType && packageType !== 'Image') {
        return done({
          ok: false,
          retryable: false,
          error: `function ${FunctionName} is a ${packageType} function; only an Image function can take an image`,
        });
      }
    } catch (err) {
      return awsFailure('GetFunction', err);
    }

    // 2. the update
    const Publish = config.publish ?? true;
    let version: string | undefined;
    try {
      const out = await client.send(
        new (await lambdaSdk()).UpdateFunctionCodeCommand({ FunctionName, ImageUri: image, Publish }),
        budget.call(),
      );
      version = out.Version;
      details.version = version;
      details.codeSha256 = out.CodeSha256;
    } catch (err) {
      return awsFailure('UpdateFunctionCode', err);
    }

    // 3. wait until Lambda has finished it (the published version, or $LATEST)
    const Qualifier = version && version !== '$LATEST' ? version : undefined;
    let last = 'not polled yet';
    for (;;) {
      const left = budget.remaining();
      if (left <= 0) {
        return done({
          ok: false,
          retryable: true,
          error: `UpdateFunctionCode accepted but not finished in time (${last})`,
        });
      }
      await sleep(Math.min(lambdaPolling.intervalMs, left));
      if (budget.remaining() <= 0) continue;
      let conf: FunctionConfiguration;
      try {
        conf = await client.send(
          new (await lambdaSdk()).GetFunctionConfigurationCommand({ FunctionName, Qualifier }),
          budget.call(),
        );
      } catch (err) {
        const info = awsErrorInfo(err);
        if (lambdaRetryable(info)) {
          last = awsErrorText('GetFunctionConfiguration', info);
          continue;
        }
        return awsFailure('GetFunctionConfiguration', err, 'UpdateFunctionCode accepted; ');
      }
      const state = updateState(conf);
      if ('failed' in state) return done({ ok: false, retryable: false, error: state.failed });
      if ('pending' in state) {
        last = state.pending;
        continue;
      }
      if (conf.Version) details.version = conf.Version;
      if (conf.CodeSha256) details.codeSha256 = conf.CodeSha256;
      return done({ ok: true, retryable: false });
    }
  },

  redact: redactLambdaTarget,
};
