/** A small client for the local stack's HTTP API, as a user would call it with curl. */
export interface Answer<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export function apiClient(baseUrl: string, adminToken: string) {
  async function call<T = any>(
    method: string,
    path: string,
    opts: { body?: unknown; raw?: string; headers?: Record<string, string> } = {},
  ): Promise<Answer<T>> {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...(opts.headers ?? {}) },
      body: opts.raw ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body)),
    });
    const text = await res.text();
    let body: any = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      /* not JSON */
    }
    return { status: res.status, body, headers: res.headers };
  }
  const admin = { authorization: `Bearer ${adminToken}` };
  return {
    call,
    admin: <T = any>(method: string, path: string, body?: unknown) => call<T>(method, path, { body, headers: admin }),
    /** POST a webhook body (raw text, so signatures cover the exact bytes) */
    hook: (path: string, raw: string, headers: Record<string, string> = {}) => call('POST', path, { raw, headers }),
    /**
     * Polls a log entry until `done(entry)`; returns the last entry read. The deadline follows the entry: it is
     * `quietMs` after the entry last changed (status, attempts, notifications), so a deploy that is still moving on
     * a busy machine is waited for, and one that is stuck gives up (at most 6x `quietMs` in all).
     */
    async waitForLog(triggerId: string, logId: string, done: (e: any) => boolean, quietMs = 20000): Promise<any> {
      const start = Date.now();
      let until = start + quietMs;
      let entry: any;
      let seen = '';
      while (Date.now() < until) {
        entry = (await call('GET', `/admin/triggers/${triggerId}/logs/${logId}`, { headers: admin })).body;
        if (entry && done(entry)) return entry;
        const progress = JSON.stringify([entry?.status, entry?.attempts?.length, entry?.notifications?.length]);
        if (progress !== seen) {
          seen = progress;
          until = Math.min(Date.now() + quietMs, start + 6 * quietMs);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      return entry;
    },
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
