/**
 * CDEvents (https://cdevents.dev, spec v0.4-v0.6), carried as CloudEvents (binary or structured mode, per the
 * spec's cloudevents-binding.md: the CloudEvent's data is the whole CDEvent) or POSTed as a bare CDEvent.
 * Acted on:
 * - `dev.cdevents.artifact.published.*` and `.packaged.*`: an image push when `subject.id` is a container purl
 *   (`pkg:oci/...` or `pkg:docker/...`); `.deleted.*` the same as a delete. Other purl types (golang, maven...)
 *   are not images: ignored.
 * - `dev.cdevents.change.merged.*`: a code push of `subject.content.repository.id` (CDEvents carries no commit or
 *   branch for a merged change, so a branch rule cannot match it).
 * Everything else is ignored. The CDEvent `context.id` is the delivery id. Same credentials as `cloudevents`.
 */
import * as z from 'zod';
import { type Action, type NormalizedEvent, imageRef, parseImageRef, splitRepoFullName } from '../../core/event';
import { type CloudEvent, isBatchedMode, readCloudEvents, verifyBearerOrSignature } from './cloudevents-http';
import { clip, header, isoTime } from './git';
import type { ParseResult, Provider, WebhookRequest } from './types';

export const cdeventSchema = z.object({
  context: z.object({
    id: z.string().min(1),
    type: z
      .string()
      .regex(
        /^dev\.cdevents\.[a-z]+\.[a-z]+\.[0-9]+\.[0-9]+\.[0-9]+(-[0-9a-z.-]+)?$/,
        'expected dev.cdevents.<subject>.<predicate>.<version>',
      ),
    source: z.string().min(1),
    timestamp: z.string().optional(),
  }),
  subject: z.object({
    id: z.string().min(1),
    content: z.record(z.string(), z.unknown()).optional(),
  }),
});

/**
 * A package URL (https://github.com/package-url/purl-spec): `pkg:<type>/<namespace>/<name>@<version>?<qualifiers>`.
 * Hand-written (about 20 lines) because no purl library is among the project's dependencies.
 */
export function parsePurl(
  purl: string,
): { type: string; path: string; version?: string; qualifiers: Record<string, string> } | undefined {
  const m = /^pkg:\/*([a-zA-Z][a-zA-Z0-9.+-]*)\/([^?#@]+)(?:@([^?#]+))?(?:\?([^#]*))?(?:#.*)?$/.exec(purl.trim());
  if (!m) return undefined;
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  const qualifiers: Record<string, string> = {};
  for (const pair of (m[4] ?? '').split('&')) {
    const eq = pair.indexOf('=');
    if (eq > 0) qualifiers[pair.slice(0, eq).toLowerCase()] = decode(pair.slice(eq + 1));
  }
  return {
    type: m[1].toLowerCase(),
    path: m[2].split('/').map(decode).join('/'),
    version: m[3] ? decode(m[3]) : undefined,
    qualifiers,
  };
}

/**
 * A container purl -> image parts. `pkg:oci/<name>@<digest>?repository_url=<host/path>&tag=<tag>` (the purl-spec oci
 * type: repository_url is the repository without the tag), or `pkg:docker/<ns>/<name>@<tag or digest>?repository_url=<host>`.
 */
export function imageOfPurl(
  purl: string,
): { registry?: string; repoFullName: string; tag?: string; digest?: string } | undefined {
  const p = parsePurl(purl);
  if (!p) return undefined;
  const isDigest = (v?: string) => v !== undefined && /^[a-z0-9]+:[0-9a-f]+$/i.test(v);
  if (p.type === 'oci') {
    const repo = p.qualifiers.repository_url
      ? parseImageRef(p.qualifiers.repository_url.replace(/^[a-z]+:\/\//i, ''))
      : { repoFullName: p.path };
    return {
      registry: 'registry' in repo ? repo.registry : undefined,
      repoFullName: repo.repoFullName,
      tag: p.qualifiers.tag || undefined,
      digest: isDigest(p.version) ? p.version : undefined,
    };
  }
  if (p.type === 'docker') {
    const host = p.qualifiers.repository_url?.replace(/^[a-z]+:\/\//i, '').replace(/\/$/, '');
    return {
      registry: host || undefined,
      repoFullName: p.path,
      tag: p.version && !isDigest(p.version) ? p.version : undefined,
      digest: isDigest(p.version) ? p.version : undefined,
    };
  }
  return undefined;
}

const ARTIFACT: Record<string, Action> = { published: 'push', packaged: 'push', deleted: 'delete' };

const changeContentSchema = z.object({
  repository: z.object({ id: z.string().min(1), source: z.string().optional() }),
});

/** A CDEvent (the CloudEvent's data, or the bare body) -> events or ignored. */
export function normalizeCdevent(provider: string, ce: CloudEvent | undefined, raw?: unknown): ParseResult {
  const body = ce ? ce.data : raw;
  const event = cdeventSchema.safeParse(body);
  if (!event.success) {
    const prefix = ce ? ['data'] : [];
    throw new z.ZodError(event.error.issues.map((i) => ({ ...i, path: [...prefix, ...i.path] })));
  }
  const { context, subject } = event.data;
  const [, , what, predicate] = context.type.split('.');
  const base = { provider, deliveryId: context.id, occurredAt: isoTime(context.timestamp) };
  if (what === 'artifact' && ARTIFACT[predicate]) {
    const image = imageOfPurl(subject.id);
    if (!image) {
      return {
        kind: 'ignored',
        reason: `artifact ${clip(subject.id)} is not a container image (pkg:oci/ or pkg:docker/)`,
      };
    }
    const names = splitRepoFullName(image.repoFullName);
    const e: NormalizedEvent = {
      ...base,
      kind: 'image',
      action: ARTIFACT[predicate],
      registry: image.registry,
      ...names,
      tag: image.tag,
      digest: image.digest,
      image: imageRef({ ...image, repoFullName: names.repoFullName }),
      owner: typeof subject.content?.user === 'string' ? subject.content.user : undefined,
    };
    return { kind: 'events', events: [e] };
  }
  if (what === 'change' && predicate === 'merged') {
    const content = changeContentSchema.safeParse(subject.content ?? {});
    if (!content.success) {
      const prefix = ce ? ['data', 'subject', 'content'] : ['subject', 'content'];
      throw new z.ZodError(content.error.issues.map((i) => ({ ...i, path: [...prefix, ...i.path] })));
    }
    const e: NormalizedEvent = {
      ...base,
      kind: 'code',
      action: 'push',
      ...splitRepoFullName(content.data.repository.id),
    };
    return { kind: 'events', events: [e] };
  }
  return {
    kind: 'ignored',
    reason: `CDEvents type "${clip(context.type)}" is not acted on (artifact.published, artifact.packaged, artifact.deleted, change.merged)`,
  };
}

/** CloudEvents (binary or structured) whose data is a CDEvent, or a bare CDEvent body. */
export function parseCdevents(provider: string, req: WebhookRequest): ParseResult {
  const bare =
    header(req.headers, 'ce-specversion') === undefined &&
    typeof req.body === 'object' &&
    req.body !== null &&
    !Array.isArray(req.body) &&
    'context' in req.body &&
    !('specversion' in req.body);
  if (bare) return normalizeCdevent(provider, undefined, req.body);
  const results = readCloudEvents(req).map((ce) => normalizeCdevent(provider, ce));
  const events = results.flatMap((r) => (r.kind === 'events' ? r.events : []));
  return events.length > 0 ? { kind: 'events', events, ...(isBatchedMode(req) ? { batch: true } : {}) } : results[0];
}

export const cdevents: Provider = {
  id: 'cdevents',
  title: 'CDEvents',
  credential: {
    headers: (secret) => ({ Authorization: `Bearer ${secret}` }),
    hint: 'Authorization: Bearer <secret> (or X-Signature: sha256=<hex HMAC of the body>)',
  },
  credentialHeaders: ['authorization', 'x-signature'],
  verify: (req, secrets) => verifyBearerOrSignature(req, secrets),
  parse: (req) => parseCdevents('cdevents', req),
};
