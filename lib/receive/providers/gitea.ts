/**
 * Gitea (and Forgejo) webhooks. `X-Gitea-Signature` is the hex HMAC-SHA256 of the raw body, with no
 * prefix. Gitea also sends GitHub/Gogs copies of its headers; the URL picked this provider, so only
 * the Gitea ones are read. Gitea sends `push` for every push (tags included) and also `create` for a
 * new branch or tag; only the push is acted on, so a new ref deploys once.
 */
import { clip, header, parseStandardPush } from './git';
import type { Provider } from './types';
import { verifyHmacHeader } from './verify';

export const gitea: Provider = {
  id: 'gitea',
  title: 'Gitea / Forgejo',
  credential: { hint: 'Webhook "Secret": <secret> (Gitea signs the body: X-Gitea-Signature)' },
  // every copy of the signature, and the optional Authorization header Gitea >= 1.19 can send
  credentialHeaders: ['x-gitea-signature', 'x-gogs-signature', 'x-hub-signature', 'x-hub-signature-256', 'authorization'],
  // the webhook form offers application/x-www-form-urlencoded (payload=<json>) besides application/json
  formPayload: true,
  // Gitea < 1.14 put the secret into the body as `secret`
  credentialBodyFields: ['secret'],
  verify: (req, secrets) => verifyHmacHeader(req, secrets, 'X-Gitea-Signature', 'sha256'),
  parse(req) {
    const event = header(req.headers, 'x-gitea-event');
    // push, create and release bodies all carry a ref or repository; only the header tells them apart
    if (!event) return { kind: 'ignored', reason: 'missing X-Gitea-Event header' };
    if (event !== 'push') {
      const why = event === 'create' ? ' (Gitea also sends a push for the new ref)' : '';
      return { kind: 'ignored', reason: `gitea event "${clip(event)}" is not a push${why}` };
    }
    // recent Gitea sets head_commit; older ones list commits newest first
    return parseStandardPush('gitea', req.body, { newest: 'first', deliveryId: header(req.headers, 'x-gitea-delivery') });
  },
};
