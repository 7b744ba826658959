/**
 * The deploy-target interface. Each target type (http, and later kubernetes, ecs, lambda, codebuild) is one
 * file exporting a DeployTarget and its zod schema, registered in ./index.ts.
 */
import type * as z from 'zod';
import type { NormalizedEvent } from '../../core/event';

export interface DeployContext {
  triggerId: string;
  /** the trigger's name (the git target's `# {"triggerfish": "<name>"}` setter markers name it) */
  triggerName?: string;
  logId: string;
  event: NormalizedEvent;
  /** ALLOW_PRIVATE_TARGETS: allow loopback/private/link-local destinations (local runs). */
  allowPrivateTargets: boolean;
  /** Overrides the target's total timeout (ms). For tests and for a deployer with a shorter remaining budget. */
  timeoutMs?: number;
}

export interface AttemptResult {
  ok: boolean;
  /** worth trying again later (5xx, 429, 408, timeouts, network errors); false for config/4xx/refused */
  retryable: boolean;
  durationMs: number;
  statusCode?: number;
  /** the response body, truncated (4 KiB) */
  response?: string;
  /** why it failed; never contains secrets from the target config (header values, tokens) */
  error?: string;
  /** target-specific extras for the trigger log (e.g. the address connected to) */
  details?: Record<string, unknown>;
}

export interface DeployTarget<C extends { type: string }> {
  /** the `type` discriminator in the trigger's target config */
  type: C['type'];
  /** validates the target config when a trigger is created or changed */
  schema: z.ZodType<C>;
  /** runs one attempt; never throws for an expected failure (it answers ok:false) */
  deploy(config: C, ctx: DeployContext): Promise<AttemptResult>;
  /**
   * A copy of the config with its secrets (credential header values, tokens in the URL, ...) replaced by
   * REDACTED, for showing a trigger in the admin API.
   */
  redact(config: C): C;
  /**
   * One verification poll after an accepted attempt (lib/deploy/verify): does the target run the change yet?
   * Absent: the target has nothing to wait for once it accepted (its attempt already waits, or cannot tell).
   */
  verify?(config: C, ctx: VerifyContext): Promise<VerifyPoll>;
}

export const REDACTED = '[redacted]';

/** What a verification poll knows: the event deployed and what its attempt recorded (e.g. the image set). */
export interface VerifyContext {
  triggerId: string;
  logId: string;
  event: NormalizedEvent;
  /** the accepted attempt's details (the target wrote them) */
  details?: Record<string, unknown>;
  allowPrivateTargets: boolean;
}

/**
 * One look at whether the change runs: not done yet (look again later), or a verdict. A poll that could not look
 * (network, 5xx) is `done: false` with what went wrong: the verification's timeout bounds it.
 */
export type VerifyPoll = { done: false; message: string } | { done: true; ok: boolean; message: string };
