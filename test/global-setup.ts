/**
 * Starts DynamoDB Local and the SQS stand-in ONCE for the whole jest run and hands their endpoints to the test
 * workers through the environment (workers are forked after this runs and inherit process.env):
 *   TF_TEST_DYNAMODB_ENDPOINT, TF_TEST_SQS_ENDPOINT, plus AWS_REGION and dummy credentials.
 * Test files create their own tables/queues on them (test/helpers/stack.ts: startTestStack).
 *
 * Reuses running stand-ins when TF_TEST_DYNAMODB_ENDPOINT and TF_TEST_SQS_ENDPOINT are already set.
 * TF_TEST_STANDINS=0 skips them (pure unit runs; startTestStack then starts its own).
 */
import { startStandIns, type StandIns } from '../lib/local/standins';

declare global {
  var __TRIGGERFISH_STANDINS__: StandIns | undefined;
}

export default async function globalSetup(): Promise<void> {
  // the SDK's "Node 20 support ends" notice, once per worker, is known (see /work/shared/TOOLCHAIN.md): keep output readable
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  process.env.AWS_REGION ??= 'us-east-1';
  // functions log a JSON line per webhook; keep test output to errors (TF_LOG_LEVEL=INFO to see them)
  process.env.POWERTOOLS_LOG_LEVEL ??= process.env.TF_LOG_LEVEL ?? 'ERROR';
  // and no EMF metric lines (a test that imports a handler before its stack starts would print them otherwise)
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  process.env.AWS_ACCESS_KEY_ID ??= 'local';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
  if (process.env.TF_TEST_STANDINS === '0') return;
  if (process.env.TF_TEST_DYNAMODB_ENDPOINT && process.env.TF_TEST_SQS_ENDPOINT) return;

  const standIns = await startStandIns();
  globalThis.__TRIGGERFISH_STANDINS__ = standIns;
  process.env.TF_TEST_DYNAMODB_ENDPOINT = standIns.dynamodb.endpoint;
  process.env.TF_TEST_SQS_ENDPOINT = standIns.sqs.endpoint;
}
