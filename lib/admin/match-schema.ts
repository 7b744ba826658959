/** The body of POST /admin/triggers/{id}/match (the dry run). */
import * as z from 'zod';

export const matchRequestSchema = z
  .object({
    /** the sender's body: a JSON value, or the exact text as the sender sent it */
    payload: z.union([z.string().max(1024 * 1024), z.record(z.string(), z.unknown()), z.array(z.unknown())]),
    /** headers the sender sends with it (some providers read the event type there, e.g. X-GitHub-Event) */
    headers: z.record(z.string().max(256), z.string().max(8192)).optional(),
  })
  .strict();
