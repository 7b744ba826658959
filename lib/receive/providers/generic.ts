/**
 * Any CI system's JSON, signed as Flux's `generic-hmac` receiver checks it: `X-Signature: <algo>=<hex>`, the hex
 * HMAC of the raw body with the trigger secret, algo sha1, sha256 or sha512. The trigger's `mapping` says where the
 * image, tag, digest, branch and commit are in the body, as JMESPath expressions (Powertools' implementation of the
 * JMESPath spec), compiled when the trigger is created so a typo is a 400 naming the field, not a silent miss.
 *
 * Without a mapping the body's top-level fields of the same names are read (`{"image": "ghcr.io/team/web:1.2"}`).
 */
import { JMESPathTypeError, search } from '@aws-lambda-powertools/jmespath';
import * as z from 'zod';
import {
  ACTIONS,
  type Action,
  type NormalizedEvent,
  imageRef,
  parseImageRef,
  splitRepoFullName,
} from '../../core/event';
import { clip } from './git';
import { jmespathShapeError } from './jmespath-shape';
import { RequestFieldError, type ParseResult, type Provider, type VerifyResult, type WebhookRequest } from './types';
import { verifyHmacHeader } from './verify';

// ---------------------------------------------------------------------------------------------
// signature

const SIGNATURE = /^(sha1|sha256|sha512)=/i;

/**
 * Flux generic-hmac: `X-Signature: sha256=<hex>` (sha1= and sha512= too) over the raw body. The HMAC itself is
 * verifyHmacHeader's (lib/receive/providers/verify.ts), so it covers whatever bytes that helper signs.
 */
export function verifyGenericSignature(req: WebhookRequest, secrets: readonly string[]): VerifyResult {
  const raw = req.headers['x-signature'];
  if (!raw) return { ok: false, reason: 'missing X-Signature header' };
  const m = SIGNATURE.exec(raw.trim());
  if (!m) return { ok: false, reason: 'X-Signature header must start with sha1=, sha256= or sha512=' };
  return verifyHmacHeader(req, secrets, 'X-Signature', m[1].toLowerCase() as 'sha1' | 'sha256' | 'sha512', m[0]);
}

// ---------------------------------------------------------------------------------------------
// mapping

export const MAPPING_FIELDS = [
  'image',
  'repository',
  'tag',
  'digest',
  'branch',
  'commit',
  'message',
  'action',
  'deliveryId',
] as const;
export type MappingField = (typeof MAPPING_FIELDS)[number];
export type GenericMapping = Partial<Record<MappingField, string>>;

/** What is read when a trigger has no mapping: the top-level fields of the same names. */
export const DEFAULT_MAPPING: GenericMapping = Object.fromEntries(MAPPING_FIELDS.map((f) => [f, f]));

/** Why a JMESPath expression does not compile, or undefined when it does. */
export function jmespathError(expression: string): string | undefined {
  try {
    search(expression, {});
    return undefined;
  } catch (e) {
    // a function given the wrong type on the empty probe document compiled fine; the real body decides
    if (e instanceof JMESPathTypeError) return undefined;
    return (e as Error).message;
  }
}

const expressionSchema = z
  .string()
  .min(1)
  .max(512)
  .superRefine((expr, ctx) => {
    // the bound first: the compile check below evaluates the expression (on an empty document)
    const shape = jmespathShapeError(expr);
    if (shape) {
      ctx.addIssue({ code: 'custom', message: `refused: ${shape}` });
      return;
    }
    const error = jmespathError(expr);
    if (error) ctx.addIssue({ code: 'custom', message: `not a valid JMESPath expression: ${clip(error)}` });
  });

/** The trigger's `mapping` (generic provider): field -> JMESPath expression into the body. */
export const genericMappingSchema = z
  .object(
    Object.fromEntries(MAPPING_FIELDS.map((f) => [f, expressionSchema.optional()])) as Record<
      MappingField,
      z.ZodOptional<typeof expressionSchema>
    >,
  )
  .strict()
  .refine(
    (m) => Object.values(m).some((v) => v !== undefined),
    'give at least one field, e.g. {"image": "build.image"}',
  );

type Read = { ok: true; values: Partial<Record<MappingField, string>> } | { ok: false; reason: string };

function readMapping(mapping: GenericMapping, body: unknown): Read {
  const values: Partial<Record<MappingField, string>> = {};
  for (const field of MAPPING_FIELDS) {
    const expr = mapping[field];
    if (!expr) continue;
    // checked at creation too; this catches a trigger stored before the bound existed, before any work is done
    const shape = jmespathShapeError(expr);
    if (shape) throw new RequestFieldError(`mapping.${field} is refused: ${shape}`, `mapping.${field}`);
    let v: unknown;
    try {
      v = search(expr, body as Parameters<typeof search>[1]);
    } catch (e) {
      return {
        ok: false,
        reason: `mapping.${field} could not be evaluated on this body: ${clip((e as Error).message)}`,
      };
    }
    if (typeof v === 'string' && v.trim()) values[field] = v.trim();
    else if (typeof v === 'number' && Number.isFinite(v)) values[field] = String(v);
  }
  return { ok: true, values };
}

/** The body through the mapping -> one image or code event, or ignored with what was missing. */
export function normalizeGeneric(body: unknown, mapping: GenericMapping | undefined): ParseResult {
  const read = readMapping(mapping ?? DEFAULT_MAPPING, body);
  if (!read.ok) return { kind: 'ignored', reason: read.reason };
  const v = read.values;
  let action: Action = 'push';
  if (v.action !== undefined) {
    if (!(ACTIONS as readonly string[]).includes(v.action)) {
      return { kind: 'ignored', reason: `mapped action "${clip(v.action)}" is not one of ${ACTIONS.join(', ')}` };
    }
    action = v.action as Action;
  }
  const deliveryId = v.deliveryId;
  const ref = v.image ?? v.repository;
  if (ref === undefined) {
    return {
      kind: 'ignored',
      reason:
        v.commit !== undefined || v.branch !== undefined
          ? 'the mapping found a branch or commit but no repository (map "repository" for code events)'
          : 'the mapping found no image or repository in the body',
    };
  }
  const commit = v.commit ? { id: v.commit, message: v.message ?? '' } : undefined;
  // no image, tag or digest but a branch or commit: a code push of that repository
  if (v.image === undefined && v.tag === undefined && v.digest === undefined && (v.branch !== undefined || commit)) {
    const event: NormalizedEvent = {
      provider: 'generic',
      kind: 'code',
      action,
      deliveryId,
      ...splitRepoFullName(ref),
      branch: v.branch,
      commit,
    };
    return { kind: 'events', events: [event] };
  }
  const parsed = parseImageRef(ref);
  const tag = v.tag ?? parsed.tag;
  const digest = v.digest ?? parsed.digest;
  const names = splitRepoFullName(parsed.repoFullName);
  const event: NormalizedEvent = {
    provider: 'generic',
    kind: 'image',
    action,
    deliveryId,
    registry: parsed.registry,
    ...names,
    tag,
    digest,
    image: imageRef({ registry: parsed.registry, repoFullName: names.repoFullName, tag, digest }),
    branch: v.branch,
    commit,
  };
  return { kind: 'events', events: [event] };
}

export const generic: Provider = {
  id: 'generic',
  title: 'Generic signed JSON (Flux generic-hmac style)',
  credential: {
    hint: 'X-Signature: sha256=<hex HMAC-SHA256 of the raw body, key <secret>> (sha1= and sha512= also accepted)',
  },
  credentialHeaders: ['x-signature'],
  verify: (req, secrets) => verifyGenericSignature(req, secrets),
  parse: (req, ctx) => normalizeGeneric(req.body, ctx.mapping),
};
