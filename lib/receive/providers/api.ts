/**
 * Kato's API trigger, for any CI system: `POST {"secret_key": "<secret>", "tag"?, "image"?}`. The secret
 * is in the body because that is the documented contract (curl -d '{"secret_key": ...}'). Without
 * `image` the trigger's tracked image is deployed, with `tag` (when given) replacing its tag.
 */
import * as z from 'zod';
import { imageRef, parseImageRef, splitRepoFullName } from '../../core/event';
import { anySecret, safeEqual } from '../../core/crypto';
import type { ParseContext, Provider } from './types';

/** Docker's tag grammar. */
const DOCKER_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
/** Docker's repository path grammar: lowercase components joined by ".", "_", "__" or dashes. */
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const REPO_PATH = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
const DIGEST = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;

/** True for "[host[:port]/]path[:tag][@digest]"; a CI system's typo must not reach a deploy. */
function isImageRef(ref: string): boolean {
  if (/\s/.test(ref)) return false;
  const p = parseImageRef(ref);
  if (!REPO_PATH.test(p.repoFullName)) return false;
  if (p.tag !== undefined && !DOCKER_TAG.test(p.tag)) return false;
  return p.digest === undefined || DIGEST.test(p.digest);
}

export const apiBodySchema = z.object({
  tag: z.string().regex(DOCKER_TAG, 'tag must be a docker tag ([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})').optional(),
  image: z
    .string()
    .refine(isImageRef, 'image must be an image reference such as registry.example.com/ns/web:1.4.0')
    .optional(),
});

/** The body schema for one trigger: without a tracked image the body has to name the image. */
function schemaFor(ctx: ParseContext) {
  return apiBodySchema.superRefine((body, c) => {
    if (body.image === undefined && !ctx.trackedImage) {
      c.addIssue({ code: 'custom', path: ['image'], message: 'image is required when the trigger tracks no image' });
    }
  });
}

export const api: Provider = {
  id: 'api',
  title: 'API trigger',
  credential: { hint: 'POST {"secret_key": "<secret>", "tag": "<optional tag>", "image": "<optional image>"}' },
  credentialHeaders: [],
  credentialBodyFields: ['secret_key'],
  verify(req, secrets) {
    const body = req.body;
    const key =
      typeof body === 'object' && body !== null && !Array.isArray(body)
        ? (body as Record<string, unknown>).secret_key
        : undefined;
    if (typeof key !== 'string' || key === '') return { ok: false, reason: 'missing secret_key in body' };
    return anySecret(secrets, (s) => safeEqual(key, s))
      ? { ok: true }
      : { ok: false, reason: 'secret_key does not match' };
  },
  parse(req, ctx) {
    const body = schemaFor(ctx).parse(req.body);
    // the refinement above guarantees one of the two
    let ref = parseImageRef(body.image ?? (ctx.trackedImage as string));
    // a digest pins the content of the old tag, so a new tag drops it
    if (body.tag !== undefined) ref = { ...ref, tag: body.tag, digest: undefined };
    return {
      kind: 'events',
      events: [
        {
          provider: 'api',
          kind: 'image',
          action: 'push',
          registry: ref.registry,
          ...splitRepoFullName(ref.repoFullName),
          tag: ref.tag,
          digest: ref.digest,
          image: imageRef(ref),
        },
      ],
    };
  },
};
