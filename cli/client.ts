/** The CLI's view of a Triggerfish deployment: where it is, the admin token, and calls to its admin API. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface Settings {
  url: string;
  token: string;
}

/** Exit codes scripts can use (also in the README). */
export const EXIT = {
  ok: 0,
  /** the command ran and the answer is "no" (match: would not deploy; test: not triggered) */
  no: 1,
  usage: 2,
  unauthorized: 3,
  notFound: 4,
  /** the API refused the input (400, 409, 413) */
  refused: 5,
  /** the deployment could not be reached or answered 5xx */
  unavailable: 6,
} as const;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    readonly body?: unknown,
  ) {
    super(message);
  }
}

/** ~/.config/triggerfish/config.json (or under $XDG_CONFIG_HOME), written with mode 0600: it holds the token. */
export function configPath(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config');
  return path.join(base, 'triggerfish', 'config.json');
}

export function saveSettings(env: NodeJS.ProcessEnv, settings: Settings): string {
  const file = configPath(env);
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  // write to a new file created 0600 (never a moment with wider permissions), then replace
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(settings, null, 2)}\n`, { mode: 0o600 });
  fs.chmodSync(tmp, 0o600);
  fs.renameSync(tmp, file);
  return file;
}

/** TRIGGERFISH_URL and TRIGGERFISH_ADMIN_TOKEN override the config file. */
export function loadSettings(env: NodeJS.ProcessEnv): Settings {
  let saved: Partial<Settings> = {};
  try {
    saved = JSON.parse(fs.readFileSync(configPath(env), 'utf8'));
  } catch {
    /* no config yet */
  }
  const url = env.TRIGGERFISH_URL || saved.url;
  const token = env.TRIGGERFISH_ADMIN_TOKEN || saved.token;
  if (!url || !token) {
    throw new CliError(
      'not logged in: run `triggerfish login --url <base URL>` or set TRIGGERFISH_URL and TRIGGERFISH_ADMIN_TOKEN',
      EXIT.usage,
    );
  }
  return { url: url.replace(/\/$/, ''), token };
}

export interface Answer {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export function exitCodeOf(status: number): number {
  if (status === 401 || status === 403) return EXIT.unauthorized;
  if (status === 404) return EXIT.notFound;
  if (status >= 500) return EXIT.unavailable;
  return EXIT.refused;
}

export class Client {
  constructor(readonly settings: Settings) {}

  /** Calls the admin API; a non-2xx answer throws a CliError with the API's message (and field). */
  async call(method: string, apiPath: string, body?: unknown): Promise<Answer> {
    let res: Response;
    try {
      res = await fetch(`${this.settings.url}${apiPath}`, {
        method,
        headers: {
          authorization: `Bearer ${this.settings.token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw new CliError(`cannot reach ${this.settings.url}: ${(err as Error).message}`, EXIT.unavailable);
    }
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* not JSON */
    }
    if (res.status >= 400) {
      const b = parsed as { message?: string; field?: string } | undefined;
      const message = typeof b === 'object' && b?.message ? b.message : `HTTP ${res.status}`;
      throw new CliError(
        `${message}${b && typeof b === 'object' && b.field && !message.includes(b.field) ? ` (field ${b.field})` : ''}`,
        exitCodeOf(res.status),
        parsed,
      );
    }
    return { status: res.status, body: parsed };
  }

  /** A trigger id from an id or a name (names are what people remember). */
  async triggerId(ref: string): Promise<string> {
    if (/^[a-f0-9]{24}$/.test(ref)) return ref;
    const { body } = await this.call('GET', '/admin/triggers');
    const found = (body.items as Array<{ id: string; name: string }>).filter((t) => t.name === ref);
    if (found.length === 0) throw new CliError(`no trigger named ${ref}`, EXIT.notFound);
    if (found.length > 1)
      throw new CliError(
        `${found.length} triggers are named ${ref}: use the id (${found.map((t) => t.id).join(', ')})`,
        EXIT.usage,
      );
    return found[0].id;
  }
}
