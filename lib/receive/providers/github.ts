/**
 * GitHub repository/organization webhooks. Code pushes (`push`) and container images published to
 * GitHub Packages (`package`, and the older `registry_package`). GitHub signs the raw body:
 * `X-Hub-Signature-256: sha256=<hex HMAC-SHA256>` (the legacy SHA-1 header is not trusted).
 */
import * as z from 'zod';
import { type NormalizedEvent, imageRef, parseImageRef, splitRepoFullName } from '../../core/event';
import { clip, header, isoTime, parseStandardPush } from './git';
import { RequestFieldError, type ParseResult, type Provider } from './types';
import { verifyHmacHeader } from './verify';

const tagsSchema = z.object({ tags: z.array(z.string()).nullish() }).nullish();
/** One `metadata` / `docker_metadata` entry: `{tags}` or `{package_type, container: {tags}}` (the REST API's shape). */
const metadataEntry = z.union([z.object({ tags: z.array(z.string()).nullish(), container: tagsSchema }), z.unknown()]);

const versionSchema = z.object({
  version: z.string().nullish(),
  name: z.string().nullish(),
  package_url: z.string().nullish(),
  installation_command: z.string().nullish(),
  created_at: z.string().nullish(),
  updated_at: z.string().nullish(),
  container_metadata: z
    .object({
      tag: z.object({ name: z.string().nullish(), digest: z.string().nullish() }).nullish(),
      manifest: z.object({ digest: z.string().nullish(), uri: z.string().nullish() }).nullish(),
    })
    .nullish(),
  metadata: z.union([z.array(metadataEntry), metadataEntry]).nullish(),
  docker_metadata: z.array(metadataEntry).nullish(),
});

const packageSchema = z
  .object({
    name: z.string().min(1).nullish(),
    namespace: z.string().nullish(),
    ecosystem: z.string().nullish(),
    package_type: z.string().nullish(),
    html_url: z.string().nullish(),
    updated_at: z.string().nullish(),
    owner: z.object({ login: z.string().min(1) }).nullish(),
    registry: z.object({ type: z.string().nullish(), url: z.string().nullish() }).nullish(),
    package_version: versionSchema.nullish(),
  })
  // the package is named by `name`, or by the reference GitHub says to pull
  .refine((p) => !!p.name || !!p.package_version?.package_url, {
    message: 'expected the package name',
    path: ['name'],
  });

const account = z.object({ login: z.string().nullish() }).nullish();

export const githubPackageSchema = z.object({
  action: z.string().min(1),
  package: packageSchema,
  organization: account,
  repository: z.object({ full_name: z.string().nullish(), owner: account }).nullish(),
  sender: account,
});
export const githubRegistryPackageSchema = githubPackageSchema
  .omit({ package: true })
  .extend({ registry_package: packageSchema });

type Package = z.infer<typeof packageSchema>;
type Version = z.infer<typeof versionSchema>;
type Body = z.infer<typeof githubPackageSchema>;

/** Package actions that mean "a version was pushed" (`create` is what early GHCR sent). */
const PUBLISH_ACTIONS = new Set(['published', 'updated', 'create', 'created']);

/** What GitHub calls container images: `container` (GHCR) and `docker` (the 2019 Docker registry, docker.pkg.github.com). */
const CONTAINER_TYPE = /^(container|docker)$/i;
/** GitHub Packages' other ecosystems (package_type's enum): never deployed as an image. */
const OTHER_TYPE = /^(npm|maven|gradle|rubygems|nuget)$/i;
const DIGEST = /^sha256:[0-9a-f]+$/i;

/**
 * Only container images deploy. Three fields name the type and GitHub's own examples contradict each other
 * (an npm package with ecosystem "docker"; a GHCR image with package_type "npm"), so the first present of
 * registry.type (the registry the package is in), package_type, ecosystem decides, and a package_type of
 * another ecosystem also needs container metadata to count as an image.
 */
function notContainer(p: Package): string | undefined {
  const name = clip(p.name ?? p.package_version?.package_url ?? '?');
  const fields: Array<[string, string | null | undefined]> = [
    ['registry.type', p.registry?.type],
    ['package_type', p.package_type],
    ['ecosystem', p.ecosystem],
  ];
  const said = fields.filter((f): f is [string, string] => !!f[1]);
  if (said.length === 0)
    return `github package "${name}" does not say its type (registry.type, package_type, ecosystem)`;
  const [field, value] = said[0];
  if (!CONTAINER_TYPE.test(value)) {
    return `github package "${name}" is a ${clip(value)} package (${field}), not a container image`;
  }
  if (p.package_type && OTHER_TYPE.test(p.package_type) && !p.package_version?.container_metadata) {
    return `github package "${name}" is a ${clip(p.package_type)} package (package_type) without container metadata, not a container image`;
  }
  return undefined;
}

/** "https://host/a/b" -> {host, path}; undefined when it is not a URL with a host. */
function urlParts(url: string | null | undefined): { host: string; path: string } | undefined {
  if (!url) return undefined;
  try {
    const u = new URL(url);
    return u.host ? { host: u.host.toLowerCase(), path: u.pathname.replace(/^\/+|\/+$/g, '') } : undefined;
  } catch {
    return undefined;
  }
}

/** The pull references GitHub gives (package_url, installation_command "docker pull <ref>") that have a real registry host. */
function pullRefs(v: Version | null | undefined): Array<ReturnType<typeof parseImageRef>> {
  const refs = [];
  for (const c of [v?.package_url, v?.installation_command?.replace(/^\s*docker\s+pull\s+/i, '')]) {
    const text = c?.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
    if (!text || /\s/.test(text)) continue;
    const ref = parseImageRef(text);
    if (ref.registry && ref.repoFullName) refs.push(ref);
  }
  return refs;
}

/** Tags listed in metadata arrays: `docker_metadata[].tags`, `metadata[].tags`, `metadata[].container.tags`. */
function listedTags(v: Version | null | undefined): string[] {
  const metadata = Array.isArray(v?.metadata) ? v.metadata : v?.metadata ? [v.metadata] : [];
  const entries = [...metadata, ...(v?.docker_metadata ?? [])];
  const tags: string[] = [];
  for (const e of entries) {
    if (typeof e !== 'object' || e === null) continue;
    const entry = e as { tags?: unknown; container?: { tags?: unknown } | null };
    for (const list of [entry.tags, entry.container?.tags]) {
      if (Array.isArray(list)) for (const t of list) if (typeof t === 'string' && t.trim()) tags.push(t.trim());
    }
  }
  return [...new Set(tags)];
}

/**
 * The registry host and image path, from what names them, most specific first: the pull reference; the
 * 2019 Docker registry's registry.url (https://docker.pkg.github.com/<owner>/<repo>) plus the name; the
 * manifest uri (repositories/<path>/manifests/...); the owner and name. Without a pull reference the host is
 * the one GitHub serves that registry on for the payload's site (html_url; github.com when absent):
 * ghcr.io, or docker.pkg.github.com. A GitHub Enterprise Server payload without a pull reference gets no
 * host, since it depends on the installation.
 */
function locate(p: Package, body: Body, docker: boolean): { registry?: string; path?: string } {
  const v = p.package_version;
  const ref = pullRefs(v)[0];
  if (ref) return { registry: ref.registry!.toLowerCase(), path: ref.repoFullName.toLowerCase() };
  const site = urlParts(p.html_url)?.host ?? 'github.com';
  const name = p.name?.toLowerCase();
  if (docker) {
    // registry.url's host is real only for the Docker registry (GHCR's is a label: https://CONTAINER.pkg.github.com/<owner>)
    const reg = urlParts(p.registry?.url);
    if (reg && reg.path && name) return { registry: reg.host, path: `${reg.path}/${name}`.toLowerCase() };
    const repo = body.repository?.full_name;
    return {
      registry: site === 'github.com' ? 'docker.pkg.github.com' : undefined,
      path: repo && name ? `${repo}/${name}`.toLowerCase() : undefined,
    };
  }
  const registry = site === 'github.com' ? 'ghcr.io' : undefined;
  const uri = /^\/?repositories\/(.+)\/manifests\/[^/]+$/.exec(v?.container_metadata?.manifest?.uri ?? '');
  if (uri) return { registry, path: uri[1].toLowerCase() };
  // GHCR paths are lowercase (docker refuses upper case), while GitHub reports the owner as spelled
  const owner =
    p.owner?.login || p.namespace?.split('/')[0] || body.organization?.login || body.repository?.owner?.login;
  return { registry, path: name ? (owner ? `${owner}/${name}` : name).toLowerCase() : undefined };
}

function parsePackage(event: string, raw: unknown, deliveryId: string | undefined): ParseResult {
  // read the action first: an action we do not handle is acknowledged whatever its body looks like
  const action = z.object({ action: z.string().min(1) }).parse(raw).action;
  if (!PUBLISH_ACTIONS.has(action)) {
    return { kind: 'ignored', reason: `github ${event} action "${clip(action)}" is not a publish` };
  }
  const body: Body =
    event === 'package'
      ? githubPackageSchema.parse(raw)
      : (({ registry_package, ...rest }) => ({ ...rest, package: registry_package }))(
          githubRegistryPackageSchema.parse(raw),
        );
  const p = body.package;
  const ignoredWhy = notContainer(p);
  if (ignoredWhy) return { kind: 'ignored', reason: ignoredWhy };

  const v = p.package_version;
  // the 2019 Docker registry (docker.pkg.github.com), unless the registry itself says it is GHCR now
  const docker =
    [p.registry?.type, p.package_type, p.ecosystem].some((t) => !!t && /^docker$/i.test(t)) &&
    !/^container$/i.test(p.registry?.type ?? '');
  const refs = pullRefs(v);
  const meta = v?.container_metadata;
  const digestOf = (s: string | null | undefined) => (s && DIGEST.test(s.trim()) ? s.trim().toLowerCase() : undefined);
  const digest =
    digestOf(meta?.tag?.digest) ??
    digestOf(meta?.manifest?.digest) ??
    digestOf(refs.find((r) => r.digest)?.digest) ??
    digestOf(v?.version) ??
    digestOf(v?.name);
  // every place a tag has been seen; "" is an untagged (digest-only) push. The 2019 Docker registry named the
  // tag only in package_version.version (GHCR puts the digest there)
  const single =
    meta?.tag?.name?.trim() ||
    refs.find((r) => r.tag)?.tag ||
    (docker && v?.version && !digestOf(v.version) ? v.version.trim() : undefined);
  const tags = single ? [single] : listedTags(v);

  const { registry, path } = locate(p, body, docker);
  if (!path) {
    const why = 'does not say where its image is (no owner or pull reference)';
    return { kind: 'ignored', reason: `github package "${clip(p.name ?? '?')}" ${why}` };
  }
  const names = splitRepoFullName(path);
  const base: NormalizedEvent = {
    provider: 'github',
    kind: 'image',
    action: 'push',
    deliveryId,
    registry,
    ...names,
    digest,
    owner: body.sender?.login || undefined,
    occurredAt: isoTime(v?.updated_at) ?? isoTime(v?.created_at) ?? isoTime(p.updated_at),
  };
  // no tag and no digest: the event still names the package, and dispatch answers it untriggered
  const events = (tags.length ? tags : [undefined]).map((tag): NormalizedEvent => ({
    ...base,
    tag,
    image: imageRef({ registry, repoFullName: names.repoFullName, tag, digest }),
  }));
  return { kind: 'events', events };
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
    // GitHub always sends it: a signed request without it is a broken sender or relay, told so (400), not ignored
    if (!event)
      throw new RequestFieldError(
        'missing X-GitHub-Event header (GitHub names the event there)',
        'headers.X-GitHub-Event',
      );
    if (event === 'push') return parseStandardPush('github', req.body, { newest: 'last', deliveryId });
    if (event === 'package' || event === 'registry_package') return parsePackage(event, req.body, deliveryId);
    return { kind: 'ignored', reason: `github event "${clip(event)}" is not a push` };
  },
};
