/**
 * `npm start`'s logs, through the local stack: one human-readable line per log call (the local format is the
 * stack's default), each naming the function whose invocation wrote it, even while other functions run at the
 * same time in this one process (the admin API is polled during the deploy).
 */
import { apiClient } from '../helpers/api';
import { captureOutput, type CapturedOutput } from '../helpers/capture-output';
import { fixture } from '../helpers/fixtures';
import { startTestStack } from '../helpers/stack';
import { startTargetServer } from '../helpers/target-server';

let stack: Awaited<ReturnType<typeof startTestStack>>;
let target: Awaited<ReturnType<typeof startTargetServer>>;
let out: CapturedOutput;

/** `22:04:11.532 INFO  deployer       deploy attempt: web-prod dockerhub ...` */
const LINE = /^(\d\d:\d\d:\d\d\.\d{3}) (DEBUG|INFO|WARN|ERROR|CRITICAL)\s+(\S+)\s+(.*)$/;

beforeAll(async () => {
  out = captureOutput();
  target = await startTargetServer();
  // global setup keeps test output to errors; this test reads the INFO lines
  stack = await startTestStack({
    maxReceiveCount: 2,
    retryBaseSeconds: 0,
    functionEnv: { POWERTOOLS_LOG_LEVEL: 'INFO' },
  });
});
afterAll(async () => {
  await stack?.stop();
  await target?.close();
  out?.restore();
});

it('prints one short line per event and per deploy, each with its own function name', async () => {
  const api = apiClient(stack.url, stack.adminToken);
  const created = await api.admin('POST', '/admin/triggers', {
    name: 'web-prod',
    provider: 'dockerhub',
    match: { actions: ['push'], repository: 'testhook' },
    target: { type: 'http', url: `${target.url}/deploy` },
  });
  expect(created.status).toBe(201);
  const { id, webhookUrl } = created.body;
  const res = await api.hook(webhookUrl.slice(stack.url.length), fixture('dockerhub/push-docs-example.json'));
  expect(res.status).toBe(202);
  // polls GET .../logs/{logId} (the adminLogs function) while the deployer runs
  const entry = await api.waitForLog(id, res.body.log, (e) => e.status === 'succeeded' || e.status === 'failed');
  expect(entry.status).toBe('succeeded');

  const lines = out.lines().filter((l) => LINE.test(l));
  const parsed = lines.map((l) => {
    const [, time, level, fn, rest] = LINE.exec(l)!;
    return { time, level, fn, rest };
  });
  // no Powertools JSON from the functions locally
  expect(out.json().filter((j) => 'function_name' in j || 'level' in j)).toEqual([]);

  const triggerLog = parsed.filter((p) => p.rest.startsWith('trigger log:') && p.rest.includes(`log=${res.body.log}`));
  expect(triggerLog).toHaveLength(1);
  expect(triggerLog[0]).toMatchObject({ level: 'INFO', fn: 'hookDockerhub' });
  expect(triggerLog[0].rest).toContain('queued');

  const deployLines = parsed.filter(
    (p) => /^(deployed|deploy attempt|deploy outcome):/.test(p.rest) && p.rest.includes(res.body.log),
  );
  expect(deployLines.length).toBeGreaterThan(0);
  for (const p of deployLines) expect(p.fn).toBe('deployer');
});
