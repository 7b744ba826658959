/**
 * Quay (quay.io and Red Hat Quay) "Repository Push" notifications. Quay signs nothing (it can present
 * a TLS client certificate, which a Lambda behind API Gateway cannot see), so the secret travels as
 * `?token=`. A push lists every tag it updated; `updated_tags` is an array of names, or in the legacy
 * shape an object mapping tag -> image id.
 */
import * as z from 'zod';
import { imageRef, splitRepoFullName } from '../../core/event';
import type { Provider } from './types';
import { verifyQueryToken } from './verify';

/**
 * Fields every Quay notification has (push, build, vulnerability, mirror...): a body without them is
 * not from Quay. `docker_url` is required because it is the only place that names the registry host,
 * and an image reference without it would point at Docker Hub.
 */
const quayBase = z.object({
  repository: z.string().min(1),
  namespace: z.string().min(1).optional(),
  name: z.string().optional(),
  docker_url: z.string().min(1),
  homepage: z.string().optional(),
});

export const quaySchema = quayBase.extend({
  updated_tags: z.union([z.array(z.string().min(1)), z.record(z.string().min(1), z.string())]),
  pushed_image_count: z.number().optional(),
});

/**
 * The legacy object form maps tags to V1 image ids (64 hex, no algorithm), which are not manifest
 * digests and cannot be pulled; only a real "sha256:<hex>" value is kept as the digest.
 */
const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** "quay.io/ns/repo" -> "quay.io": Quay builds docker_url as <server hostname>/<namespace>/<repo>. */
function registryOf(dockerUrl: string): string | undefined {
  const url = dockerUrl.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  const slash = url.indexOf('/');
  return slash > 0 ? url.slice(0, slash) : undefined;
}

export const quay: Provider = {
  id: 'quay',
  title: 'Quay',
  credential: { query: true, hint: 'Notification webhook URL with ?token=<secret> (Quay signs nothing)' },
  credentialHeaders: [],
  verify: (req, secrets) => verifyQueryToken(req, secrets),
  parse(req) {
    quayBase.parse(req.body);
    // the same endpoint may be chosen for build, vulnerability or mirror notifications; they name no pushed tags
    if (typeof req.body === 'object' && req.body !== null && !('updated_tags' in req.body)) {
      return { kind: 'ignored', reason: 'Quay notification is not a repository push (no updated_tags)' };
    }
    const body = quaySchema.parse(req.body);
    const names = splitRepoFullName(body.repository);
    const registry = registryOf(body.docker_url);
    const updated: Array<[string, string | undefined]> = Array.isArray(body.updated_tags)
      ? body.updated_tags.map((t) => [t, undefined])
      : Object.entries(body.updated_tags);
    if (updated.length === 0) return { kind: 'ignored', reason: 'Quay push updated no tags' };
    return {
      kind: 'events',
      // one event per tag; they all describe the same push
      events: updated.map(([tag, id]) => {
        const digest = id !== undefined && DIGEST.test(id.trim()) ? id.trim() : undefined;
        return {
          provider: 'quay',
          kind: 'image',
          action: 'push',
          registry,
          ...names,
          namespace: body.namespace ?? names.namespace,
          tag,
          digest,
          image: imageRef({ registry, repoFullName: names.repoFullName, tag }),
        };
      }),
    };
  },
};
