/**
 * `npx tsx bench/supersede.ts [pushes] [failRate]`: N pushes with rising tags to ONE trigger whose target fails at
 * random (default 60 pushes, 30%), with the default RETRY_BASE_SECONDS (10 s, doubling) and 5 attempts, on the local
 * stack. Prints the time from the last push until every entry was terminal, the counts per status, and whether the
 * successful deploys arrived in rising tag order (an older image never after a newer one).
 *
 * Issue 8's measurement: before superseding, a failing deploy's retry backoff held back every newer event of the
 * trigger (60 pushes: 17 still `queued` 4 minutes after the last push). Not part of `npm test` (it runs for minutes
 * when the retries are long); nothing is asserted, the figures are printed.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fixture, sleep, standIns } from './lib/common';
import { startLocalStack } from '../lib/local/stack';
import { uniqueSuffix } from '../lib/local/resources';

const PUSHES = Number(process.argv[2] ?? 60);
const FAIL_RATE = Number(process.argv[3] ?? 0.3);
const TERMINAL = new Set(['succeeded', 'failed', 'superseded']);

async function main() {
  let seed = 20261201;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed / 2 ** 31);
  const deployed: number[] = [];
  let calls = 0;
  const target = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      calls++;
      if (rnd() < FAIL_RATE) return res.writeHead(500).end('random failure');
      deployed.push(Number(JSON.parse(body).tag.split('.')[1]));
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  const targetUrl = `http://127.0.0.1:${(target.address() as AddressInfo).port}/deploy`;

  const s = await standIns();
  const stack = await startLocalStack({
    port: 0,
    suffix: uniqueSuffix(),
    endpoints: s.endpoints,
    destroyResources: true,
    env: { DOCKERHUB_CALLBACKS: 'false', POWERTOOLS_LOG_LEVEL: 'ERROR' },
  });
  try {
    const admin = { authorization: `Bearer ${stack.adminToken}`, 'content-type': 'application/json' };
    const t = (await (
      await fetch(`${stack.url}/admin/triggers`, {
        method: 'POST',
        headers: admin,
        body: JSON.stringify({
          name: 'supersede-bench',
          provider: 'harbor',
          target: { type: 'http', url: targetUrl, body: { tag: '{{tag}}' } },
        }),
      })
    ).json()) as { id: string; secret: string };
    const logs: string[] = [];
    const t0 = Date.now();
    for (let n = 0; n < PUSHES; n++) {
      const body = JSON.parse(fixture('harbor/push_artifact-default-harbor-docs-2.0-debian.json'));
      body.occur_at = 1700000000 + n;
      body.event_data.resources[0] = {
        digest: `sha256:${n.toString(16).padStart(64, '0')}`,
        tag: `1.${n}.0`,
        resource_url: `hub.harbor.com/test-webhook/debian:1.${n}.0`,
      };
      const res = await fetch(`${stack.url}/hooks/harbor/${t.id}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${t.secret}` },
        body: JSON.stringify(body),
      });
      logs.push(((await res.json()) as { log: string }).log);
      await sleep(50);
    }
    const lastPush = Date.now();
    let statuses: string[] = [];
    for (;;) {
      statuses = await Promise.all(
        logs.map(
          async (log) =>
            (
              (await (await fetch(`${stack.url}/admin/triggers/${t.id}/logs/${log}`, { headers: admin })).json()) as {
                status: string;
              }
            ).status,
        ),
      );
      if (statuses.every((st) => TERMINAL.has(st)) || Date.now() - lastPush > 600_000) break;
      await sleep(500);
    }
    const counts: Record<string, number> = {};
    for (const st of statuses) counts[st] = (counts[st] ?? 0) + 1;
    const rising = deployed.every((v, i) => i === 0 || v > deployed[i - 1]);
    console.log(
      JSON.stringify(
        {
          pushes: PUSHES,
          failRate: FAIL_RATE,
          pushingSeconds: (lastPush - t0) / 1000,
          lastPushToAllTerminalSeconds: (Date.now() - lastPush) / 1000,
          counts,
          targetCalls: calls,
          deployedInRisingOrder: rising,
          newestEntry: statuses.at(-1),
          deployedTags: deployed.join(','),
        },
        null,
        2,
      ),
    );
  } finally {
    await stack.stop();
    await s.stop();
    target.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
