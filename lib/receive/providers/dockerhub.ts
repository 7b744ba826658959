/**
 * Docker Hub repository webhooks. Docker Hub signs nothing, so the secret travels in the URL
 * (`?token=`). Payloads: the current docs shape, and the legacy automated-build shape with
 * float timestamps and a `push_data.images` array.
 */
import * as z from 'zod';
import { imageRef, splitRepoFullName } from '../../core/event';
import type { Provider } from './types';
import { verifyQueryToken } from './verify';

export const dockerhubSchema = z.object({
  callback_url: z.string().optional(),
  push_data: z.object({
    // unix seconds; capped at year 9999 so that toISOString cannot throw (1e300 is a 400 naming the field)
    pushed_at: z.number().min(0).max(253402300799).optional(),
    pusher: z.string().optional(),
    tag: z.string().min(1),
  }),
  // repo_name ("ns/name") names the image; namespace and name say the same where a payload lacks it
  repository: z
    .object({
      repo_name: z.string().min(1).optional(),
      namespace: z.string().optional(),
      name: z.string().optional(),
    })
    .refine((r) => !!r.repo_name || !!r.name, {
      message: 'expected repo_name (or namespace and name)',
      path: ['repo_name'],
    }),
});

export const dockerhub: Provider = {
  id: 'dockerhub',
  title: 'Docker Hub',
  credential: { query: true, hint: 'Webhook URL with ?token=<secret> (Docker Hub signs nothing)' },
  credentialHeaders: [],
  verify: (req, secrets) => verifyQueryToken(req, secrets),
  parse(req) {
    const body = dockerhubSchema.parse(req.body);
    const r = body.repository;
    // an official image's repo_name has no namespace ("ubuntu"), nor does a derived one without namespace
    const names = splitRepoFullName((r.repo_name || (r.namespace ? `${r.namespace}/${r.name}` : r.name))!);
    const tag = body.push_data.tag;
    return {
      kind: 'events',
      events: [
        {
          provider: 'dockerhub',
          kind: 'image',
          action: 'push',
          ...names,
          namespace: body.repository.namespace ?? names.namespace,
          tag,
          image: imageRef({ repoFullName: names.repoFullName, tag }),
          owner: body.push_data.pusher,
          occurredAt:
            body.push_data.pushed_at !== undefined
              ? new Date(body.push_data.pushed_at * 1000).toISOString()
              : undefined,
          callbackUrl: body.callback_url,
        },
      ],
    };
  },
};
