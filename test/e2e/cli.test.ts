/**
 * The `triggerfish` CLI against the local stack: login (config file 0600), the trigger commands, logs, test, match,
 * redeliver, --json, and exit codes. Commands run in-process through main() (the same code the bin runs); one test
 * runs the real bin as a child process.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { main } from '../../cli/index';
import { EXIT } from '../../cli/client';
import { apiClient } from '../helpers/api';
import { fixture } from '../helpers/fixtures';
import { startTestStack } from '../helpers/stack';
import { startTargetServer } from '../helpers/target-server';

let stack: Awaited<ReturnType<typeof startTestStack>>;
let api: ReturnType<typeof apiClient>;
let target: Awaited<ReturnType<typeof startTargetServer>>;
let home: string;
let env: NodeJS.ProcessEnv;
const DONE = (e: any) => e?.status === 'succeeded' || e?.status === 'failed';

beforeAll(async () => {
  stack = await startTestStack({ maxReceiveCount: 2, retryBaseSeconds: 0 });
  api = apiClient(stack.url, stack.adminToken);
  target = await startTargetServer();
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'tf-cli-'));
  env = { XDG_CONFIG_HOME: home, PATH: process.env.PATH };
});
afterAll(async () => {
  await stack?.stop();
  await target?.close();
  fs.rmSync(home, { recursive: true, force: true });
});

async function cli(args: string[], extraEnv: NodeJS.ProcessEnv = {}, stdin?: string) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, {
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    env: { ...env, ...extraEnv },
    readSecret: async () => stdin ?? '',
    sleep: async () => {},
  });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const file = (name: string, text: string) => {
  const p = path.join(home, name);
  fs.writeFileSync(p, text);
  return p;
};

describe('login', () => {
  it('a wrong token is refused (exit 3) and nothing is saved', async () => {
    const r = await cli(['login', '--url', stack.url, '--token', 'wrong']);
    expect(r.code).toBe(EXIT.unauthorized);
    expect(fs.existsSync(path.join(home, 'triggerfish', 'config.json'))).toBe(false);
  });

  it('saves URL and token (read from stdin) in a 0600 file', async () => {
    const r = await cli(['login', '--url', stack.url], {}, `${stack.adminToken}\n`);
    expect(r.code).toBe(0);
    const cfg = path.join(home, 'triggerfish', 'config.json');
    expect(fs.statSync(cfg).mode & 0o777).toBe(0o600);
    expect(JSON.parse(fs.readFileSync(cfg, 'utf8'))).toEqual({ url: stack.url, token: stack.adminToken });
  });

  it('TRIGGERFISH_URL / TRIGGERFISH_ADMIN_TOKEN override the file', async () => {
    const r = await cli(['triggers', 'list'], { TRIGGERFISH_ADMIN_TOKEN: 'overridden' });
    expect(r.code).toBe(EXIT.unauthorized);
    const r2 = await cli(['triggers', 'list'], { TRIGGERFISH_URL: 'http://127.0.0.1:1' });
    expect(r2.code).toBe(EXIT.unavailable);
  });

  it('without any settings: exit 2 telling how to log in', async () => {
    const r = await cli(['triggers', 'list'], { XDG_CONFIG_HOME: path.join(home, 'nowhere') });
    expect(r.code).toBe(EXIT.usage);
    expect(r.err).toContain('triggerfish login');
  });
});

describe('triggers, test, logs, redeliver', () => {
  let id: string;
  let secret: string;

  it('create -f YAML prints the secret and setup once; a bad field is exit 5 naming it', async () => {
    const bad = await cli([
      'triggers',
      'create',
      '-f',
      file('bad.yaml', `name: Web\nprovider: github\ntarget: {type: http, url: "${target.url}/x"}\n`),
    ]);
    expect(bad.code).toBe(EXIT.refused);
    expect(bad.err).toContain('invalid name');
    const r = await cli([
      '--json',
      'triggers',
      'create',
      '-f',
      file(
        'web.yaml',
        `# a comment\nname: cli-web\nprovider: github\ntarget:\n  type: http\n  url: ${target.url}/cli\n`,
      ),
    ]);
    expect(r.code).toBe(0);
    const body = JSON.parse(r.out);
    ({ id, secret } = body);
    expect(secret).toEqual(expect.any(String));
    expect(body.webhookUrl).toContain(`/hooks/github/${id}`);
  });

  it('list shows a table with the trigger; get by name never shows the secret', async () => {
    const list = await cli(['triggers', 'list']);
    expect(list.code).toBe(0);
    expect(list.out.split('\n')[0]).toMatch(/^ID\s+NAME\s+PROVIDER\s+ENABLED\s+LAST\s+WHEN$/);
    expect(list.out).toMatch(new RegExp(`${id}\\s+cli-web\\s+github\\s+yes\\s+-`));
    const get = await cli(['triggers', 'get', 'cli-web']);
    expect(get.code).toBe(0);
    expect(get.out).toContain(id);
    expect(get.out).not.toContain(secret);
    expect((await cli(['triggers', 'get', 'no-such-trigger'])).code).toBe(EXIT.notFound);
  });

  it('setup shows the webhook URL and the steps again', async () => {
    const r = await cli(['triggers', 'setup', id]);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`/hooks/github/${id}`);
    expect(r.out).toContain('Steps:');
  });

  let logId: string;
  it('test sends a signed sample: triggered (exit 0), and logs shows it succeeded', async () => {
    const r = await cli(['--json', 'test', 'cli-web']);
    expect(r.code).toBe(0);
    logId = JSON.parse(r.out).log;
    expect((await api.waitForLog(id, logId, DONE)).status).toBe('succeeded');
    const logs = await cli(['logs', 'cli-web', '--status', 'succeeded']);
    expect(logs.code).toBe(0);
    expect(logs.out).toMatch(new RegExp(`${logId}\\s+succeeded`));
    const one = await cli(['log', 'cli-web', logId]);
    expect(one.out).toContain('status:');
    expect(one.out).toMatch(/attempts:\n#\s+AT\s+STATUS/);
    expect(one.out).not.toContain(secret);
  });

  it('a second test is not triggered (already running that commit): exit 1', async () => {
    const r = await cli(['test', 'cli-web']);
    expect(r.code).toBe(EXIT.no);
    expect(r.out).toMatch(/^untriggered: already running/);
  });

  it('redeliver queues a new entry naming the old one', async () => {
    const r = await cli(['--json', 'redeliver', 'cli-web', logId]);
    expect(r.code).toBe(0);
    const body = JSON.parse(r.out);
    expect(body.redeliveryOf).toBe(logId);
    expect((await api.waitForLog(id, body.log, DONE)).status).toBe('succeeded');
  });

  it('logs --limit 1 prints the next-page cursor; --follow prints entries oldest first', async () => {
    const page = await cli(['logs', id, '--limit', '1']);
    expect(page.out).toMatch(/\nmore: --cursor \S+$/);
    const follow = await cli(['logs', id, '--follow', '--interval', '1'], { TRIGGERFISH_FOLLOW_POLLS: '1' });
    expect(follow.code).toBe(0);
    const lines = follow.out.split('\n');
    expect(lines.length).toBe(3);
    expect(lines[0]).toContain(logId);
  });

  it('--status must be a log status (exit 2)', async () => {
    expect((await cli(['logs', id, '--status', 'done'])).code).toBe(EXIT.usage);
  });

  it('match: would deploy (0) or not with the reason (1); nothing stored', async () => {
    const before = (await api.admin('GET', `/admin/triggers/${id}/logs?limit=100`)).body.items.length;
    const payload = file('push.json', fixture('github/push-go-playground-binkkatal.json'));
    const yes = await cli(['match', 'cli-web', '-f', payload, '-H', 'X-GitHub-Event: push']);
    expect(yes.code).toBe(0);
    expect(yes.out).toMatch(/^would deploy/);
    const ping = await cli(['match', 'cli-web', '-f', payload, '-H', 'X-GitHub-Event: ping']);
    expect(ping.code).toBe(EXIT.no);
    expect(ping.out).toContain('github event "ping" is not a push');
    const noHeader = await cli(['match', 'cli-web', '-f', payload]);
    expect(noHeader.code).toBe(EXIT.refused);
    expect(noHeader.err).toContain('X-GitHub-Event');
    expect((await api.admin('GET', `/admin/triggers/${id}/logs?limit=100`)).body.items.length).toBe(before);
  });

  it('edit -f, disable, enable, rotate, delete', async () => {
    expect(
      (await cli(['triggers', 'edit', 'cli-web', '-f', file('patch.json', '{"description": "from the CLI"}')])).code,
    ).toBe(0);
    expect((await api.admin('GET', `/admin/triggers/${id}`)).body.description).toBe('from the CLI');
    expect((await cli(['triggers', 'disable', id])).code).toBe(0);
    expect((await api.admin('GET', `/admin/triggers/${id}`)).body.enabled).toBe(false);
    expect((await cli(['triggers', 'enable', id])).code).toBe(0);
    expect((await api.admin('GET', `/admin/triggers/${id}`)).body.enabled).toBe(true);
    const rotated = await cli(['--json', 'triggers', 'rotate', id]);
    expect(JSON.parse(rotated.out).secret).not.toBe(secret);
    expect((await cli(['triggers', 'delete', id])).code).toBe(0);
    expect((await api.admin('GET', `/admin/triggers/${id}`)).status).toBe(404);
  });
});

describe('sender values in human output (issue 20, finding 3)', () => {
  // a raw control character other than the line breaks between our own lines

  const RAW_CONTROL = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e]/;

  it('logs, logs --follow and log show escapes, never a raw ESC, and a value never adds a line', async () => {
    const created = await api.admin('POST', '/admin/triggers', {
      name: 'cli-escapes',
      provider: 'dockerhub',
      target: { type: 'http', url: `${target.url}/escapes` },
    });
    expect(created.status).toBe(201);
    const { id, webhookUrl } = created.body as { id: string; webhookUrl: string };
    const push = async (tag: string, pusher: string, pushedAt: number) => {
      const body = JSON.parse(fixture('dockerhub/push-docs-example.json'));
      body.push_data.tag = tag;
      body.push_data.pusher = pusher;
      body.push_data.pushed_at = pushedAt;
      const res = await api.hook(webhookUrl.slice(stack.url.length), JSON.stringify(body));
      expect(res.status).toBeLessThan(500);
      return res.body?.log as string | undefined;
    };
    // a free-text pusher name with a clear-screen sequence and a forged line; a tag with escapes (which ingest may
    // refuse: then the entry is rejected, and its reason is shown the same way)
    const pusher = 'eve\x1b[2J\nLOG  STATUS  forged\u202e';
    const ok = await push('v1', pusher, 1417566161);
    await push('v2\x1b[2J\x1b]0;owned\x07', 'mallory\x9b31m', 1417566162);
    expect(ok).toEqual(expect.any(String));
    await api.waitForLog(id, ok!, DONE);

    const logs = await cli(['logs', 'cli-escapes']);
    expect(logs.code).toBe(0);
    expect(logs.out).not.toMatch(RAW_CONTROL);
    const rows = logs.out.split('\n');
    expect(rows[0]).toMatch(/^LOG\s+STATUS/);
    expect(rows.filter((r) => r.includes('forged'))).toHaveLength(0);

    const follow = await cli(['logs', 'cli-escapes', '--follow', '--interval', '1'], { TRIGGERFISH_FOLLOW_POLLS: '0' });
    expect(follow.out).not.toMatch(RAW_CONTROL);

    const one = await cli(['log', 'cli-escapes', ok!]);
    expect(one.code).toBe(0);
    expect(one.out).not.toMatch(RAW_CONTROL);
    const ownerLines = one.out.split('\n').filter((l) => /^\s*owner:/.test(l));
    expect(ownerLines).toEqual([expect.stringContaining('eve\\x1b[2J\\nLOG  STATUS  forged\\u202e')]);
    expect(one.out.split('\n').some((l) => l.startsWith('LOG  STATUS  forged'))).toBe(false);

    // --json stays JSON, the value exact
    const json = await cli(['--json', 'log', 'cli-escapes', ok!]);
    expect(JSON.parse(json.out).event.owner).toBe(pusher);
  });
});

it('the bin runs as a program (exit code and output through the process)', async () => {
  const bin = path.join(__dirname, '..', '..', 'cli', 'triggerfish.cjs');
  const run = promisify(execFile);
  const { stdout } = await run(process.execPath, [bin, '--json', 'triggers', 'list'], {
    env: {
      PATH: process.env.PATH,
      TRIGGERFISH_URL: stack.url,
      TRIGGERFISH_ADMIN_TOKEN: stack.adminToken,
      XDG_CONFIG_HOME: home,
    },
  });
  expect(JSON.parse(stdout)).toHaveProperty('items');
  await expect(
    run(process.execPath, [bin, 'triggers', 'get', 'none'], {
      env: { PATH: process.env.PATH, TRIGGERFISH_URL: stack.url, TRIGGERFISH_ADMIN_TOKEN: stack.adminToken },
    }),
  ).rejects.toMatchObject({ code: EXIT.notFound });
});

describe('secrets (the local secret store)', () => {
  const as = () => ({ TRIGGERFISH_URL: stack.url, TRIGGERFISH_ADMIN_TOKEN: stack.adminToken });
  const VALUE = 'cli-secret-value-5d2e7f';

  it('set reads the value from stdin (one trailing newline dropped); list shows names only; delete', async () => {
    const set = await cli(['secrets', 'set', 'cli-token'], as(), `${VALUE}\n`);
    expect(set.code).toBe(0);
    expect(set.out).toContain('{"secretsManager": "cli-token"}');
    expect(fs.readFileSync(path.join(stack.env.TRIGGERFISH_SECRETS_DIR, 'cli-token'), 'utf8')).toBe(VALUE);
    const list = await cli(['secrets', 'list'], as());
    expect(list.code).toBe(0);
    expect(list.out).toMatch(/^NAME\s+UPDATED\n/);
    expect(list.out).toContain('cli-token');
    const json = await cli(['--json', 'secrets', 'list'], as());
    expect(JSON.parse(json.out).items.map((i: any) => i.name)).toContain('cli-token');
    for (const r of [set, list, json]) expect(r.out + r.err).not.toContain(VALUE);
    expect((await cli(['secrets', 'delete', 'cli-token'], as())).code).toBe(0);
    expect((await cli(['secrets', 'delete', 'cli-token'], as())).code).toBe(EXIT.notFound);
  });

  it('no value on stdin is a usage error; a name with a slash is refused by the API (exit 5)', async () => {
    expect((await cli(['secrets', 'set', 'empty'], as(), '')).code).toBe(EXIT.usage);
    const bad = await cli(['secrets', 'set', '../admin-token'], as(), 'x');
    expect(bad.code).toBe(EXIT.refused);
    expect(bad.err).toMatch(/invalid name/);
  });
});
