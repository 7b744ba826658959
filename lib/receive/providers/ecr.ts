/**
 * Amazon ECR, which sends no webhooks: an EventBridge rule delivers "ECR Image Action" events to a
 * Lambda. There is no credential to check: the rule and IAM are the authentication, and only AWS can
 * emit events with a source starting "aws." (PutEvents refuses it), so `source` is checked too.
 * Triggers are found by repository through a DynamoDB index keyed by ecrRepositoryKey().
 */
import * as z from 'zod';
import { type Action, imageRef, splitRepoFullName } from '../../core/event';
import { clip, isoTime } from './git';
import type { ParseResult } from './types';

const ACTIONS: Record<string, Action> = { PUSH: 'push', DELETE: 'delete' };

export const ecrEventSchema = z.object({
  version: z.string().nullish(),
  id: z.string().min(1),
  'detail-type': z.literal('ECR Image Action'),
  source: z.literal('aws.ecr'),
  // both become part of the registry host, so nothing but what AWS uses is allowed
  account: z.string().regex(/^\d{12}$/, 'expected a 12-digit AWS account id'),
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'expected an AWS region such as us-west-2'),
  time: z
    .string()
    .refine((s) => isoTime(s) !== undefined, 'expected an ISO 8601 time')
    .nullish(),
  resources: z.array(z.string()).nullish(),
  detail: z.object({
    result: z.string().min(1),
    'action-type': z.string().min(1),
    'repository-name': z.string().min(1),
    // kept as given: AWS's own example digest is 60 hex chars
    'image-digest': z
      .string()
      .regex(/^[a-z0-9]+:[0-9a-f]+$/, 'expected a digest such as sha256:<hex>')
      .nullish(),
    'image-tag': z.string().nullish(),
  }),
});

/**
 * The DynamoDB index key of an ECR repository: `ecr#<repository-name>`, e.g. `ecr#team/web`.
 * By repository name only: the EventBridge rule delivers this account's and region's events, and an ECR
 * trigger names just its repository (match.namespace/match.repository), as a user thinks of it.
 */
export function ecrRepositoryKey(repositoryName: string): string {
  return `ecr#${repositoryName}`;
}

/** An EventBridge event as delivered to the Lambda -> events, or ignored for anything but a successful push/delete. */
export function normalizeEcrEvent(event: unknown): ParseResult {
  // read what it is first: other ECR events (scans, replication, pull-through cache) have other details
  const head = z.object({ source: z.string().min(1), 'detail-type': z.string().min(1) }).parse(event);
  if (head.source !== 'aws.ecr') {
    return { kind: 'ignored', reason: `event source "${clip(head.source)}" is not aws.ecr` };
  }
  if (head['detail-type'] !== 'ECR Image Action') {
    return { kind: 'ignored', reason: `ECR event "${clip(head['detail-type'])}" is not an image action` };
  }
  const e = ecrEventSchema.parse(event);
  const d = e.detail;
  const action = ACTIONS[d['action-type']];
  if (!action) {
    return { kind: 'ignored', reason: `ECR action "${clip(d['action-type'])}" is not handled (only PUSH, DELETE)` };
  }
  if (d.result !== 'SUCCESS') {
    return { kind: 'ignored', reason: `ECR ${d['action-type']} result is ${clip(d.result)}, not SUCCESS` };
  }
  // the China regions live in their own partition, under amazonaws.com.cn
  const registry = `${e.account}.dkr.ecr.${e.region}.amazonaws.com${e.region.startsWith('cn-') ? '.cn' : ''}`;
  const names = splitRepoFullName(d['repository-name']);
  const tag = d['image-tag'] || undefined;
  const digest = d['image-digest'] || undefined;
  return {
    kind: 'events',
    events: [
      {
        provider: 'ecr',
        kind: 'image',
        action,
        deliveryId: e.id,
        registry,
        ...names,
        tag,
        digest,
        image: imageRef({ registry, repoFullName: names.repoFullName, tag, digest }),
        occurredAt: isoTime(e.time),
      },
    ],
  };
}
