/** Admin API: triggers (create, list, read, change, delete, rotate the secret). */
import * as z from 'zod';
import { config } from '../core/config';
import { lazy } from '../core/lazy';
import { newSecret } from '../core/crypto';
import { prepareNotify, rotateNotifySecrets, showNewSecrets, type NotifierConfig } from '../notify';
import { baseUrl, json, zodError, type HttpResult } from '../receive/http';
import { REDACTED } from '../core/redact-values';
import { restoreRedacted } from '../core/restore-redacted';
import { redactTarget, type TargetConfig } from '../deploy/targets';
import { PROVIDER_IDS } from '../receive/providers/ids';
import { ecrRepositoryKey } from '../receive/providers/ecr';
import * as store from '../store/store';
import { publicTrigger, triggerCreateSchema, triggerPatchSchema, type Trigger } from '../trigger';
import type { AdminRequest, Routes } from './router';

/** A stored trigger is one DynamoDB item (400 KB at most); keep well below so later changes (tracked image) fit. */
export const MAX_TRIGGER_BYTES = 256 * 1024;

const bytes = (v: unknown) => Buffer.byteLength(JSON.stringify(v) ?? '', 'utf8');

/** A 400 naming the largest field when the trigger is too large to store, else undefined. */
function tooLarge(trigger: Trigger) {
  const total = bytes(trigger);
  if (total <= MAX_TRIGGER_BYTES) return undefined;
  // walk down the largest field while it holds most of the size (then it is what to shorten); bodies are at most
  // 32 levels deep (the router checked)
  const path: string[] = [];
  let v: unknown = trigger;
  let size = total;
  while (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length && path.length < 32) {
    const [name, child] = Object.entries(v).reduce((a, b) => (bytes(b[1]) > bytes(a[1]) ? b : a));
    const childSize = bytes(child);
    if (childSize * 2 < size) break;
    path.push(name);
    v = child;
    size = childSize;
  }
  const field = path.join('.') || '(body)';
  return json(400, {
    message: `invalid ${field}: the trigger is ${total} bytes; at most ${MAX_TRIGGER_BYTES} can be stored`,
    field,
  });
}

/**
 * The first number DynamoDB cannot store (it keeps 38 digits between 1e-130 and 1e126; the SDK refuses integers
 * beyond 2^53), as a 400 naming its field; a target body template may carry any JSON number.
 */
function unstorableNumber(trigger: Trigger) {
  const stack: Array<[unknown, string[]]> = [[trigger, []]];
  while (stack.length) {
    const [v, path] = stack.pop()!;
    if (typeof v === 'number') {
      const a = Math.abs(v);
      if (
        !Number.isFinite(v) ||
        (Number.isInteger(v) && !Number.isSafeInteger(v)) ||
        a >= 1e126 ||
        (a !== 0 && a < 1e-130)
      ) {
        const field = path.join('.');
        return json(400, {
          message: `invalid ${field}: ${v} cannot be stored (at most 2^53 for integers, 1e125 otherwise)`,
          field,
        });
      }
    } else if (v && typeof v === 'object') {
      for (const [k, child] of Object.entries(v)) stack.push([child, [...path, k]]);
    }
  }
  return undefined;
}

/**
 * The sender registry (every provider's parser and schemas), loaded on the first answer that needs it (create,
 * rotate, setup, dry run, test) rather than in every cold start: listing, reading and logs never do.
 */
export const senderRegistry = lazy(async () => (await import('../receive/providers')).providers);

/** How the sender must be set up: the URL to paste, and headers to add where the provider takes custom headers. */
export async function senderSetup(trigger: Trigger, req: Pick<AdminRequest, 'event'>) {
  if (trigger.provider === 'ecr') {
    return {
      hint: 'ECR events arrive through EventBridge; no webhook URL to configure',
      repositoryKey: trigger.repositoryKey,
    };
  }
  const provider = (await senderRegistry())[trigger.provider];
  const url = `${baseUrl(req.event, config.publicBaseUrl())}/hooks/${trigger.provider}/${trigger.id}`;
  return {
    // a header keeps the secret out of URLs (and the sender's logs) where the sender can send one (TCR)
    webhookUrl:
      provider.credential.query && !provider.credential.headers
        ? `${url}?token=${encodeURIComponent(trigger.secret)}`
        : url,
    headers: provider.credential.headers?.(trigger.secret) ?? {},
    ...(provider.credential.settings ? { settings: provider.credential.settings(trigger.secret) } : {}),
    hint: provider.credential.hint,
  };
}

/** ECR triggers are found by repository (no trigger id in EventBridge events): index them by repository name. */
function repositoryKey(trigger: Pick<Trigger, 'provider' | 'match'>): string | undefined {
  if (trigger.provider !== 'ecr') return undefined;
  return trigger.match.repository
    ? ecrRepositoryKey([trigger.match.namespace, trigger.match.repository].filter(Boolean).join('/'))
    : undefined;
}

function validateEcr(trigger: Pick<Trigger, 'provider' | 'match'>) {
  if (trigger.provider !== 'ecr') return undefined;
  const repo = trigger.match.repository;
  if (!repo || /[*?{}[\]]/.test(repo) || (trigger.match.namespace && /[*?{}[\]]/.test(trigger.match.namespace))) {
    return json(400, {
      message:
        'invalid match.repository: ECR triggers need an exact repository name (no glob): events are matched by repository through an index',
      field: 'match.repository',
    });
  }
  return undefined;
}

/**
 * Names are unique (people and the CLI refer to triggers by name): a 409 naming `name` when another trigger has it.
 * Checked on a read of the list, not by a conditional write, so two requests racing with one name can both pass.
 */
async function nameTaken(name: string, exceptId?: string) {
  let other: Trigger | undefined;
  // the listing, page by page (creating and renaming are rare; the webhook path never does this)
  for await (const t of store.allTriggers()) {
    if (t.name === name && t.id !== exceptId) {
      other = t;
      break;
    }
  }
  if (!other) return undefined;
  return json(409, {
    message: `a trigger named ${name} already exists (${other.id}); names are unique`,
    field: 'name',
    id: other.id,
  });
}

async function create(req: AdminRequest) {
  const parsed = triggerCreateSchema.safeParse(req.body ?? {});
  if (!parsed.success) return zodError(parsed.error);
  const input = parsed.data;
  const taken = await nameTaken(input.name);
  if (taken) return taken;
  const bad = validateEcr(input);
  if (bad) return bad;
  const { notify: notifyInput, ...rest } = input;
  const prepared = notifyInput ? prepareNotify(notifyInput) : undefined;
  if (prepared && !prepared.ok) return json(400, prepared.problem);
  const now = new Date().toISOString();
  const trigger: Trigger = {
    ...rest,
    ...(prepared ? { notify: prepared.notify } : {}),
    id: store.newTriggerId(),
    secret: newSecret(),
    trackedImage: input.match.image,
    repositoryKey: repositoryKey(input),
    createdAt: now,
    updatedAt: now,
  };
  const big = tooLarge(trigger) ?? unstorableNumber(trigger);
  if (big) return big;
  await store.putTrigger(trigger);
  return json(201, {
    ...publicTrigger(trigger),
    ...shownNotify(trigger.notify, prepared?.newSecrets),
    secret: trigger.secret,
    ...(await senderSetup(trigger, req)),
  });
}

const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(100),
  cursor: z.string().max(2048).optional(),
  provider: z.enum(PROVIDER_IDS).optional(),
  enabled: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional(),
});

/** One page, oldest first; `cursor` (from the previous page, same filters) gives the next. */
async function list(req: AdminRequest) {
  const parsed = listQuery.safeParse(req.query ?? {});
  if (!parsed.success) return zodError(parsed.error);
  const { limit, cursor, provider, enabled } = parsed.data;
  if (cursor && !store.isValidTriggerCursor(cursor, { provider, enabled })) {
    return json(400, {
      message: 'invalid cursor: use the cursor of the previous page as given (same filters)',
      field: 'cursor',
    });
  }
  const page = await store.listTriggers({ limit, cursor, provider, enabled });
  return json(200, { items: page.items.map(publicTrigger), ...(page.cursor ? { cursor: page.cursor } : {}) });
}

async function get(req: AdminRequest) {
  const trigger = await store.getTrigger(req.params.id);
  if (!trigger) return json(404, { message: 'unknown trigger' });
  return json(200, publicTrigger(trigger));
}

/**
 * The answer when a trigger change could not be written: the trigger is gone (404), or every try lost its race to
 * other writes of the same trigger (409, naming the conflict; nothing was written, the request may be sent again).
 */
function notWritten(result: Exclude<store.TriggerChangeResult<unknown>, { status: 'done' }>): HttpResult {
  if (result.status === 'gone') return json(404, { message: 'unknown trigger' });
  return json(409, {
    message: `the trigger was changed by other requests while this one was applied (${result.tries} tries); nothing was written: read it again and retry`,
    conflict: 'version',
  });
}

/**
 * A target sent back as the admin API showed it: REDACTED values stand for the stored ones (the console's edit
 * form, a GET-edit-PATCH round trip). A REDACTED value that stands for nothing stored is a 400 naming its field.
 */
function restoreTarget(input: TargetConfig, stored: TargetConfig): { target: TargetConfig } | { problem: HttpResult } {
  const restored = restoreRedacted(input, stored, redactTarget(stored), ['target']);
  const field = restored.unmatched[0];
  if (field) {
    return {
      problem: json(400, {
        message: `invalid ${field}: ${REDACTED} stands for a stored value, but the stored target shows none here; give the value`,
        field,
      }),
    };
  }
  return { target: restored.value as TargetConfig };
}

/**
 * Applies the fields given (a diff: absent fields keep what is stored) to the trigger as it is now; a change that
 * lost its race to another write is applied again to the fresh trigger (store.changeTrigger), so a PATCH never
 * undoes a rotation, a disable or a tracked-image advance made meanwhile.
 */
async function patch(req: AdminRequest) {
  const parsed = triggerPatchSchema.safeParse(req.body ?? {});
  if (!parsed.success) return zodError(parsed.error);
  const change = parsed.data;
  const result = await store.changeTrigger<HttpResult | { next: Trigger; newSecrets?: Map<number, string> }>(
    req.params.id,
    async (trigger) => {
      const prepared = change.notify ? prepareNotify(change.notify, trigger.notify) : undefined;
      if (prepared && !prepared.ok) return { answer: json(400, prepared.problem) };
      if (change.mapping !== undefined && trigger.provider !== 'generic') {
        return {
          answer: json(400, { message: 'invalid mapping: mapping is only for provider "generic"', field: 'mapping' }),
        };
      }
      if (change.name !== undefined && change.name !== trigger.name) {
        const taken = await nameTaken(change.name, trigger.id);
        if (taken) return { answer: taken };
      }
      let target: TargetConfig | undefined;
      if (change.target !== undefined) {
        const restored = restoreTarget(change.target, trigger.target);
        if ('problem' in restored) return { answer: restored.problem };
        target = restored.target;
      }
      const next: Trigger = {
        ...trigger,
        ...(change.name !== undefined ? { name: change.name } : {}),
        ...(change.enabled !== undefined ? { enabled: change.enabled } : {}),
        ...(change.match !== undefined ? { match: change.match } : {}),
        ...(target !== undefined ? { target } : {}),
        ...(change.queue !== undefined ? { queue: change.queue } : {}),
        ...(change.rollback !== undefined ? { rollback: change.rollback } : {}),
        ...(prepared ? { notify: prepared.notify } : {}),
        ...(change.mapping !== undefined ? { mapping: change.mapping } : {}),
        updatedAt: new Date().toISOString(),
      };
      if (change.description === null) delete next.description;
      else if (change.description !== undefined) next.description = change.description;
      if (change.match !== undefined) {
        const bad = validateEcr(next);
        if (bad) return { answer: bad };
        next.repositoryKey = repositoryKey(next);
        // a new tracked image restarts tracking; otherwise keep the advanced one
        if (change.match.image !== trigger.match.image) next.trackedImage = change.match.image;
      }
      const big = tooLarge(next) ?? unstorableNumber(next);
      if (big) return { answer: big };
      return { write: next, answer: { next, newSecrets: prepared?.newSecrets } };
    },
  );
  if (result.status !== 'done') return notWritten(result);
  const answer = result.answer;
  if (!('next' in answer)) return answer;
  return json(200, { ...publicTrigger(answer.next), ...shownNotify(answer.next.notify, answer.newSecrets) });
}

/** `notify` with the signing secrets generated by this request shown on their entries (this answer only). */
function shownNotify(notify: NotifierConfig[] | undefined, newSecrets: Map<number, string> | undefined) {
  return notify && newSecrets?.size ? { notify: showNewSecrets(notify, newSecrets) } : {};
}

/**
 * New signing secrets for the trigger's webhook notifiers (the trigger's own secret is rotated separately, by
 * POST .../secret). For the grace period each message is signed with the new and the previous secret.
 */
async function rotateNotify(req: AdminRequest) {
  const graceSeconds = config.secretGraceSeconds();
  const result = await store.changeTrigger<HttpResult | { next: Trigger; newSecrets: Map<number, string> }>(
    req.params.id,
    (trigger) => {
      if (!trigger.notify?.some((n) => n.type === 'webhook')) {
        return {
          answer: json(409, { message: 'the trigger has no webhook notifier: nothing to rotate', field: 'notify' }),
        };
      }
      const rotated = rotateNotifySecrets(trigger.notify, graceSeconds);
      const next: Trigger = { ...trigger, notify: rotated.notify, updatedAt: new Date().toISOString() };
      return { write: next, answer: { next, newSecrets: rotated.newSecrets } };
    },
  );
  if (result.status !== 'done') return notWritten(result);
  const answer = result.answer;
  if (!('next' in answer)) return answer;
  return json(200, {
    ...publicTrigger(answer.next),
    ...shownNotify(answer.next.notify, answer.newSecrets),
    previousSigningSecretValidUntil: new Date((Math.floor(Date.now() / 1000) + graceSeconds) * 1000).toISOString(),
  });
}

async function remove(req: AdminRequest) {
  if (!(await store.deleteTrigger(req.params.id))) return json(404, { message: 'unknown trigger' });
  return json(204);
}

/**
 * A new secret; the one it replaces keeps working for the grace period. The new secret is made once: when the
 * write loses its race (a PATCH or another rotation came first) it is applied to the fresh trigger, so the secret
 * it replaces is the one stored at that moment (two rotations at once: the second one's previous secret is the
 * first one's, and both shown secrets work).
 */
async function rotate(req: AdminRequest) {
  const secret = newSecret();
  const result = await store.changeTrigger(req.params.id, (trigger) => {
    const next: Trigger = {
      ...trigger,
      secret,
      previousSecret: trigger.secret,
      previousSecretExpiresAt: Math.floor(Date.now() / 1000) + config.secretGraceSeconds(),
      updatedAt: new Date().toISOString(),
    };
    return { write: next, answer: next };
  });
  if (result.status !== 'done') return notWritten(result);
  const next = result.answer;
  return json(200, {
    ...publicTrigger(next),
    secret: next.secret,
    previousSecretValidUntil: new Date(next.previousSecretExpiresAt! * 1000).toISOString(),
    ...(await senderSetup(next, req)),
  });
}

export const triggerRoutes: Routes = {
  'POST /admin/triggers': create,
  'GET /admin/triggers': list,
  'GET /admin/triggers/{id}': get,
  'PATCH /admin/triggers/{id}': patch,
  'DELETE /admin/triggers/{id}': remove,
  'POST /admin/triggers/{id}/secret': rotate,
  'POST /admin/triggers/{id}/notify/secret': rotateNotify,
};
