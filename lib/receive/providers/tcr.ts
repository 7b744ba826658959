/**
 * Tencent Cloud TCR (Enterprise) triggers. TCR computes no signature; a trigger can send custom
 * headers, so the secret is configured there as `Authorization: Bearer <secret>`. Triggers without
 * the header can use `?token=` instead. The body is Harbor-derived: one delivery lists every
 * resource (tag) the action touched.
 */
import * as z from 'zod';
import type { Action } from '../../core/event';
import { harborEventData, harborResourceEvents } from './harbor';
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
  // TCR is built on Harbor and sends Harbor's event_data
  event_data: harborEventData,
  operator: z.string().optional(),
});

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
    // TCR's own way is the custom header: name it, not the URL-token fallback
    if (req.query.token === undefined)
      return {
        ok: false,
        reason: 'missing Authorization header (the trigger\'s custom header "Authorization: Bearer <secret>")',
      };
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
    const occurredAt = body.occur_at !== undefined ? new Date(body.occur_at * 1000).toISOString() : undefined;
    const events = harborResourceEvents('tcr', mapped, body.event_data, { owner: body.operator, occurredAt });
    return { kind: 'events', events };
  },
};
