/**
 * Alibaba Cloud Container Registry triggers. ACR signs nothing (its own docs put the secret in the
 * trigger URL), so the secret travels as `?token=`. Dates are "YYYY-MM-DD HH:MM:SS" strings without
 * a timezone: they are China Standard Time (UTC+8).
 */
import * as z from 'zod';
import { imageRef, splitRepoFullName } from '../../core/event';
import type { Provider } from './types';
import { verifyQueryToken } from './verify';

const CST_DATE = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})$/;
const CST_OFFSET_MS = 8 * 60 * 60 * 1000;

/** "2016-11-29 12:25:46" (UTC+8) -> "2016-11-29T04:25:46.000Z"; undefined when it is not such a date. */
export function cstToIso(value: string): string | undefined {
  const m = CST_DATE.exec(value.trim());
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number);
  const local = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  // Date.UTC silently rolls 2016-13-45 over into a later date; refuse it instead
  if (local.getUTCMonth() !== mo - 1 || local.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) return undefined;
  return new Date(local.getTime() - CST_OFFSET_MS).toISOString();
}

export const acrSchema = z.object({
  push_data: z.object({
    digest: z.string().optional(),
    pushed_at: z
      .string()
      .refine((s) => cstToIso(s) !== undefined, 'expected "YYYY-MM-DD HH:MM:SS" (China Standard Time)')
      .optional(),
    tag: z.string().min(1),
  }),
  // repo_full_name ("ns/name") or namespace and name: either names the repository, the other is derived
  repository: z
    .object({
      name: z.string().min(1).optional(),
      namespace: z.string().min(1).optional(),
      // a region id such as cn-hangzhou; it becomes part of the registry host, so nothing else is allowed
      region: z
        .string()
        .regex(/^[a-z0-9-]+$/, 'expected a region id such as cn-hangzhou')
        .optional(),
      repo_full_name: z.string().min(1).optional(),
    })
    .refine((r) => !!r.repo_full_name || (!!r.namespace && !!r.name), {
      message: 'expected repo_full_name, or namespace and name',
      path: ['repo_full_name'],
    }),
});

export const acr: Provider = {
  id: 'acr',
  title: 'Alibaba Cloud Container Registry',
  credential: { query: true, hint: 'Trigger URL with ?token=<secret> (ACR signs nothing)' },
  credentialHeaders: [],
  verify: (req, secrets) => verifyQueryToken(req, secrets),
  parse(req) {
    const body = acrSchema.parse(req.body);
    const { push_data: push, repository: repo } = body;
    const registry = repo.region ? `registry.${repo.region}.aliyuncs.com` : undefined;
    const names = splitRepoFullName(repo.repo_full_name ?? `${repo.namespace}/${repo.name}`);
    const repoFullName = names.repoFullName;
    // real deliveries have carried whitespace inside the hex; a digest never contains any
    const digest = push.digest?.replace(/\s+/g, '') || undefined;
    return {
      kind: 'events',
      events: [
        {
          provider: 'acr',
          kind: 'image',
          action: 'push',
          registry,
          namespace: repo.namespace ?? names.namespace,
          repository: repo.name ?? names.repository,
          repoFullName,
          tag: push.tag,
          digest,
          image: imageRef({ registry, repoFullName, tag: push.tag }),
          occurredAt: push.pushed_at !== undefined ? cstToIso(push.pushed_at) : undefined,
        },
      ],
    };
  },
};
