/**
 * `{{placeholder}}` templates in deploy-target URLs, header values and JSON bodies.
 *
 * - Names: see PLACEHOLDERS; whitespace inside the braces is allowed (`{{ tag }}`).
 * - Unknown names are refused when a trigger is created (`validateTemplate` / `validateTemplateJson`).
 * - At render time a value the event does not have renders as ''.
 * - Substitution is single pass: a substituted value containing `{{...}}` is not expanded again.
 * - URL: placeholders only in the path and the query (`urlTemplateIssue` refuses them in the scheme, host, port
 *   and fragment at creation), so no value can move a request to another host. Substituted values are
 *   encodeURIComponent-ed (`/`, `\`, `?`, `#`, `%` ... cannot add a segment or start a query), and
 *   `renderUrlChecked` refuses a rendered path segment that is `.` / `..` (in any spelling the URL parser folds:
 *   `%2e`, `.%2E` ...) or empty in the middle of the path, since those would climb out of or drop a segment.
 *   Header values: CR, LF and other control characters
 *   are stripped from substituted values (no header injection). Commit messages (git target): values are one line
 *   each. JSON bodies: every string VALUE is rendered,
 *   recursively; object keys are left as they are.
 */
import * as z from 'zod';
import { commitLine } from '../core/commit-text';
import type { NormalizedEvent } from '../core/event';

export const PLACEHOLDERS = [
  'provider',
  'action',
  'image',
  'tag',
  'digest',
  'namespace',
  'repository',
  'repoFullName',
  'owner',
  'branch',
  'commit.id',
  'commit.message',
  'triggerId',
  'logId',
] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];
export type TemplateVars = Record<Placeholder, string>;

const KNOWN = new Set<string>(PLACEHOLDERS);
/** `{{ name }}`: anything but braces between the double braces. */
const PLACEHOLDER_RE = /\{\{([^{}]*)\}\}/g;
/** the same, without the g flag (for search) */
const PLACEHOLDER_START = /\{\{[^{}]*\}\}/;

/** The values placeholders render to; anything the event lacks is ''. */
export function templateVars(event: NormalizedEvent, triggerId: string, logId: string): TemplateVars {
  return {
    provider: event.provider ?? '',
    action: event.action ?? '',
    image: event.image ?? '',
    tag: event.tag ?? '',
    digest: event.digest ?? '',
    namespace: event.namespace ?? '',
    repository: event.repository ?? '',
    repoFullName: event.repoFullName ?? '',
    owner: event.owner ?? '',
    branch: event.branch ?? '',
    'commit.id': event.commit?.id ?? '',
    'commit.message': event.commit?.message ?? '',
    triggerId: triggerId ?? '',
    logId: logId ?? '',
  };
}

/** Values used to validate templated URLs at trigger creation (a plain word fits any URL path/query/host label). */
export function sampleVars(): TemplateVars {
  return Object.fromEntries(PLACEHOLDERS.map((p) => [p, 'sample'])) as TemplateVars;
}

/** Returns the first placeholder in `template` whose name is unknown (as written, e.g. "{{nope}}"), or undefined. */
export function validateTemplate(template: string): string | undefined {
  for (const m of template.matchAll(PLACEHOLDER_RE)) {
    if (!KNOWN.has(m[1].trim())) return m[0];
  }
  return undefined;
}

/** validateTemplate over every string value of a JSON value (keys are not templates). */
export function validateTemplateJson(value: unknown): string | undefined {
  if (typeof value === 'string') return validateTemplate(value);
  if (Array.isArray(value)) {
    for (const v of value) {
      const bad = validateTemplateJson(v);
      if (bad !== undefined) return bad;
    }
    return undefined;
  }
  if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) {
      const bad = validateTemplateJson(v);
      if (bad !== undefined) return bad;
    }
  }
  return undefined;
}

/** A zod string that refuses unknown placeholders, naming the bad one. */
export function templateString() {
  return z.string().superRefine((s, ctx) => {
    const bad = validateTemplate(s);
    if (bad !== undefined) ctx.addIssue({ code: 'custom', message: `unknown placeholder ${bad}` });
  });
}

function render(template: string, vars: TemplateVars, encode: (v: string) => string): string {
  return template.replace(PLACEHOLDER_RE, (_m, name: string) => {
    const key = name.trim();
    const value = KNOWN.has(key) ? vars[key as Placeholder] : undefined;
    return encode(value ?? '');
  });
}

/** Plain substitution. */
export function renderString(template: string, vars: TemplateVars): string {
  return render(template, vars, (v) => v);
}

/** For commit messages: each substituted value is one line (core/commit-text), so none adds a line of its own. */
export function renderCommitText(template: string, vars: TemplateVars): string {
  return render(template, vars, commitLine);
}

/** For URLs: substituted values are encodeURIComponent-ed (the template's own text is kept). */
export function renderUrl(template: string, vars: TemplateVars): string {
  return render(template, vars, encodeURIComponent);
}

/** Where the authority (host and port) of a URL template ends, or -1 when it has no `scheme:` prefix. */
function authorityEnd(template: string): number {
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:/.exec(template);
  if (!scheme) return -1;
  let i = scheme[0].length;
  while (template[i] === '/' || template[i] === '\\') i++;
  // the URL parser ends the authority at / ? # (and \ for http/https)
  const rest = template.slice(i).search(/[/\\?#]/);
  return rest < 0 ? template.length : i + rest;
}

/**
 * Creation-time rule for URL templates: placeholders may stand only in the path and the query, never in the
 * scheme, userinfo, host, port or fragment. Returns why the template is refused, or undefined.
 */
export function urlTemplateIssue(template: string): string | undefined {
  const first = template.search(PLACEHOLDER_START);
  if (first < 0) return undefined;
  const end = authorityEnd(template);
  if (end < 0 || first < end) {
    return 'placeholders are not allowed in the scheme, host or port (only in the path and the query)';
  }
  const hash = template.indexOf('#', end);
  if (hash >= 0 && template.slice(hash).search(PLACEHOLDER_START) >= 0) {
    return 'placeholders are not allowed in the fragment (only in the path and the query)';
  }
  return undefined;
}
/** A path segment the URL parser treats as `.` or `..` (WHATWG URL: `%2e` counts as a dot, any case). */
function isDotSegment(segment: string): boolean {
  const s = segment.toLowerCase().replace(/%2e/g, '.');
  return s === '.' || s === '..';
}

export type RenderedUrl = { ok: true; url: string } | { ok: false; error: string };

/**
 * Renders a request URL (values encodeURIComponent-ed, as renderUrl) and refuses, instead of sending, a URL whose
 * structure a value would change: a templated path segment rendering to `.`/`..` (climbs out of its segment) or
 * empty before the last segment (`/a//b`, which servers may fold to `/a/b`), or an origin (scheme, host, port)
 * other than the template's. The error names the placeholder, never the URL (it may carry a token).
 */
export function renderUrlChecked(template: string, vars: TemplateVars): RenderedUrl {
  const issue = urlTemplateIssue(template);
  if (issue) return { ok: false, error: issue };
  const end = authorityEnd(template);
  if (end < 0) return { ok: true, url: renderUrl(template, vars) };
  const rest = template.slice(end);
  const q = rest.search(/[?#]/);
  const pathTemplate = q < 0 ? rest : rest.slice(0, q);
  const segments = pathTemplate.split(/[/\\]/);
  for (let i = 1; i < segments.length; i++) {
    const seg = segments[i];
    const names = [...seg.matchAll(PLACEHOLDER_RE)].map((m) => `{{${m[1].trim()}}}`);
    if (names.length === 0) continue;
    const rendered = renderUrl(seg, vars);
    const which = names.join(', ');
    if (isDotSegment(rendered)) {
      return { ok: false, error: `path segment ${which} renders to "${rendered}", which would change the URL path` };
    }
    if (rendered === '' && i < segments.length - 1) {
      return { ok: false, error: `path segment ${which} renders empty, which would change the URL path` };
    }
  }
  const url = renderUrl(template, vars);
  // belt and braces: no value may have changed where the request goes
  try {
    const want = new URL(template.slice(0, end));
    const got = new URL(url);
    if (got.protocol !== want.protocol || got.host !== want.host || got.username || got.password) {
      return { ok: false, error: "a rendered value changed the URL's scheme, host or port" };
    }
  } catch {
    return { ok: false, error: 'the rendered URL is not a valid URL' };
  }
  return { ok: true, url };
}

/** Control characters (CR, LF, NUL, ..., DEL) but not tab. */
const HEADER_UNSAFE = /[\x00-\x08\x0a-\x1f\x7f]/g;

/** For header values: CR/LF and other control characters are stripped from substituted values. */
export function renderHeaderValue(template: string, vars: TemplateVars): string {
  return render(template, vars, (v) => v.replace(HEADER_UNSAFE, ''));
}

/** Renders every string value of a JSON value, recursively; keys untouched. Returns a new value. */
export function renderJson(value: unknown, vars: TemplateVars): unknown {
  if (typeof value === 'string') return renderString(value, vars);
  if (Array.isArray(value)) return value.map((v) => renderJson(v, vars));
  if (value !== null && typeof value === 'object') {
    // fromEntries defines own properties, so a "__proto__" key stays a plain key
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renderJson(v, vars)]));
  }
  return value;
}
