/** Triggers as the admin API builds them (same schema, same derived fields), for seeding DynamoDB directly. */
import { randomBytes } from 'node:crypto';
import { ecrRepositoryKey } from '../../lib/receive/providers/ecr';
import { triggerCreateSchema, type Trigger } from '../../lib/trigger';

export function makeTrigger(input: Record<string, unknown>, id = randomBytes(12).toString('hex')): Trigger {
  const parsed = triggerCreateSchema.parse(input);
  const now = new Date().toISOString();
  return {
    ...parsed,
    id,
    secret: randomBytes(32).toString('base64url'),
    trackedImage: parsed.match.image,
    // lib/admin/triggers.ts: ECR triggers are indexed by their exact repository name
    repositoryKey:
      parsed.provider === 'ecr' && parsed.match.repository
        ? ecrRepositoryKey([parsed.match.namespace, parsed.match.repository].filter(Boolean).join('/'))
        : undefined,
    createdAt: now,
    updatedAt: now,
  } as Trigger;
}

/** The rules the benchmarks match against: a regex tag rule (RE2) and TCR globs, a branch glob. */
export const DOCKERHUB_MATCH = {
  actions: ['push'],
  namespace: 'svendowideit',
  repository: 'test*',
  tags: { regex: 'release-v.*' },
};
export const GITHUB_MATCH = { actions: ['push'], repository: 'Hello-*', branches: ['main', 'release/*'] };
