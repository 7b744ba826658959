/** The trigger: what the admin API accepts, what the store keeps, and what callers may see. */
import * as z from 'zod';
import { matchSchema, type TriggerMatch } from './match/matcher';
import { PROVIDER_IDS } from './receive/providers/ids';
import { genericMappingSchema, type GenericMapping } from './receive/providers/generic';
import { redactTarget, targetSchema, type TargetConfig } from './deploy/targets';
import { notifyInputSchema, redactNotify, type NotifierConfig } from './notify';

/**
 * How a trigger's events wait for its target. `latest` (the default): a newer event of the same image repository or
 * branch supersedes an older one still waiting (queued or waiting for a retry), so a failing deploy never holds back
 * a newer one. `all`: every event runs, in order (a CodeBuild target that must build each commit).
 */
export const queueSchema = z.enum(['latest', 'all']);

/**
 * After a deploy's verification failed: `auto` deploys the lane's last good artifact again (lib/match/rollback.ts);
 * `off` (the default) leaves the lane as the failed deploy left it.
 */
export const rollbackSchema = z.enum(['auto', 'off']);

const NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export const triggerCreateSchema = z
  .object({
    name: z
      .string()
      .regex(NAME, 'lowercase letters, digits, "-", ".", "_", starting with a letter or digit, at most 64'),
    description: z.string().max(1024).optional(),
    provider: z.enum(PROVIDER_IDS),
    enabled: z.boolean().default(true),
    match: matchSchema.default({}),
    target: targetSchema,
    queue: queueSchema.optional(),
    rollback: rollbackSchema.optional(),
    /** who hears about outcomes (lib/notify); webhook signing secrets are generated, never given */
    notify: notifyInputSchema.optional(),
    /** `generic` only: where the image, tag, digest, branch and commit are in the body (JMESPath, compiled here) */
    mapping: genericMappingSchema.optional(),
  })
  .strict()
  .refine((t) => t.mapping === undefined || t.provider === 'generic', {
    path: ['mapping'],
    message: 'mapping is only for provider "generic"',
  });

export const triggerPatchSchema = z
  .object({
    name: triggerCreateSchema.shape.name.optional(),
    description: z.string().max(1024).nullable().optional(),
    enabled: z.boolean().optional(),
    match: matchSchema.optional(),
    target: targetSchema.optional(),
    queue: queueSchema.optional(),
    rollback: rollbackSchema.optional(),
    /** replaces the list; [] removes every notifier */
    notify: notifyInputSchema.optional(),
    mapping: genericMappingSchema.optional(),
  })
  .strict();

export type TriggerInput = z.infer<typeof triggerCreateSchema>;

export interface Trigger {
  id: string;
  name: string;
  description?: string;
  provider: (typeof PROVIDER_IDS)[number];
  enabled: boolean;
  match: TriggerMatch;
  target: TargetConfig;
  /** absent means `latest` */
  queue?: z.infer<typeof queueSchema>;
  /** absent means `off` */
  rollback?: z.infer<typeof rollbackSchema>;
  /** notifiers as stored (webhook ones carry their signing secret); absent: none besides DEFAULT_NOTIFY */
  notify?: NotifierConfig[];
  /** `generic` only: JMESPath expressions into the body */
  mapping?: GenericMapping;
  secret: string;
  /** the secret before the last rotation, accepted until previousSecretExpiresAt (epoch seconds) */
  previousSecret?: string;
  previousSecretExpiresAt?: number;
  /** Kato-style tracked image: starts as match.image, advances to each successfully deployed image */
  trackedImage?: string;
  /** GSI key for senders without a trigger id in the URL (ECR) */
  repositoryKey?: string;
  createdAt: string;
  updatedAt: string;
  /**
   * Bumped by every write; each write is conditional on the version it read (lib/store changeTrigger), so concurrent
   * admin writes and the tracked-image advance never undo each other. Absent on items written before it: read as 0.
   */
  version?: number;
}

/**
 * What the admin API shows: never the secrets (nor when the previous one expires); the target's credentials (header values, URL tokens) and the
 * notifiers' URL credentials redacted, their signing secrets left out.
 */
export function publicTrigger(
  trigger: Trigger,
): Omit<Trigger, 'secret' | 'previousSecret' | 'previousSecretExpiresAt' | 'version'> {
  // previousSecretExpiresAt is internal (epoch seconds for the check); the rotate answer's previousSecretValidUntil is public
  // the version is the store's concurrency check, not part of the trigger a user edits
  const { secret: _s, previousSecret: _p, previousSecretExpiresAt: _e, version: _v, ...rest } = trigger;
  const notify = redactNotify(rest.notify);
  return { ...rest, target: redactTarget(rest.target), ...(notify ? { notify } : {}) };
}
