/**
 * What every notification says, built once per outcome from the trigger and its log entry: the signed webhook's
 * body (also EventBridge's `detail`), and the pieces the chat notifiers (Slack, Teams, Discord) lay out.
 */
import type { LogEntry } from '../store/store';
import type { Trigger } from '../trigger';

const COMMIT_MESSAGE_LIMIT = 500;
const REASON_LIMIT = 1000;

/** The webhook body / EventBridge detail. Absent values are null so every key is always there. */
export interface Outcome {
  /** `deploy.<status>`, e.g. deploy.succeeded */
  type: string;
  triggerId: string;
  triggerName: string;
  logId: string;
  status: string;
  reason: string | null;
  event: {
    provider: string;
    action: string | null;
    image: string | null;
    tag: string | null;
    digest: string | null;
    repository: string | null;
    branch: string | null;
    commit: { id: string; message: string | null; author: string | null; url: string | null } | null;
  };
  /** deploy attempts made */
  attempts: number;
  /** time spent in deploy attempts, summed (ms) */
  durationMs: number;
  /** when the webhook was received (ISO 8601) */
  receivedAt: string;
  /** the admin API's URL of the log entry; only when PUBLIC_BASE_URL is set */
  logUrl?: string;
  /** for a rollback: the entry it undoes (its failed verification, or an admin's request) */
  rollbackOf?: string;
}

function cut(s: string | undefined, limit: number): string | null {
  if (s === undefined || s === null) return null;
  return s.length > limit ? `${s.slice(0, limit)}…` : s;
}

export function outcomeOf(trigger: Pick<Trigger, 'id' | 'name'>, entry: LogEntry, publicBaseUrl?: string): Outcome {
  const ev = entry.event;
  const attempts = entry.attempts ?? [];
  const outcome: Outcome = {
    type: `deploy.${entry.status}`,
    triggerId: trigger.id,
    triggerName: trigger.name,
    logId: entry.id,
    status: entry.status,
    reason: cut(entry.reason, REASON_LIMIT),
    event: {
      provider: ev?.provider ?? entry.provider,
      action: ev?.action ?? null,
      image: ev?.image ?? null,
      tag: ev?.tag ?? null,
      digest: ev?.digest ?? null,
      repository: ev?.repoFullName ?? null,
      branch: ev?.branch ?? null,
      commit: ev?.commit
        ? {
            id: ev.commit.id,
            message: cut(ev.commit.message, COMMIT_MESSAGE_LIMIT),
            author: ev.commit.author ?? null,
            url: ev.commit.url ?? null,
          }
        : null,
    },
    attempts: attempts.length,
    durationMs: attempts.reduce((sum, a) => sum + (Number.isFinite(a.durationMs) ? a.durationMs : 0), 0),
    receivedAt: entry.receivedAt,
    ...(entry.rollbackOf ? { rollbackOf: entry.rollbackOf } : {}),
  };
  if (publicBaseUrl) {
    const base = publicBaseUrl.replace(/\/+$/, '');
    outcome.logUrl = `${base}/admin/triggers/${encodeURIComponent(trigger.id)}/logs/${encodeURIComponent(entry.id)}`;
  }
  return outcome;
}

/** What was deployed: the image, else repository@commit (branch), else the repository. */
export function subjectOf(o: Outcome): string {
  const e = o.event;
  if (e.image) return e.image;
  if (e.commit) return `${e.repository ?? '?'}@${e.commit.id.slice(0, 12)}${e.branch ? ` (${e.branch})` : ''}`;
  return e.repository ?? e.provider;
}

/** e.g. "web-prod: deploy succeeded" */
export function titleOf(o: Outcome): string {
  return `${o.triggerName}: deploy ${o.status}`;
}

/** "850 ms", "12.3 s", "2 min 5 s" */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${s % 60} s`;
}

/** The facts every chat message lists, in this order. */
export function factsOf(o: Outcome): Array<{ name: string; value: string }> {
  const facts = [
    { name: 'Trigger', value: o.triggerName },
    { name: o.event.image ? 'Image' : 'Source', value: subjectOf(o) },
    { name: 'Status', value: o.rollbackOf ? `${o.status} (rollback of ${o.rollbackOf})` : o.status },
  ];
  if (o.reason) facts.push({ name: 'Reason', value: o.reason });
  facts.push({
    name: 'Duration',
    value: `${formatDuration(o.durationMs)} (${o.attempts} attempt${o.attempts === 1 ? '' : 's'})`,
  });
  facts.push({ name: 'Log entry', value: o.logId });
  return facts;
}

export type Tone = 'good' | 'bad' | 'neutral' | 'info';
export function toneOf(status: string): Tone {
  if (status === 'succeeded') return 'good';
  if (status === 'failed' || status === 'rejected' || status === 'unauthorized') return 'bad';
  if (status === 'superseded' || status === 'cancelled' || status === 'duplicate' || status === 'untriggered')
    return 'neutral';
  return 'info';
}
