/**
 * Gogs webhooks. `X-Gogs-Signature` is the hex HMAC-SHA256 of the raw body, with no prefix.
 * Gogs sends `push` for every push (tags included) and also `create` for a new branch or tag; only
 * the push is acted on, so a new ref deploys once.
 */
import { clip, header, parseStandardPush } from './git';
import type { Provider } from './types';
import { verifyHmacHeader } from './verify';

export const gogs: Provider = {
  id: 'gogs',
  title: 'Gogs',
  credential: { hint: 'Webhook "Secret": <secret> (Gogs signs the body: X-Gogs-Signature)' },
  credentialHeaders: ['x-gogs-signature'],
  // the webhook form offers application/x-www-form-urlencoded (payload=<json>) besides application/json
  formPayload: true,
  // early Gogs put the secret into the body as `secret`
  credentialBodyFields: ['secret'],
  verify: (req, secrets) => verifyHmacHeader(req, secrets, 'X-Gogs-Signature', 'sha256'),
  parse(req) {
    const event = header(req.headers, 'x-gogs-event');
    // push, create and release bodies all carry a ref or repository; only the header tells them apart
    if (!event) return { kind: 'ignored', reason: 'missing X-Gogs-Event header' };
    if (event !== 'push') {
      const why = event === 'create' ? ' (Gogs also sends a push for the new ref)' : '';
      return { kind: 'ignored', reason: `gogs event "${clip(event)}" is not a push${why}` };
    }
    // Gogs lists commits newest first and has no head_commit
    return parseStandardPush('gogs', req.body, { newest: 'first', deliveryId: header(req.headers, 'x-gogs-delivery') });
  },
};
