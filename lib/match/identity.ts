/**
 * What an event deploys, for the deploy state (lib/store/deploy-state.ts):
 * - its lane: the line of artifacts in which a newer one replaces an older one. An image repository (any tag: a
 *   newer `v1.3` supersedes a waiting `v1.2`), or one branch of a code repository (a push to `feature` never
 *   supersedes one to `main`); tags of a code repository form their own lane.
 * - its artifact: what "the same thing" means. An image's digest (Harbor and Quay announce one push once per tag:
 *   the same digest deploys once), a commit for code. Absent when the sender names neither (Docker Hub sends no
 *   digest): such events deploy on every new push.
 */
import { createHash } from 'node:crypto';
import type { NormalizedEvent } from '../core/event';

const hash = (parts: unknown[]) => createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 32);

export function laneOf(event: NormalizedEvent): string {
  if (event.kind === 'code')
    return hash(['code', event.repoFullName, event.branch !== undefined ? `branch:${event.branch}` : 'tags']);
  return hash([event.kind, event.registry ?? '', event.repoFullName]);
}

// what "the same thing" is lives with the event (the deploy state's refs use it too)
export { artifactOf } from '../core/event';

/** How a reason names the artifact: "sha256:abc… (web:1.2)" or "commit 1a2b3c4". */
export function describeArtifact(
  ref: { artifact?: string; image?: string; tag?: string },
  kind: NormalizedEvent['kind'],
): string {
  if (!ref.artifact) return ref.image ?? ref.tag ?? 'that event';
  if (kind === 'code') return `commit ${ref.artifact.slice(0, 12)}`;
  const short = ref.artifact.length > 19 ? `${ref.artifact.slice(0, 19)}…` : ref.artifact;
  return ref.image ? `${short} (${ref.image})` : short;
}
