/**
 * A deploy target URL refused at send time (issue 10: it used to print nothing) logs an ERROR attempt and an
 * ERROR `refused` outcome. Private targets are not allowed on this stack, as deployed on AWS. Creation refuses
 * `localhost` now, so the trigger is stored as one created before that check was (the deployer checks again at send).
 */
import { apiClient } from '../helpers/api';
import { captureOutput, type CapturedOutput } from '../helpers/capture-output';
import { fixture } from '../helpers/fixtures';
import { startTestStack } from '../helpers/stack';
import * as store from '../../lib/store/store';

let stack: Awaited<ReturnType<typeof startTestStack>>;
let out: CapturedOutput;

beforeAll(async () => {
  out = captureOutput();
  stack = await startTestStack({
    maxReceiveCount: 3,
    retryBaseSeconds: 0,
    functionEnv: { POWERTOOLS_LOG_LEVEL: 'INFO', TRIGGERFISH_LOG_FORMAT: 'json', ALLOW_PRIVATE_TARGETS: 'false' },
  });
});
afterAll(async () => {
  await stack?.stop();
  out?.restore();
});

it('logs an ERROR attempt and an ERROR refused outcome, and does not retry', async () => {
  const api = apiClient(stack.url, stack.adminToken);
  const created = await api.admin('POST', '/admin/triggers', {
    name: 'logs-refused',
    provider: 'dockerhub',
    match: { actions: ['push'], repository: 'testhook' },
    target: { type: 'http', url: 'https://deploy.example.com/deploy' },
  });
  expect(created.status).toBe(201);
  const stored = (await store.getTrigger(created.body.id))!;
  expect(
    await store.replaceTrigger({
      ...stored,
      target: { type: 'http', url: 'http://localhost:8080/deploy' } as typeof stored.target,
    }),
  ).toBe(true);
  const res = await api.hook(
    created.body.webhookUrl.slice(stack.url.length),
    fixture('dockerhub/push-docs-example.json'),
  );
  expect(res.status).toBe(202);
  const entry = await api.waitForLog(
    created.body.id,
    res.body.log,
    (e) => e.status === 'failed' || e.status === 'succeeded',
    30000,
  );
  expect(entry.status).toBe('failed');
  const until = Date.now() + 10_000;
  let lines = out.json().filter((l) => l.logId === res.body.log);
  while (!lines.some((l) => l.message === 'deploy outcome') && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 50));
    lines = out.json().filter((l) => l.logId === res.body.log);
  }
  expect(lines.filter((l) => l.message === 'deploy attempt')).toEqual([
    expect.objectContaining({
      level: 'ERROR',
      outcome: 'failed',
      attempt: 1,
      error: expect.stringMatching(/refused|not allowed/),
      function_name: 'triggerfish-local-deployer',
    }),
  ]);
  expect(lines.filter((l) => l.message === 'deploy outcome')).toEqual([
    expect.objectContaining({ level: 'ERROR', status: 'refused', attempts: 1, triggerName: 'logs-refused' }),
  ]);
});
