/**
 * GitHub repository/organization webhooks. Code pushes (`push`) and container images published to
 * GitHub Packages (`package`, and the older `registry_package`). GitHub signs the raw body:
 * `X-Hub-Signature-256: sha256=<hex HMAC-SHA256>` (the legacy SHA-1 header is not trusted).
 */
import * as z from 'zod';
import { type NormalizedEvent, imageRef, parseImageRef } from '../../core/event';
import { clip, header, isoTime, parseStandardPush } from './git';
import type { ParseResult, Provider } from './types';
import { verifyHmacHeader } from './verify';

const versionSchema = z.object({
  version: z.string().nullish(),
  name: z.string().nullish(),
  package_url: z.string().nullish(),
  created_at: z.string().nullish(),
  updated_at: z.string().nullish(),
  container_metadata: z
    .object({
      tag: z.object({ name: z.string().nullish(), digest: z.string().nullish() }).nullish(),
      manifest: z.object({ digest: z.string().nullish() }).nullish(),
    })
    .nullish(),
});

const packageSchema = z.object({
  name: z.string().min(1),
  namespace: z.string().nullish(),
  ecosystem: z.string().nullish(),
  package_type: z.string().nullish(),
  updated_at: z.string().nullish(),
  owner: z.object({ login: z.string().min(1) }).nullish(),
  registry: z.object({ type: z.string().nullish(), url: z.string().nullish() }).nullish(),
  package_version: versionSchema.nullish(),
});

const account = z.object({ login: z.string().nullish() }).nullish();

export const githubPackageSchema = z.object({
  action: z.string().min(1),
  package: packageSchema,
  organization: account,
  repository: z.object({ owner: account }).nullish(),
  sender: account,
});
export const githubRegistryPackageSchema = githubPackageSchema
  .omit({ package: true })
  .extend({ registry_package: packageSchema });

/** Package actions that mean "a version was pushed" (`create` is what early GHCR sent). */
const PUBLISH_ACTIONS = new Set(['published', 'updated', 'create', 'created']);

/**
 * Only container images deploy. GitHub's fields disagree in real payloads (package_type "npm" with
 * ecosystem "docker" and registry.type "CONTAINER"), so any one of them saying container counts.
 */
function isContainer(p: z.infer<typeof packageSchema>): boolean {
  const says = (v: string | null | undefined) => !!v && /^(container|docker)$/i.test(v);
  return says(p.package_type) || says(p.ecosystem) || says(p.registry?.type);
}

/** The registry host: package_url's (what GitHub says to pull), else ghcr.io. */
function registryOf(v: z.infer<typeof versionSchema> | null | undefined): string {
  // registry.url is not used: its host is a label like "CONTAINER.pkg.github.com", not pullable
  const fromUrl = v?.package_url ? parseImageRef(v.package_url.replace(/^[a-z]+:\/\//i, '')).registry : undefined;
  return (fromUrl ?? 'ghcr.io').toLowerCase();
}

function parsePackage(event: string, raw: unknown, deliveryId: string | undefined): ParseResult {
  // read the action first: an action we do not handle is acknowledged whatever its body looks like
  const action = z.object({ action: z.string().min(1) }).parse(raw).action;
  if (!PUBLISH_ACTIONS.has(action)) {
    return { kind: 'ignored', reason: `github ${event} action "${clip(action)}" is not a publish` };
  }
  const body =
    event === 'package'
      ? githubPackageSchema.parse(raw)
      : (({ registry_package, ...rest }) => ({ ...rest, package: registry_package }))(
          githubRegistryPackageSchema.parse(raw),
        );
  const p = body.package;
  if (!isContainer(p)) {
    const type = p.package_type || p.ecosystem || 'unknown';
    return { kind: 'ignored', reason: `github package "${clip(p.name)}" is a ${clip(type)} package, not a container image` };
  }
  const v = p.package_version;
  const meta = v?.container_metadata;
  const sha = (s: string | null | undefined) => (s && s.startsWith('sha256:') ? s : undefined);
  // "" is an untagged (digest-only) push
  const tag = meta?.tag?.name || undefined;
  const digest = meta?.tag?.digest || meta?.manifest?.digest || sha(v?.version) || sha(v?.name);
  // GHCR paths are lowercase (docker refuses upper case), while GitHub reports the owner as spelled
  const owner = p.owner?.login || p.namespace?.split('/')[0] || body.organization?.login || body.repository?.owner?.login;
  const namespace = owner?.toLowerCase();
  const repository = p.name.toLowerCase();
  const repoFullName = namespace ? `${namespace}/${repository}` : repository;
  const registry = registryOf(v);
  const e: NormalizedEvent = {
    provider: 'github',
    kind: 'image',
    action: 'push',
    deliveryId,
    registry,
    namespace,
    repository,
    repoFullName,
    tag,
    digest,
    image: imageRef({ registry, repoFullName, tag, digest }),
    owner: body.sender?.login || undefined,
    occurredAt: isoTime(v?.updated_at) ?? isoTime(v?.created_at) ?? isoTime(p.updated_at),
  };
  return { kind: 'events', events: [e] };
}

export const github: Provider = {
  id: 'github',
  title: 'GitHub',
  credential: { hint: 'Webhook "Secret": <secret> (GitHub signs the body: X-Hub-Signature-256)' },
  credentialHeaders: ['x-hub-signature-256', 'x-hub-signature'],
  // the webhook form offers application/x-www-form-urlencoded (payload=<json>) besides application/json
  formPayload: true,
  verify: (req, secrets) => verifyHmacHeader(req, secrets, 'X-Hub-Signature-256', 'sha256', 'sha256='),
  parse(req) {
    const event = header(req.headers, 'x-github-event');
    const deliveryId = header(req.headers, 'x-github-delivery');
    // a push body alone does not say which event it is (ping, create and push all carry a ref or repo)
    if (!event) return { kind: 'ignored', reason: 'missing X-GitHub-Event header' };
    if (event === 'push') return parseStandardPush('github', req.body, { newest: 'last', deliveryId });
    if (event === 'package' || event === 'registry_package') return parsePackage(event, req.body, deliveryId);
    return { kind: 'ignored', reason: `github event "${clip(event)}" is not a push` };
  },
};
