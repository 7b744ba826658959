/**
 * Reads that cost one page (issue 15), on the local stack (tables built from serverless.yml, so the indexes are the
 * deployed ones): status pages from the sparse `byStatus` index (order, paging, status changes, time range, items
 * read), the trigger list paged and filtered on its listing indexes, cursors refused when they are not ours, and
 * items written before the indexes (no index keys) shown after backfillIndexKeys().
 */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { brotliCompressSync } from 'node:zlib';
import { ulid } from 'ulid';
import { apiClient } from '../helpers/api';
import { startTestStack } from '../helpers/stack';
import { dynamo } from '../../lib/store/aws';
import { config } from '../../lib/core/config';
import * as store from '../../lib/store/store';
import { itemSize } from '../../lib/store/item-size';
import { fixture } from '../helpers/fixtures';

let stack: Awaited<ReturnType<typeof startTestStack>>;
let api: ReturnType<typeof apiClient>;

// items DynamoDB read for the store's Query/Scan calls (ScannedCount), to show a page reads only what it returns
let scanned = 0;

beforeAll(async () => {
  stack = await startTestStack({ maxReceiveCount: 2, retryBaseSeconds: 0 });
  api = apiClient(stack.url, stack.adminToken);
  (dynamo() as any).middlewareStack.add(
    (next: any) => async (args: any) => {
      const out = await next(args);
      scanned += out?.output?.ScannedCount ?? 0;
      return out;
    },
    { step: 'initialize', name: 'testScanned' },
  );
});
afterAll(() => stack?.stop());

let made = 0;
// names are unique (a second trigger of a name is a 409)
const trigger = (provider: string, enabled = true) => ({
  name: `t-${provider}-${made++}`,
  provider,
  enabled,
  target: { type: 'http', url: 'https://deploy.example.com/hook' },
});

describe('log pages by status', () => {
  let id: string;
  // oldest first: entry i has status STATUSES[i % 3], one millisecond apart
  const STATUSES = ['succeeded', 'untriggered', 'failed'] as const;
  const ids: string[] = [];
  const t0 = Date.UTC(2026, 10, 1);

  beforeAll(async () => {
    id = (await api.admin('POST', '/admin/triggers', trigger('dockerhub'))).body.id;
    for (let i = 0; i < 60; i++) {
      const entry = store.newLogEntry({
        id: ulid(t0 + i),
        triggerId: id,
        provider: 'dockerhub',
        status: STATUSES[i % 3],
      });
      await store.putLogEntry(entry);
      ids.push(entry.id);
    }
  });

  const ofStatus = (s: string) => ids.filter((_, i) => STATUSES[i % 3] === s).reverse();

  it('returns only that status, newest first, paging with the cursor; reads only the entries it returns (and one more to know whether a page follows)', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      scanned = 0;
      const res = await api.admin(
        'GET',
        `/admin/triggers/${id}/logs?status=untriggered&limit=7${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(res.status).toBe(200);
      expect(res.body.items.every((e: any) => e.status === 'untriggered')).toBe(true);
      expect(res.body.items.every((e: any) => e.statusKey === undefined && e.sk === undefined)).toBe(true);
      // a full page reads one entry more (there is a next page exactly when it exists); the last page has no cursor
      expect(scanned).toBe(res.body.cursor ? res.body.items.length + 1 : res.body.items.length);
      seen.push(...res.body.items.map((e: any) => e.id));
      cursor = res.body.cursor;
      pages++;
    } while (cursor && pages < 10);
    expect(seen).toEqual(ofStatus('untriggered'));
    expect(pages).toBe(3);
  });

  it('a status no entry has reads nothing', async () => {
    scanned = 0;
    const res = await api.admin('GET', `/admin/triggers/${id}/logs?status=unauthorized&limit=50`);
    expect(res.body).toEqual({ items: [] });
    expect(scanned).toBe(0);
  });

  it('follows status changes (updateLogStatus, startDeploy)', async () => {
    const [newestFailed] = ofStatus('failed');
    expect(await store.updateLogStatus(id, newestFailed, { status: 'queued' })).toBe(true);
    let queued = await api.admin('GET', `/admin/triggers/${id}/logs?status=queued`);
    expect(queued.body.items.map((e: any) => e.id)).toEqual([newestFailed]);
    const raw = async () =>
      (
        await dynamo().send(
          new GetCommand({ TableName: config.logsTable(), Key: { triggerId: id, sk: `log#${newestFailed}` } }),
        )
      ).Item!;
    const before = await raw();
    expect((await store.startDeploy(id, newestFailed)).started?.status).toBe('deploying');
    // one index key for both in-flight statuses, sorted by receipt: the claim changes neither index's key
    const after = await raw();
    expect([after.statusKey, after.inFlight, after.sk]).toEqual([
      `inflight#${newestFailed}`,
      'pending',
      `log#${newestFailed}`,
    ]);
    expect([before.statusKey, before.inFlight]).toEqual([after.statusKey, after.inFlight]);
    queued = await api.admin('GET', `/admin/triggers/${id}/logs?status=queued`);
    expect(queued.body.items).toEqual([]);
    const deploying = await api.admin('GET', `/admin/triggers/${id}/logs?status=deploying`);
    expect(deploying.body.items.map((e: any) => e.id)).toEqual([newestFailed]);
    const failed = await api.admin('GET', `/admin/triggers/${id}/logs?status=failed&limit=50`);
    expect(failed.body.items.map((e: any) => e.id)).toEqual(ofStatus('failed').slice(1));
    expect(await store.updateLogStatus(id, newestFailed, { status: 'failed' })).toBe(true);
  });

  it('narrows to a time range (since/until, inclusive), with and without a status', async () => {
    const since = new Date(t0 + 10).toISOString();
    const until = new Date(t0 + 19).toISOString();
    const all = await api.admin('GET', `/admin/triggers/${id}/logs?since=${since}&until=${until}&limit=50`);
    expect(all.body.items.map((e: any) => e.id)).toEqual(ids.slice(10, 20).reverse());
    scanned = 0;
    const some = await api.admin('GET', `/admin/triggers/${id}/logs?status=succeeded&since=${since}&until=${until}`);
    expect(some.body.items.map((e: any) => e.id)).toEqual(
      ids
        .slice(10, 20)
        .filter((_, i) => (i + 10) % 3 === 0)
        .reverse(),
    );
    expect(scanned).toBe(some.body.items.length);
    const bad = await api.admin('GET', `/admin/triggers/${id}/logs?since=yesterday`);
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe('since');
  });

  it('refuses a cursor of another status, of no status, or made up', async () => {
    const page = await api.admin('GET', `/admin/triggers/${id}/logs?status=succeeded&limit=2`);
    const plain = await api.admin('GET', `/admin/triggers/${id}/logs?limit=2`);
    expect(page.body.cursor).toEqual(expect.any(String));
    const junk = Buffer.from(
      JSON.stringify({ triggerId: id, sk: `log#${ids[0]}`, statusKey: `succeeded#${ids[1]}` }),
    ).toString('base64url');
    for (const [query, cursor] of [
      ['status=failed', page.body.cursor],
      ['', page.body.cursor],
      ['status=succeeded', plain.body.cursor],
      ['status=succeeded', junk],
    ]) {
      const res = await api.admin('GET', `/admin/triggers/${id}/logs?${query}&cursor=${cursor}`);
      expect(res.status).toBe(400);
      expect(res.body.field).toBe('cursor');
    }
    expect(store.isValidCursor(page.body.cursor, id, 'succeeded')).toBe(true);
    expect(store.isValidCursor(plain.body.cursor, id)).toBe(true);
    expect(store.isValidCursor(page.body.cursor, 'other', 'succeeded')).toBe(false);
  });
});

describe('trigger list', () => {
  const created: Array<{ id: string; provider: string; enabled: boolean }> = [];

  beforeAll(async () => {
    // the triggers the tests above created come first (oldest first)
    for (const t of (await api.admin('GET', '/admin/triggers')).body.items)
      created.push({ id: t.id, provider: t.provider, enabled: t.enabled });
    expect(created.length).toBe(1);
    // 12 triggers: github / gitlab / dockerhub in turn, every fourth disabled; creation order = list order
    for (let i = 0; i < 12; i++) {
      const provider = ['github', 'gitlab', 'dockerhub'][i % 3];
      const enabled = i % 4 !== 3;
      const res = await api.admin('POST', '/admin/triggers', trigger(provider, enabled));
      expect(res.status).toBe(201);
      created.push({ id: res.body.id, provider, enabled });
      await new Promise((r) => setTimeout(r, 2)); // distinct createdAt, so the expected order is the creation order
    }
  });

  async function all(query: string, limit: number): Promise<{ ids: string[]; pages: number }> {
    const ids: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      scanned = 0;
      const res = await api.admin('GET', `/admin/triggers?limit=${limit}${query}${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      // a full page reads one trigger more (a next page exactly when one exists); no page after the last is empty
      expect(scanned).toBe(res.body.cursor ? res.body.items.length + 1 : res.body.items.length);
      if (pages > 0) expect(res.body.items.length).toBeGreaterThan(0);
      for (const t of res.body.items) {
        expect(t.secret).toBeUndefined();
        expect(t.listSort).toBeUndefined();
      }
      ids.push(...res.body.items.map((t: any) => t.id));
      cursor = res.body.cursor;
      pages++;
    } while (cursor && pages < 20);
    return { ids, pages };
  }

  it('pages oldest first with limit and cursor', async () => {
    const { ids, pages } = await all('', 5);
    expect(ids).toEqual(created.map((t) => t.id));
    expect(ids).toHaveLength(13);
    expect(pages).toBe(3);
  });

  it.each([
    ['provider=gitlab', (t: { provider: string; enabled: boolean }) => t.provider === 'gitlab'],
    ['enabled=false', (t: { provider: string; enabled: boolean }) => !t.enabled],
    ['enabled=true', (t: { provider: string; enabled: boolean }) => t.enabled],
    [
      'provider=github&enabled=true',
      (t: { provider: string; enabled: boolean }) => t.provider === 'github' && t.enabled,
    ],
    ['provider=bitbucket', () => false],
  ])('filters by %s, reading only matching triggers', async (query, keep) => {
    const { ids } = await all(`&${query}`, 2);
    expect(ids).toEqual(created.filter(keep).map((t) => t.id));
  });

  it('a PATCH of enabled moves the trigger between the enabled lists', async () => {
    const t = created[1];
    expect((await api.admin('PATCH', `/admin/triggers/${t.id}`, { enabled: false })).status).toBe(200);
    expect((await all('&enabled=false', 50)).ids).toContain(t.id);
    expect((await all('&enabled=true', 50)).ids).not.toContain(t.id);
    expect((await api.admin('PATCH', `/admin/triggers/${t.id}`, { enabled: true })).status).toBe(200);
    expect((await all('&enabled=true', 50)).ids).toContain(t.id);
  });

  it.each([
    ['limit', 'limit=0'],
    ['limit', 'limit=101'],
    ['provider', 'provider=svn'],
    ['enabled', 'enabled=yes'],
    ['cursor', 'cursor=bm90LW91cnM'],
  ])('refuses a bad %s', async (field, query) => {
    const res = await api.admin('GET', `/admin/triggers?${query}`);
    expect(res.status).toBe(400);
    expect(res.body.field).toBe(field);
  });

  it('refuses a cursor of other filters', async () => {
    const page = await api.admin('GET', '/admin/triggers?limit=2&provider=github');
    expect(page.body.cursor).toEqual(expect.any(String));
    for (const query of ['', '&provider=gitlab', '&enabled=true', '&provider=github&enabled=true']) {
      const res = await api.admin('GET', `/admin/triggers?limit=2${query}&cursor=${page.body.cursor}`);
      expect(res.status).toBe(400);
      expect(res.body.field).toBe('cursor');
    }
    expect((await api.admin('GET', `/admin/triggers?limit=2&provider=github&cursor=${page.body.cursor}`)).status).toBe(
      200,
    );
  });
});

describe('items written before the indexes', () => {
  it('show after backfillIndexKeys (entries in status pages, triggers in the list)', async () => {
    const triggerId = (await api.admin('POST', '/admin/triggers', trigger('harbor'))).body.id;
    // as the store wrote them before: no statusKey, no listing keys
    const old = store.newLogEntry({
      id: ulid(Date.UTC(2026, 0, 1)),
      triggerId,
      provider: 'harbor',
      status: 'rejected',
      reason: 'old',
    });
    await dynamo().send(new PutCommand({ TableName: config.logsTable(), Item: { ...old, sk: `log#${old.id}` } }));
    const oldTrigger = {
      ...(await store.getTrigger(triggerId))!,
      id: 'f'.repeat(24),
      name: 'old-trigger',
      createdAt: '2020-01-01T00:00:00.000Z',
    };
    await dynamo().send(new PutCommand({ TableName: config.triggersTable(), Item: oldTrigger }));

    expect((await api.admin('GET', `/admin/triggers/${triggerId}/logs?status=rejected`)).body.items).toEqual([]);
    expect((await api.admin('GET', '/admin/triggers?provider=harbor')).body.items.map((t: any) => t.id)).toEqual([
      triggerId,
    ]);

    const done = await store.backfillIndexKeys();
    expect(done.entries).toBe(1);
    expect(done.triggers).toBe(1);
    const page = await api.admin('GET', `/admin/triggers/${triggerId}/logs?status=rejected`);
    expect(page.body.items).toEqual([expect.objectContaining({ id: old.id, reason: 'old' })]);
    expect((await api.admin('GET', '/admin/triggers?provider=harbor')).body.items.map((t: any) => t.id)).toEqual([
      oldTrigger.id,
      triggerId,
    ]);
    // a second run finds nothing left to do
    expect(await store.backfillIndexKeys()).toEqual({ entries: 0, triggers: 0 });
  });
});

describe('stored requests are compressed', () => {
  it('an entry is one brotli binary attribute for what never changes, shown decompressed by the API', async () => {
    const triggerId = (await api.admin('POST', '/admin/triggers', trigger('gitea'))).body.id;
    const body = JSON.stringify({
      commits: Array.from({ length: 40 }, (_, i) => ({ id: `${i}`.padStart(40, '0'), message: `commit ${i}` })),
    });
    const request = {
      method: 'POST',
      path: `/hooks/gitea/${triggerId}`,
      headers: { 'content-type': 'application/json' },
      body,
      bodyBytes: body.length,
    };
    const big = store.newLogEntry({
      id: ulid(Date.now() - 2),
      triggerId,
      provider: 'gitea',
      status: 'rejected',
      reason: 'test',
      request,
    });
    const small = store.newLogEntry({
      id: ulid(Date.now() - 1),
      triggerId,
      provider: 'gitea',
      status: 'rejected',
      reason: 'test',
      request: { ...request, body: '{}', bodyBytes: 2 },
    });
    await store.putLogEntry(big);
    await store.putLogEntry(small);
    const raw = (
      await dynamo().send(new GetCommand({ TableName: config.logsTable(), Key: { triggerId, sk: `log#${big.id}` } }))
    ).Item!;
    expect(raw.request).toBeUndefined();
    expect(raw.entryBr).toBeInstanceOf(Uint8Array);
    expect((raw.entryBr as Uint8Array).length).toBeLessThan(body.length / 3);
    // what is plain: keys, index keys, what later writes change
    expect(Object.keys(raw).sort()).toEqual([
      'entryBr',
      'expiresAt',
      'reason',
      'sk',
      'status',
      'statusKey',
      'triggerId',
    ]);
    const rawSmall = (
      await dynamo().send(new GetCommand({ TableName: config.logsTable(), Key: { triggerId, sk: `log#${small.id}` } }))
    ).Item!;
    expect(rawSmall.request).toBeUndefined();
    expect(rawSmall.entryBr).toBeInstanceOf(Uint8Array);

    const one = await api.admin('GET', `/admin/triggers/${triggerId}/logs/${big.id}`);
    expect(one.body).toEqual(big);
    expect(one.body.entryBr).toBeUndefined();
    const page = await api.admin('GET', `/admin/triggers/${triggerId}/logs?status=rejected`);
    expect(page.body.items).toEqual([small, big]);
    const plain = await api.admin('GET', `/admin/triggers/${triggerId}/logs`);
    expect(plain.body.items).toEqual([small, big]);
  });

  it('entries stored before (the request alone compressed as requestBr, or plain) show as they did', async () => {
    const triggerId = (await api.admin('POST', '/admin/triggers', trigger('gitea'))).body.id;
    const body = JSON.stringify({
      ref: 'refs/heads/main',
      commits: Array.from({ length: 20 }, (_, i) => ({ id: `${i}`.padStart(40, '0') })),
    });
    const request = {
      method: 'POST',
      path: `/hooks/gitea/${triggerId}`,
      headers: { 'content-type': 'application/json' },
      body,
      bodyBytes: body.length,
    };
    const event = {
      provider: 'gitea',
      kind: 'code',
      action: 'push',
      repository: 'web',
      repoFullName: 'team/web',
      namespace: 'team',
      branch: 'main',
      commit: { id: 'a'.repeat(40), message: 'm' },
    };
    const compressed = store.newLogEntry({
      id: ulid(Date.now() - 2),
      triggerId,
      provider: 'gitea',
      status: 'succeeded',
      request,
      event: event as never,
    });
    const withAttempt = {
      ...compressed,
      attempts: [{ at: compressed.receivedAt, durationMs: 3, statusCode: 200, response: 'ok' }],
    };
    const { request: _r, ...rest } = withAttempt;
    await dynamo().send(
      new PutCommand({
        TableName: config.logsTable(),
        Item: {
          ...rest,
          sk: `log#${compressed.id}`,
          statusKey: `succeeded#${compressed.id}`,
          requestBr: brotliCompressSync(JSON.stringify(request)),
        },
      }),
    );
    const plainOld = store.newLogEntry({
      id: ulid(Date.now() - 1),
      triggerId,
      provider: 'gitea',
      status: 'succeeded',
      request: { ...request, body: '{}', bodyBytes: 2 },
    });
    await dynamo().send(
      new PutCommand({
        TableName: config.logsTable(),
        Item: { ...plainOld, sk: `log#${plainOld.id}`, statusKey: `succeeded#${plainOld.id}` },
      }),
    );

    expect((await api.admin('GET', `/admin/triggers/${triggerId}/logs/${compressed.id}`)).body).toEqual(withAttempt);
    expect((await api.admin('GET', `/admin/triggers/${triggerId}/logs?status=succeeded`)).body.items).toEqual([
      plainOld,
      withAttempt,
    ]);
    // and a status change on an old entry keeps it readable
    expect(await store.updateLogStatus(triggerId, compressed.id, { status: 'failed', reason: 'later' })).toBe(true);
    expect((await store.getLogEntry(triggerId, compressed.id))!.request).toEqual(request);
  });

  it('a long target answer is stored compressed in its attempt and shown as it was', async () => {
    const triggerId = (await api.admin('POST', '/admin/triggers', trigger('gitea'))).body.id;
    const entry = store.newLogEntry({ triggerId, provider: 'gitea', status: 'queued' });
    await store.putLogEntry(entry);
    const page = `<html><body>${'<p>deploy service down</p>'.repeat(150)}</body></html>`;
    const attempt = {
      at: new Date().toISOString(),
      durationMs: 12,
      statusCode: 503,
      response: page,
      error: 'HTTP 503',
    };
    expect(await store.updateLogStatus(triggerId, entry.id, { status: 'failed', reason: 'HTTP 503', attempt })).toBe(
      true,
    );
    const raw = (
      await dynamo().send(new GetCommand({ TableName: config.logsTable(), Key: { triggerId, sk: `log#${entry.id}` } }))
    ).Item!;
    expect(raw.attempts[0].response).toBeUndefined();
    expect(itemSize(raw)).toBeLessThan(1024);
    const shown = (await api.admin('GET', `/admin/triggers/${triggerId}/logs/${entry.id}`)).body;
    expect(shown.attempts).toEqual([attempt]);
    expect(shown).toMatchObject({ status: 'failed', reason: 'HTTP 503' });
  });

  it('a real Docker Hub push through the API: under 1 KB stored, shown with its request and event', async () => {
    const created = (
      await api.admin('POST', '/admin/triggers', { ...trigger('dockerhub'), match: { tags: { list: ['release'] } } })
    ).body;
    const body = fixture('dockerhub/push-docs-example.json');
    const res = await api.hook(created.webhookUrl.slice(stack.url.length), body, {
      'Content-Type': 'application/json',
    });
    expect(res.status).toBe(202);
    const raw = (
      await dynamo().send(
        new GetCommand({ TableName: config.logsTable(), Key: { triggerId: created.id, sk: `log#${res.body.log}` } }),
      )
    ).Item!;
    expect(itemSize(raw)).toBeLessThanOrEqual(1024);
    const shown = (await api.admin('GET', `/admin/triggers/${created.id}/logs/${res.body.log}`)).body;
    expect(JSON.parse(shown.request.body)).toEqual(JSON.parse(body));
    expect(shown.request.query).toEqual({ token: '[redacted]' });
    expect(shown.request.path).toBe(`/hooks/dockerhub/${created.id}`);
    expect(shown.request.bodyBytes).toBe(Buffer.byteLength(body));
    expect(shown.event).toMatchObject({
      provider: 'dockerhub',
      repoFullName: 'svendowideit/testhook',
      image: 'svendowideit/testhook:latest',
      tag: 'latest',
    });
    expect(shown).toMatchObject({ id: res.body.log, status: 'untriggered', provider: 'dockerhub', attempts: [] });
    expect(shown.updatedAt).toBe(shown.receivedAt);
  });
});
