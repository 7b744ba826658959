/**
 * The Webhooks metric and the logger context through the real handler wrappers (middy + Powertools), on paths
 * that need no storage: an unknown trigger id (404) and ECR events that are malformed or ignored.
 */
import type { Context } from 'aws-lambda';
import { captureOutput, type CapturedOutput } from '../../helpers/capture-output';
import { fixture } from '../../helpers/fixtures';

let out: CapturedOutput;
let webhookHandler: typeof import('../../../lib/receive/handlers').webhookHandler;
let ecrHandler: typeof import('../../../functions/ecr').handler;
let dockerhub: typeof import('../../../lib/receive/providers/dockerhub').dockerhub;

const context = (name: string) =>
  ({
    functionName: `triggerfish-test-${name}`,
    awsRequestId: `req-${name}`,
    invokedFunctionArn: 'arn',
    memoryLimitInMB: '256',
    functionVersion: '$LATEST',
  }) as Context;

beforeAll(async () => {
  process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
  delete process.env.TRIGGERFISH_LOG_FORMAT;
  ({ webhookHandler } = await import('../../../lib/receive/handlers'));
  ({ handler: ecrHandler } = await import('../../../functions/ecr'));
  ({ dockerhub } = await import('../../../lib/receive/providers/dockerhub'));
});
beforeEach(() => {
  out = captureOutput();
});
afterEach(() => out.restore());

const emf = () => out.json().filter((l) => '_aws' in l);

it('counts a webhook for an unknown trigger as unknown-trigger, once, by provider', async () => {
  const handler = webhookHandler(dockerhub);
  const res = await handler(
    {
      routeKey: 'POST /hooks/dockerhub/{triggerId}',
      rawPath: '/hooks/dockerhub/nope',
      pathParameters: { triggerId: 'nope' },
      headers: {},
      body: '{}',
      isBase64Encoded: false,
      requestContext: { http: { method: 'POST' } },
    } as never,
    context('hookDockerhub'),
  );
  expect(res.statusCode).toBe(404);
  expect(emf()).toEqual([
    expect.objectContaining({ provider: 'dockerhub', status: 'unknown-trigger', Webhooks: 1, service: 'triggerfish' }),
  ]);
  // the middleware's flush found nothing left and said nothing at INFO
  expect(out.lines().filter((l) => l.includes('No application metrics'))).toEqual([]);
});

it('counts ECR events that are malformed or ignored, and logs them with the ecr function context', async () => {
  const push = JSON.parse(fixture('aws-ecr/ecr_image_action-push-aws-docs.json'));
  const failed = { ...push, detail: { ...push.detail, result: 'FAILURE' } };
  expect((await ecrHandler(failed, context('ecr'))).ignored).toMatch(/FAILURE/);
  const malformed = { ...push, detail: { ...push.detail, 'repository-name': 42 } };
  expect((await ecrHandler(malformed, context('ecr'))).ignored).toMatch(/malformed/);

  expect(emf().map((e) => [e.provider, e.status])).toEqual([
    ['ecr', 'ignored'],
    ['ecr', 'rejected'],
  ]);
  const logs = out.json().filter((l) => !('_aws' in l));
  expect(logs.map((l) => [l.level, l.message, l.function_name])).toEqual([
    ['INFO', 'ECR event ignored', 'triggerfish-test-ecr'],
    ['WARN', 'malformed ECR event', 'triggerfish-test-ecr'],
  ]);
});
