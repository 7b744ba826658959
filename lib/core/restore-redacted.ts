/**
 * Admin answers show configs with their secrets replaced by REDACTED (a target's header values, URL tokens, a
 * notifier's URL path). A client that edits such a config and sends it back (the console's edit form, a CLI
 * round trip) sends REDACTED where the secret was: that stands for the stored value it was shown for, never for
 * the text "[redacted]". Used by the trigger PATCH (targets) and by the notifiers (lib/notify prepareNotify).
 */
import { REDACTED } from './redact-values';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/**
 * `input` with every string that contains REDACTED and equals the `shown` value at the same place (the stored
 * config as the admin API showed it) replaced by the `stored` value there. `unmatched` lists the places (dotted
 * paths under `path`) of REDACTED strings that stand for nothing shown: the caller refuses those (naming the field)
 * rather than store the marker as a credential.
 */
export function restoreRedacted(
  input: unknown,
  stored: unknown,
  shown: unknown,
  path: readonly string[] = [],
): { value: unknown; unmatched: string[] } {
  if (typeof input === 'string') {
    if (!input.includes(REDACTED)) return { value: input, unmatched: [] };
    return input === shown && typeof stored === 'string'
      ? { value: stored, unmatched: [] }
      : { value: input, unmatched: [path.join('.')] };
  }
  if (Array.isArray(input)) {
    const unmatched: string[] = [];
    const value = input.map((item, i) => {
      const r = restoreRedacted(
        item,
        Array.isArray(stored) ? stored[i] : undefined,
        Array.isArray(shown) ? shown[i] : undefined,
        [...path, String(i)],
      );
      unmatched.push(...r.unmatched);
      return r.value;
    });
    return { value, unmatched };
  }
  if (isObject(input)) {
    const unmatched: string[] = [];
    const value: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(input)) {
      const own = (o: unknown) => (isObject(o) && Object.prototype.hasOwnProperty.call(o, k) ? o[k] : undefined);
      const r = restoreRedacted(v, own(stored), own(shown), [...path, k]);
      unmatched.push(...r.unmatched);
      value[k] = r.value;
    }
    return { value, unmatched };
  }
  return { value: input, unmatched: [] };
}
