/**
 * CNCF Distribution (`registry:2`, Debian's docker-registry) notifications, and the GitLab self-managed
 * container registry, which sends the same envelope: `{"events": [...]}` with Content-Type
 * `application/vnd.docker.distribution.events.v1+json` (v2+json in Distribution 3), one or more events per
 * request. The registry signs nothing: it sends the `headers` of its endpoint config verbatim, so the
 * credential is `Authorization: Bearer <secret>` there (never a URL token: the registry logs endpoint URLs).
 *
 * Distribution re-sends a notification that was not answered 2xx/3xx for ever and holds back every later
 * event of that endpoint behind it, so everything a well-formed envelope says that we do not act on (blob
 * pushes, pulls and mounts, other actions) is `ignored` (202 untriggered), never 4xx.
 *
 * Acted on: manifest and image-index pushes (tagged, or by digest) and deletes. Distribution 2.8 sends two
 * deletes for one `DELETE /v2/<repo>/manifests/<digest>`: the manifest by digest and then one per tag it had
 * (target.tag, no digest). Manifest pulls become `pull` events (as for Harbor): a trigger acts on them only
 * when it lists `pull`.
 */
import * as z from 'zod';
import { type Action, type NormalizedEvent, imageRef, splitRepoFullName } from '../../core/event';
import { clip, isoTime } from './git';
import type { Provider } from './types';
import { verifyTokenHeader } from './verify';

/** Manifest media types: OCI and Docker image manifests and indexes (and Docker's schema 1). */
export const MANIFEST_MEDIA_TYPES = new Set([
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v1+prettyjws',
]);

/** What every event must have for us to read what it is; anything else about it may be missing. */
const headSchema = z.object({
  action: z.string(),
  target: z.object({ mediaType: z.string().optional() }).loose().optional(),
});

export const distributionEventSchema = z.object({
  id: z.string().min(1),
  timestamp: z.string().optional(),
  action: z.string().min(1),
  target: z.object({
    mediaType: z.string().optional(),
    // its grammar is checked with every other name at ingest (lib/core/artifact-names.ts), per event
    digest: z.string().optional(),
    repository: z.string().min(1),
    url: z.string().optional(),
    tag: z.string().optional(),
  }),
  request: z.object({ host: z.string().optional() }).optional(),
  actor: z.object({ name: z.string().optional() }).optional(),
});

export const distributionEnvelopeSchema = z.object({ events: z.array(z.unknown()).min(1) });

/** The registry host the client used: request.host, else the host of target.url. */
function registryOf(e: z.infer<typeof distributionEventSchema>): string | undefined {
  const host = e.request?.host?.trim();
  if (host) return host;
  const m = e.target.url ? /^[a-z][a-z0-9+.-]*:\/\/([^/]+)\//i.exec(e.target.url) : null;
  return m?.[1];
}

/** Why an event is not acted on, or the action it is. */
function classify(head: z.infer<typeof headSchema>): { action: Action } | { ignored: string } {
  const mediaType = head.target?.mediaType;
  const isManifest = mediaType !== undefined && MANIFEST_MEDIA_TYPES.has(mediaType);
  switch (head.action) {
    case 'push':
    case 'pull':
      if (isManifest) return { action: head.action };
      return {
        ignored:
          mediaType === undefined || mediaType === 'application/octet-stream' || !mediaType.includes('manifest')
            ? `blob ${head.action} (${clip(mediaType ?? 'no media type')}) is not acted on`
            : `${head.action} of media type ${clip(mediaType)} is not acted on`,
      };
    case 'delete':
      // Distribution 2.8 sends deletes without a media type; a manifest's or a tag's delete
      if (mediaType !== undefined && !isManifest)
        return { ignored: `delete of media type ${clip(mediaType)} is not acted on` };
      return { action: 'delete' };
    case 'mount':
      return { ignored: 'blob mount is not acted on' };
    default:
      return { ignored: `registry action "${clip(head.action)}" is not acted on` };
  }
}

/** A verified envelope -> its manifest events, or ignored when none of its events is one we act on. */
export function parseDistributionEnvelope(provider: string, raw: unknown) {
  const envelope = distributionEnvelopeSchema.parse(raw);
  const events: NormalizedEvent[] = [];
  const reasons: string[] = [];
  envelope.events.forEach((item, i) => {
    const head = headSchema.safeParse(item);
    if (!head.success) {
      reasons.push(`event ${i} has no action`);
      return;
    }
    const what = classify(head.data);
    if ('ignored' in what) {
      reasons.push(what.ignored);
      return;
    }
    // an event we act on must say what it is about: a ZodError here names events.<i>.<field>
    const parsed = distributionEventSchema.safeParse(item);
    if (!parsed.success) {
      throw new z.ZodError(parsed.error.issues.map((issue) => ({ ...issue, path: ['events', i, ...issue.path] })));
    }
    const e = parsed.data;
    const registry = registryOf(e);
    const names = splitRepoFullName(e.target.repository);
    const tag = e.target.tag?.trim() || undefined;
    const digest = e.target.digest?.trim() || undefined;
    events.push({
      provider,
      kind: 'image',
      action: what.action,
      deliveryId: e.id,
      registry,
      ...names,
      tag,
      digest,
      image: imageRef({ registry, repoFullName: names.repoFullName, tag, digest }),
      owner: e.actor?.name || undefined,
      occurredAt: isoTime(e.timestamp),
    });
  });
  if (events.length > 0) return { kind: 'events' as const, events, batch: true };
  const unique = [...new Set(reasons)];
  return { kind: 'ignored' as const, reason: unique.length === 1 ? unique[0] : `${unique.join('; ')}` };
}

export const distribution: Provider = {
  id: 'distribution',
  title: 'CNCF Distribution (registry:2) / GitLab container registry',
  credential: {
    headers: (secret) => ({ Authorization: `Bearer ${secret}` }),
    hint: 'config.yml notifications.endpoints[].headers: Authorization: [Bearer <secret>] (the registry signs nothing)',
  },
  credentialHeaders: ['authorization'],
  verify: (req, secrets) => verifyTokenHeader(req, secrets, 'Authorization', { bearer: 'optional' }),
  parse: (req) => parseDistributionEnvelope('distribution', req.body),
};
