/**
 * JFrog Artifactory webhooks (domain "docker": a tag was pushed, deleted or promoted). The secret
 * arrives in `X-JFrog-Event-Auth`: as is by default, or as the hex HMAC-SHA256 of the body when the
 * webhook has "use secret for payload signing" on. Which mode the sender uses is not said, so both
 * are accepted. The body is an envelope {domain, event_type, data, subscription_key, jpd_origin, source}.
 */
import * as z from 'zod';
import { type Action, imageRef, splitRepoFullName } from '../../core/event';
import { anySecret, hmacHex, safeEqual } from '../../core/crypto';
import { clip, header } from './git';
import { isRegistryHost } from './image-ref';
import { requestBytes, type Provider } from './types';

/** Docker event types we act on. */
const DOCKER_ACTIONS: Record<string, Action> = { pushed: 'push', deleted: 'delete', promoted: 'promote' };

/** "library/ubuntu/latest/list.manifest.json" -> image "library/ubuntu", tag "latest" (<image>/<tag>/<manifest file>). */
function fromPath(path: string | null | undefined): { image: string; tag: string } | undefined {
  const m = /^\/?(.+)\/([^/]+)\/(?:list\.)?manifest\.json$/.exec(path ?? '');
  return m ? { image: m[1], tag: m[2] } : undefined;
}

const jfrogDockerDataFields = z.object({
  repo_key: z.string().nullish(),
  path: z.string().nullish(),
  name: z.string().nullish(),
  sha256: z.string().nullish(),
  size: z.number().nullish(),
  // both are also in `path`, which names them when a payload leaves these out
  image_name: z.string().min(1).nullish(),
  tag: z.string().min(1).nullish(),
});

export const jfrogDockerDataSchema = jfrogDockerDataFields.superRefine((d, ctx) => {
  const p = fromPath(d.path);
  if (!d.image_name && !p)
    ctx.addIssue({
      code: 'custom',
      path: ['image_name'],
      message: 'expected the image (image_name, or path <image>/<tag>/manifest.json)',
    });
  if (!d.tag && !p)
    ctx.addIssue({
      code: 'custom',
      path: ['tag'],
      message: 'expected the tag (tag, or path <image>/<tag>/manifest.json)',
    });
});

export const jfrogSchema = z.object({
  domain: z.string().min(1),
  event_type: z.string().min(1),
  data: jfrogDockerDataSchema,
  subscription_key: z.string().nullish(),
  jpd_origin: z.string().nullish(),
  // "jfrog/<service>@<node>" in real deliveries: the sending service, not a user
  source: z.string().nullish(),
  // the user (or token subject) that caused the event; newer Artifactory versions send it
  userContext: z.object({ id: z.string().nullish() }).nullish(),
});

/** "https://example.jfrog.io/artifactory" -> "example.jfrog.io"; undefined when it is not a URL with a registry host. */
function originHost(origin: string | null | undefined): string | undefined {
  if (!origin) return undefined;
  try {
    const url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(origin) ? origin : `https://${origin}`);
    const host = url.host.toLowerCase();
    return isRegistryHost(host) ? host : undefined;
  } catch {
    return undefined;
  }
}

export const jfrog: Provider = {
  id: 'jfrog',
  title: 'JFrog Artifactory',
  credential: {
    hint: 'Webhook "Secret token": <secret> (sent as X-JFrog-Event-Auth; payload signing may be on or off)',
  },
  credentialHeaders: ['x-jfrog-event-auth'],
  verify(req, secrets) {
    const value = header(req.headers, 'x-jfrog-event-auth');
    if (!value) return { ok: false, reason: 'missing X-JFrog-Event-Auth header' };
    const lower = value.toLowerCase();
    const bytes = requestBytes(req);
    const ok = anySecret(secrets, (s) => {
      // both comparisons always run, so timing does not tell which mode matched
      const plain = safeEqual(value, s);
      const signed = safeEqual(lower, hmacHex('sha256', s, bytes));
      return plain || signed;
    });
    return ok
      ? { ok: true }
      : { ok: false, reason: 'X-JFrog-Event-Auth header is neither the secret nor the HMAC-SHA256 of the body' };
  },
  parse(req) {
    // read domain and type first: other domains (artifact, build, release_bundle...) carry other data
    const head = z.object({ domain: z.string().min(1), event_type: z.string().min(1) }).parse(req.body);
    if (head.domain !== 'docker') {
      return { kind: 'ignored', reason: `jfrog domain "${clip(head.domain)}" is not docker` };
    }
    const action = DOCKER_ACTIONS[head.event_type];
    if (!action) {
      return {
        kind: 'ignored',
        reason: `jfrog docker event "${clip(head.event_type)}" is not handled (only pushed, deleted, promoted)`,
      };
    }
    const body = jfrogSchema.parse(req.body);
    const d = body.data;
    const p = fromPath(d.path);
    // the refinement guarantees one of each
    const tag = (d.tag || p?.tag)!;
    const names = splitRepoFullName((d.image_name || p?.image)!);
    // JFrog's docs show placeholders ("sample_checksum") here; only a real sha256 becomes a digest
    const digest = d.sha256 && /^[0-9a-f]{64}$/i.test(d.sha256) ? `sha256:${d.sha256.toLowerCase()}` : undefined;
    const registry = originHost(body.jpd_origin);
    return {
      kind: 'events',
      events: [
        {
          provider: 'jfrog',
          kind: 'image',
          action,
          registry,
          ...names,
          tag,
          digest,
          image: imageRef({ registry, repoFullName: names.repoFullName, tag }),
          owner: body.userContext?.id || undefined,
        },
      ],
    };
  },
};
