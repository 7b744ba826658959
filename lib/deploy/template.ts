/**
 * `{{placeholder}}` templates in deploy-target URLs, header values and JSON bodies.
 *
 * - Names: see PLACEHOLDERS; whitespace inside the braces is allowed (`{{ tag }}`).
 * - Unknown names are refused when a trigger is created (`validateTemplate` / `validateTemplateJson`).
 * - At render time a value the event does not have renders as ''.
 * - Substitution is single pass: a substituted value containing `{{...}}` is not expanded again.
 * - URL: substituted values are encodeURIComponent-ed. Header values: CR, LF and other control characters
 *   are stripped from substituted values (no header injection). JSON bodies: every string VALUE is rendered,
 *   recursively; object keys are left as they are.
 */
import * as z from 'zod';
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

/** For URLs: substituted values are encodeURIComponent-ed (the template's own text is kept). */
export function renderUrl(template: string, vars: TemplateVars): string {
  return render(template, vars, encodeURIComponent);
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
