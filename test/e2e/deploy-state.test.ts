/**
 * Deploy what the user means, exactly once, never stuck behind a failure (issue 8), end to end on the local stack:
 * re-deliveries are `duplicate`, the artifact the target runs or is deploying is `already`, a rollback deploys, a
 * newer event supersedes an older waiting one, deletes deploy only when asked.
 */
import { createHmac } from 'node:crypto';
import { apiClient } from '../helpers/api';
import { fixture } from '../helpers/fixtures';
import { startTestStack } from '../helpers/stack';
import { startTargetServer } from '../helpers/target-server';
import { dispatch } from '../../lib/match/dispatch';
import * as store from '../../lib/store/store';

const DONE = (e: any) => ['succeeded', 'failed', 'superseded'].includes(e?.status);
const MAX_ATTEMPTS = 5;

let stack: Awaited<ReturnType<typeof startTestStack>>;
let api: ReturnType<typeof apiClient>;
let target: Awaited<ReturnType<typeof startTargetServer>>;

beforeAll(async () => {
  stack = await startTestStack({ maxReceiveCount: MAX_ATTEMPTS, retryBaseSeconds: 2 });
  api = apiClient(stack.url, stack.adminToken);
  target = await startTargetServer();
});
afterAll(async () => {
  await stack?.stop();
  await target?.close();
});

async function createTrigger(body: Record<string, unknown>) {
  const res = await api.admin('POST', '/admin/triggers', body);
  expect(res.status).toBe(201);
  return res.body as { id: string; secret: string };
}

const DIGEST_A = `sha256:${'a'.repeat(64)}`;
const DIGEST_B = `sha256:${'b'.repeat(64)}`;

/** A Harbor push of `tag` at `digest`; `at` is Harbor's occur_at, so two pushes are never the same bytes. */
function harborPush(tag: string, digest: string, at: number, type = 'PUSH_ARTIFACT') {
  const body = JSON.parse(fixture('harbor/push_artifact-default-harbor-docs-2.0-debian.json'));
  body.type = type;
  body.occur_at = at;
  body.event_data.resources[0] = { digest, tag, resource_url: `hub.harbor.com/test-webhook/debian:${tag}` };
  return JSON.stringify(body);
}

const calls = (path: string) => target.calls.filter((c) => c.url === path).map((c) => JSON.parse(c.body));

describe('re-delivery or new event', () => {
  it('A -> B -> A on one tag deploys three times (a rollback is a new event)', async () => {
    const t = await createTrigger({
      name: 'aba',
      provider: 'harbor',
      target: { type: 'http', url: `${target.url}/aba`, body: { digest: '{{digest}}' } },
    });
    const auth = { authorization: `Bearer ${t.secret}` };
    for (const [i, digest] of [DIGEST_A, DIGEST_B, DIGEST_A].entries()) {
      const res = await api.hook(`/hooks/harbor/${t.id}`, harborPush('latest', digest, 1700000000 + i), auth);
      expect(res.body.status).toBe('triggered');
      expect((await api.waitForLog(t.id, res.body.log, DONE)).status).toBe('succeeded');
    }
    expect(calls('/aba').map((c) => c.digest)).toEqual([DIGEST_A, DIGEST_B, DIGEST_A]);
  });

  it('a second tag of a digest being deployed, or deployed, deploys nothing: "already"', async () => {
    const slow = await startTargetServer();
    const t = await createTrigger({
      name: 'second-tag',
      provider: 'harbor',
      target: { type: 'http', url: `${slow.url}/slow` },
    });
    const auth = { authorization: `Bearer ${t.secret}` };
    try {
      const first = await api.hook(`/hooks/harbor/${t.id}`, harborPush('1.4.0', DIGEST_A, 1700000100), auth);
      expect(first.body.status).toBe('triggered');
      const whileDeploying = await api.hook(`/hooks/harbor/${t.id}`, harborPush('latest', DIGEST_A, 1700000101), auth);
      expect(whileDeploying.status).toBe(202);
      expect(whileDeploying.body.status).toBe('untriggered');
      expect(whileDeploying.body.reason).toMatch(
        new RegExp(`^already (deploying|running) sha256:a{12}.* \\(log ${first.body.log}\\)$`),
      );
      expect((await api.waitForLog(t.id, first.body.log, DONE)).status).toBe('succeeded');
      const afterwards = await api.hook(`/hooks/harbor/${t.id}`, harborPush('stable', DIGEST_A, 1700000102), auth);
      expect(afterwards.body.reason).toBe(
        `already running sha256:aaaaaaaaaaaa… (hub.harbor.com/test-webhook/debian:1.4.0) (log ${first.body.log})`,
      );
      const entry = (await api.admin('GET', `/admin/triggers/${t.id}/logs/${afterwards.body.log}`)).body;
      expect(entry).toMatchObject({ status: 'untriggered', reason: afterwards.body.reason });
      expect(slow.calls).toHaveLength(1);
    } finally {
      await slow.close();
    }
  });

  it('the same body bytes again (a sender without delivery ids retrying) is duplicate; another push is not', async () => {
    const t = await createTrigger({
      name: 'same-bytes',
      provider: 'harbor',
      target: { type: 'http', url: `${target.url}/bytes` },
    });
    const auth = { authorization: `Bearer ${t.secret}` };
    const body = harborPush('2.0.0', DIGEST_B, 1700000200);
    const first = await api.hook(`/hooks/harbor/${t.id}`, body, auth);
    const again = await api.hook(`/hooks/harbor/${t.id}`, body, auth);
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ status: 'duplicate', log: first.body.log });
    const dupEntry = (await api.admin('GET', `/admin/triggers/${t.id}/logs?status=duplicate`)).body.items;
    expect(dupEntry).toHaveLength(1);
    expect(dupEntry[0]).toMatchObject({ status: 'duplicate', duplicateOf: first.body.log });
    await api.waitForLog(t.id, first.body.log, DONE);
    expect(calls('/bytes')).toHaveLength(1);
  });

  it('a code push: the same delivery id is duplicate, the same commit is "already", a force-push back deploys', async () => {
    const t = await createTrigger({
      name: 'code',
      provider: 'github',
      target: { type: 'http', url: `${target.url}/code`, body: { commit: '{{commit.id}}' } },
    });
    const base = JSON.parse(fixture('github/push-go-scm.json'));
    const send = (commit: string, delivery: string) => {
      const body = JSON.stringify({ ...base, after: commit, head_commit: { ...base.head_commit, id: commit } });
      const signature = `sha256=${createHmac('sha256', t.secret).update(body).digest('hex')}`;
      return api.hook(`/hooks/github/${t.id}`, body, {
        'x-github-event': 'push',
        'x-github-delivery': delivery,
        'x-hub-signature-256': signature,
      });
    };
    const c1 = '1'.repeat(40);
    const c2 = '2'.repeat(40);
    const first = await send(c1, 'd-1');
    expect((await api.waitForLog(t.id, first.body.log, DONE)).status).toBe('succeeded');
    expect((await send(c1, 'd-1')).body).toEqual({ status: 'duplicate', log: first.body.log });
    const sameCommit = await send(c1, 'd-2');
    expect(sameCommit.body).toMatchObject({
      status: 'untriggered',
      reason: `already running commit 111111111111 (log ${first.body.log})`,
    });
    const second = await send(c2, 'd-3');
    expect((await api.waitForLog(t.id, second.body.log, DONE)).status).toBe('succeeded');
    const back = await send(c1, 'd-4');
    expect(back.body.status).toBe('triggered');
    expect((await api.waitForLog(t.id, back.body.log, DONE)).status).toBe('succeeded');
    expect(calls('/code').map((c) => c.commit)).toEqual([c1, c2, c1]);
  });
});

describe('webhooks of one lane arriving together', () => {
  const digest = (i: number) => `sha256:${i.toString(16).padStart(64, '0')}`;

  it('16 pushes of different digests at once: every one answered 202 triggered, the newest deployed, none twice', async () => {
    const t = await createTrigger({
      name: 'burst',
      provider: 'harbor',
      target: { type: 'http', url: `${target.url}/burst`, body: { digest: '{{digest}}' } },
    });
    const auth = { authorization: `Bearer ${t.secret}` };
    const answers = await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        api.hook(`/hooks/harbor/${t.id}`, harborPush(`1.${i}.0`, digest(i + 1), 1700000600 + i), auth),
      ),
    );
    expect(answers.map((a) => [a.status, a.body.status])).toEqual(answers.map(() => [202, 'triggered']));
    const logs = answers.map((a) => a.body.log as string).sort();
    const entries = await Promise.all(logs.map((id) => api.waitForLog(t.id, id, DONE)));
    // the newest entry of the lane is never superseded; every older one deployed or was superseded by a newer one
    expect(entries.at(-1)!.status).toBe('succeeded');
    for (const e of entries.slice(0, -1)) {
      expect(['succeeded', 'superseded']).toContain(e.status);
      if (e.status === 'superseded') expect(e.supersededBy > e.id).toBe(true);
    }
    const deployed = calls('/burst').map((c) => c.digest);
    expect(new Set(deployed).size).toBe(deployed.length);
    expect(deployed).toEqual(entries.filter((e) => e.status === 'succeeded').map((e) => e.event.digest));
  });

  it('8 tags of one digest at once (one push, several tags): one deploy, the others "already" naming it', async () => {
    const t = await createTrigger({
      name: 'tags-at-once',
      provider: 'harbor',
      target: { type: 'http', url: `${target.url}/tags-at-once` },
    });
    const auth = { authorization: `Bearer ${t.secret}` };
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        api.hook(`/hooks/harbor/${t.id}`, harborPush(`tag-${i}`, DIGEST_B, 1700000700 + i), auth),
      ),
    );
    expect(answers.every((a) => a.status === 202)).toBe(true);
    const triggered = answers.filter((a) => a.body.status === 'triggered');
    expect(triggered).toHaveLength(1);
    for (const a of answers.filter((x) => x.body.status !== 'triggered')) {
      expect(a.body).toMatchObject({ status: 'untriggered' });
      expect(a.body.reason).toMatch(
        new RegExp(`^already (deploying|running) sha256:b{12}.* \\(log ${triggered[0].body.log}\\)$`),
      );
    }
    expect((await api.waitForLog(t.id, triggered[0].body.log, DONE)).status).toBe('succeeded');
    expect(calls('/tags-at-once')).toHaveLength(1);
  });
});

describe('webhooks of one lane racing from separate instances (no lock shared)', () => {
  /**
   * `n` copies of the dispatcher, each with its own modules (as n Lambda instances), whose deploy state reads all
   * finish before any of them writes: every one decides on the same state, so all but one transaction lose the race.
   */
  const SHARED = [
    '@aws-sdk/client-dynamodb',
    '@aws-sdk/client-sqs',
    '@aws-sdk/lib-dynamodb',
    '@aws-sdk/util-dynamodb',
    '@aws-lambda-powertools/logger',
    '@aws-lambda-powertools/metrics',
    '@aws-lambda-powertools/jmespath',
  ];
  const shared: Record<string, unknown> = Object.fromEntries(SHARED.map((m) => [m, require(m)]));
  function racingInstances(n: number) {
    let read = 0;
    let release!: () => void;
    const allRead = new Promise<void>((r) => (release = r));
    let lost = 0;
    const copies = Array.from({ length: n }, () => {
      let copy!: { dispatch: typeof dispatch };
      jest.isolateModules(() => {
        // our modules fresh, the SDK and Powertools shared (loading those again in a sandbox is not supported)
        for (const m of SHARED) jest.doMock(m, () => shared[m]);
        // this copy's own DynamoDB client: its first deploy state read waits for every copy's, its lost races counted
        const { dynamo } = require('../../lib/store/aws');
        let first = true;
        dynamo().middlewareStack.add(
          (next: (a: unknown) => Promise<unknown>) => async (args: { input: { Key?: { sk?: string } } }) => {
            try {
              const out = await next(args);
              if (first && String(args.input.Key?.sk ?? '').startsWith('state#')) {
                first = false;
                if (++read === n) release();
                await allRead;
              }
              return out;
            } catch (e) {
              if ((e as Error).name === 'TransactionCanceledException') lost++;
              throw e;
            }
          },
          { step: 'initialize', name: 'raceBarrier' },
        );
        copy = require('../../lib/match/dispatch');
      });
      return copy;
    });
    return { copies, lost: () => lost };
  }
  const harborEvent = (tag: string, digest: string) => ({
    provider: 'harbor',
    kind: 'image' as const,
    action: 'push' as const,
    namespace: 'test-webhook',
    repository: 'debian',
    repoFullName: 'test-webhook/debian',
    image: `hub.harbor.com/test-webhook/debian:${tag}`,
    tag,
    digest,
  });

  it('8 instances, 8 digests: every one queued, the losers of the race deciding again', async () => {
    const t = await createTrigger({
      name: 'race-digests',
      provider: 'harbor',
      target: { type: 'http', url: `${target.url}/race`, body: { digest: '{{digest}}' } },
    });
    const trigger = (await store.getTrigger(t.id))!;
    const { copies, lost } = racingInstances(8);
    const outcomes = await Promise.all(
      copies.map((c, i) =>
        c.dispatch(trigger, [harborEvent(`2.${i}.0`, `sha256:${(i + 1).toString(16).repeat(64)}`)], (fields) =>
          store.newLogEntry({ triggerId: t.id, provider: 'harbor', ...fields }),
        ),
      ),
    );
    expect(outcomes.map((o) => o.status)).toEqual(outcomes.map(() => 'triggered'));
    // all read the same state: each transaction but the first lost at least once
    expect(lost()).toBeGreaterThanOrEqual(7);
    const entries = await Promise.all(outcomes.map((o) => api.waitForLog(t.id, o.log, DONE)));
    expect(entries.filter((e) => e.status === 'succeeded').length).toBeGreaterThanOrEqual(1);
    const deployed = calls('/race').map((c) => c.digest);
    expect(new Set(deployed).size).toBe(deployed.length);
  });

  it('6 instances, one digest: exactly one queued, the other five "already" naming it', async () => {
    const t = await createTrigger({
      name: 'race-one-digest',
      provider: 'harbor',
      target: { type: 'http', url: `${target.url}/race-one` },
    });
    const trigger = (await store.getTrigger(t.id))!;
    const { copies, lost } = racingInstances(6);
    const outcomes = await Promise.all(
      copies.map((c, i) =>
        c.dispatch(trigger, [harborEvent(`t${i}`, DIGEST_A)], (fields) =>
          store.newLogEntry({ triggerId: t.id, provider: 'harbor', ...fields }),
        ),
      ),
    );
    const queued = outcomes.filter((o) => o.status === 'triggered');
    expect(queued).toHaveLength(1);
    expect(lost()).toBe(5);
    for (const o of outcomes.filter((x) => x.status !== 'triggered')) {
      expect(o).toMatchObject({
        status: 'untriggered',
        reason: expect.stringMatching(
          new RegExp(`^already (deploying|running) sha256:a{12}.* \\(log ${queued[0].log}\\)$`),
        ),
      });
    }
    expect((await api.waitForLog(t.id, queued[0].log, DONE)).status).toBe('succeeded');
    expect(calls('/race-one')).toHaveLength(1);
  });
});

describe('deletes deploy only when asked', () => {
  it('a delete under a `match: {}` trigger is untriggered; a trigger listing delete acts on it', async () => {
    const quiet = await createTrigger({
      name: 'no-deletes',
      provider: 'harbor',
      target: { type: 'http', url: `${target.url}/no-deletes` },
    });
    const res = await api.hook(
      `/hooks/harbor/${quiet.id}`,
      harborPush('old', DIGEST_A, 1700000300, 'DELETE_ARTIFACT'),
      {
        authorization: `Bearer ${quiet.secret}`,
      },
    );
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({
      status: 'untriggered',
      reason: expect.stringMatching(/^action "delete" is acted on only by a trigger that lists it/),
    });
    const loud = await createTrigger({
      name: 'deletes',
      provider: 'harbor',
      match: { actions: ['delete'] },
      target: { type: 'http', url: `${target.url}/deletes` },
    });
    const del = await api.hook(`/hooks/harbor/${loud.id}`, harborPush('old', DIGEST_A, 1700000301, 'DELETE_ARTIFACT'), {
      authorization: `Bearer ${loud.secret}`,
    });
    expect(del.body.status).toBe('triggered');
    await api.waitForLog(loud.id, del.body.log, DONE);
    expect(calls('/no-deletes')).toHaveLength(0);
    expect(calls('/deletes')).toHaveLength(1);
  });
});

describe('never an ambiguous artifact', () => {
  it('an image event with neither tag nor digest is untriggered with a reason, never queued', async () => {
    const t = await createTrigger({
      name: 'no-artifact',
      provider: 'harbor',
      target: { type: 'http', url: `${target.url}/none` },
    });
    const trigger = (await store.getTrigger(t.id))!;
    const event = {
      provider: 'harbor',
      kind: 'image' as const,
      action: 'push' as const,
      repository: 'debian',
      repoFullName: 'test-webhook/debian',
    };
    const outcome = await dispatch(trigger, [event], (fields) =>
      store.newLogEntry({ triggerId: t.id, provider: 'harbor', ...fields }),
    );
    expect(outcome).toMatchObject({
      status: 'untriggered',
      reason: 'event names neither a tag nor a digest: nothing to deploy',
    });
    expect((await store.getLogEntry(t.id, outcome.log))?.status).toBe('untriggered');
  });
});

describe('supersede, never queue behind a failure', () => {
  it('a newer event ends a deploy waiting for its retry at once; the older one is superseded', async () => {
    let failFirst = true;
    const flaky = await startTargetServer((call) => {
      const { tag } = JSON.parse(call.body);
      return tag === '1.0.0' && failFirst ? { status: 503, body: 'warming up' } : { status: 200, body: 'ok' };
    });
    try {
      const t = await createTrigger({
        name: 'supersede',
        provider: 'harbor',
        target: { type: 'http', url: flaky.url, body: { tag: '{{tag}}' } },
      });
      const auth = { authorization: `Bearer ${t.secret}` };
      const older = await api.hook(`/hooks/harbor/${t.id}`, harborPush('1.0.0', DIGEST_A, 1700000400), auth);
      // wait until it failed once and waits for its retry
      await api.waitForLog(t.id, older.body.log, (e) => e?.attempts?.length >= 1 && e.status === 'queued');
      const newer = await api.hook(`/hooks/harbor/${t.id}`, harborPush('1.1.0', DIGEST_B, 1700000401), auth);
      expect(newer.body.status).toBe('triggered');
      const done = await api.waitForLog(t.id, newer.body.log, DONE);
      expect(done.status).toBe('succeeded');
      const old = await api.waitForLog(t.id, older.body.log, DONE);
      expect(old).toMatchObject({ status: 'superseded', supersededBy: newer.body.log });
      expect(old.reason).toBe(`superseded by ${newer.body.log}, a newer event of the same lane`);
      expect(old.attempts).toHaveLength(1);
      failFirst = false;
      // the old one was never deployed after the newer one
      expect(flaky.calls.map((c) => JSON.parse(c.body).tag)).toEqual(['1.0.0', '1.1.0']);
    } finally {
      await flaky.close();
    }
  });

  it('a redeliver is not stuck behind a retrying deploy either', async () => {
    const flaky = await startTargetServer((call) =>
      JSON.parse(call.body).tag === 'broken' ? { status: 500 } : { status: 200 },
    );
    try {
      const t = await createTrigger({
        name: 'redeliver-now',
        provider: 'harbor',
        target: { type: 'http', url: flaky.url, body: { tag: '{{tag}}' } },
      });
      const auth = { authorization: `Bearer ${t.secret}` };
      const good = await api.hook(`/hooks/harbor/${t.id}`, harborPush('good', DIGEST_A, 1700000500), auth);
      expect((await api.waitForLog(t.id, good.body.log, DONE)).status).toBe('succeeded');
      const broken = await api.hook(`/hooks/harbor/${t.id}`, harborPush('broken', DIGEST_B, 1700000501), auth);
      await api.waitForLog(t.id, broken.body.log, (e) => e?.attempts?.length >= 1 && e.status === 'queued');
      // roll back to the good one while the broken one waits for its retry
      const redo = await api.admin('POST', `/admin/triggers/${t.id}/logs/${good.body.log}/redeliver`);
      expect(redo.status).toBe(202);
      expect((await api.waitForLog(t.id, redo.body.log, DONE)).status).toBe('succeeded');
      const b = await api.waitForLog(t.id, broken.body.log, DONE);
      expect(b).toMatchObject({ status: 'superseded', supersededBy: redo.body.log });
      expect(b.attempts.length).toBeLessThan(MAX_ATTEMPTS);
    } finally {
      await flaky.close();
    }
  });

  it('30 rising tags at a target failing 30% of the time: all end, successes in rising order, the newest never superseded', async () => {
    let seed = 20261201;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const deployed: number[] = [];
    const flaky = await startTargetServer((call) => {
      if (rnd() < 0.3) return { status: 500, body: 'random failure' };
      deployed.push(Number(JSON.parse(call.body).tag.split('.')[1]));
      return { status: 200 };
    });
    try {
      const t = await createTrigger({
        name: 'rising',
        provider: 'harbor',
        target: { type: 'http', url: flaky.url, body: { tag: '{{tag}}' } },
      });
      const auth = { authorization: `Bearer ${t.secret}` };
      const logs: string[] = [];
      for (let n = 0; n < 30; n++) {
        const digest = `sha256:${n.toString(16).padStart(64, '0')}`;
        logs.push(
          (await api.hook(`/hooks/harbor/${t.id}`, harborPush(`1.${n}.0`, digest, 1700000600 + n), auth)).body.log,
        );
      }
      const entries = [];
      // 2 minutes after the last push every entry is terminal (the bound; retries wait 2, 4, 8, 16 s)
      for (const log of logs) entries.push(await api.waitForLog(t.id, log, DONE, 120_000));
      expect(entries.filter((e) => !DONE(e))).toEqual([]);
      expect(['succeeded', 'failed']).toContain(entries.at(-1).status);
      expect(deployed).toEqual([...deployed].sort((a, b) => a - b));
      expect(new Set(deployed).size).toBe(deployed.length);
      const counts: Record<string, number> = {};
      for (const e of entries) counts[e.status] = (counts[e.status] ?? 0) + 1;
      console.log(
        `30 rising tags at a 30%-failing target: ${JSON.stringify(counts)}; deployed in order: ${deployed.join(',')}`,
      );
    } finally {
      await flaky.close();
    }
  }, 180_000);
});
