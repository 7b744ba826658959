/**
 * The one event shape every provider normalizes into. Matching, templating, deploying and the
 * trigger log all read this and nothing provider-specific.
 */

/** Normalized actions. Providers map their own vocabulary onto these. */
export const ACTIONS = [
  'push', // an image (or a branch of code) was pushed
  'tag_push', // a git tag was pushed/created (code hosts)
  'delete', // an image/tag was deleted
  'chart_push', // a Helm chart was uploaded
  'chart_delete', // a Helm chart was deleted
  'pull', // an image was pulled (Harbor); never deployed by default rules but can be matched
  'promote', // an image was promoted (JFrog)
] as const;
export type Action = (typeof ACTIONS)[number];

export interface Commit {
  id: string;
  message: string;
  author?: string;
  url?: string;
}

export interface NormalizedEvent {
  provider: string;
  /** what was pushed: a container image, a Helm chart, or source code */
  kind: 'image' | 'chart' | 'code';
  action: Action;
  /** the sender's delivery id (X-GitHub-Delivery, X-Gitlab-Event-UUID, ...) when it sends one */
  deliveryId?: string;
  /** registry host, e.g. "registry.cn-hangzhou.aliyuncs.com"; absent when the sender does not say */
  registry?: string;
  /** first path segment: Docker Hub user/org, ACR/TCR/Harbor namespace or project, code-host owner */
  namespace?: string;
  /** repository name inside the namespace (may itself contain "/") */
  repository: string;
  /** namespace/repository (just repository when there is no namespace) */
  repoFullName: string;
  /** pullable reference: [registry/]repoFullName:tag, or @digest when there is no tag */
  image?: string;
  tag?: string;
  digest?: string;
  /** who pushed (user name, operator id, pusher login) */
  owner?: string;
  /** code pushes: the branch name (without refs/heads/) */
  branch?: string;
  /** code pushes: the head commit */
  commit?: Commit;
  /** when the sender says it happened (ISO 8601) */
  occurredAt?: string;
  /** Docker Hub's callback_url (legacy), kept for the deploy target to answer */
  callbackUrl?: string;
}

/** What "the same thing" means for the deploy state: an image's digest, a code push's commit; none without them. */
export function artifactOf(event: Pick<NormalizedEvent, 'kind' | 'digest' | 'commit'>): string | undefined {
  if (event.kind === 'code') return event.commit?.id || undefined;
  return event.digest || undefined;
}

/** Builds repoFullName and image consistently for every provider. */
export function imageRef(parts: { registry?: string; repoFullName: string; tag?: string; digest?: string }): string {
  const base = parts.registry ? `${parts.registry}/${parts.repoFullName}` : parts.repoFullName;
  if (parts.tag) return `${base}:${parts.tag}`;
  if (parts.digest) return `${base}@${parts.digest}`;
  return base;
}

/** Splits "ns/a/b" into namespace "ns" and repository "a/b"; a name without "/" has no namespace. */
export function splitRepoFullName(full: string): { namespace?: string; repository: string; repoFullName: string } {
  const i = full.indexOf('/');
  if (i < 0) return { repository: full, repoFullName: full };
  return { namespace: full.slice(0, i), repository: full.slice(i + 1), repoFullName: full };
}

/** "refs/heads/main" -> {branch: "main"}; "refs/tags/v1" -> {tag: "v1"}. */
export function parseGitRef(ref: string): { branch?: string; tag?: string } {
  if (ref.startsWith('refs/heads/')) return { branch: ref.slice('refs/heads/'.length) };
  if (ref.startsWith('refs/tags/')) return { tag: ref.slice('refs/tags/'.length) };
  return { branch: ref };
}

/**
 * Parses "host:5000/ns/repo:tag@sha256:..." into its parts. The first segment is a registry host when
 * it has a "." or ":" or is "localhost" (Docker's own rule). Docker Hub's "docker.io" and
 * "index.docker.io" hosts are kept as registry like any other.
 */
export function parseImageRef(ref: string): {
  registry?: string;
  repoFullName: string;
  tag?: string;
  digest?: string;
} {
  let rest = ref.trim();
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let registry: string | undefined;
  const slash = rest.indexOf('/');
  if (slash > 0) {
    const first = rest.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost') {
      registry = first;
      rest = rest.slice(slash + 1);
    }
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  return { registry, repoFullName: rest, tag: tag || undefined, digest: digest || undefined };
}
