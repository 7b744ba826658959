/**
 * Every deploy attempt and every final outcome logs one structured line (issue 10), end to end on the local
 * stack with real local HTTP servers as targets: a target that always fails gives a WARN line per retry, an
 * ERROR attempt and one ERROR outcome; a success gives INFO lines. (A refused URL: deploy-logs-refused.test.ts.)
 */
import { apiClient } from '../helpers/api';
import { captureOutput, type CapturedOutput } from '../helpers/capture-output';
import { fixture } from '../helpers/fixtures';
import { startTestStack } from '../helpers/stack';
import { startTargetServer } from '../helpers/target-server';

let stack: Awaited<ReturnType<typeof startTestStack>>;
let api: ReturnType<typeof apiClient>;
let ok: Awaited<ReturnType<typeof startTargetServer>>;
let down: Awaited<ReturnType<typeof startTargetServer>>;
let out: CapturedOutput;

const MAX_ATTEMPTS = 3;
const FINISHED = (e: any) => e?.status === 'succeeded' || e?.status === 'failed';

beforeAll(async () => {
  out = captureOutput();
  ok = await startTargetServer();
  down = await startTargetServer(() => ({ status: 503, body: 'deploy service down' }));
  stack = await startTestStack({
    maxReceiveCount: MAX_ATTEMPTS,
    retryBaseSeconds: 0,
    // Lambda's JSON lines, at INFO (global setup keeps test output to errors)
    functionEnv: { POWERTOOLS_LOG_LEVEL: 'INFO', TRIGGERFISH_LOG_FORMAT: 'json' },
  });
  api = apiClient(stack.url, stack.adminToken);
});
afterAll(async () => {
  await stack?.stop();
  await ok?.close();
  await down?.close();
  out?.restore();
});

async function deploy(name: string, url: string) {
  const created = await api.admin('POST', '/admin/triggers', {
    name,
    provider: 'dockerhub',
    match: { actions: ['push'], repository: 'testhook' },
    target: { type: 'http', url, headers: { 'X-Deploy-Token': 'target-secret-value' } },
  });
  expect(created.status).toBe(201);
  const res = await api.hook(
    created.body.webhookUrl.slice(stack.url.length),
    fixture('dockerhub/push-docs-example.json'),
  );
  expect(res.status).toBe(202);
  const entry = await api.waitForLog(created.body.id, res.body.log, FINISHED, 30000);
  // the outcome line is printed right after the outcome is recorded: wait for it rather than race it
  const until = Date.now() + 10_000;
  let lines = out.json().filter((l) => l.logId === res.body.log);
  while (!lines.some((l) => l.message === 'deploy outcome') && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 50));
    lines = out.json().filter((l) => l.logId === res.body.log);
  }
  return { trigger: created.body, logId: res.body.log as string, entry, lines, secret: created.body.secret as string };
}

const withMessage = (lines: any[], message: string) => lines.filter((l) => l.message === message);

it('a success logs one INFO attempt and one INFO outcome with the deploy fields', async () => {
  const { trigger, logId, entry, lines } = await deploy('logs-ok', `${ok.url}/deploy`);
  expect(entry.status).toBe('succeeded');
  const attempts = withMessage(lines, 'deploy attempt');
  expect(attempts).toEqual([
    expect.objectContaining({
      level: 'INFO',
      function_name: 'triggerfish-local-deployer',
      triggerId: trigger.id,
      triggerName: 'logs-ok',
      logId,
      provider: 'dockerhub',
      image: expect.stringContaining('svendowideit/testhook'),
      targetType: 'http',
      attempt: 1,
      maxAttempts: MAX_ATTEMPTS,
      outcome: 'succeeded',
      statusCode: 200,
      durationMs: expect.any(Number),
    }),
  ]);
  expect(withMessage(lines, 'deploy outcome')).toEqual([
    expect.objectContaining({ level: 'INFO', status: 'succeeded', attempts: 1, latencyMs: expect.any(Number) }),
  ]);
  // the receiver's one line per event
  expect(withMessage(lines, 'trigger log')).toEqual([
    expect.objectContaining({
      level: 'INFO',
      function_name: 'triggerfish-local-hookDockerhub',
      triggerName: 'logs-ok',
      provider: 'dockerhub',
      image: expect.stringContaining('svendowideit/testhook'),
      status: 'queued',
    }),
  ]);
});

it('a target that always fails logs a WARN per retry, then one ERROR attempt and one ERROR outcome', async () => {
  const { entry, lines, secret } = await deploy('logs-down', `${down.url}/deploy`);
  expect(entry.status).toBe('failed');
  const attempts = withMessage(lines, 'deploy attempt');
  expect(attempts.map((a) => [a.level, a.attempt, a.outcome])).toEqual([
    ['WARN', 1, 'retry'],
    ['WARN', 2, 'retry'],
    ['ERROR', 3, 'failed'],
  ]);
  for (const a of attempts)
    expect(a).toMatchObject({
      statusCode: 503,
      maxAttempts: MAX_ATTEMPTS,
      function_name: 'triggerfish-local-deployer',
    });
  expect(attempts[0]).toHaveProperty('retryInSeconds', 0);
  const outcomes = withMessage(lines, 'deploy outcome');
  expect(outcomes).toEqual([
    expect.objectContaining({
      level: 'ERROR',
      status: 'given-up',
      attempts: MAX_ATTEMPTS,
      error: expect.stringContaining('503'),
    }),
  ]);
  // no credential or request body on any line
  const text = JSON.stringify(lines);
  expect(text).not.toContain('target-secret-value');
  expect(text).not.toContain(secret);
  expect(text).not.toContain('push_data');
});
