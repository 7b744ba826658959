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
    /** Polls a log entry until `done(entry)` or the deadline; returns the last entry read. */
    async waitForLog(triggerId: string, logId: string, done: (e: any) => boolean, timeoutMs = 20000): Promise<any> {
      const until = Date.now() + timeoutMs;
      let entry: any;
      while (Date.now() < until) {
        entry = (await call('GET', `/admin/triggers/${triggerId}/logs/${logId}`, { headers: admin })).body;
        if (entry && done(entry)) return entry;
        await new Promise((r) => setTimeout(r, 100));
      }
      return entry;
    },
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
