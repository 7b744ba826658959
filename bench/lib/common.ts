/** Shared plumbing for the benchmark parts: options, result output, stand-ins, fixtures. */
import { createHmac } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BatchWriteItemCommand, DynamoDBClient, type WriteRequest } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { PartResult, Row } from './stats';

export const ROOT = path.resolve(__dirname, '..', '..');
export const BENCH_DIR = path.resolve(__dirname, '..');

/** --quick (or BENCH_QUICK=1): a ~1-minute smoke run with fewer rounds and smaller sizes. */
export const QUICK = process.argv.includes('--quick') || process.env.BENCH_QUICK === '1';
export const PROFILE = process.argv.includes('--profile') || process.env.BENCH_PROFILE === '1';

export const log = (...args: unknown[]): void => {
  process.stderr.write(`[bench] ${args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ')}\n`);
};

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Absolute time in ms with sub-ms precision, comparable across processes on this machine. */
export const nowAbs = (): number => performance.timeOrigin + performance.now();

/** Writes the part's result where the runner asked (BENCH_OUT), or prints it when run on its own. */
export function finish(part: string, started: number, rows: Row[], details: unknown, anomalies: string[] = []): void {
  const result: PartResult = { part, rows, details, anomalies, seconds: (Date.now() - started) / 1000 };
  const out = process.env.BENCH_OUT;
  if (out) writeFileSync(out, JSON.stringify(result, null, 2));
  else process.stdout.write(JSON.stringify(result, null, 2) + '\n');
}

/** Runs a part's main, reporting a failure as an exit code (the runner records it and goes on). */
export function runPart(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (err) => {
      process.stderr.write(`[bench] failed: ${(err as Error)?.stack ?? err}\n`);
      process.exit(1);
    },
  );
}

/** Dummy credentials and region, as Lambda and the local stack provide them. */
export function awsEnv(): void {
  process.env.AWS_REGION ??= 'us-east-1';
  process.env.AWS_DEFAULT_REGION ??= 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID ??= 'local';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
  // the SDK's "Node 20 support ends" notice (Lambda runs nodejs22.x, which never prints it)
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}

/** The stand-ins the runner started (BENCH_DYNAMODB_ENDPOINT / BENCH_SQS_ENDPOINT), else our own. */
export async function standIns(): Promise<{ endpoints: { dynamodb: string; sqs: string }; stop: () => Promise<void> }> {
  const dynamodb = process.env.BENCH_DYNAMODB_ENDPOINT;
  const sqs = process.env.BENCH_SQS_ENDPOINT;
  if (dynamodb && sqs) return { endpoints: { dynamodb, sqs }, stop: async () => undefined };
  const { startStandIns } = await import('../../lib/local/standins');
  const s = await startStandIns();
  return { endpoints: { dynamodb: s.dynamodb.endpoint, sqs: s.sqs.endpoint }, stop: () => s.stop() };
}

/**
 * Fills a table fast: `count` items (`itemAt(i)`, plain objects) in BatchWriteItem calls of 25, `concurrency` at a
 * time, sending again what DynamoDB leaves unprocessed. Items are made as they are sent (100,000 triggers need not
 * sit in memory at once).
 */
export async function putAll(
  client: DynamoDBClient,
  table: string,
  count: number,
  itemAt: (i: number) => Record<string, unknown>,
  concurrency = 8,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const from = next;
      next = Math.min(count, next + 25);
      let reqs: WriteRequest[] = [];
      for (let i = from; i < next; i++)
        reqs.push({ PutRequest: { Item: marshall(itemAt(i), { removeUndefinedValues: true }) } });
      while (reqs.length) {
        const out = await client.send(new BatchWriteItemCommand({ RequestItems: { [table]: reqs } }));
        reqs = out.UnprocessedItems?.[table] ?? [];
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

// ------------------------------------------------------------------------------------------------------------
// webhook bodies (from the test fixtures, made unique per delivery)

export const fixture = (p: string): string => readFileSync(path.join(ROOT, 'test', 'fixtures', p), 'utf8');

export const signGithub = (secret: string, body: string): string =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

/**
 * A Docker Hub push of svendowideit/testhook:<tag>. `callback_url` is removed: the deployer answers Docker Hub's
 * callback on the internet, and the benchmark stays on loopback.
 */
export function dockerhubBody(tag: string, pushedAt: number): string {
  const b = JSON.parse(fixture('dockerhub/push-docs-example.json'));
  delete b.callback_url;
  b.push_data.tag = tag;
  b.push_data.pushed_at = pushedAt;
  return JSON.stringify(b);
}

/** A GitHub push to refs/heads/main (an 8.8 KB body, octokit's example), head commit id made unique by `n`. */
export function githubPushBody(n: number): string {
  const b = JSON.parse(fixture('github/push-octokit-with-new-branch.json'));
  b.ref = 'refs/heads/main';
  b.deleted = false;
  const id = n.toString(16).padStart(40, '0');
  b.after = id;
  if (b.head_commit) b.head_commit.id = id;
  return JSON.stringify(b);
}

/** An EventBridge "ECR Image Action" push for `repository`, unique by `n` (event id and digest). */
export function ecrEvent(repository: string, n: number): Record<string, unknown> {
  const e = JSON.parse(fixture('aws-ecr/ecr_image_action-push-aws-docs.json'));
  e.id = `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
  e.detail['repository-name'] = repository;
  e.detail['image-digest'] = `sha256:${n.toString(16).padStart(64, '0')}`;
  e.detail['image-tag'] = `v1.0.${n}`;
  return e;
}
