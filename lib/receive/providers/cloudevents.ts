/**
 * CloudEvents 1.0 over HTTP, in structured mode (`application/cloudevents+json`: the envelope is the body),
 * batched mode (`application/cloudevents-batch+json`: an array of them) and binary mode (`ce-*` headers, the
 * body is the data). Image events of the registries and buses that emit them are mapped:
 * - Harbor's CloudEvents format (`harbor.artifact.pushed` / `deleted` / `pulled`);
 * - Zot's events extension (`zotregistry.image.updated` / `deleted`; binary mode, data {name, reference, digest});
 * - ECR image actions relayed from EventBridge (data is the EventBridge event, `source: aws.ecr`);
 * - CDEvents (`dev.cdevents.*`, see cdevents.ts).
 * Other types are `ignored` (202 untriggered). The CloudEvents `id` is the delivery id.
 *
 * Authenticated by `Authorization: Bearer <secret>`, `Authorization: Basic` with the secret as password (Zot
 * can only send Basic credentials), or the generic `X-Signature: sha256=<hex HMAC of the raw body>`.
 */
import * as z from 'zod';
import { type Action, type NormalizedEvent, imageRef, parseImageRef, splitRepoFullName } from '../../core/event';
import { normalizeCdevent } from './cdevents';
import { type CloudEvent, isBatchedMode, readCloudEvents, verifyBearerOrSignature } from './cloudevents-http';
import { normalizeEcrEvent } from './ecr';
import { clip, isoTime } from './git';
import { harborEventData, harborResourceEvents } from './harbor';
import type { ParseResult, Provider, WebhookRequest } from './types';

// ---------------------------------------------------------------------------------------------
// mapping image events

const HARBOR: Record<string, Action> = {
  'harbor.artifact.pushed': 'push',
  'harbor.artifact.deleted': 'delete',
  'harbor.artifact.pulled': 'pull',
};

const ZOT: Record<string, Action> = { 'zotregistry.image.updated': 'push', 'zotregistry.image.deleted': 'delete' };

const zotDataSchema = z.object({
  name: z.string().min(1),
  reference: z.string().optional(),
  digest: z.string().optional(),
  mediaType: z.string().optional(),
});

function zotEvents(provider: string, ce: CloudEvent, action: Action): NormalizedEvent[] {
  const d = zotDataSchema.parse(ce.data);
  // reference is what the client pushed to: a tag, or the digest itself
  const ref = d.reference?.trim() || undefined;
  const refIsDigest = ref !== undefined && ref.includes(':');
  const tag = refIsDigest ? undefined : ref;
  const digest = d.digest?.trim() || (refIsDigest ? ref : undefined);
  // Zot's events carry no registry host (source is "zotregistry.dev"); a name with a host keeps it
  const parsed = parseImageRef(d.name);
  const names = splitRepoFullName(parsed.repoFullName);
  return [
    {
      provider,
      kind: 'image',
      action,
      deliveryId: ce.id,
      registry: parsed.registry,
      ...names,
      tag,
      digest,
      image: imageRef({ registry: parsed.registry, repoFullName: names.repoFullName, tag, digest }),
      occurredAt: isoTime(ce.time),
    },
  ];
}

function isEcrEvent(data: unknown): boolean {
  return typeof data === 'object' && data !== null && (data as Record<string, unknown>).source === 'aws.ecr';
}

/** One CloudEvent -> what we make of it. A ZodError from a known type's data names `data.<field>`. */
export function normalizeCloudEvent(provider: string, ce: CloudEvent): ParseResult {
  const prefixed = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (e) {
      if (e instanceof z.ZodError) throw new z.ZodError(e.issues.map((i) => ({ ...i, path: ['data', ...i.path] })));
      throw e;
    }
  };
  if (ce.type.startsWith('dev.cdevents.')) return normalizeCdevent(provider, ce);
  const harbor = HARBOR[ce.type];
  if (harbor) {
    const data = prefixed(() => harborEventData.parse(ce.data));
    return {
      kind: 'events',
      events: harborResourceEvents(provider, { action: harbor, kind: 'image' }, data, {
        deliveryId: ce.id,
        occurredAt: isoTime(ce.time),
      }),
    };
  }
  const zot = ZOT[ce.type];
  if (zot) return { kind: 'events', events: prefixed(() => zotEvents(provider, ce, zot)) };
  if (isEcrEvent(ce.data)) {
    const ecr = prefixed(() => normalizeEcrEvent(ce.data));
    if (ecr.kind === 'ignored') return ecr;
    return { kind: 'events', events: ecr.events.map((e) => ({ ...e, provider, deliveryId: ce.id })) };
  }
  return {
    kind: 'ignored',
    reason:
      `CloudEvents type "${clip(ce.type)}" is not an image event Triggerfish maps ` +
      '(harbor.artifact.*, zotregistry.image.*, ECR image actions, dev.cdevents.*)',
  };
}

/** Every event of a request; the ones we act on win, else the first reason. */
export function parseCloudEvents(provider: string, req: WebhookRequest): ParseResult {
  const results = readCloudEvents(req).map((ce) => normalizeCloudEvent(provider, ce));
  const events = results.flatMap((r) => (r.kind === 'events' ? r.events : []));
  if (events.length > 0) return { kind: 'events', events, ...(isBatchedMode(req) ? { batch: true } : {}) };
  return results[0];
}

export const cloudevents: Provider = {
  id: 'cloudevents',
  title: 'CloudEvents (Harbor, Zot, ECR relays, any image event bus)',
  credential: {
    headers: (secret) => ({ Authorization: `Bearer ${secret}` }),
    hint: 'Authorization: Bearer <secret> (or Basic with <secret> as the password, or X-Signature: sha256=<hex HMAC of the body>)',
  },
  credentialHeaders: ['authorization', 'x-signature'],
  verify: (req, secrets) => verifyBearerOrSignature(req, secrets),
  parse: (req) => parseCloudEvents('cloudevents', req),
};
