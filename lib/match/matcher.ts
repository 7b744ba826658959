/**
 * Trigger matching: does a NormalizedEvent satisfy a trigger's `match` block (CONTRACT.md, "Trigger
 * body")? Pure functions; the pattern engines (TCR globs, RE2 regexes, semver) live in match-patterns.ts.
 */
import * as z from 'zod';
import { ACTIONS, imageRef, parseImageRef, type Action, type NormalizedEvent } from '../core/event';
import {
  MAX_PATTERN_LENGTH,
  MAX_SEMVER_RANGE_LENGTH,
  globError,
  globMatches,
  isAnyGlob,
  isValidSemverRange,
  regexError,
  regexMatchesWhole,
  satisfiesRange,
  semverGreater,
  semverOf,
} from './match-patterns';
import { checkRegistryPin, registryPinSchema } from './registry-pin';

export const MAX_LIST_TAGS = 10;
export const MAX_BRANCHES = 20;
/** An OCI tag is at most 128 characters; a list entry longer than that can never match. */
export const MAX_TAG_LENGTH = 128;

/** A glob string field; `relative` strips TCR's leading "/" (namespace-relative). */
const globField = (relative: boolean) =>
  z.string().superRefine((pattern, ctx) => {
    const error = globError(pattern, relative);
    if (error) ctx.addIssue({ code: 'custom', message: error });
  });

const tagRuleShapes = z.union(
  [
    z.strictObject({ all: z.literal(true) }),
    z.strictObject({ list: z.array(z.string()) }),
    z.strictObject({ regex: z.string() }),
    z.strictObject({ glob: z.string() }),
    z.strictObject({ semver: z.string(), newerOnly: z.boolean().optional() }),
  ],
  {
    error:
      'tags must be exactly one of {"all": true}, {"list": [...]}, {"regex": "..."}, {"glob": "..."}, {"semver": "<range>", "newerOnly": true}',
  },
);

/** One of {all: true} | {list} | {regex} | {glob} | {semver, newerOnly?}; patterns are compiled to validate them. */
export const tagRuleSchema = tagRuleShapes.superRefine((rule, ctx) => {
  if ('list' in rule) {
    if (rule.list.length === 0)
      ctx.addIssue({ code: 'custom', path: ['list'], message: 'list needs at least one tag' });
    if (rule.list.length > MAX_LIST_TAGS) {
      ctx.addIssue({
        code: 'custom',
        path: ['list'],
        message: `list has ${rule.list.length} tags; at most ${MAX_LIST_TAGS}`,
      });
    }
    rule.list.forEach((tag, i) => {
      if (tag.trim() === '') ctx.addIssue({ code: 'custom', path: ['list', i], message: 'tag must not be empty' });
      if (tag.length > MAX_TAG_LENGTH) {
        ctx.addIssue({ code: 'custom', path: ['list', i], message: `tag is longer than ${MAX_TAG_LENGTH} characters` });
      }
    });
  } else if ('regex' in rule) {
    const error = regexError(rule.regex);
    if (error) ctx.addIssue({ code: 'custom', path: ['regex'], message: error });
  } else if ('glob' in rule) {
    const error = globError(rule.glob, false);
    if (error) ctx.addIssue({ code: 'custom', path: ['glob'], message: error });
  } else if ('semver' in rule) {
    if (rule.semver.length > MAX_SEMVER_RANGE_LENGTH) {
      ctx.addIssue({
        code: 'custom',
        path: ['semver'],
        message: `semver range is longer than ${MAX_SEMVER_RANGE_LENGTH} characters`,
      });
    } else if (!isValidSemverRange(rule.semver)) {
      ctx.addIssue({ code: 'custom', path: ['semver'], message: `invalid semver range "${rule.semver}"` });
    }
  }
});

/** The `match` block of a trigger; every field optional, absent (or empty) means "any". */
export const matchSchema = z.strictObject({
  actions: z.array(z.enum(ACTIONS)).optional(),
  /** registry hosts (or globs) the trigger takes images from; default: the tracked image's host, if it has one */
  registry: registryPinSchema.optional(),
  namespace: globField(true).optional(),
  repository: globField(true).optional(),
  image: z
    .string()
    .max(MAX_PATTERN_LENGTH)
    .refine((s) => !/\s/.test(s.trim()) && parseImageRef(s).repoFullName !== '', {
      message: 'not an image reference (expected [registry/]namespace/repository[:tag])',
    })
    .optional(),
  tags: tagRuleSchema.optional(),
  branches: z.array(globField(false)).max(MAX_BRANCHES).optional(),
  keyword: z.string().max(MAX_PATTERN_LENGTH).optional(),
});

export type TagRule = z.infer<typeof tagRuleSchema>;
export type TriggerMatch = z.infer<typeof matchSchema>;

export interface MatchState {
  /** the trigger's current tracked image (Kato-style), e.g. "library/web:1.4.0" */
  trackedImage?: string;
}

export type MatchResult = { matched: true } | { matched: false; reason: string };

const MATCHED: MatchResult = { matched: true };

/**
 * Checks actions, registry, namespace, repository, image, tags, branches, keyword in that order and returns the
 * first failure with a reason a person can read.
 */
export function matchEvent(match: TriggerMatch, event: NormalizedEvent, state?: MatchState): MatchResult {
  const reason =
    checkActions(match, event) ??
    checkRegistryPin(match.registry, state?.trackedImage ?? match.image, event) ??
    checkNamespace(match, event) ??
    checkRepository(match, event) ??
    checkImage(match, event, state) ??
    checkTags(match.tags, event, state?.trackedImage ?? match.image) ??
    checkBranches(match, event) ??
    checkKeyword(match, event);
  return reason === undefined ? MATCHED : { matched: false, reason };
}

/**
 * One request may announce several events (Quay updated_tags, TCR resources). Among the matching ones
 * picks, under a semver rule, the highest version (the first on ties), otherwise the first. When none
 * match, returns the first event with its failure.
 */
export function selectEvent(
  match: TriggerMatch,
  events: NormalizedEvent[],
  state?: MatchState,
): { event: NormalizedEvent; result: MatchResult } {
  if (events.length === 0) throw new Error('selectEvent needs at least one event');
  const results = events.map((event) => ({ event, result: matchEvent(match, event, state) }));
  const matching = results.filter((r) => r.result.matched);
  if (matching.length === 0) return results[0];
  if (match.tags && 'semver' in match.tags) {
    let best = matching[0];
    for (const candidate of matching.slice(1)) {
      const a = semverOf(candidate.event.tag);
      const b = semverOf(best.event.tag);
      if (a !== null && (b === null || semverGreater(a, b))) best = candidate;
    }
    return best;
  }
  return matching[0];
}

// ---------------------------------------------------------------------------------------------

/** What a trigger without `actions` acts on: pushes. Deletes, pulls and promotions only when a trigger lists them. */
export const DEFAULT_ACTIONS: readonly Action[] = ['push', 'tag_push', 'chart_push'];

function checkActions(match: TriggerMatch, event: NormalizedEvent): string | undefined {
  const actions = match.actions;
  if (!actions || actions.length === 0) {
    if (DEFAULT_ACTIONS.includes(event.action)) return undefined;
    return `action "${event.action}" is acted on only by a trigger that lists it in match.actions (default: ${DEFAULT_ACTIONS.join(', ')})`;
  }
  if (actions.includes(event.action)) return undefined;
  return `action "${event.action}" is not one of ${actions.join(', ')}`;
}

function checkNamespace(match: TriggerMatch, event: NormalizedEvent): string | undefined {
  const pattern = match.namespace;
  if (pattern === undefined || isAnyGlob(pattern, true)) return undefined;
  // an event without a namespace is matched as "" (so "**" still matches it)
  if (globMatches(pattern, event.namespace ?? '', true)) return undefined;
  return event.namespace === undefined
    ? `event has no namespace to match "${pattern}"`
    : `namespace "${event.namespace}" does not match "${pattern}"`;
}

function checkRepository(match: TriggerMatch, event: NormalizedEvent): string | undefined {
  const pattern = match.repository;
  if (pattern === undefined || globMatches(pattern, event.repository, true)) return undefined;
  return `repository "${event.repository}" does not match "${pattern}"`;
}

/**
 * The repository without its host (the host is checked by the registry pin, registry-pin.ts); Docker Hub's
 * "library/" prefix dropped, so "nginx" == "docker.io/library/nginx".
 */
function comparableRepo(repoFullName: string): string {
  return repoFullName.startsWith('library/') ? repoFullName.slice('library/'.length) : repoFullName;
}

function checkImage(match: TriggerMatch, event: NormalizedEvent, state?: MatchState): string | undefined {
  if (!match.image) return undefined;
  const trackedRaw = state?.trackedImage ?? match.image;
  const tracked = parseImageRef(trackedRaw);
  const sameRepo = comparableRepo(tracked.repoFullName) === comparableRepo(event.repoFullName);
  if (match.tags) {
    // a tag rule decides the tag; the repository must still be the tracked one
    if (sameRepo) return undefined;
    return `repository "${event.repoFullName}" is not the tracked repository ${tracked.repoFullName}`;
  }
  const sameTag = tracked.tag === undefined || tracked.tag === event.tag;
  const sameDigest = tracked.digest === undefined || tracked.digest === event.digest;
  if (sameRepo && sameTag && sameDigest) return undefined;
  const seen = imageRef({ repoFullName: event.repoFullName, tag: event.tag, digest: event.digest });
  return `image "${seen}" is not the tracked image ${trackedRaw}`;
}

function checkTags(rule: TagRule | undefined, event: NormalizedEvent, trackedImage?: string): string | undefined {
  if (!rule || 'all' in rule) return undefined;
  const tag = event.tag;
  if (tag === undefined) {
    return event.kind === 'code' ? 'event has no tag (branch push)' : 'event has no tag (digest-only push)';
  }
  if ('list' in rule) {
    return rule.list.includes(tag) ? undefined : `tag "${tag}" is not one of ${rule.list.join(', ')}`;
  }
  if ('regex' in rule) {
    return regexMatchesWhole(rule.regex, tag) ? undefined : `tag "${tag}" does not match regex ${rule.regex}`;
  }
  if ('glob' in rule) {
    return globMatches(rule.glob, tag, false) ? undefined : `tag "${tag}" does not match glob ${rule.glob}`;
  }
  const version = semverOf(tag);
  if (version === null) return `tag "${tag}" is not a semver version (rule semver ${rule.semver})`;
  if (!satisfiesRange(version, rule.semver)) return `tag "${tag}" does not satisfy semver ${rule.semver}`;
  if (rule.newerOnly && trackedImage) {
    const trackedTag = parseImageRef(trackedImage).tag;
    const trackedVersion = semverOf(trackedTag);
    if (trackedVersion !== null && !semverGreater(version, trackedVersion)) {
      return `tag "${tag}" is not newer than the tracked tag ${trackedTag}`;
    }
  }
  return undefined;
}

function checkBranches(match: TriggerMatch, event: NormalizedEvent): string | undefined {
  const branches = match.branches;
  if (event.kind !== 'code' || !branches || branches.length === 0) return undefined;
  if (event.branch === undefined) {
    const what = event.tag !== undefined ? ` (tag push "${event.tag}")` : '';
    return `event has no branch${what} to match ${branches.join(', ')}`;
  }
  const branch = event.branch;
  if (branches.some((pattern) => globMatches(pattern, branch, false))) return undefined;
  return `branch "${branch}" does not match ${branches.join(', ')}`;
}

function checkKeyword(match: TriggerMatch, event: NormalizedEvent): string | undefined {
  const keyword = match.keyword;
  if (!keyword) return undefined;
  const message = event.commit?.message;
  if (message === undefined) return `event has no commit message to search for "${keyword}"`;
  return message.includes(keyword) ? undefined : `commit message does not contain "${keyword}"`;
}
