/**
 * The pattern primitives behind lib/match/matcher.ts: TCR-style globs (minimatch), whole-string regexes
 * (re2js, linear time, never JS RegExp on user input) and semver tags. Compiled patterns are cached
 * because matching runs once per webhook; every function here is pure apart from those caches.
 */
import type { Minimatch, MinimatchOptions } from 'minimatch';
import type { RE2JS } from 're2js';

/*
 * The three engines are loaded on first use, not when the bundle loads: most triggers use one of them or none, and
 * loading them all cost every cold start a few ms (issue 15). esbuild still bundles them; a require() inside a
 * function only defers running their module code. Written by hand because it is three lines per engine.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
let minimatchLib: typeof import('minimatch') | undefined;
let re2Lib: typeof import('re2js') | undefined;
let semverLib: typeof import('semver') | undefined;
const mm = () => (minimatchLib ??= require('minimatch') as typeof import('minimatch'));
const re2 = () => (re2Lib ??= require('re2js') as typeof import('re2js'));
const semver = () => (semverLib ??= require('semver') as typeof import('semver'));
/* eslint-enable @typescript-eslint/no-require-imports */

/** Longest regex/glob/keyword a trigger may carry. */
export const MAX_PATTERN_LENGTH = 1024;
/** Most alternatives a glob's `{a,b}` / `{1..9}` braces may expand to. */
export const MAX_BRACE_EXPANSIONS = 100;
/** Entries kept per compiled-pattern cache (least recently used evicted first). */
const CACHE_SIZE = 500;

const GLOB_OPTIONS: MinimatchOptions = { dot: true, braceExpandMax: MAX_BRACE_EXPANSIONS };

function cached<T>(cache: Map<string, T>, key: string, build: () => T): T {
  if (cache.has(key)) {
    const hit = cache.get(key) as T;
    cache.delete(key); // refresh recency
    cache.set(key, hit);
    return hit;
  }
  const value = build();
  if (cache.size >= CACHE_SIZE) {
    const oldest = cache.keys().next();
    if (!oldest.done) cache.delete(oldest.value);
  }
  cache.set(key, value);
  return value;
}

// ---------------------------------------------------------------------------------------------
// Globs

interface NormalizedGlob {
  pattern: string;
  /** set when the braces or brackets are unbalanced */
  error?: string;
}

/**
 * Applies the TCR conventions before minimatch sees a pattern: trims it, strips a leading "/"
 * (namespace-relative, only when `relative`) and drops whitespace inside `{...}` so that
 * `{path1, path2}` means `{path1,path2}`. Escapes and `[...]` classes are copied verbatim.
 */
export function normalizeGlob(raw: string, relative: boolean): NormalizedGlob {
  let p = raw.trim();
  if (relative) p = p.replace(/^\/+/, '');
  let out = '';
  let depth = 0;
  let error: string | undefined;
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === '\\') {
      out += p.slice(i, i + 2);
      i++;
      continue;
    }
    if (c === '[') {
      let j = i + 1;
      if (p[j] === '!' || p[j] === '^') j++;
      if (p[j] === ']') j++; // a leading "]" is a member of the class
      const close = p.indexOf(']', j);
      if (close < 0) {
        error ??= `unclosed "[" in glob "${raw}"`;
        out += c;
        continue;
      }
      out += p.slice(i, close + 1);
      i = close;
      continue;
    }
    if (c === '{') depth++;
    else if (c === '}') {
      if (depth === 0) error ??= `unbalanced "}" in glob "${raw}"`;
      else depth--;
    } else if (depth > 0 && /\s/.test(c)) continue;
    out += c;
  }
  if (depth > 0) error ??= `unclosed "{" in glob "${raw}"`;
  return { pattern: out, error };
}

const globCache = new Map<string, Minimatch | string>();

function compileGlob(raw: string, relative: boolean): Minimatch | string {
  // checked before the cache: an over-long pattern must not become a cache key
  if (raw.length > MAX_PATTERN_LENGTH) return `glob is longer than ${MAX_PATTERN_LENGTH} characters`;
  return cached(globCache, `${relative ? 'r' : 'a'}:${raw}`, () => {
    const { pattern, error } = normalizeGlob(raw, relative);
    if (error) return error;
    try {
      if (
        mm().minimatch.braceExpand(pattern, { braceExpandMax: MAX_BRACE_EXPANSIONS + 1 }).length > MAX_BRACE_EXPANSIONS
      ) {
        return `glob "${raw}" expands to more than ${MAX_BRACE_EXPANSIONS} alternatives`;
      }
      return new (mm().Minimatch)(pattern, GLOB_OPTIONS);
    } catch (e) {
      return `invalid glob "${raw}": ${(e as Error).message}`;
    }
  });
}

/** Why a glob is refused at trigger creation, or undefined when it is usable. */
export function globError(raw: string, relative: boolean): string | undefined {
  const compiled = compileGlob(raw, relative);
  return typeof compiled === 'string' ? compiled : undefined;
}

/** True when the glob is empty once normalized (absent, "", "/"): it matches anything. */
export function isAnyGlob(raw: string | undefined, relative: boolean): boolean {
  return raw === undefined || normalizeGlob(raw, relative).pattern === '';
}

/** Whole-string glob match. An unusable pattern matches nothing. */
export function globMatches(raw: string, value: string, relative: boolean): boolean {
  if (isAnyGlob(raw, relative)) return true;
  const compiled = compileGlob(raw, relative);
  return typeof compiled !== 'string' && compiled.match(value);
}

// ---------------------------------------------------------------------------------------------
// Regexes (RE2 syntax: no backreferences, no lookaround)

const regexCache = new Map<string, RE2JS | string>();

function compileRegex(pattern: string): RE2JS | string {
  if (pattern.length > MAX_PATTERN_LENGTH) return `regex is longer than ${MAX_PATTERN_LENGTH} characters`;
  return cached(regexCache, pattern, () => {
    try {
      return re2().RE2JS.compile(pattern);
    } catch (e) {
      return `invalid regex (RE2 syntax): ${(e as Error).message}`;
    }
  });
}

/** Why a regex is refused at trigger creation, or undefined when it compiles under RE2. */
export function regexError(pattern: string): string | undefined {
  const compiled = compileRegex(pattern);
  return typeof compiled === 'string' ? compiled : undefined;
}

/** True when the regex matches the WHOLE value. An unusable pattern matches nothing. */
export function regexMatchesWhole(pattern: string, value: string): boolean {
  const compiled = compileRegex(pattern);
  return typeof compiled !== 'string' && compiled.matches(value);
}

// ---------------------------------------------------------------------------------------------
// Semver

/** "v1.2.3" / "=1.2.3" / "1.2.3" -> "1.2.3"; null when the tag is not a semver version. */
export function semverOf(tag: string | undefined): string | null {
  return tag === undefined ? null : semver().clean(tag, { loose: true });
}

/** Longest semver range (semver's own limit for a version string is 256). */
export const MAX_SEMVER_RANGE_LENGTH = 256;

export function isValidSemverRange(range: string): boolean {
  return (
    range.trim() !== '' &&
    range.length <= MAX_SEMVER_RANGE_LENGTH &&
    semver().validRange(range, { loose: true }) !== null
  );
}

/** Pre-releases satisfy a range only when it names one on the same major.minor.patch (semver's default). */
export function satisfiesRange(version: string, range: string): boolean {
  if (range.length > MAX_SEMVER_RANGE_LENGTH) return false;
  return semver().satisfies(version, range, { loose: true });
}

export function semverGreater(a: string, b: string): boolean {
  return semver().gt(a, b, { loose: true });
}
