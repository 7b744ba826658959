/**
 * Issue 22 item 4 on the local stack: a secret stored through the admin API is what a kubernetes target's
 * `{"secretsManager": name}` / `{"ssmParameter": name}` reference resolves to (the header at a local API server),
 * while the value never appears in an admin answer, the log entry or the stack's log lines; the file is 0600; names
 * that could leave the store's folder are 400.
 */
import fs from 'node:fs';
import type http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { capturedLines } from '../helpers/log-capture';
import { apiClient } from '../helpers/api';
import { fixture } from '../helpers/fixtures';
import { startTestStack } from '../helpers/stack';

const TLS_DIR = path.join(__dirname, '../fixtures/tls');
const CA_DATA = Buffer.from(fs.readFileSync(path.join(TLS_DIR, 'ca.crt'), 'utf8')).toString('base64');
const TOKEN = 'local-k8s-token-7c1e9a52d4';
const ROTATED = 'local-k8s-token-rotated-03bf';
const DONE = (e: any) => e?.status === 'succeeded' || e?.status === 'failed';

let stack: Awaited<ReturnType<typeof startTestStack>>;
let api: ReturnType<typeof apiClient>;
let apiServer: https.Server;
let apiServerUrl: string;
const seen: Array<{ method: string; url: string; authorization?: string }> = [];

/** a Deployment "web" in namespace "shop": GET answers it, PATCH takes the new image (enough for the target) */
function startKubeApi(): Promise<void> {
  let image = 'svendowideit/testhook:old';
  const deployment = () => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'shop', resourceVersion: '1', generation: 1 },
    spec: { template: { spec: { containers: [{ name: 'web', image }] } } },
  });
  apiServer = https.createServer(
    {
      key: fs.readFileSync(path.join(TLS_DIR, 'server.key')),
      cert: fs.readFileSync(path.join(TLS_DIR, 'server.crt')),
    },
    (req: http.IncomingMessage, res: http.ServerResponse) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        seen.push({ method: req.method!, url: req.url!, authorization: req.headers.authorization });
        if (req.headers.authorization !== `Bearer ${TOKEN}` && req.headers.authorization !== `Bearer ${ROTATED}`) {
          res.writeHead(401, { 'content-type': 'application/json' }).end('{"kind":"Status","code":401}');
          return;
        }
        if (req.method === 'PATCH') {
          // a set-image patch names the container's image; a restart patch only an annotation
          image = JSON.parse(body).spec?.template?.spec?.containers?.[0]?.image ?? image;
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(deployment()));
      });
    },
  );
  return new Promise((resolve) =>
    apiServer.listen(0, '127.0.0.1', () => {
      apiServerUrl = `https://127.0.0.1:${(apiServer.address() as AddressInfo).port}`;
      resolve();
    }),
  );
}

beforeAll(async () => {
  stack = await startTestStack({ maxReceiveCount: 2, retryBaseSeconds: 0 });
  api = apiClient(stack.url, stack.adminToken);
  await startKubeApi();
});
afterAll(async () => {
  await stack?.stop();
  await new Promise((r) => apiServer?.close(r));
});

const secretsDir = () => stack.env.TRIGGERFISH_SECRETS_DIR;

async function kubeTrigger(auth: unknown) {
  const res = await api.admin('POST', '/admin/triggers', {
    name: `k8s-${seen.length}-${Date.now()}`,
    provider: 'dockerhub',
    queue: 'all',
    target: {
      type: 'kubernetes',
      apiServer: apiServerUrl,
      caData: CA_DATA,
      auth,
      namespace: 'shop',
      kind: 'Deployment',
      name: 'web',
      container: 'web',
      verify: false, // this server answers patches only; rollouts are verified in verify-rollback.test.ts
    },
  });
  expect(res.status).toBe(201);
  return res.body as { id: string; secret: string };
}

async function push(trigger: { id: string; secret: string }) {
  const res = await api.hook(
    `/hooks/dockerhub/${trigger.id}?token=${trigger.secret}`,
    fixture('dockerhub/push-docs-example.json'),
  );
  expect(res.status).toBe(202);
  return api.waitForLog(trigger.id, res.body.log, DONE);
}

describe('the local secret store', () => {
  it('stores a value that a kubernetes target reference resolves to, and shows it nowhere', async () => {
    const put = await api.admin('PUT', '/admin/secrets/k8s-token', { value: TOKEN });
    expect(put.status).toBe(200);
    expect(put.body).toEqual({ name: 'k8s-token', stored: true });

    // 0600 in a 0700 folder
    const file = path.join(secretsDir(), 'k8s-token');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.statSync(secretsDir()).mode & 0o777).toBe(0o700);
    expect(fs.readFileSync(file, 'utf8')).toBe(TOKEN);

    const list = await api.admin('GET', '/admin/secrets');
    expect(list.status).toBe(200);
    expect(list.body.items).toEqual([{ name: 'k8s-token', updatedAt: expect.any(String) }]);

    // the same trigger JSON as on AWS: a Secrets Manager reference, then an SSM one, by name
    const viaSm = await kubeTrigger({ token: { secretsManager: 'k8s-token' } });
    const entry = await push(viaSm);
    expect(entry.status).toBe('succeeded');
    expect(seen.filter((s) => s.method === 'PATCH').at(-1)?.authorization).toBe(`Bearer ${TOKEN}`);

    // a new value is used at once (no cache locally)
    expect((await api.admin('PUT', '/admin/secrets/k8s-token', { value: ROTATED })).status).toBe(200);
    const viaSsm = await kubeTrigger({ token: { ssmParameter: 'k8s-token' } });
    expect((await push(viaSsm)).status).toBe('succeeded');
    expect(seen.filter((s) => s.method === 'PATCH').at(-1)?.authorization).toBe(`Bearer ${ROTATED}`);

    // shown nowhere: admin answers, the entries, the stack's log lines
    const shown = [JSON.stringify(put.body), JSON.stringify(list.body)];
    for (const t of [viaSm, viaSsm]) {
      shown.push(JSON.stringify((await api.admin('GET', `/admin/triggers/${t.id}`)).body));
      const logs = (await api.admin('GET', `/admin/triggers/${t.id}/logs`)).body;
      shown.push(JSON.stringify(logs));
      for (const e of logs.items)
        shown.push(JSON.stringify((await api.admin('GET', `/admin/triggers/${t.id}/logs/${e.id}`)).body));
    }
    shown.push(capturedLines.join(''));
    for (const text of shown) {
      expect(text).not.toContain(TOKEN);
      expect(text).not.toContain(ROTATED);
    }
  });

  it('a reference to a secret that is not stored fails the deploy saying how to store it', async () => {
    const t = await kubeTrigger({ token: { secretsManager: 'never-stored' } });
    const entry = await push(t);
    expect(entry.status).toBe('failed');
    expect(JSON.stringify(entry)).toContain('triggerfish secrets set never-stored');
  });

  it('deletes a secret; deleting it again is 404', async () => {
    expect((await api.admin('PUT', '/admin/secrets/short-lived', { value: 'x1' })).status).toBe(200);
    expect((await api.admin('DELETE', '/admin/secrets/short-lived')).status).toBe(204);
    expect(fs.existsSync(path.join(secretsDir(), 'short-lived'))).toBe(false);
    expect((await api.admin('DELETE', '/admin/secrets/short-lived')).status).toBe(404);
    const names = (await api.admin('GET', '/admin/secrets')).body.items.map((i: any) => i.name);
    expect(names).not.toContain('short-lived');
  });

  it.each([
    // (a bare `..` segment never reaches the route: the URL is normalized before it is sent)
    ['../admin-token', '..%2Fadmin-token'],
    ['../../admin-token', '..%2F..%2Fadmin-token'],
    ['a/b', 'a%2Fb'],
    ['.hidden', '.hidden'],
    ['a\\b', 'a%5Cb'],
    ['a b', 'a%20b'],
    ['NUL', 'a%00b'],
  ])('a name that is not one plain segment (%s) is 400 and writes nothing', async (_label, encoded) => {
    const before = fs.readdirSync(secretsDir()).sort();
    const res = await api.admin('PUT', `/admin/secrets/${encoded}`, { value: 'x2' });
    expect(res.status).toBe(400);
    expect(res.body.field).toBe('name');
    expect((await api.admin('DELETE', `/admin/secrets/${encoded}`)).status).toBe(400);
    expect(fs.readdirSync(secretsDir()).sort()).toEqual(before);
    expect(fs.existsSync(path.join(path.dirname(secretsDir()), 'admin-token'))).toBe(false);
  });

  it('a value must be a non-empty string: 400 naming it', async () => {
    for (const body of [{}, { value: '' }, { value: 5 }, { value: 'x', other: 1 }]) {
      const res = await api.admin('PUT', '/admin/secrets/some-name', body);
      expect(res.status).toBe(400);
    }
    expect((await api.admin('PUT', '/admin/secrets/some-name', { value: 5 })).body.field).toBe('value');
  });
});
