/**
 * The stored layout of a trigger log entry (lib/store/log-item.ts): what a real GitHub and Docker Hub push costs as
 * an item (sizes by DynamoDB's rules, bounds from the fixtures), that every entry reads back exactly as it was
 * built, and that entries in the layouts written before still read.
 */
import { brotliCompressSync, brotliDecompressSync, constants as zlib } from 'node:zlib';
import { ulid } from 'ulid';
import { buildHttpApiEvent } from '../../../lib/local/gateway';
import { loggedRequest } from '../../../lib/receive/ingest';
import { loggedHeaders, lowerHeaders } from '../../../lib/receive/http';
import { fitEntry, fitEvents } from '../../../lib/receive/limits';
import { redactEntryValues } from '../../../lib/receive/redact';
import { providers } from '../../../lib/receive/providers';
import { secretSet } from '../../../lib/core/redact-values';
import { attemptItem, entryFromItem, fixedText } from '../../../lib/store/log-item';
import { itemSize, attributeSizes } from '../../../lib/store/item-size';
import * as store from '../../../lib/store/store';
import { fixture } from '../../helpers/fixtures';
import { createHmac } from 'node:crypto';

const TRIGGER_ID = 'a1b2c3d4e5f60718293a4b5c';
const SECRET = 'trigger-secret-0123456789abcdef';

/** An entry built the way ingest builds it, from the request a sender sends through API Gateway. */
function entryOf(
  providerId: 'github' | 'dockerhub',
  body: string,
  status: store.LogStatus,
  fields: Partial<store.LogEntry> = {},
) {
  const provider = providers[providerId];
  const sent: Record<string, string> =
    providerId === 'github'
      ? {
          'User-Agent': 'GitHub-Hookshot/4d7fd9c',
          Accept: '*/*',
          'Content-Type': 'application/json',
          'Content-Length': String(Buffer.byteLength(body)),
          'X-GitHub-Event': 'push',
          'X-GitHub-Delivery': 'c627fc10-9e0f-11ec-8eca-c44f41fb12a5',
          'X-GitHub-Hook-ID': '346794341',
          'X-GitHub-Hook-Installation-Target-ID': '101108497',
          'X-GitHub-Hook-Installation-Target-Type': 'repository',
          'X-Hub-Signature': `sha1=${createHmac('sha1', SECRET).update(body).digest('hex')}`,
          'X-Hub-Signature-256': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`,
        }
      : {
          'User-Agent': 'Go-http-client/1.1',
          'Content-Type': 'application/json',
          'Content-Length': String(Buffer.byteLength(body)),
          'Accept-Encoding': 'gzip',
        };
  const event = buildHttpApiEvent({
    method: 'POST',
    url: `/hooks/${providerId}/${TRIGGER_ID}${providerId === 'dockerhub' ? `?token=${SECRET}` : ''}`,
    rawHeaders: Object.entries({ Host: 'abc123.execute-api.us-east-1.amazonaws.com', ...sent }).flat(),
    body: Buffer.from(body),
    sourceIp: '192.30.252.1',
    routeKey: `POST /hooks/${providerId}/{triggerId}`,
    pathParameters: { triggerId: TRIGGER_ID },
  });
  const headers = lowerHeaders(event.headers);
  const query = (event.queryStringParameters ?? {}) as Record<string, string>;
  const parsed = JSON.parse(body);
  const secrets = secretSet([SECRET]);
  const request = loggedRequest(
    provider,
    event,
    { headers, query, text: body, body: parsed, bytes: Buffer.byteLength(body) },
    secrets,
  );
  const read = provider.parse({ headers, query, rawBody: body, body: parsed }, {});
  if (read.kind !== 'events') throw new Error('fixture did not parse into events');
  const normalized = fitEvents(read.events)[0];
  const entry = fitEntry(
    redactEntryValues(
      store.newLogEntry({
        triggerId: TRIGGER_ID,
        provider: providerId,
        request,
        event: normalized,
        deliveryId: normalized.deliveryId,
        status,
        ...fields,
      }),
      secrets,
    ),
  );
  return { entry, headers };
}

const GITHUB_PUSH = fixture('github/push-octokit-with-new-branch.json');
const DOCKERHUB_PUSH = fixture('dockerhub/push-docs-example.json');
const LANE = '1a29a6045cf8fabd403f38c9e6ab3724';
/** What the deployer appends for an HTTP target that answered 200 with a short JSON. */
const attempt: store.Attempt = {
  at: new Date().toISOString(),
  durationMs: 9,
  statusCode: 200,
  response: '{"status":"deployed","revision":42}',
  details: { method: 'POST', address: '127.0.0.1' },
};
/** The entry after the deployer's writes: deploying, then succeeded with its attempt (store.updateLogStatus). */
const succeeded = (item: Record<string, unknown>) => {
  const { inFlight: _i, ...rest } = item;
  return {
    ...rest,
    status: 'succeeded',
    statusKey: `succeeded#${String(item.sk).slice(4)}`,
    updatedAt: new Date().toISOString(),
    attempts: [attempt],
  };
};
/** The item before this layout: the entry as it is, the request as brotli JSON (quality 5) above 512 bytes (store.ts then). */
const oldItem = (entry: store.LogEntry): Record<string, unknown> => {
  const { request, ...rest } = entry;
  return {
    ...rest,
    triggerId: entry.triggerId,
    sk: `log#${entry.id}`,
    statusKey: `${entry.status}#${entry.id}`,
    requestBr: brotliCompressSync(JSON.stringify(request), { params: { [zlib.BROTLI_PARAM_QUALITY]: 5 } }),
  };
};

describe('what a webhook entry costs as an item', () => {
  it('a GitHub push: under 2 KB untriggered, queued and after success (before: 2.5 KB, 2.7 KB after success)', () => {
    const untriggered = entryOf('github', GITHUB_PUSH, 'untriggered', {
      reason: 'branch "master" does not match main',
    }).entry;
    const queued = entryOf('github', GITHUB_PUSH, 'queued', { lane: LANE }).entry;
    const before = itemSize(oldItem(untriggered));
    for (const entry of [untriggered, queued]) {
      const item = store.logItem(entry);
      expect(itemSize(item)).toBeLessThan(2048);
      expect(itemSize(item)).toBeLessThan(before * 0.85);
      // nothing of the request or the event is stored plainly
      expect(Object.keys(item).sort()).toEqual(
        [
          'entryBr',
          'expiresAt',
          'sk',
          'status',
          'statusKey',
          'triggerId',
          ...(entry.status === 'queued' ? ['inFlight'] : ['reason']),
        ].sort(),
      );
    }
    expect(itemSize(succeeded(store.logItem(queued)))).toBeLessThan(2048);
    expect(itemSize(succeeded(oldItem(queued)))).toBeGreaterThan(2048);
  });

  it('a Docker Hub push: under 1 KB untriggered and queued, also with a longer reason (the slow pass then)', () => {
    const fastOnly: number[] = [];
    for (const reason of [
      'tag "latest" is not one of release',
      `tag "latest" does not match regex "${'release-v[0-9]+'.repeat(3)}"`,
    ]) {
      const { entry } = entryOf('dockerhub', DOCKERHUB_PUSH, 'untriggered', { reason });
      const item = store.logItem(entry);
      expect(itemSize(item)).toBeLessThanOrEqual(1024);
      expect(itemSize(oldItem(entry))).toBeGreaterThan(1024);
      const fast = brotliCompressSync(fixedText(entry), { params: { [zlib.BROTLI_PARAM_QUALITY]: 5 } });
      fastOnly.push(itemSize({ ...item, entryBr: fast }));
    }
    // the longer reason would have cost 2 units at quality 5 alone
    expect(fastOnly[0]).toBeLessThanOrEqual(1024);
    expect(fastOnly[1]).toBeGreaterThan(1024);
    const queued = store.logItem(entryOf('dockerhub', DOCKERHUB_PUSH, 'queued', { lane: LANE }).entry);
    expect(itemSize(queued)).toBeLessThanOrEqual(1024);
    // after success the attempt (about 150 bytes) takes it over 1 KB: 2 units for that last write
    expect(itemSize(succeeded(queued))).toBeLessThan(1200);
  });

  it('stores the body unescaped after the JSON, once', () => {
    const { entry } = entryOf('github', GITHUB_PUSH, 'untriggered');
    const text = fixedText(entry);
    expect(text.slice(text.indexOf('\n') + 1)).toBe(entry.request!.body);
    // the event's derivable fields and the request's path are not in it
    const fixed = JSON.parse(text.slice(0, text.indexOf('\n')));
    expect(Object.keys(fixed.event)).not.toEqual(expect.arrayContaining(['provider']));
    expect(fixed.event).not.toHaveProperty('repoFullName');
    expect(fixed.event).not.toHaveProperty('deliveryId');
    expect(fixed.request).not.toHaveProperty('path');
    expect(fixed.request).not.toHaveProperty('body');
    const item = store.logItem(entry);
    expect(brotliDecompressSync(item.entryBr as Uint8Array).toString('utf8')).toBe(text);
    expect(attributeSizes(item).entryBr).toBeLessThan(Buffer.byteLength(text) / 4);
  });
});

describe('an entry reads back as it was built', () => {
  const roundTrip = (entry: store.LogEntry) => entryFromItem(store.logItem(entry));

  it('webhook entries of every kind, untriggered, queued, with attempts and notifications', () => {
    const gh = entryOf('github', GITHUB_PUSH, 'untriggered', { reason: 'no' }).entry;
    expect(roundTrip(gh)).toEqual(gh);
    const queued = entryOf('dockerhub', DOCKERHUB_PUSH, 'queued', { lane: LANE }).entry;
    expect(roundTrip(queued)).toEqual(queued);
    const done = {
      ...queued,
      status: 'succeeded' as const,
      updatedAt: new Date(Date.now() + 5000).toISOString(),
      attempts: [attempt],
      notifications: [{ type: 'slack', status: 'succeeded', at: attempt.at, statusCode: 200, attempts: 1 }],
      supersededBy: ulid(),
    };
    expect(roundTrip(done)).toEqual(done);
    const dup = entryOf('github', GITHUB_PUSH, 'duplicate', { duplicateOf: ulid(), reason: 're-delivery' }).entry;
    expect(roundTrip(dup)).toEqual(dup);
  });

  it('a long target answer is compressed inside its attempt and reads back as it was', () => {
    const page = `<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>${'<p>upstream unavailable</p>'.repeat(120)}</body></html>`;
    const long: store.Attempt = { at: attempt.at, durationMs: 40, statusCode: 502, response: page, error: 'HTTP 502' };
    const stored = attemptItem(long);
    expect(stored.response).toBeUndefined();
    expect((stored.responseBr as Uint8Array).length).toBeLessThan(page.length / 10);
    // short ones stay plain: they are read in the item as they are
    expect(attemptItem(attempt)).toEqual(attempt);
    const { entry } = entryOf('dockerhub', DOCKERHUB_PUSH, 'queued', { lane: LANE });
    const failed = { ...entry, status: 'failed' as const, reason: 'HTTP 502', attempts: [long, attempt, long] };
    expect(entryFromItem(store.logItem(failed))).toEqual(failed);
    expect(itemSize(store.logItem(failed))).toBeLessThan(itemSize(store.logItem(entry)) + 600);
  });

  it('fields that do not follow the usual rules are kept as they are', () => {
    const { entry } = entryOf('dockerhub', DOCKERHUB_PUSH, 'untriggered');
    const odd: store.LogEntry = {
      ...entry,
      // an id that is not this entry's time, a delivery id the event does not carry, a stage path, another method
      id: ulid(Date.UTC(2026, 0, 1)),
      deliveryId: 'outer',
      event: {
        ...entry.event!,
        provider: 'other',
        repoFullName: 'not/derived',
        image: 'elsewhere/x:1',
        deliveryId: undefined,
      },
      request: {
        ...entry.request!,
        method: 'PUT',
        path: `/prod/hooks/dockerhub/${TRIGGER_ID}`,
        body: 'text with a lone \ud800 half',
      },
    };
    const back = roundTrip(odd);
    expect(back).toEqual({ ...odd, event: { ...odd.event, deliveryId: undefined } });
    expect(back.event).not.toHaveProperty('deliveryId');
    expect(back.request!.body).toBe(odd.request!.body);
  });

  it('a partial event (an ignored delivery) gets no field it did not have', () => {
    const partial = { provider: 'github', kind: 'code', action: 'push' } as unknown as store.LogEntry['event'];
    const entry = store.newLogEntry({
      triggerId: TRIGGER_ID,
      provider: 'github',
      status: 'untriggered',
      reason: 'ping',
      event: partial,
    });
    const back = roundTrip(entry);
    expect(back).toEqual(entry);
    expect(Object.keys(back.event!).sort()).toEqual(['action', 'kind', 'provider']);
  });

  it('entries without a request or an event (ECR, redeliver, refused)', () => {
    const ecr = store.newLogEntry({
      triggerId: TRIGGER_ID,
      provider: 'ecr',
      status: 'rejected',
      reason: 'tag too long',
      request: { method: 'EVENT', path: 'aws.ecr', headers: {}, body: '{"detail":{}}', bodyBytes: 13 },
    });
    expect(roundTrip(ecr)).toEqual(ecr);
    const bare = store.newLogEntry({
      triggerId: TRIGGER_ID,
      provider: 'harbor',
      status: 'unauthorized',
      reason: 'bad token',
    });
    expect(roundTrip(bare)).toEqual(bare);
    expect(itemSize(store.logItem(bare))).toBeLessThan(200);
  });
});

describe('entries written before this layout still read', () => {
  it('with the request compressed alone (requestBr) and everything else plain', () => {
    const { entry } = entryOf('github', GITHUB_PUSH, 'succeeded', { lane: LANE, attempts: [attempt] } as never);
    const old = oldItem({ ...entry, attempts: [attempt] });
    expect(entryFromItem(old)).toEqual({ ...entry, attempts: [attempt] });
  });

  it('with the request as a plain map, the id and times plain, no attempts list', () => {
    const entry = store.newLogEntry({
      id: ulid(Date.UTC(2025, 5, 1)),
      triggerId: TRIGGER_ID,
      provider: 'harbor',
      status: 'rejected',
      reason: 'old',
      request: {
        method: 'POST',
        path: `/hooks/harbor/${TRIGGER_ID}`,
        headers: { 'content-type': 'application/json' },
        body: '{}',
        bodyBytes: 2,
      },
    });
    const item = { ...entry, sk: `log#${entry.id}` };
    expect(entryFromItem(item)).toEqual(entry);
  });
});

describe('headers kept in the log', () => {
  it('leaves out what API Gateway adds and a content-length that is the body size', () => {
    const { headers } = entryOf('dockerhub', DOCKERHUB_PUSH, 'untriggered');
    expect(headers['x-amzn-trace-id']).toBeDefined();
    expect(loggedHeaders(headers, Buffer.byteLength(DOCKERHUB_PUSH))).toEqual({
      host: 'abc123.execute-api.us-east-1.amazonaws.com',
      'user-agent': 'Go-http-client/1.1',
      'content-type': 'application/json',
      'accept-encoding': 'gzip',
      'x-forwarded-for': '192.30.252.1',
    });
    // a content-length that is not what arrived is worth seeing
    expect(loggedHeaders({ 'content-length': '99' }, 2)).toEqual({ 'content-length': '99' });
  });

  it('signature headers stay, redacted', () => {
    const { entry } = entryOf('github', GITHUB_PUSH, 'untriggered');
    expect(entry.request!.headers['x-hub-signature-256']).toBe('[redacted]');
    expect(entry.request!.headers['x-hub-signature']).toBe('[redacted]');
    expect(JSON.stringify(entryFromItem(store.logItem(entry)))).not.toContain(SECRET);
  });
});
