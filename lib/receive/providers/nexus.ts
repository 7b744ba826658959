/**
 * Sonatype Nexus Repository 3 repository webhooks. Nexus signs the body as it sends it (compact JSON):
 * `X-Nexus-Webhook-Signature: <hex HMAC-SHA1>`. The event is named by `X-Nexus-Webhook-Id`; only
 * component events of docker repositories deploy (name = image, version = tag). Nexus does not say
 * which host serves the repository (docker connectors have their own ports), so there is no registry.
 */
import * as z from 'zod';
import { type Action, imageRef, splitRepoFullName } from '../../core/event';
import { clip, header } from './git';
import type { Provider } from './types';
import { verifyHmacHeader } from './verify';

const ACTIONS: Record<string, Action> = { CREATED: 'push', UPDATED: 'push', DELETED: 'delete' };

const componentSchema = z.object({
  id: z.string().nullish(),
  componentId: z.string().nullish(),
  format: z.string().min(1),
  name: z.string().min(1),
  group: z.string().nullish(),
  version: z.string().nullish(),
});

/** "2016-11-14T19:32:13.515+0000" (Java's offset without a colon) as epoch ms; NaN when it is no date. */
const parseNexusTime = (s: string): number => Date.parse(s.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));

export const nexusComponentSchema = z.object({
  timestamp: z
    .string()
    .refine((s) => Number.isFinite(parseNexusTime(s)), 'expected a timestamp such as 2016-11-14T19:32:13.515+0000')
    .nullish(),
  nodeId: z.string().nullish(),
  initiator: z.string().nullish(),
  repositoryName: z.string().nullish(),
  action: z.enum(['CREATED', 'UPDATED', 'DELETED']),
  component: componentSchema,
});

/** A docker component: its version is the tag, which a deploy needs. */
export const nexusDockerSchema = nexusComponentSchema.extend({
  component: componentSchema.extend({ version: z.string().min(1) }),
});

/** "admin/127.0.0.1" -> "admin" (Nexus appends the client address to the user id). */
function userOf(initiator: string | null | undefined): string | undefined {
  if (!initiator) return undefined;
  const i = initiator.lastIndexOf('/');
  return (i >= 0 ? initiator.slice(0, i) : initiator) || undefined;
}

export const nexus: Provider = {
  id: 'nexus',
  title: 'Sonatype Nexus Repository',
  credential: { hint: 'Webhook "Secret Key": <secret> (Nexus signs the body: X-Nexus-Webhook-Signature, HMAC-SHA1)' },
  credentialHeaders: ['x-nexus-webhook-signature'],
  verify: (req, secrets) => verifyHmacHeader(req, secrets, 'X-Nexus-Webhook-Signature', 'sha1'),
  parse(req) {
    const hook = header(req.headers, 'x-nexus-webhook-id');
    // asset events (rm:repository:asset) repeat each file of a component: acting on them would deploy twice
    if (hook !== undefined && hook !== 'rm:repository:component') {
      return { kind: 'ignored', reason: `nexus webhook "${clip(hook)}" is not handled (only rm:repository:component)` };
    }
    const body = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as Record<string, unknown>;
    if (hook === undefined && body.component === undefined && body.asset !== undefined) {
      return { kind: 'ignored', reason: 'nexus asset events are not handled (only rm:repository:component)' };
    }
    // read the format first: a component of another format is acknowledged whatever else it carries
    const format = z.object({ component: z.object({ format: z.string().min(1) }) }).parse(req.body).component.format;
    if (format !== 'docker') {
      return { kind: 'ignored', reason: `nexus component format "${clip(format)}" is not docker` };
    }
    const parsed = nexusDockerSchema.parse(req.body);
    const c = parsed.component;
    const names = splitRepoFullName(c.name);
    const tag = c.version;
    return {
      kind: 'events',
      events: [
        {
          provider: 'nexus',
          kind: 'image',
          action: ACTIONS[parsed.action],
          deliveryId: header(req.headers, 'x-nexus-webhook-delivery'),
          ...names,
          tag,
          image: imageRef({ repoFullName: names.repoFullName, tag }),
          owner: userOf(parsed.initiator),
          occurredAt: parsed.timestamp ? new Date(parseNexusTime(parsed.timestamp)).toISOString() : undefined,
        },
      ],
    };
  },
};
