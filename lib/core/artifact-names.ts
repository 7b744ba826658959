/**
 * The grammars of artifact names, one place for every stage (ingest, the trigger schema, the git target):
 * - OCI distribution spec (opencontainers/distribution-spec, spec.md "Pulling manifests"): a repository `<name>`
 *   is path components `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*` joined by `/`; a tag is `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`;
 *   a registry host is distribution/reference's `domain`: DNS components, IPv4 or `[IPv6]`, an optional `:port`.
 * - OCI image spec (descriptor.md "Digests"): `algorithm:encoded`, algorithm components `[a-z0-9]+` joined by
 *   `[+._-]`, encoded `[a-zA-Z0-9=_-]+`; the registered sha256 is 64 and sha512 128 lowercase hex.
 * - Git (`git check-ref-format`, refs.c check_refname_component) for branches and git tags; commit ids are 40
 *   (SHA-1) or 64 (SHA-256) hex.
 * - SemVer 2 (the `semver` package) for Helm chart versions.
 * Each check answers the reason a value breaks its grammar, or undefined when it is well formed. Hand-written
 * regexes because they are the specs' own (no library in package.json implements distribution/reference).
 */
import type { NormalizedEvent } from './event';

// semver is loaded on first use (a chart event), not with every bundle that checks names (issue 15's cold starts)
// eslint-disable-next-line @typescript-eslint/no-require-imports
const semverValid = (v: string) => (require('semver') as typeof import('semver')).valid(v);

const PATH_COMPONENT = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*';
const OCI_REPOSITORY = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
const OCI_TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const DOMAIN_COMPONENT = '(?:[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9])';
const REGISTRY_HOST = new RegExp(
  `^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[A-Fa-f0-9:]+\\])(?::[0-9]{1,5})?$`,
);
const DIGEST = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
const REGISTERED_DIGESTS: Record<string, RegExp> = { sha256: /^[a-f0-9]{64}$/, sha512: /^[a-f0-9]{128}$/ };
const COMMIT_ID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/** The longest repository name clients accept (distribution spec: host, "/" and name within 255). */
export const MAX_REPOSITORY_LENGTH = 255;
/** A DNS name (253) and a port. */
export const MAX_HOST_LENGTH = 261;

export function ociRepositoryError(name: string): string | undefined {
  if (name.length > MAX_REPOSITORY_LENGTH) return `is longer than ${MAX_REPOSITORY_LENGTH} characters`;
  if (!OCI_REPOSITORY.test(name))
    return 'is not an OCI repository name (lowercase components [a-z0-9] joined by ".", "_", "__" or "-", separated by "/")';
  return undefined;
}

export function ociTagError(tag: string): string | undefined {
  if (!OCI_TAG.test(tag)) return 'is not an OCI tag ([A-Za-z0-9_][A-Za-z0-9._-]{0,127})';
  return undefined;
}

export function registryHostError(host: string): string | undefined {
  if (host.length > MAX_HOST_LENGTH || !REGISTRY_HOST.test(host)) return 'is not a registry host[:port]';
  const port = /:([0-9]+)$/.exec(host);
  if (port && Number(port[1]) > 65535) return 'has a port over 65535';
  return undefined;
}

export function digestError(digest: string): string | undefined {
  if (digest.length > 1024 || !DIGEST.test(digest)) return 'is not a digest (algorithm:encoded)';
  const colon = digest.indexOf(':');
  const registered = REGISTERED_DIGESTS[digest.slice(0, colon)];
  if (registered && !registered.test(digest.slice(colon + 1)))
    return `is not a ${digest.slice(0, colon)} digest (${digest.slice(0, colon) === 'sha256' ? 64 : 128} lowercase hex)`;
  return undefined;
}

/**
 * git check-ref-format for a ref name below refs/heads/ or refs/tags/ (`kind` says which, for the wording and
 * because `HEAD` is refused only as a branch name, as `git branch` refuses it).
 */
export function gitRefError(name: string, kind: 'branch' | 'tag' = 'branch'): string | undefined {
  const why = (rule: string) => `is not a valid git ${kind} name (${rule})`;
  if (name === '') return why('empty');
  if (name.startsWith('-')) return why('starts with "-"');
  if (name === '@') return why('is "@"');
  if (kind === 'branch' && name === 'HEAD') return why('"HEAD" is not a branch');
  if (/[\x00-\x20\x7f~^:?*[\\]/.test(name)) return why('no control characters, space, ~ ^ : ? * [ or \\');
  if (name.includes('..')) return why('no ".."');
  if (name.includes('@{')) return why('no "@{"');
  if (name.endsWith('.')) return why('must not end with "."');
  if (name.startsWith('/') || name.endsWith('/') || name.includes('//')) return why('no empty "/" component');
  for (const component of name.split('/')) {
    if (component.startsWith('.')) return why('no component starts with "."');
    if (component.endsWith('.lock')) return why('no component ends with ".lock"');
  }
  return undefined;
}

export function commitIdError(id: string): string | undefined {
  return COMMIT_ID.test(id) ? undefined : 'is not a commit id (40 or 64 lowercase hex)';
}

/** Helm chart versions are SemVer 2 (a leading "v" is tolerated, as Helm does). */
export function chartVersionError(version: string): string | undefined {
  return semverValid(version) !== null ? undefined : 'is not a SemVer 2 chart version';
}

/** `[host[:port]/]name[:tag][@digest]`, each part by its grammar (distribution/reference's `reference`). */
export function imageReferenceError(ref: string, tagGrammar: (tag: string) => string | undefined = ociTagError) {
  let rest = ref;
  const at = rest.indexOf('@');
  if (at >= 0) {
    const digest = digestError(rest.slice(at + 1));
    if (digest) return `has a digest that ${digest}`;
    rest = rest.slice(0, at);
  }
  const slash = rest.indexOf('/');
  const lastColon = rest.lastIndexOf(':');
  if (lastColon > rest.lastIndexOf('/')) {
    const tag = tagGrammar(rest.slice(lastColon + 1));
    if (tag) return `has a tag that ${tag}`;
    rest = rest.slice(0, lastColon);
  }
  if (slash > 0) {
    const first = rest.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost') {
      const host = registryHostError(first);
      if (host) return `has a host that ${host}`;
      rest = rest.slice(slash + 1);
    }
  }
  const name = ociRepositoryError(rest);
  return name ? `has a name that ${name}` : undefined;
}

/** Code-host names (owner/repo) have no common grammar; printable characters without spaces at least. */
function codeNameError(name: string): string | undefined {
  return /[\x00-\x20\x7f]/.test(name) ? 'has a control character or a space' : undefined;
}

export interface NameProblem {
  /** the field as the log entry names it, e.g. `event.tag` */
  field: string;
  message: string;
}

type Check = (value: string) => string | undefined;

/** Which grammar each field of an event follows, by the event's kind. */
function grammarsOf(event: Pick<NormalizedEvent, 'kind' | 'action'>): Partial<Record<string, Check>> {
  if (event.kind === 'code') {
    return {
      namespace: codeNameError,
      repository: codeNameError,
      repoFullName: codeNameError,
      branch: (b) => gitRefError(b, 'branch'),
      tag: (t) => gitRefError(t, 'tag'),
      'commit.id': commitIdError,
    };
  }
  const tag = event.kind === 'chart' ? chartVersionError : ociTagError;
  return {
    registry: registryHostError,
    namespace: ociRepositoryError,
    repository: ociRepositoryError,
    repoFullName: ociRepositoryError,
    tag,
    digest: digestError,
    image: (ref) => imageReferenceError(ref, tag),
  };
}

/** The first field of `event` that breaks its grammar, as `{field: "event.tag", message}`; undefined if none. */
export function eventNameProblem(event: NormalizedEvent): NameProblem | undefined {
  const grammars = grammarsOf(event);
  const values: Array<[string, unknown]> = Object.entries(event);
  if (event.commit && typeof event.commit === 'object') values.push(['commit.id', event.commit.id]);
  for (const [field, value] of values) {
    const check = grammars[field];
    if (!check || value === undefined) continue;
    const error = typeof value === 'string' ? check(value) : 'is not a string';
    if (error) return { field: `event.${field}`, message: `invalid event.${field}: "${preview(value)}" ${error}` };
  }
  return undefined;
}

/** Enough of a bad value for a person to recognize it in a reason (control characters shown escaped). */
function preview(value: unknown): string {
  const s = String(value);
  const cut = s.length > 80 ? `${s.slice(0, 80)}…` : s;
  return JSON.stringify(cut).slice(1, -1);
}
