/**
 * Helpers the AWS deploy targets (ecs, lambda, codebuild) share: region choice, one client per region,
 * the image to deploy, AWS error classification (retryable or not), and an attempt's time budget.
 */
import { performance } from 'node:perf_hooks';
import * as z from 'zod';
import { config as settings } from '../../core/config';
import { imageRef, type NormalizedEvent } from '../../core/event';

/** AWS region names: us-east-1, eu-central-1, cn-north-1, us-gov-west-1, us-isob-east-1 ... */
export const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
export const regionSchema = z.string().regex(REGION, 'not an AWS region name');

/** The region in an ARN ("arn:aws:ecs:eu-west-1:123456789012:cluster/x" -> "eu-west-1"); undefined for a name. */
export function arnRegion(value: string): string | undefined {
  if (!value.startsWith('arn:')) return undefined;
  const region = value.split(':')[3];
  return region || undefined;
}

/** The region an attempt talks to: the config's, else the one in a resource ARN, else the deployment's own. */
export function targetRegion(configRegion: string | undefined, ...resources: string[]): string {
  if (configRegion) return configRegion;
  for (const r of resources) {
    const region = arnRegion(r);
    if (region) return region;
  }
  return settings.region();
}

/** A schema refinement: resource ARNs must be in `region` when one is given, and in one region among themselves. */
export function checkArnRegions(
  region: string | undefined,
  resources: Array<[path: string, value: string]>,
  ctx: z.RefinementCtx,
): void {
  let seen = region;
  for (const [path, value] of resources) {
    const r = arnRegion(value);
    if (!r) continue;
    if (seen && r !== seen) {
      ctx.addIssue({ code: 'custom', path: [path], message: `ARN is in ${r}, not in ${seen}` });
      return;
    }
    seen = r;
  }
}

/** Builds clients once per region per container (Lambda reuses the module across invocations). */
export function clientCache<T>(make: (region: string) => T): (region: string) => T {
  const clients = new Map<string, T>();
  return (region) => {
    let c = clients.get(region);
    if (!c) {
      c = make(region);
      clients.set(region, c);
    }
    return c;
  };
}

/**
 * The image reference to deploy for an event: `[registry/]repo:tag`, or `[registry/]repo@digest` with
 * `pinDigest` (or when the event has a digest but no tag).
 */
export function deployImage(
  event: NormalizedEvent,
  pinDigest: boolean | undefined,
  target: string,
): { image: string; error?: undefined } | { image?: undefined; error: string } {
  if (event.kind !== 'image')
    return { error: `the ${target} target deploys container images; this is a ${event.kind} event` };
  if (event.action === 'delete') return { error: 'a delete event has no image to deploy' };
  const parts = { registry: event.registry, repoFullName: event.repoFullName };
  if (event.digest && (pinDigest || !event.tag)) return { image: imageRef({ ...parts, digest: event.digest }) };
  if (event.tag) return { image: imageRef({ ...parts, tag: event.tag }) };
  return { error: 'the event names no tag or digest to deploy' };
}

/** What we keep of an error thrown by an AWS SDK call. */
export interface AwsErrorInfo {
  name: string;
  message: string;
  httpStatus?: number;
  fault?: 'client' | 'server';
}

export function awsErrorInfo(err: unknown): AwsErrorInfo {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err) };
  const e = err as Error & { $fault?: 'client' | 'server'; $metadata?: { httpStatusCode?: number }; code?: string };
  const code = e.code && !e.message.includes(e.code) ? ` (${e.code})` : '';
  return {
    name: e.name || 'Error',
    message: `${e.message}${code}`,
    httpStatus: e.$metadata?.httpStatusCode,
    fault: e.$fault,
  };
}

const THROTTLED =
  /Throttl|TooManyRequests|RequestLimitExceeded|SlowDown|ServiceUnavailable|InternalFailure|InternalError|RequestTimeout|ExpiredToken|RequestExpired|PriorRequestNotComplete/;
const DENIED = /AccessDenied|NotAuthorized|Unauthorized|UnrecognizedClient|InvalidClientTokenId|SignatureDoesNotMatch/;

/**
 * Retryable or not: the target's own lists first, then throttling/server faults (retry), access/client faults
 * (no retry). An error with neither an HTTP status nor a fault never reached AWS (network, timeout, abort,
 * credentials not loaded): worth retrying.
 */
export function isRetryableAwsError(
  info: AwsErrorInfo,
  lists: { retryable?: readonly string[]; notRetryable?: readonly string[] } = {},
): boolean {
  if (lists.notRetryable?.includes(info.name)) return false;
  if (lists.retryable?.includes(info.name)) return true;
  if (DENIED.test(info.name)) return false;
  if (THROTTLED.test(info.name)) return true;
  const status = info.httpStatus;
  if (info.fault === 'server' || (status !== undefined && status >= 500)) return true;
  if (status === 429 || status === 408) return true;
  if (info.fault === 'client' || (status !== undefined && status >= 400)) return false;
  return true;
}

const ERROR_LIMIT = 1024;

/** "<operation>: <ErrorName>: <message>", truncated. AWS messages name resources and principals, never keys. */
export function awsErrorText(operation: string, info: AwsErrorInfo): string {
  const text =
    info.message && info.message !== info.name
      ? `${operation}: ${info.name}: ${info.message}`
      : `${operation}: ${info.name}`;
  return text.length > ERROR_LIMIT ? `${text.slice(0, ERROR_LIMIT)}…` : text;
}

/** The attempt's time budget: every AWS call is aborted when it runs out. */
export class Budget {
  readonly startedAt = performance.now();
  constructor(readonly totalMs: number) {}
  elapsed(): number {
    return Math.round(performance.now() - this.startedAt);
  }
  remaining(): number {
    return this.totalMs - (performance.now() - this.startedAt);
  }
  /** send() options for one call: aborted at the end of the budget */
  call(): { abortSignal: AbortSignal } {
    return { abortSignal: AbortSignal.timeout(Math.max(1, Math.ceil(this.remaining()))) };
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

export { lazy } from '../../core/lazy';
