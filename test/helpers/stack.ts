/**
 * For e2e test files: a whole Triggerfish stack in this jest worker, on the stand-ins global-setup.ts started,
 * with fresh tables and queues (unique name suffix), the HTTP API on a free port and the deployer's poller.
 *
 *   let stack: TestStack;
 *   beforeAll(async () => { stack = await startTestStack({ maxReceiveCount: 2, retryBaseSeconds: 1, visibilityTimeout: 1 }); });
 *   afterAll(() => stack?.stop());
 *   ... fetch(`${stack.url}/admin/triggers`, { headers: { authorization: `Bearer ${stack.adminToken}` } })
 *
 * One stack per test file at a time: it sets process.env (jest gives every test file its own copy).
 */
import { startLocalStack, type LocalStack, type LocalStackOptions, type StackOverrides } from '../../lib/local/stack';
import { startStandIns, type StandIns } from '../../lib/local/standins';
import { uniqueSuffix } from '../../lib/local/resources';

export type TestStack = LocalStack;

export interface TestStackOptions extends StackOverrides {
  /** extra environment for the functions */
  functionEnv?: Record<string, string>;
  adminToken?: string;
  /** any other startLocalStack option (routes, handlers, onError, onBatch ...) */
  stack?: Partial<LocalStackOptions>;
}

/** The shared stand-ins' endpoints, or undefined when global setup did not start them. */
export function testEndpoints(): { dynamodb: string; sqs: string } | undefined {
  const dynamodb = process.env.TF_TEST_DYNAMODB_ENDPOINT;
  const sqs = process.env.TF_TEST_SQS_ENDPOINT;
  return dynamodb && sqs ? { dynamodb, sqs } : undefined;
}

export async function startTestStack(options: TestStackOptions = {}): Promise<TestStack> {
  const { functionEnv, adminToken, stack: extra, ...overrides } = options;
  let own: StandIns | undefined;
  let endpoints = testEndpoints();
  if (!endpoints) {
    // global setup skipped (TF_TEST_STANDINS=0): this stack brings its own
    own = await startStandIns();
    endpoints = { dynamodb: own.dynamodb.endpoint, sqs: own.sqs.endpoint };
  }
  try {
    const stack = await startLocalStack({
      port: 0,
      host: '127.0.0.1',
      suffix: uniqueSuffix(),
      endpoints,
      destroyResources: true,
      adminToken,
      // the samples' callback_url points at Docker Hub, which tests cannot (and must not) reach
      env: { DOCKERHUB_CALLBACKS: 'false', ...functionEnv },
      overrides,
      ...extra,
    });
    return {
      ...stack,
      stop: async () => {
        try {
          await stack.stop();
        } finally {
          await own?.stop();
        }
      },
    };
  } catch (err) {
    await own?.stop();
    throw err;
  }
}
