/**
 * Quay (quay.io and Red Hat Quay) "Repository Push" notifications. Quay signs nothing (it can present
 * a TLS client certificate, which a Lambda behind API Gateway cannot see), so the secret travels as
 * `?token=`. A push lists every tag it updated; `updated_tags` is an array of names, or in the legacy
 * shape an object mapping tag -> image id.
 */
import * as z from 'zod';
import { imageRef, splitRepoFullName } from '../../core/event';
import { isRegistryHost, readImageRef, registryHostOf } from './image-ref';
import type { Provider } from './types';
import { verifyQueryToken } from './verify';

/**
 * Fields of every Quay notification (push, build, vulnerability, mirror...). The repository is what must be
 * named: `repository` ("ns/repo"), else the path of `docker_url` (<server hostname>/<ns>/<repo>). The registry
 * host comes from docker_url, else from `homepage` (https://<server hostname>/repository/<ns>/<repo>).
 */
const quayFields = z.object({
  repository: z.string().min(1).optional(),
  namespace: z.string().min(1).optional(),
  name: z.string().optional(),
  docker_url: z.string().min(1).optional(),
  homepage: z.string().optional(),
});
const namesRepository = (b: z.infer<typeof quayFields>) => b.repository !== undefined || !!repositoryOf(b.docker_url);
const repositoryIssue = {
  message: 'expected the repository (repository, or docker_url <host>/<namespace>/<repository>)',
  path: ['repository'],
};
const quayBase = quayFields.refine(namesRepository, repositoryIssue);

export const quaySchema = quayFields
  .extend({
    updated_tags: z.union([z.array(z.string().min(1)), z.record(z.string().min(1), z.string())]),
    pushed_image_count: z.number().optional(),
  })
  .refine(namesRepository, repositoryIssue);

/**
 * The legacy object form maps tags to V1 image ids (64 hex, no algorithm), which are not manifest
 * digests and cannot be pulled; only a real "sha256:<hex>" value is kept as the digest.
 */
const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** docker_url's path ("ns/repo" of "quay.io/ns/repo"), only when it starts with a host (Docker's rule). */
function repositoryOf(dockerUrl: string | undefined): string | undefined {
  const ref = readImageRef(dockerUrl);
  return ref?.registry && ref.repoFullName ? ref.repoFullName : undefined;
}

/** The registry host: docker_url's (by Docker's rule), else homepage's URL host. */
function registryOf(body: z.infer<typeof quayFields>): string | undefined {
  const fromDockerUrl = registryHostOf(body.docker_url);
  if (fromDockerUrl) return fromDockerUrl;
  try {
    const host = body.homepage ? new URL(body.homepage).host.toLowerCase() : undefined;
    return isRegistryHost(host) ? host : undefined;
  } catch {
    return undefined;
  }
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
    const names = splitRepoFullName((body.repository ?? repositoryOf(body.docker_url))!);
    const registry = registryOf(body);
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
