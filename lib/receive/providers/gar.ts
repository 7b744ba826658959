/**
 * Google Artifact Registry (and Container Registry) notifications, delivered by a Pub/Sub push
 * subscription on the `gcr` topic. The registry message is Base64 JSON in `message.data`:
 * `{action: INSERT|DELETE, digest?: "<host>/<path>@sha256:...", tag?: "<host>/<path>:<tag>"}`.
 * The secret travels as `?token=` in the push endpoint URL. Pub/Sub can also authenticate pushes with
 * a Google-signed OIDC JWT (`Authorization: Bearer`); verifying it (Google keys, iss, aud, email) would
 * be a possible addition, and the header is redacted from the log meanwhile.
 *
 * Pub/Sub redelivers anything not answered 2xx until the message expires, so a delivery that is valid
 * Pub/Sub but not a registry notification (another publisher on the topic) is ignored, not refused.
 * Only undecodable data or a registry notification with bad fields is a 400.
 */
import * as z from 'zod';
import { type Action, imageRef, parseImageRef, splitRepoFullName } from '../../core/event';
import type { Provider } from './types';
import { verifyQueryToken } from './verify';

const ACTIONS: Record<string, Action> = { INSERT: 'push', DELETE: 'delete' };

export const garEnvelopeSchema = z.object({
  message: z.object({
    data: z.base64(),
    // the push format has sent both spellings
    messageId: z.string().min(1).optional(),
    message_id: z.string().min(1).optional(),
    publishTime: z.iso.datetime({ offset: true }).optional(),
    publish_time: z.iso.datetime({ offset: true }).optional(),
  }),
  subscription: z.string().optional(),
});

/** The decoded `message.data`. A delete names only the tag, an untagged push only the digest. */
export const garNotificationSchema = z
  .object({
    action: z.string().min(1),
    digest: z
      .string()
      .refine((s) => parseImageRef(s).digest !== undefined, 'expected <image>@<digest>')
      .optional(),
    tag: z
      .string()
      .refine((s) => parseImageRef(s).tag !== undefined, 'expected <image>:<tag>')
      .optional(),
  })
  .refine((n) => n.digest !== undefined || n.tag !== undefined, 'expected digest or tag');

/** Validated under the envelope's path so that a bad field is reported as message.data.<field>. */
const notificationInEnvelope = z.object({ message: z.object({ data: garNotificationSchema }) });

const NOT_A_NOTIFICATION = 'Pub/Sub message is not an Artifact Registry notification';

/** message.data as JSON, or undefined when it is not JSON (a plain-text Pub/Sub message). */
function decodeJson(base64: string): unknown {
  try {
    return JSON.parse(Buffer.from(base64, 'base64').toString('utf8'));
  } catch {
    return undefined;
  }
}

export const gar: Provider = {
  id: 'gar',
  title: 'Google Artifact Registry / Container Registry (Pub/Sub push)',
  credential: {
    query: true,
    hint: 'Pub/Sub push subscription endpoint URL with ?token=<secret>',
  },
  // only the optional Pub/Sub OIDC token; it is not checked, but it is a bearer credential
  credentialHeaders: ['authorization'],
  verify: (req, secrets) => verifyQueryToken(req, secrets),
  parse(req) {
    const envelope = garEnvelopeSchema.parse(req.body);
    const decoded = decodeJson(envelope.message.data);
    // a registry notification is a JSON object with an action; anything else came from another publisher
    if (typeof decoded !== 'object' || decoded === null || Array.isArray(decoded) || !('action' in decoded)) {
      return { kind: 'ignored', reason: NOT_A_NOTIFICATION };
    }
    const n = notificationInEnvelope.parse({ message: { data: decoded } }).message.data;
    const action = ACTIONS[n.action];
    if (!action) {
      return {
        kind: 'ignored',
        reason: `Artifact Registry action "${n.action.slice(0, 64)}" is not acted on (only INSERT, DELETE)`,
      };
    }
    const byTag = n.tag !== undefined ? parseImageRef(n.tag) : undefined;
    const byDigest = n.digest !== undefined ? parseImageRef(n.digest) : undefined;
    // both name the same image; the tag reference is the one a deploy pulls
    const ref = (byTag ?? byDigest)!;
    // GAR paths are project/repository/image: the project becomes the namespace, as the first segment
    // does for every provider, so namespace/repository globs behave the same everywhere
    const names = splitRepoFullName(ref.repoFullName);
    const tag = byTag?.tag;
    const digest = byDigest?.digest;
    const publishTime = envelope.message.publishTime ?? envelope.message.publish_time;
    return {
      kind: 'events',
      events: [
        {
          provider: 'gar',
          kind: 'image',
          action,
          deliveryId: envelope.message.messageId ?? envelope.message.message_id,
          registry: ref.registry,
          ...names,
          tag,
          digest,
          image: imageRef({ registry: ref.registry, repoFullName: names.repoFullName, tag, digest }),
          occurredAt: publishTime !== undefined ? new Date(publishTime).toISOString() : undefined,
        },
      ],
    };
  },
};
