/**
 * Issue 9, "Nothing secret is stored or shown", end to end on the local stack: every leak the attack run found is
 * sent, then every stored entry (through the admin API AND read raw from DynamoDB), every admin answer and every
 * log line the functions wrote is searched for every secret, in every form (lib/core/redact-values.ts).
 */
import { capturedLines } from '../helpers/log-capture';
import { brotliDecompressSync } from 'node:zlib';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { containsSecret, secretSet } from '../../lib/core/redact-values';
import { apiClient } from '../helpers/api';
import { fixture } from '../helpers/fixtures';
import { startTestStack } from '../helpers/stack';
import { startTargetServer } from '../helpers/target-server';

let stack: Awaited<ReturnType<typeof startTestStack>>;
let api: ReturnType<typeof apiClient>;
let echo: Awaited<ReturnType<typeof startTargetServer>>;
const DONE = (e: any) => e?.status === 'succeeded' || e?.status === 'failed';

// values a target is configured with: the admin API must not show them, the log must not store them
const TARGET_HEADER_SECRET = 'tgt-header-secret-5f1e2d3c';
const TARGET_BEARER = 'tgt-bearer-0a9b8c7d6e5f';
const PATH_TOKEN = 'Xq7Lm2Np9Rs4Tv6Wz8Yb';
const QUERY_SECRET = 'qs-secret-77aa88bb99';

beforeAll(async () => {
  stack = await startTestStack({ maxReceiveCount: 2, retryBaseSeconds: 0 });
  api = apiClient(stack.url, stack.adminToken);
  // a deploy hook that answers with the request headers it got (the issue's "target that echoes")
  echo = await startTargetServer((call) => ({
    status: 200,
    body: JSON.stringify({ headers: call.headers, url: call.url }),
  }));
});
afterAll(async () => {
  await stack?.stop();
  await echo?.close();
});

async function create(body: Record<string, unknown>) {
  // `queue: all`: each leak is its own deploy whose echoed answer is inspected; none may be superseded by the next
  const res = await api.admin('POST', '/admin/triggers', { queue: 'all', ...body });
  expect(res.status).toBe(201);
  return res.body as { id: string; secret: string };
}

async function rawLogItems(): Promise<unknown[]> {
  const client = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: stack.endpoints.dynamodb, region: process.env.AWS_REGION }),
  );
  const items: unknown[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await client.send(
      new ScanCommand({ TableName: stack.resources.tables.LogsTable.tableName, ExclusiveStartKey: start }),
    );
    // an entry's request and event are brotli-compressed (lib/store/log-item.ts; requestBr before): searched as text
    const text = (b: Uint8Array) => brotliDecompressSync(b).toString('utf8');
    items.push(
      ...(out.Items ?? []).map((i) => ({
        ...i,
        ...(i.requestBr ? { requestBr: text(i.requestBr) } : {}),
        ...(i.entryBr ? { entryBr: text(i.entryBr) } : {}),
      })),
    );
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
}

describe('no secret is stored or shown', () => {
  it('finds none of the leaks of issue 9 in the log, the admin API or the log lines', async () => {
    const target = {
      type: 'http',
      url: `${echo.url}/hook/{{repository}}/${PATH_TOKEN}?auth=${QUERY_SECRET}`,
      headers: { 'X-Deploy-Token': TARGET_HEADER_SECRET, Authorization: `Bearer ${TARGET_BEARER}` },
    };
    const apiTrigger = await create({
      name: 'leaks-api',
      provider: 'api',
      match: { image: 'registry.example.com/team/web:1.0.0', tags: { all: true } },
      target,
    });
    // a rotation: the previous secret keeps working and must not be stored either
    const rotated = await api.admin('POST', `/admin/triggers/${apiTrigger.id}/secret`);
    expect(rotated.status).toBe(200);
    const previous = apiTrigger.secret;
    const current: string = rotated.body.secret;
    const hub = await create({ name: 'leaks-hub', provider: 'dockerhub', target });

    const hook = `/hooks/api/${apiTrigger.id}`;
    const sent = [
      // form-encoded secret_key
      await api.call('POST', hook, {
        raw: `secret_key=${encodeURIComponent(current)}&tag=1.1.0`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      }),
      // in a top-level array
      await api.hook(hook, JSON.stringify([{ secret_key: current, tag: '1.1.0' }])),
      // after a BOM
      await api.hook(hook, `\uFEFF${JSON.stringify({ secret_key: current, tag: '1.1.0' })}`),
      // nested (and accepted: the top-level one authenticates), with the previous secret under another name
      await api.hook(
        hook,
        JSON.stringify({
          secret_key: current,
          tag: '1.2.0',
          ci: { env: { secret_key: current, note: `old ${previous}` } },
        }),
      ),
      // JSON-escaped so that no byte of the stored text equals the secret
      await api.hook(
        hook,
        `{"secret_key": "${[...current].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')}", "tag": "1.3.0"}`,
      ),
      // the previous secret, authenticating during its grace period
      await api.hook(hook, JSON.stringify({ secret_key: previous, tag: '1.4.0' })),
      // a secret in an unlisted header, and a query name in another case
      await api.hook(
        `/hooks/dockerhub/${hub.id}?token=${encodeURIComponent(hub.secret)}`,
        fixture('dockerhub/push-docs-example.json'),
        { 'X-Token': hub.secret },
      ),
      await api.hook(
        `/hooks/dockerhub/${hub.id}?TOKEN=${encodeURIComponent(hub.secret)}`,
        fixture('dockerhub/push-docs-example.json'),
      ),
      await api.hook(
        `/hooks/dockerhub/${hub.id}?Token=${encodeURIComponent(hub.secret)}&x=Bearer%20${encodeURIComponent(hub.secret)}`,
        '{',
      ),
      // authenticated, but not JSON: V8's parse error quotes the body, and with it the secret, into the reason
      await api.hook(`/hooks/dockerhub/${hub.id}?token=${encodeURIComponent(hub.secret)}`, `note ${hub.secret}`),
    ];
    for (const res of sent) expect(res.status).toBeLessThan(500);
    expect(sent.at(-1)!.status).toBe(400);
    expect(sent.at(-1)!.body.reason).toMatch(/not valid JSON/);
    // the accepted ones deploy to the echoing target: wait for them, so attempts[].response is recorded
    const triggered = sent.filter((r) => r.body?.status === 'triggered');
    expect(triggered.length).toBeGreaterThanOrEqual(4);
    for (const r of triggered) {
      const triggerId = sent.indexOf(r) < 6 ? apiTrigger.id : hub.id;
      const entry = await api.waitForLog(triggerId, r.body.log, DONE);
      expect(entry.status).toBe('succeeded');
      // the echo really carried the target's secrets back
      expect(entry.attempts[0].response).toContain('x-deploy-token');
    }
    // the target did receive them (the redaction is of what is stored, not of what is sent)
    expect(
      echo.calls.some((c) => c.headers['x-deploy-token'] === TARGET_HEADER_SECRET && c.url.includes(PATH_TOKEN)),
    ).toBe(true);

    const secrets = secretSet([
      current,
      previous,
      hub.secret,
      TARGET_HEADER_SECRET,
      TARGET_BEARER,
      PATH_TOKEN,
      QUERY_SECRET,
    ]);
    const shown: string[] = [];
    for (const t of [apiTrigger.id, hub.id]) {
      const list = await api.admin('GET', `/admin/triggers/${t}/logs?limit=100`);
      expect(list.body.items.length).toBeGreaterThan(2);
      shown.push(JSON.stringify(list.body));
      for (const item of list.body.items)
        shown.push(JSON.stringify((await api.admin('GET', `/admin/triggers/${t}/logs/${item.id}`)).body));
      shown.push(JSON.stringify((await api.admin('GET', `/admin/triggers/${t}`)).body));
    }
    const triggers = await api.admin('GET', '/admin/triggers');
    expect(triggers.body.items).toHaveLength(2);
    shown.push(JSON.stringify(triggers.body));
    expect(JSON.stringify(triggers.body)).toContain('/hook/{{repository}}/[redacted]?auth=[redacted]');

    const raw = await rawLogItems();
    // one entry per request (the rest of the table are dedup claims, searched too)
    expect(raw.filter((i: any) => String(i.sk).startsWith('log#'))).toHaveLength(sent.length);
    shown.push(...sent.map((r) => JSON.stringify(r.body)));
    for (const text of [...shown, ...raw.map((i) => JSON.stringify(i))]) {
      expect(containsSecret(text, secrets)).toBe(false);
    }
    // the body fields and headers were kept, only their secret values went
    const stored = raw.map((i) => JSON.stringify(i)).join('\n');
    expect(stored).toContain('[redacted]');
    expect(stored).toContain('x-token');
    expect(stored).toContain('TOKEN');

    // every function logged its "trigger log" line, and none holds a secret
    const logged = capturedLines.join('');
    expect(logged).toContain('trigger log');
    expect(containsSecret(logged, secrets)).toBe(false);
  });
});
