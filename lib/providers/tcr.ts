/**
 * Tencent Cloud TCR (Enterprise) triggers. TCR computes no signature; a trigger can send custom
 * headers, so the secret is configured there as `Authorization: Bearer <secret>`. Triggers without
 * the header can use `?token=` instead. The body is Harbor-derived: one delivery lists every
 * resource (tag) the action touched.
 */
import { z } from 'zod';
import { type Action, type NormalizedEvent, imageRef, parseImageRef } from '../event';
import type { Provider } from './types';
import { verifyQueryToken, verifyTokenHeader } from './verify';

/** TCR's four trigger actions (the console offers no others). */
const TYPES: Record<string, { action: Action; kind: 'image' | 'chart' }> = {
  pushImage: { action: 'push', kind: 'image' },
  deleteImage: { action: 'delete', kind: 'image' },
  uploadChart: { action: 'chart_push', kind: 'chart' },
  deleteChart: { action: 'chart_delete', kind: 'chart' },
};

export const tcrSchema = z.object({
  type: z.string().min(1),
  // unix seconds; capped at year 9999 so that toISOString cannot throw
  occur_at: z.number().int().min(0).max(253402300799).optional(),
  event_data: z.object({
    resources: z
      .array(
        z.object({
          digest: z.string().optional(),
          tag: z.string().optional(),
          resource_url: z.string().min(1),
        }),
      )
      .min(1),
    repository: z.object({
      name: z.string().min(1),
      namespace: z.string().min(1),
      repo_full_name: z.string().min(1).optional(),
    }),
  }),
  operator: z.string().optional(),
});

/** "xxx-bj.tencentcloudcr.com/public/nginx:v1.10.0" -> "xxx-bj.tencentcloudcr.com" (a scheme is tolerated). */
function registryOf(resourceUrl: string): string | undefined {
  return parseImageRef(resourceUrl.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '')).registry;
}

export const tcr: Provider = {
  id: 'tcr',
  title: 'Tencent Cloud Container Registry (TCR)',
  credential: {
    query: true,
    headers: (secret) => ({ Authorization: `Bearer ${secret}` }),
    hint: 'Trigger custom header Authorization: Bearer <secret> (or ?token=<secret> in the URL)',
  },
  credentialHeaders: ['authorization'],
  verify(req, secrets) {
    // a header that is there decides, so a wrong header cannot be rescued by a right query token
    if (req.headers.authorization !== undefined) {
      return verifyTokenHeader(req, secrets, 'Authorization', { bearer: 'required' });
    }
    return verifyQueryToken(req, secrets);
  },
  parse(req) {
    // read the type first: a type we do not handle is acknowledged whatever its body looks like
    const type = z.object({ type: z.string().min(1) }).parse(req.body).type;
    const mapped = TYPES[type];
    if (!mapped) {
      return {
        kind: 'ignored',
        reason: `TCR event type "${type.slice(0, 64)}" is not handled (only ${Object.keys(TYPES).join(', ')})`,
      };
    }
    const body = tcrSchema.parse(req.body);
    const repo = body.event_data.repository;
    const repoFullName = repo.repo_full_name ?? `${repo.namespace}/${repo.name}`;
    const occurredAt = body.occur_at !== undefined ? new Date(body.occur_at * 1000).toISOString() : undefined;
    const events = body.event_data.resources.map((r): NormalizedEvent => {
      const digest = r.digest?.trim() || undefined;
      // Harbor-derived: an artifact pushed by digest reports its digest as the "tag". No tag or chart
      // version contains ":", a digest always does
      const rawTag = r.tag?.trim() || undefined;
      const tag = rawTag && !rawTag.includes(':') ? rawTag : undefined;
      const registry = registryOf(r.resource_url);
      return {
        provider: 'tcr',
        kind: mapped.kind,
        action: mapped.action,
        registry,
        namespace: repo.namespace,
        repository: repo.name,
        repoFullName,
        tag,
        digest,
        // a chart (version) is not a container image, so it gets no image reference
        image: mapped.kind === 'image' ? imageRef({ registry, repoFullName, tag, digest }) : undefined,
        owner: body.operator,
        occurredAt,
      };
    });
    return { kind: 'events', events };
  },
};
