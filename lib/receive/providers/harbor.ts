/**
 * Harbor project webhooks. Harbor computes no signature: it sends the policy's "Auth Header" string
 * verbatim as `Authorization`, so users may enter either `<secret>` or `Bearer <secret>` there.
 * Two payload formats share one `resources` + `repository` shape: Default (`type` such as
 * PUSH_ARTIFACT, or Harbor 1.x camelCase `pushImage`, data in `event_data`) and CloudEvents
 * (`specversion`, `type` such as harbor.artifact.pushed, data in `data`, delivery id in `id`).
 *
 * Pulls are normalized as action 'pull' rather than ignored, so the trigger log shows them and a
 * trigger can opt in with `actions: ["pull"]`; rules that ask for pushes never deploy them.
 * Scanner pulls (Trivy robots) are frequent, which is another reason to let the matcher decide visibly.
 */
import * as z from 'zod';
import { type Action, type NormalizedEvent, imageRef, splitRepoFullName } from '../../core/event';
import { readImageRef } from './image-ref';
import type { Provider } from './types';
import { verifyTokenHeader } from './verify';

/** Every event type we act on, in the three vocabularies Harbor has used. */
const TYPES: Record<string, { action: Action; kind: 'image' | 'chart' }> = {
  // Harbor 2.x Default format
  PUSH_ARTIFACT: { action: 'push', kind: 'image' },
  DELETE_ARTIFACT: { action: 'delete', kind: 'image' },
  PULL_ARTIFACT: { action: 'pull', kind: 'image' },
  // ChartMuseum (Harbor 2.0-2.7); 2.8 dropped it and charts arrive as OCI artifacts (PUSH_ARTIFACT)
  UPLOAD_CHART: { action: 'chart_push', kind: 'chart' },
  DELETE_CHART: { action: 'chart_delete', kind: 'chart' },
  // CloudEvents format (Harbor 2.8+)
  'harbor.artifact.pushed': { action: 'push', kind: 'image' },
  'harbor.artifact.deleted': { action: 'delete', kind: 'image' },
  'harbor.artifact.pulled': { action: 'pull', kind: 'image' },
  // Harbor 1.x (still emitted by Harbor-derived registries)
  pushImage: { action: 'push', kind: 'image' },
  deleteImage: { action: 'delete', kind: 'image' },
  pullImage: { action: 'pull', kind: 'image' },
  uploadChart: { action: 'chart_push', kind: 'chart' },
  deleteChart: { action: 'chart_delete', kind: 'chart' },
};

const harborRepository = z.object({
  name: z.string().min(1).optional(),
  namespace: z.string().min(1).optional(),
  repo_full_name: z.string().min(1).optional(),
});

/** "library/a/b" from repo_full_name, else namespace/name; undefined when the repository object does not say. */
function repositoryPath(repo: z.infer<typeof harborRepository> | undefined): string | undefined {
  return repo?.repo_full_name ?? (repo?.namespace && repo.name ? `${repo.namespace}/${repo.name}` : undefined);
}

/**
 * `event_data` of Harbor's Default format and `data` of its CloudEvents; Tencent TCR (built on Harbor) sends it
 * too. What identifies the artifact is required (the repository, from `repository` or each resource_url);
 * the rest is derived where the payload names it elsewhere (tag/digest/host from resource_url).
 */
export const harborEventData = z
  .object({
    resources: z
      .array(
        z.object({
          digest: z.string().optional(),
          tag: z.string().optional(),
          // host/repository[:tag|@digest]; the only field that names the registry host
          resource_url: z.string().min(1).optional(),
        }),
      )
      .min(1),
    repository: harborRepository.optional(),
  })
  .superRefine((d, ctx) => {
    if (repositoryPath(d.repository) !== undefined) return;
    d.resources.forEach((r, i) => {
      if (!readImageRef(r.resource_url)?.repoFullName) {
        ctx.addIssue({
          code: 'custom',
          path: ['resources', i, 'resource_url'],
          message: 'expected the repository: repository.repo_full_name (or namespace and name), or resource_url',
        });
      }
    });
  });

export const harborDefaultSchema = z.object({
  type: z.string().min(1),
  // unix seconds; capped at year 9999 so that toISOString cannot throw
  occur_at: z.number().int().min(0).max(253402300799).optional(),
  operator: z.string().optional(),
  event_data: harborEventData,
});

export const harborCloudEventSchema = z.object({
  specversion: z.string().min(1),
  id: z.string().min(1).optional(),
  type: z.string().min(1),
  time: z.iso.datetime({ offset: true }).optional(),
  // a CloudEvents extension attribute in Harbor's format
  operator: z.string().optional(),
  data: harborEventData,
});

export const harbor: Provider = {
  id: 'harbor',
  title: 'Harbor',
  credential: {
    headers: (secret) => ({ Authorization: `Bearer ${secret}` }),
    hint: 'Webhook policy Auth Header: Bearer <secret> (or just <secret>); Harbor signs nothing',
  },
  credentialHeaders: ['authorization'],
  verify: (req, secrets) => verifyTokenHeader(req, secrets, 'Authorization', { bearer: 'optional' }),
  parse(req) {
    // read the type first: scans, quotas, replication... are acknowledged whatever their body looks like
    const head = z.object({ type: z.string().min(1), specversion: z.unknown().optional() }).parse(req.body);
    const mapped = TYPES[head.type];
    if (!mapped) {
      return {
        kind: 'ignored',
        reason:
          `Harbor event type "${head.type.slice(0, 64)}" is not acted on ` +
          '(only artifact push, pull and delete, and chart upload and delete)',
      };
    }
    let data: z.infer<typeof harborEventData>;
    let operator: string | undefined;
    let occurredAt: string | undefined;
    let deliveryId: string | undefined;
    if (head.specversion !== undefined) {
      const body = harborCloudEventSchema.parse(req.body);
      data = body.data;
      operator = body.operator;
      occurredAt = body.time !== undefined ? new Date(body.time).toISOString() : undefined;
      deliveryId = body.id;
    } else {
      // the Default format carries no delivery id; dedup falls back to digest+tag+action
      const body = harborDefaultSchema.parse(req.body);
      data = body.event_data;
      operator = body.operator;
      occurredAt = body.occur_at !== undefined ? new Date(body.occur_at * 1000).toISOString() : undefined;
    }
    const events = harborResourceEvents('harbor', mapped, data, { deliveryId, owner: operator, occurredAt });
    return { kind: 'events', events };
  },
};

/** One event per resource of a Harbor-shaped `event_data` (Harbor, and Tencent TCR which is built on it). */
export function harborResourceEvents(
  provider: string,
  mapped: { action: Action; kind: 'image' | 'chart' },
  data: z.infer<typeof harborEventData>,
  extra: Pick<NormalizedEvent, 'deliveryId' | 'owner' | 'occurredAt'>,
): NormalizedEvent[] {
  const fromRepository = repositoryPath(data.repository);
  return data.resources.map((r): NormalizedEvent => {
    // resource_url is host/repository[:tag|@digest] for images; charts (Harbor 1.x) give a download URL,
    // which names the host only
    const ref = readImageRef(r.resource_url);
    const isImage = mapped.kind === 'image';
    // "library/a/b": namespace library (the project), repository a/b
    const names = splitRepoFullName((fromRepository ?? ref?.repoFullName)!);
    // an artifact pushed (or pulled) by digest reports its digest as the "tag"; no tag or chart
    // version contains ":", a digest always does
    const rawTag = r.tag?.trim() || (isImage ? ref?.tag : undefined);
    const tagIsDigest = rawTag !== undefined && rawTag.includes(':');
    const tag = tagIsDigest ? undefined : rawTag;
    const digest = r.digest?.trim() || (tagIsDigest ? rawTag : undefined) || (isImage ? ref?.digest : undefined);
    const registry = ref?.registry;
    return {
      provider,
      kind: mapped.kind,
      action: mapped.action,
      registry,
      ...names,
      tag,
      digest,
      // a chart (version) is not a container image, so it gets no image reference
      image: isImage ? imageRef({ registry, repoFullName: names.repoFullName, tag, digest }) : undefined,
      ...extra,
    };
  });
}
