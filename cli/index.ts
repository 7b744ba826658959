/**
 * `triggerfish`: the admin API from a terminal. Tables for people, --json for scripts, exit codes in client.ts
 * (EXIT). Run it as `npx triggerfish ...` from a clone (package.json "bin"), or `npx tsx cli/index.ts ...`.
 */
import fs from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import YAML from 'yaml';
import { CliError, Client, EXIT, loadSettings, saveSettings } from './client';
import { pairs, row, screen, shown, table, when } from './format';
import { LOG_STATUSES } from '../lib/core/log-status';

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
  /** reads the token at `login` when --token is not given (stdin, so it stays out of shell history) */
  readSecret?: () => Promise<string>;
  /** waits between --follow polls (tests pass a short one) */
  sleep?: (ms: number) => Promise<void>;
}

function readDocument(file: string): unknown {
  let text: string;
  try {
    text = file === '-' ? fs.readFileSync(0, 'utf8') : fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as Error).message}`, EXIT.usage);
  }
  try {
    // YAML is a superset of JSON: one parser for both
    return /\.json$/i.test(file) ? JSON.parse(text) : YAML.parse(text);
  } catch (err) {
    throw new CliError(
      `${file} is not valid ${/\.json$/i.test(file) ? 'JSON' : 'YAML'}: ${(err as Error).message}`,
      EXIT.usage,
    );
  }
}

/* eslint-disable @typescript-eslint/no-explicit-any */
function buildProgram(io: Io, state: { code: number }): Command {
  const sleep = io.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const client = () => new Client(loadSettings(io.env));
  const program = new Command('triggerfish')
    .description('Triggerfish admin: triggers, their log, test events and dry runs')
    .addOption(new Option('--json', 'print the API answer as JSON (for scripts)'))
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.replace(/\n$/, '')), writeErr: (s) => io.err(s.replace(/\n$/, '')) });
  const asJson = () => Boolean(program.opts().json);
  const print = (value: unknown, human: () => string) =>
    io.out(asJson() ? JSON.stringify(value, null, 2) : screen(human()));

  program
    .command('login')
    .description('save the base URL and admin token (config file, mode 0600)')
    .requiredOption('--url <url>', 'base URL, e.g. http://127.0.0.1:3000')
    .option('--token <token>', 'admin token (default: read from stdin)')
    .action(async (o: { url: string; token?: string }) => {
      const token = (o.token ?? (io.readSecret ? await io.readSecret() : '')).trim();
      if (!token) throw new CliError('no token given (--token, or on stdin)', EXIT.usage);
      const settings = { url: o.url.replace(/\/$/, ''), token };
      await new Client(settings).call('GET', '/admin/triggers'); // a wrong URL or token fails here, not later
      const file = saveSettings(io.env, settings);
      print({ url: settings.url, config: file }, () => `logged in to ${settings.url} (saved in ${file})`);
    });

  const triggers = program.command('triggers').description('list, create, change and inspect triggers');

  triggers
    .command('list')
    .description('every trigger with its last outcome')
    .action(async () => {
      const c = client();
      const { body } = await c.call('GET', '/admin/triggers');
      const items = body.items as any[];
      const last = await Promise.all(
        items.map(async (t) => (await c.call('GET', `/admin/triggers/${t.id}/logs?limit=1`)).body.items?.[0] as any),
      );
      const rows = items.map((t, i) => ({
        ...t,
        lastOutcome: last[i] ? { status: last[i].status, at: last[i].receivedAt, log: last[i].id } : undefined,
      }));
      print({ items: rows }, () =>
        table(
          ['ID', 'NAME', 'PROVIDER', 'ENABLED', 'LAST', 'WHEN'],
          rows.map((t) => [
            t.id,
            t.name,
            t.provider,
            t.enabled ? 'yes' : 'no',
            t.lastOutcome?.status ?? '-',
            when(t.lastOutcome?.at),
          ]),
        ),
      );
    });

  triggers
    .command('get <trigger>')
    .description('one trigger (id or name); never its secret')
    .action(async (ref: string) => {
      const c = client();
      const { body } = await c.call('GET', `/admin/triggers/${await c.triggerId(ref)}`);
      print(body, () =>
        pairs({
          id: body.id,
          name: body.name,
          provider: body.provider,
          enabled: body.enabled,
          match: body.match,
          target: body.target,
          queue: body.queue,
          notify: body.notify,
          updated: when(body.updatedAt),
        }),
      );
    });

  const showSetup = (b: any) =>
    pairs({
      ...(b.secret ? { secret: b.secret } : {}),
      webhookUrl: b.webhookUrl,
      headers: b.headers && Object.keys(b.headers).length ? b.headers : undefined,
      settings: b.settings,
      hint: b.hint,
    });

  triggers
    .command('create')
    .description('create a trigger from a YAML or JSON file (the POST /admin/triggers body)')
    .requiredOption('-f, --file <file>', 'YAML or JSON file, - for stdin')
    .action(async (o: { file: string }) => {
      const { body } = await client().call('POST', '/admin/triggers', readDocument(o.file));
      print(
        body,
        () =>
          `created ${body.name} (${body.id})\n${showSetup(body)}\nThe secret is shown once; \`triggerfish triggers setup ${body.id}\` shows the setup again.`,
      );
    });

  triggers
    .command('edit <trigger>')
    .description('change a trigger with a YAML or JSON file of the fields to change (PATCH)')
    .requiredOption('-f, --file <file>', 'YAML or JSON file, - for stdin')
    .action(async (ref: string, o: { file: string }) => {
      const c = client();
      const { body } = await c.call('PATCH', `/admin/triggers/${await c.triggerId(ref)}`, readDocument(o.file));
      print(body, () => `changed ${body.name} (${body.id})`);
    });

  for (const [name, enabled] of [
    ['enable', true],
    ['disable', false],
  ] as const) {
    triggers
      .command(`${name} <trigger>`)
      .description(`${name} a trigger`)
      .action(async (ref: string) => {
        const c = client();
        const { body } = await c.call('PATCH', `/admin/triggers/${await c.triggerId(ref)}`, { enabled });
        print(body, () => `${body.name} ${enabled ? 'enabled' : 'disabled'}`);
      });
  }

  triggers
    .command('delete <trigger>')
    .description('delete a trigger')
    .action(async (ref: string) => {
      const c = client();
      const id = await c.triggerId(ref);
      await c.call('DELETE', `/admin/triggers/${id}`);
      print({ deleted: id }, () => `deleted ${id}`);
    });

  triggers
    .command('rotate <trigger>')
    .description('new trigger secret; the previous one is accepted until previousSecretValidUntil')
    .action(async (ref: string) => {
      const c = client();
      const { body } = await c.call('POST', `/admin/triggers/${await c.triggerId(ref)}/secret`);
      print(body, () => `${showSetup(body)}\npreviousSecretValidUntil: ${body.previousSecretValidUntil}`);
    });

  triggers
    .command('setup <trigger>')
    .description('what to paste at the sender (URL, headers, settings, steps)')
    .action(async (ref: string) => {
      const c = client();
      const { body } = await c.call('GET', `/admin/triggers/${await c.triggerId(ref)}/setup`);
      print(
        body,
        () => `${showSetup(body)}\n\nSteps:\n${(body.steps as string[]).map((s, i) => `${i + 1}. ${s}`).join('\n')}`,
      );
    });

  const entryRow = (e: any) => [
    e.id,
    e.status,
    // entries stored before `origin` existed come back with it too (the API fills it in)
    e.origin ?? 'webhook',
    when(e.receivedAt),
    e.event?.image ?? e.event?.repoFullName ?? '-',
    e.event?.tag ?? e.event?.branch ?? '-',
    e.reason ?? '',
  ];
  const ENTRY_HEADERS = ['LOG', 'STATUS', 'ORIGIN', 'RECEIVED', 'WHAT', 'TAG/BRANCH', 'REASON'];

  program
    .command('logs <trigger>')
    .description('the trigger log, newest first')
    .addOption(new Option('--status <status>', 'only entries with this status').choices(LOG_STATUSES))
    .option('--limit <n>', 'entries per page (1-100)', '20')
    .option('--cursor <cursor>', 'the next page (printed after a page)')
    .option('--follow', 'keep printing new entries and status changes until interrupted')
    .option('--interval <ms>', 'poll interval with --follow', '2000')
    .action(
      async (
        ref: string,
        o: { status?: string; limit: string; cursor?: string; follow?: boolean; interval: string },
      ) => {
        const c = client();
        const id = await c.triggerId(ref);
        const query = (cursor?: string) => {
          const q = new URLSearchParams({ limit: o.limit });
          if (o.status) q.set('status', o.status);
          if (cursor) q.set('cursor', cursor);
          return `/admin/triggers/${id}/logs?${q}`;
        };
        const { body } = await c.call('GET', query(o.cursor));
        if (!o.follow) {
          print(
            body,
            () =>
              `${table(ENTRY_HEADERS, (body.items as any[]).map(entryRow))}${body.cursor ? `\nmore: --cursor ${body.cursor}` : ''}`,
          );
          return;
        }
        // --follow: print each entry when first seen and again when its status changes (oldest first)
        const seen = new Map<string, string>();
        const show = (items: any[]) => {
          for (const e of [...items].reverse()) {
            if (seen.get(e.id) === e.status) continue;
            seen.set(e.id, e.status);
            io.out(asJson() ? JSON.stringify(e) : row(entryRow(e)));
          }
        };
        show(body.items);
        const stopAfter = io.env.TRIGGERFISH_FOLLOW_POLLS ? Number(io.env.TRIGGERFISH_FOLLOW_POLLS) : Infinity;
        for (let polls = 0; polls < stopAfter; polls++) {
          await sleep(Number(o.interval));
          show((await c.call('GET', query())).body.items);
        }
      },
    );

  program
    .command('log <trigger> <logId>')
    .description('one entry: event, reason, redacted request, every attempt')
    .action(async (ref: string, logId: string) => {
      const c = client();
      const { body: e } = await c.call(
        'GET',
        `/admin/triggers/${await c.triggerId(ref)}/logs/${encodeURIComponent(logId)}`,
      );
      print(e, () =>
        [
          pairs({
            log: e.id,
            status: e.status,
            origin: e.origin,
            reason: e.reason,
            received: when(e.receivedAt),
            provider: e.provider,
            deliveryId: e.deliveryId,
            redeliveryOf: e.redeliveryOf,
          }),
          e.event ? `\nevent:\n${pairs(e.event)}` : '',
          e.request ? `\nrequest: ${e.request.method} ${shown(e.request.path)} (${e.request.bodyBytes} bytes)` : '',
          e.attempts?.length
            ? `\nattempts:\n${table(
                ['#', 'AT', 'STATUS', 'MS', 'RESPONSE/ERROR'],
                e.attempts.map((a: any, i: number) => [
                  String(i + 1),
                  when(a.at),
                  String(a.statusCode ?? '-'),
                  String(a.durationMs),
                  String(a.error ?? a.response ?? '')
                    .replace(/\s+/g, ' ')
                    .slice(0, 80),
                ]),
              )}`
            : '',
        ].join(''),
      );
    });

  program
    .command('redeliver <trigger> <logId>')
    .description("run a finished entry's deploy again (a new entry)")
    .action(async (ref: string, logId: string) => {
      const c = client();
      const { body } = await c.call(
        'POST',
        `/admin/triggers/${await c.triggerId(ref)}/logs/${encodeURIComponent(logId)}/redeliver`,
      );
      print(body, () => `queued as ${body.log} (redelivery of ${body.redeliveryOf})`);
    });

  program
    .command('state <trigger>')
    .description('what runs now, per lane: the running artifact, the good one before it, what is in flight')
    .action(async (ref: string) => {
      const c = client();
      const { body } = await c.call('GET', `/admin/triggers/${await c.triggerId(ref)}/state`);
      const what = (r: any) =>
        r
          ? `${r.tag ?? r.image ?? ''}${r.artifact ? ` ${String(r.artifact).slice(0, 19)}` : ''} (${r.logId}, ${r.at})`
          : '-';
      print(body, () =>
        body.lanes.length
          ? table(
              ['LANE', 'RUNNING', 'PREVIOUS', 'IN FLIGHT'],
              (body.lanes as any[]).map((l) => [l.lane, what(l.running), what(l.previous), what(l.inFlight)]),
            )
          : 'nothing deployed yet',
      );
    });

  program
    .command('rollback <trigger>')
    .description("deploy the lane's previous good artifact again now (a new entry, origin rollback)")
    .option('--lane <lane>', 'the lane (from `triggerfish state`); needed when the trigger has several')
    .action(async (ref: string, o: { lane?: string }) => {
      const c = client();
      const { body } = await c.call(
        'POST',
        `/admin/triggers/${await c.triggerId(ref)}/rollback`,
        o.lane ? { lane: o.lane } : {},
      );
      print(body, () => `rollback queued as ${body.log}`);
    });

  program
    .command('test <trigger>')
    .description("send a signed sample of the trigger's provider through the real pipeline; exit 1 if not triggered")
    .action(async (ref: string) => {
      const c = client();
      const { body } = await c.call('POST', `/admin/triggers/${await c.triggerId(ref)}/test`);
      print(
        body,
        () => `${body.status}${body.reason ? `: ${shown(body.reason)}` : ''} (log ${body.log}; sample: ${body.sample})`,
      );
      if (body.status !== 'triggered') state.code = EXIT.no;
    });

  program
    .command('match <trigger>')
    .description('dry run: what the trigger makes of a payload, nothing stored; exit 1 if it would not deploy')
    .requiredOption('-f, --file <file>', 'the payload as the sender sends it (JSON), - for stdin')
    .option('-H, --header <header...>', 'a header the sender sends, "Name: value" (e.g. "X-GitHub-Event: push")')
    .action(async (ref: string, o: { file: string; header?: string[] }) => {
      let payload: string;
      try {
        payload = o.file === '-' ? fs.readFileSync(0, 'utf8') : fs.readFileSync(o.file, 'utf8');
      } catch (err) {
        throw new CliError(`cannot read ${o.file}: ${(err as Error).message}`, EXIT.usage);
      }
      const headers: Record<string, string> = {};
      for (const h of o.header ?? []) {
        const at = h.indexOf(':');
        if (at < 1) throw new CliError(`header "${h}" is not "Name: value"`, EXIT.usage);
        headers[h.slice(0, at).trim()] = h.slice(at + 1).trim();
      }
      const c = client();
      const { body } = await c.call('POST', `/admin/triggers/${await c.triggerId(ref)}/match`, { payload, headers });
      print(
        body,
        () =>
          `${body.matched ? 'would deploy' : `would not deploy: ${shown(body.reason)}`}${body.event ? `\n${pairs(body.event)}` : ''}`,
      );
      if (!body.matched) state.code = EXIT.no;
    });

  const secrets = program
    .command('secrets')
    .description("the local stack's secret store, which target references resolve from (names only are shown)");

  secrets
    .command('set <name>')
    .description('store or replace a secret; the value is read from stdin (kept out of shell history)')
    .action(async (name: string) => {
      // one trailing newline (echo, a heredoc) is not part of the value
      const value = (io.readSecret ? await io.readSecret() : '').replace(/\r?\n$/, '');
      if (!value)
        throw new CliError('no value on stdin (e.g. `printf %s "$TOKEN" | triggerfish secrets set name`)', EXIT.usage);
      const { body } = await client().call('PUT', `/admin/secrets/${encodeURIComponent(name)}`, { value });
      print(body, () => `stored ${name}; reference it as {"secretsManager": "${name}"} or {"ssmParameter": "${name}"}`);
    });

  secrets
    .command('list')
    .description('the names of the stored secrets, never their values')
    .action(async () => {
      const { body } = await client().call('GET', '/admin/secrets');
      print(body, () =>
        table(
          ['NAME', 'UPDATED'],
          (body.items as any[]).map((s) => [s.name, when(s.updatedAt)]),
        ),
      );
    });

  secrets
    .command('delete <name>')
    .description('delete a secret')
    .action(async (name: string) => {
      await client().call('DELETE', `/admin/secrets/${encodeURIComponent(name)}`);
      print({ deleted: name }, () => `deleted ${name}`);
    });

  return program;
}

/** Runs one command line (without `node script`); resolves to the exit code. */
export async function main(argv: string[], io: Io): Promise<number> {
  // actions whose answer is "no" (test not triggered, match would not deploy) set the code here
  const state = { code: EXIT.ok as number };
  const program = buildProgram(io, state);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return state.code;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    if (err instanceof CliError) {
      if (program.opts().json && err.body !== undefined) io.out(JSON.stringify(err.body, null, 2));
      io.err(`error: ${screen(err.message)}`);
      return err.exitCode;
    }
    io.err(`error: ${screen((err as Error).message)}`);
    return EXIT.unavailable;
  }
}

/** The process entry: argv, stdio, environment; sets the exit code. */
export function runFromProcess(): void {
  void main(process.argv.slice(2), {
    out: (t) => process.stdout.write(`${t}\n`),
    err: (t) => process.stderr.write(`${t}\n`),
    env: process.env,
    readSecret: async () => (process.stdin.isTTY ? '' : fs.readFileSync(0, 'utf8')),
  }).then((code) => {
    process.exitCode = code;
  });
}

if (require.main === module) runFromProcess();
