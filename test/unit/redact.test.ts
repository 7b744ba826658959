/** Redaction by value (lib/core/redact-values.ts), of requests (lib/receive/redact.ts) and the entry cut (limits.ts). */
import { containsSecret, redactValues, secretForms, secretSet, REDACTED } from '../../lib/core/redact-values';
import {
  isCredentialName,
  jsonDepth,
  redactBody,
  redactEntryValues,
  redactHeaders,
  redactQuery,
} from '../../lib/receive/redact';
import {
  checkEventLimits,
  fitAttempt,
  fitEntry,
  fitEvents,
  MAX_COMMIT_MESSAGE_BYTES,
  MAX_ENTRY_BYTES,
} from '../../lib/receive/limits';
import { api } from '../../lib/receive/providers/api';
import { newLogEntry, type LogEntry } from '../../lib/store/store';
import { looksLikeToken, redactUrlTemplate } from '../../lib/deploy/targets/http';

const SECRET = 'a1B2c3 D4/e5+F6"g7\\h8&i9=j0';
const HEX = '3f9c2a7be81d4c0f9a6b5e4d3c2b1a09';

describe('redactValues', () => {
  it.each([
    ['as is', `x${SECRET}y`],
    ['in a bearer header', `Bearer ${SECRET}`],
    ['URL-encoded', `?t=${encodeURIComponent(SECRET)}`],
    ['URL-encoded, lowercase hex', `?t=${encodeURIComponent(SECRET).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase())}`],
    ['form-encoded', new URLSearchParams({ t: SECRET }).toString()],
    ['JSON-escaped', JSON.stringify({ t: SECRET })],
    ['JSON-escaped twice', JSON.stringify(JSON.stringify({ t: SECRET }))],
    ['base64', Buffer.from(SECRET).toString('base64')],
  ])('removes the secret %s', (_name, text) => {
    const out = redactValues(text, [SECRET]);
    expect(out).toContain(REDACTED);
    expect(containsSecret(out, [SECRET])).toBe(false);
    expect(out).not.toContain(SECRET);
  });

  it('removes every secret of the set, and leaves other text alone', () => {
    const out = redactValues(`one ${HEX} two ${SECRET} three`, secretSet([HEX, SECRET, undefined, null]));
    expect(out).toBe(`one ${REDACTED} two ${REDACTED} three`);
  });

  it('ignores values too short to be secrets (they would match ordinary text)', () => {
    expect(secretForms('abc')).toEqual([]);
    expect(redactValues('abc abc', ['abc'])).toBe('abc abc');
  });
});

describe('request redaction', () => {
  const set = secretSet([HEX, 'previous-secret-0123456789']);

  it('redacts credential-shaped header names and the secret under any header name', () => {
    const out = redactHeaders(
      {
        'x-token': 'abc-not-the-secret',
        'x-custom': `Bearer ${HEX}`,
        'x-hub-signature-256': 'sha256=00',
        'user-agent': 'curl',
      },
      undefined,
      set,
    );
    expect(out).toEqual({
      'x-token': REDACTED,
      'x-custom': `Bearer ${REDACTED}`,
      'x-hub-signature-256': REDACTED,
      'user-agent': 'curl',
    });
  });

  it('redacts query names in any case and secrets under any name', () => {
    expect(redactQuery({ TOKEN: 'x', Api_Key: 'y', q: `pre-${HEX}`, page: '2' }, set)).toEqual({
      TOKEN: REDACTED,
      Api_Key: REDACTED,
      q: `pre-${REDACTED}`,
      page: '2',
    });
  });

  it.each([
    ['JSON', JSON.stringify({ secret_key: HEX, tag: '1.0' })],
    ['JSON after a BOM', `\uFEFF${JSON.stringify({ secret_key: HEX })}`],
    ['a top-level array', JSON.stringify([{ secret_key: HEX }, { other: HEX }])],
    ['nested', JSON.stringify({ a: { b: [{ c: { note: `key is ${HEX}` } }] } })],
    [
      'unicode-escaped',
      `{"x": "${[...HEX].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')}"}`,
    ],
    ['form-encoded', `secret_key=${HEX}&tag=1.0`],
    ['form-encoded under another name', `k=${HEX}&tag=1.0`],
    ['a form field holding JSON', `payload=${encodeURIComponent(JSON.stringify({ deep: { v: HEX } }))}`],
    ['plain text', `the secret is ${HEX}.`],
    ['the previous secret', JSON.stringify({ other: 'previous-secret-0123456789' })],
  ])('removes the secret from a body: %s', (_name, raw) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw.replace(/^\uFEFF/, ''));
    } catch {
      parsed = undefined;
    }
    const out = redactBody(raw, parsed, api, set);
    expect(containsSecret(out, set)).toBe(false);
    expect(containsSecret(decodeURIComponent(out.replace(/\+/g, ' ')), set)).toBe(false);
    expect(out).toContain(REDACTED);
  });

  it('redacts credential-shaped fields at any depth, case-insensitively', () => {
    const out = JSON.parse(
      redactBody(JSON.stringify({ a: [{ Password: 'p', API_KEY: 'k', keep: 'v' }] }), undefined, undefined, set),
    );
    expect(out).toEqual({ a: [{ Password: REDACTED, API_KEY: REDACTED, keep: 'v' }] });
  });

  it('does not recurse on a 10,000-deep body (and stores a marker instead)', () => {
    const raw = `${'['.repeat(10000)}"${HEX}"${']'.repeat(10000)}`;
    const parsed = JSON.parse(raw);
    expect(jsonDepth(parsed, 64)).toBeGreaterThan(64);
    const out = redactBody(raw, parsed, api, set);
    expect(out).toMatch(/not stored: JSON nested deeper than 64/);
    expect(out).not.toContain(HEX);
    const deepObject = JSON.parse(`${'{"a":'.repeat(10000)}1${'}'.repeat(10000)}`);
    expect(() => redactBody('{...}', deepObject, api, set)).not.toThrow();
  });

  it('knows credential names', () => {
    for (const n of [
      'token',
      'X-Access-Token',
      'client_secret',
      'password',
      'Authorization',
      'x-signature',
      'api-key',
      'apikey',
      'sign',
      'key',
    ])
      expect(isCredentialName(n)).toBe(true);
    for (const n of ['tag', 'repository', 'user-agent', 'content-type', 'author', 'keyword', 'monkey-see'])
      expect(isCredentialName(n)).toBe(false);
  });

  it('redacts the secret from the reason, path and event of an entry without touching the original event', () => {
    const event = {
      provider: 'api',
      kind: 'image' as const,
      action: 'push' as const,
      repository: 'web',
      repoFullName: 'web',
      tag: 'v1',
      commit: { id: '1', message: `has ${HEX}` },
    };
    const entry = redactEntryValues(
      { reason: `bad ${HEX}`, deliveryId: HEX, event, request: { path: `/x/${HEX}` } },
      set,
    );
    expect(JSON.stringify(entry)).not.toContain(HEX);
    expect(event.commit.message).toContain(HEX);
  });
});

describe('limits', () => {
  const event = {
    provider: 'dockerhub',
    kind: 'image' as const,
    action: 'push' as const,
    repository: 'web',
    repoFullName: 'ns/web',
  };

  it('names the first field over what senders allow', () => {
    expect(checkEventLimits([{ ...event, tag: 'x'.repeat(128) }])).toBeUndefined();
    expect(checkEventLimits([{ ...event, tag: 'x'.repeat(129) }])?.field).toBe('event.tag');
    expect(checkEventLimits([{ ...event, repoFullName: 'x'.repeat(256) }])?.field).toBe('event.repoFullName');
    expect(checkEventLimits([{ ...event, commit: { id: 'x'.repeat(2000), message: '' } }])?.field).toBe(
      'event.commit.id',
    );
  });

  it('cuts an attempt before it is appended', () => {
    const a = fitAttempt({
      at: 'now',
      durationMs: 1,
      response: 'r'.repeat(100000),
      error: 'e'.repeat(100000),
      details: { address: 'a'.repeat(5000), n: 1 },
    });
    expect(Buffer.byteLength(JSON.stringify(a))).toBeLessThan(8 * 1024);
    expect(a.details).toMatchObject({ n: 1, address: expect.stringMatching(/…\[truncated/) });
    expect(a.at).toBe('now');
  });

  it('cuts a huge commit message in the event that goes on (a 400 would refuse a real push)', () => {
    const small = { ...event, commit: { id: '1', message: 'fix' } };
    const [same, cut] = fitEvents([
      small,
      { ...event, commit: { id: '1', message: `@deploy ${'m'.repeat(900 * 1024)}` } },
    ]);
    expect(same).toBe(small);
    expect(Buffer.byteLength(cut.commit!.message)).toBeLessThan(MAX_COMMIT_MESSAGE_BYTES + 64);
    expect(cut.commit!.message).toMatch(/^@deploy m+…\[truncated \d+ bytes\]$/);
  });

  it('cuts every stored field with a marker so the entry fits the item limit', () => {
    const big = 'y'.repeat(300 * 1024);
    const headers = Object.fromEntries(
      Array.from({ length: 500 }, (_, i) => [`x-h${i}-${'n'.repeat(300)}`, big.slice(0, 5000)]),
    );
    const entry: LogEntry = newLogEntry({
      triggerId: 't',
      provider: 'dockerhub',
      status: 'rejected',
      reason: big,
      event: { ...event, commit: { id: '1', message: big } },
      request: {
        method: 'POST',
        path: `/${big}`,
        headers,
        query: { '': 'empty name', q: big },
        body: big,
        bodyBytes: big.length,
      },
    });
    const fitted = fitEntry(entry);
    expect(Buffer.byteLength(JSON.stringify(fitted))).toBeLessThanOrEqual(MAX_ENTRY_BYTES);
    expect(fitted.reason).toMatch(/…\[truncated \d+ bytes\]$/);
    expect(fitted.event!.commit!.message).toMatch(/…\[truncated/);
    expect(fitted.request!.body).toMatch(/…\[truncated/);
    expect(fitted.request!.query).toHaveProperty(['(empty)']);
    expect(Object.keys(fitted.request!.headers)).toHaveLength(101);
    expect(fitEntry({ ...entry, reason: 'short', request: undefined, event: undefined }).reason).toBe('short');
  });
});

describe('target URL redaction (admin answers)', () => {
  it.each([
    [
      'https://hooks.example.com/services/T0001/B0001/XyZ1234567890abcdefGHIJ',
      'https://hooks.example.com/services/T0001/B0001/[redacted]',
    ],
    [
      'https://gitlab.example.com/api/v4/projects/12/trigger/pipeline?token=glptt-0123abcd&ref=main',
      'https://gitlab.example.com/api/v4/projects/12/trigger/pipeline?token=[redacted]&ref=[redacted]',
    ],
    [
      'https://deploy.example.com/hook/{{repository}}?tag={{tag}}',
      'https://deploy.example.com/hook/{{repository}}?tag={{tag}}',
    ],
    [
      'https://user:pass@deploy.example.com/deploy-production-service',
      'https://[redacted]@deploy.example.com/deploy-production-service',
    ],
  ])('%s', (url, shown) => {
    expect(redactUrlTemplate(url)).toBe(shown);
  });

  it('tells tokens from names', () => {
    expect(looksLikeToken('3f9c2a7be81d4c0f9a6b')).toBe(true);
    expect(looksLikeToken('deploy-production-service')).toBe(false);
    expect(looksLikeToken('v1')).toBe(false);
  });
});
