/**
 * A small, seeded fuzz run through the real HTTP API on the local stack: real provider samples, mutated (huge
 * strings, out-of-range numbers and dates, wrong types, deep nesting, lone surrogates, BOMs, junk), correctly
 * authenticated (signed over the mutated bytes), so every mutation reaches parsing. No answer may be a 5xx, and
 * every request must leave exactly one log entry. Bounded (fixed count) and deterministic (seeded PRNG):
 * TF_FUZZ_SEED changes the seed, TF_FUZZ_COUNT the number of bodies per provider.
 */
import { createHmac } from 'node:crypto';
import { apiClient } from '../helpers/api';
import { fixture } from '../helpers/fixtures';
import { startTestStack } from '../helpers/stack';
import { startTargetServer } from '../helpers/target-server';

const SEED = Number(process.env.TF_FUZZ_SEED ?? 9);
const COUNT = Number(process.env.TF_FUZZ_COUNT ?? 20);

let stack: Awaited<ReturnType<typeof startTestStack>>;
let api: ReturnType<typeof apiClient>;
let target: Awaited<ReturnType<typeof startTargetServer>>;

beforeAll(async () => {
  stack = await startTestStack({ maxReceiveCount: 1, retryBaseSeconds: 0 });
  api = apiClient(stack.url, stack.adminToken);
  target = await startTargetServer();
});
afterAll(async () => {
  await stack?.stop();
  await target?.close();
});

/** mulberry32: a tiny seeded PRNG (deterministic runs) */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const hex = (alg: 'sha1' | 'sha256', secret: string, body: string) =>
  createHmac(alg, secret).update(body).digest('hex');
/** a string value replaced by 5,000-deep nesting in the serialized body (JSON.stringify would overflow on it) */
const DEEP = '__deep__';

interface Case {
  provider: string;
  fixture: string;
  headers?: Record<string, string>;
  credential: (secret: string, body: string) => { headers?: Record<string, string>; query?: string };
  match?: Record<string, unknown>;
}
const query = (s: string) => ({ query: `?token=${encodeURIComponent(s)}` });
const bearer = (s: string) => ({ headers: { authorization: `Bearer ${s}` } });

const CASES: Case[] = [
  {
    provider: 'dockerhub',
    fixture: 'dockerhub/push-legacy-docs-example-with-images.json',
    credential: query,
    match: { tags: { semver: '>=1.0.0' } },
  },
  { provider: 'harbor', fixture: 'harbor/push_artifact-default-harbor-docs-2.0-debian.json', credential: bearer },
  { provider: 'harbor', fixture: 'harbor/push_artifact-cloudevents-harbor-docs-2.8.json', credential: bearer },
  { provider: 'tcr', fixture: 'tencent-tcr/pushImage-tcr-docs-example.json', credential: bearer },
  {
    provider: 'quay',
    fixture: 'quay/repo_push-quay-docs-legacy-2016-updated_tags-object.json',
    credential: query,
    match: { tags: { regex: 'v.*' } },
  },
  { provider: 'acr', fixture: 'aliyun-acr/push-aliyun-docs-example.json', credential: query },
  { provider: 'azure-acr', fixture: 'azure-acr/push-azure-docs-2017.json', credential: bearer },
  {
    provider: 'jfrog',
    fixture: 'jfrog-artifactory/docker-pushed-envelope-keel-test.json',
    credential: (s) => ({ headers: { 'x-jfrog-event-auth': s } }),
  },
  {
    provider: 'github',
    fixture: 'github/push-go-playground-binkkatal.json',
    headers: { 'x-github-event': 'push' },
    credential: (s, b) => ({ headers: { 'x-hub-signature-256': `sha256=${hex('sha256', s, b)}` } }),
    match: { branches: ['ma*'] },
  },
  {
    provider: 'github',
    fixture: 'github/package-create-container-keel-dingggu.json',
    headers: { 'x-github-event': 'package' },
    credential: (s, b) => ({ headers: { 'x-hub-signature-256': `sha256=${hex('sha256', s, b)}` } }),
  },
  {
    provider: 'gitlab',
    fixture: 'gitlab/tag_push-gitlab-docs-example.json',
    headers: { 'x-gitlab-event': 'Tag Push Hook' },
    credential: (s) => ({ headers: { 'x-gitlab-token': s } }),
  },
  {
    provider: 'gitea',
    fixture: 'gitea/push-gitea-docs-example.json',
    headers: { 'x-gitea-event': 'push' },
    credential: (s, b) => ({ headers: { 'x-gitea-signature': hex('sha256', s, b) } }),
  },
  {
    provider: 'bitbucket',
    fixture: 'bitbucket/repo_push-go-scm-brydzewski-foo.json',
    headers: { 'x-event-key': 'repo:push' },
    credential: (s, b) => ({ headers: { 'x-hub-signature': `sha256=${hex('sha256', s, b)}` } }),
  },
];

/** Values a sender should never send, each of which once made some receiver misbehave somewhere. */
function badValue(r: () => number): unknown {
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)];
  // the two the attack run found most: oversized strings and out-of-range numbers
  const roll = r();
  if (roll < 0.2) return 'x'.repeat(200 * 1024 + Math.floor(r() * 100 * 1024));
  if (roll < 0.3) return pick([1e300, -1e300, 1e20, -62135596801]);
  return pick<() => unknown>([
    () => 'x'.repeat(1 + Math.floor(r() * 300 * 1024)),
    () => 1e300,
    () => -1e300,
    () => 2 ** 53 + 1,
    () => -1,
    () => 0,
    () => 1.5,
    () => '',
    () => null,
    () => true,
    () => [],
    () => ({}),
    () => ['a', 1, null],
    () => '+275760-09-13T00:00:00.000Z',
    () => '9999-12-31T23:59:59.999Z',
    () => '2024-02-30T25:61:61Z',
    () => '0000-00-00 00:00:00',
    () => 'not a date',
    () => '\uD800',
    () => '\u0000\u0001\u001f',
    () => '../../etc/passwd',
    () => 'a/b/../../c',
    () => '%2F%2e%2e',
    () => 'refs/heads/',
    () => 'sha256:',
    () => `sha256:${'f'.repeat(5000)}`,
    () => '{{tag}}',
    () => '__proto__',
    () => DEEP,
  ])();
}

/** Every [parent, key] of a JSON value (iteratively). */
function slots(root: unknown): Array<[Record<string, unknown> | unknown[], string | number]> {
  const out: Array<[Record<string, unknown> | unknown[], string | number]> = [];
  const stack = [root];
  while (stack.length) {
    const v = stack.pop();
    if (Array.isArray(v))
      v.forEach((c, i) => {
        out.push([v, i]);
        stack.push(c);
      });
    else if (v && typeof v === 'object')
      for (const [k, c] of Object.entries(v)) {
        out.push([v as Record<string, unknown>, k]);
        stack.push(c);
      }
  }
  return out;
}

const INTERESTING = /tag|name|repo|time|_at$|date|ref|digest|version|url|action|type|event|id$|host|namespace|media/i;

function mutate(text: string, r: () => number): string {
  const roll = r();
  if (roll < 0.04) return '';
  if (roll < 0.08) return `\uFEFF${text}`;
  if (roll < 0.11) return `[${text}]`;
  if (roll < 0.14) return text.slice(0, Math.floor(r() * text.length));
  if (roll < 0.16) return `${'['.repeat(10000)}${']'.repeat(10000)}`;
  const body = JSON.parse(text);
  const n = 1 + Math.floor(r() * 3);
  for (let i = 0; i < n; i++) {
    const all = slots(body);
    if (!all.length) break;
    // half of the mutations go to the fields the pipeline reads (names, tags, times, refs, digests)
    const read = all.filter(([, k]) => typeof k === 'string' && INTERESTING.test(k));
    const from = read.length && r() < 0.5 ? read : all;
    const [parent, key] = from[Math.floor(r() * from.length)];
    const what = r();
    if (what < 0.15 && !Array.isArray(parent)) delete (parent as Record<string, unknown>)[key as string];
    else if (what < 0.22 && !Array.isArray(parent))
      (parent as Record<string, unknown>)['k'.repeat(1 + Math.floor(r() * 5000))] = 'v';
    else (parent as Record<string | number, unknown>)[key] = badValue(r);
  }
  const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
  return JSON.stringify(body).split(JSON.stringify(DEEP)).join(deep);
}

async function countEntries(triggerId: string): Promise<number> {
  let n = 0;
  let cursor: string | undefined;
  do {
    const res = await api.admin(
      'GET',
      `/admin/triggers/${triggerId}/logs?limit=100${cursor ? `&cursor=${cursor}` : ''}`,
    );
    expect(res.status).toBe(200);
    n += res.body.items.length;
    cursor = res.body.cursor;
  } while (cursor);
  return n;
}

describe(`fuzz (seed ${SEED}, ${COUNT} bodies per sample)`, () => {
  it('no mutated webhook answers 5xx, and each leaves exactly one log entry', async () => {
    const r = prng(SEED);
    const failures: string[] = [];
    const statuses: Record<number, number> = {};
    for (const [i, c] of CASES.entries()) {
      const created = await api.admin('POST', '/admin/triggers', {
        name: `fuzz-${i}`,
        provider: c.provider,
        match: c.match ?? {},
        target: {
          type: 'http',
          url: `${target.url}/deploy/{{repository}}`,
          body: { tag: '{{tag}}', commit: '{{commit.message}}' },
        },
      });
      expect(created.status).toBe(201);
      const { id, secret } = created.body;
      const original = fixture(c.fixture);
      let sent = 0;
      for (let k = 0; k < COUNT; k++) {
        const body = mutate(original, r);
        const cred = c.credential(secret, body);
        const res = await api.hook(`/hooks/${c.provider}/${id}${cred.query ?? ''}`, body, {
          ...c.headers,
          ...cred.headers,
          [c.provider === 'gitlab' ? 'x-gitlab-event-uuid' : 'x-github-delivery']: `fuzz-${SEED}-${i}-${k}`,
        });
        sent++;
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        if (res.status >= 500 || !res.body?.log) {
          failures.push(
            `${c.provider} #${i}/${k}: ${res.status} ${JSON.stringify(res.body).slice(0, 300)} body ${body.slice(0, 200)}`,
          );
        }
      }
      const entries = await countEntries(id);
      if (entries !== sent) failures.push(`${c.provider} #${i}: ${sent} requests, ${entries} entries`);
    }
    if (failures.length) console.log(failures.join('\n'));
    expect(failures).toEqual([]);
    // the run exercised both accepted and refused inputs
    expect(Object.keys(statuses).map(Number)).toEqual(expect.arrayContaining([202, 400]));
  }, 240_000);
});

describe(`admin fuzz (seed ${SEED})`, () => {
  it('no mutated trigger, PATCH, log query or path answers 5xx', async () => {
    const r = prng(SEED + 1);
    const failures: string[] = [];
    const statuses: Record<number, number> = {};
    const base = JSON.stringify({
      name: 'fuzz-admin',
      description: 'd',
      provider: 'harbor',
      enabled: true,
      match: {
        actions: ['push'],
        namespace: 'library',
        repository: 'web-*',
        image: 'library/web:1.4.0',
        tags: { semver: '>=1.2.0 <2', newerOnly: true },
        branches: ['main'],
        keyword: '@deploy',
      },
      target: {
        type: 'http',
        url: `${target.url}/hook/{{repository}}`,
        method: 'POST',
        headers: { 'X-Token': 'tok-123456' },
        body: { image: '{{image}}', tag: '{{tag}}' },
      },
    });
    const auth = { authorization: `Bearer ${stack.adminToken}` };
    const created = await api.admin('POST', '/admin/triggers', JSON.parse(base));
    expect(created.status).toBe(201);
    const id: string = created.body.id;
    const record = (what: string, res: { status: number; body: unknown }, sent: string) => {
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      if (res.status >= 500)
        failures.push(`${what}: ${res.status} ${JSON.stringify(res.body).slice(0, 200)} sent ${sent.slice(0, 200)}`);
    };
    for (let k = 0; k < COUNT * 3; k++) {
      const body = mutate(base, r);
      record('POST', await api.call('POST', '/admin/triggers', { raw: body, headers: auth }), body);
      record('PATCH', await api.call('PATCH', `/admin/triggers/${id}`, { raw: body, headers: auth }), body);
    }
    // well-formed UTF-16 (a lone surrogate cannot be put into a URL)
    const junk = () => Buffer.from(String(badValue(r)).slice(0, 3000)).toString();
    for (let k = 0; k < COUNT; k++) {
      const q = `status=${encodeURIComponent(junk())}&limit=${encodeURIComponent(junk())}&cursor=${encodeURIComponent(Buffer.from(JSON.stringify({ triggerId: id, sk: junk() })).toString('base64url'))}`;
      record('logs', await api.call('GET', `/admin/triggers/${id}/logs?${q}`, { headers: auth }), q);
      const p = encodeURIComponent(junk()) || 'x';
      record('get', await api.call('GET', `/admin/triggers/${p}`, { headers: auth }), p);
      record('log', await api.call('GET', `/admin/triggers/${id}/logs/${p}`, { headers: auth }), p);
    }
    if (failures.length) console.log(failures.join('\n'));
    expect(failures).toEqual([]);
    expect(Object.keys(statuses).map(Number)).toEqual(expect.arrayContaining([400]));
  }, 240_000);
});
