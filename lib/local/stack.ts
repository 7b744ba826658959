/**
 * The whole system on loopback: DynamoDB Local + the SQS stand-in, the tables and queues of serverless.yml, the
 * HTTP API (gateway.ts) and the deployer's SQS event source (sqs-poller.ts), with the environment the functions
 * read (lib/core/config.ts) set in process.env before any handler module is loaded.
 *
 * process.env is global: run one stack per process (jest gives each test file its own copy of process.env).
 *
 * Own stand-ins are supervised: one that exits is started again (same port, same data dir); meanwhile /health
 * answers 503 naming it, webhooks answer 503 and the deployer pauses. At start, and after the SQS stand-in
 * (which keeps nothing) restarted, deploys left in flight are queued again from the trigger log (reconcile.ts).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ChangeMessageVisibilityCommand, GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type { ReconcileReport } from '../deploy/reconcile';
import { persistentAdminToken } from './data-dir';
import { localHealthHandler, type DependencyStatus } from './health';
import { dynamoAnswers, startSupervisedStandIns, type StandInName, type SupervisedStandIns } from './standins';
import {
  LOCAL_REGION,
  LOCAL_STAGE,
  createResources,
  loadServerlessConfig,
  localSqsClient,
  type LocalResources,
  type ResourceOverrides,
} from './resources';
import { routesFromServerless, startGateway, type Gateway, type HttpRoute, type LambdaHandler } from './gateway';
import { sqsFunctionsFromServerless, startSqsPoller, type BatchReport, type SqsPoller } from './sqs-poller';
import { installLocalInvokeStore, LOCAL_MAX_CONCURRENCY } from './invoke-store';

export interface StackOverrides extends ResourceOverrides {
  /** serverless.yml custom.maxReceiveCount: the queue's redrive AND the MAX_RECEIVE_COUNT the deployer reads */
  maxReceiveCount?: number;
  /** RETRY_BASE_SECONDS (first retry delay the deployer sets as the failed message's visibility timeout) */
  retryBaseSeconds?: number;
  /** VisibilityTimeout of every queue an sqs-event function consumes (DeployQueue) */
  visibilityTimeout?: number;
}

export interface LocalStackOptions {
  /** gateway port (default 0: any free one) */
  port?: number;
  /** gateway host (default 127.0.0.1) */
  host?: string;
  /** appended to table and queue names (tests: a unique one per stack) */
  suffix?: string;
  /** ${sls:stage} (default 'local') */
  stage?: string;
  /** extra environment for the functions; wins over everything derived */
  env?: Record<string, string>;
  overrides?: StackOverrides;
  /** reuse running stand-ins instead of starting new ones */
  endpoints?: { dynamodb: string; sqs: string };
  /** default: TRIGGERFISH_ADMIN_TOKEN from the environment, else a random one */
  adminToken?: string;
  /** replace the httpApi routes of serverless.yml (tests) */
  routes?: HttpRoute[];
  /** replace some functions' handlers, by function name (e.g. {deployer: myTestHandler}) */
  handlers?: Record<string, string | LambdaHandler>;
  serverlessFile?: string;
  projectRoot?: string;
  accessLog?: (line: string) => void;
  onError?: (err: unknown, where: string) => void;
  onBatch?: (report: BatchReport) => void;
  /** delete the tables and queues on stop (default: true when reusing stand-ins) */
  destroyResources?: boolean;
  /**
   * keep DynamoDB Local's data in <dataDir>/dynamodb and the admin token in <dataDir>/admin-token (npm start);
   * default: in memory. Only for stand-ins this stack starts.
   */
  dataDir?: string;
  /** queue again deploys left `queued`/`deploying` before the deployer starts (default true) */
  reconcileOnStart?: boolean;
  /** supervision and reconciliation news, one line each (default: console.error) */
  log?: (line: string) => void;
}

/**
 * Where the admin token came from: given (option or TRIGGERFISH_ADMIN_TOKEN), or made by this start (`generated`;
 * kept in `file` when there is a data dir), or read from the data dir's `file`. `npm start` prints the token only
 * when it was just generated or stdout is a terminal (scripts/start.ts).
 */
export type AdminTokenSource = { given: true } | { generated: boolean; file?: string };

export interface LocalStack {
  /** gateway base URL, e.g. http://127.0.0.1:3000 */
  url: string;
  port: number;
  adminToken: string;
  adminTokenSource: AdminTokenSource;
  /** every variable this stack set in process.env */
  env: Record<string, string>;
  resources: LocalResources;
  endpoints: { dynamodb: string; sqs: string };
  /** the stand-ins this stack started and supervises (undefined when it reuses running ones) */
  standIns?: SupervisedStandIns;
  /** what reconciliation at start queued again */
  reconciled?: ReconcileReport;
  /** whether each dependency answers (what /health reports) */
  dependencies(): Promise<DependencyStatus>;
  /** stops poller, gateway, stand-ins we started; deletes resources if asked; restores process.env */
  stop(): Promise<void>;
}

/** provider.environment entries that make no sense in-process locally */
const NOT_LOCAL = new Set(['NODE_OPTIONS', 'ADMIN_TOKEN_PARAM', 'SECRET_PREFIX']);

/**
 * Logs and metrics locally: one human-readable line per log call (TRIGGERFISH_LOG_FORMAT=json for Lambda's JSON),
 * no EMF metric lines (POWERTOOLS_METRICS_DISABLED=false to see them), and Powertools state kept per invocation
 * (invoke-store.ts). The caller's environment wins; serverless.yml's provider.environment and `env` win over these.
 */
function localObservabilityEnv(): Record<string, string> {
  return {
    TRIGGERFISH_LOG_FORMAT: process.env.TRIGGERFISH_LOG_FORMAT ?? 'local',
    POWERTOOLS_METRICS_DISABLED: process.env.POWERTOOLS_METRICS_DISABLED ?? 'true',
    AWS_LAMBDA_MAX_CONCURRENCY: LOCAL_MAX_CONCURRENCY,
  };
}

export async function startLocalStack(opts: LocalStackOptions = {}): Promise<LocalStack> {
  const stage = opts.stage ?? LOCAL_STAGE;
  const region = LOCAL_REGION;
  const log = opts.log ?? ((line: string) => console.error(line));
  const cleanups: (() => Promise<void>)[] = [];
  const savedEnv = new Map<string, string | undefined>();
  const setEnv = (vars: Record<string, string>) => {
    for (const [k, v] of Object.entries(vars)) {
      if (!savedEnv.has(k)) savedEnv.set(k, process.env[k]);
      process.env[k] = v;
    }
  };
  const restoreEnv = () => {
    for (const [k, v] of savedEnv) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
  let stopped = false;
  const runCleanups = async () => {
    stopped = true;
    for (const c of cleanups.reverse()) {
      try {
        await c();
      } catch (err) {
        console.error('[stack] stop:', err);
      }
    }
    cleanups.length = 0;
    restoreEnv();
  };

  // supervision news arrives from the stand-ins; handled one at a time, once the stack is up.
  // `down`: exited and not yet recovered from; `restarted`: of those, the ones running again. Recovery (resources,
  // reconciliation, deployer) runs once every stand-in that went down runs again.
  const down = new Set<StandInName>();
  const restarted = new Set<StandInName>();
  let onStandInDown: (name: StandInName) => Promise<void> = async () => undefined;
  let recover: (names: StandInName[]) => Promise<void> = async () => undefined;
  let news = Promise.resolve();
  const queueNews = (fn: () => Promise<void>) => {
    news = news
      .then(fn)
      .catch((err) => log(`[stack] handling a stand-in restart failed: ${(err as Error).stack ?? err}`));
  };
  const tryRecover = async (): Promise<void> => {
    if (stopped || down.size === 0 || [...down].some((n) => !restarted.has(n))) return;
    const names = [...down];
    try {
      await recover(names);
    } catch (err) {
      log(`[stack] recovering after the restart failed (trying again in 2 s): ${(err as Error).message}`);
      setTimeout(() => queueNews(tryRecover), 2000).unref();
      return;
    }
    for (const n of names) {
      down.delete(n);
      restarted.delete(n);
      log(`[stack] ${label(n)} is back`);
    }
    log('[stack] deploys resume');
  };
  const label = (name: StandInName) => (name === 'dynamodb' ? 'DynamoDB Local' : 'the SQS stand-in (fauxqs)');

  try {
    // 1. stand-ins
    let endpoints = opts.endpoints;
    let standIns: SupervisedStandIns | undefined;
    if (!endpoints) {
      standIns = await startSupervisedStandIns({
        dataDir: opts.dataDir,
        onDown: (name) => {
          down.add(name);
          restarted.delete(name);
          log(`[stack] ${label(name)} exited; restarting it (webhooks answer 503 and deploys pause meanwhile)`);
          queueNews(() => onStandInDown(name));
        },
        onRestartFailed: (name, err, ms) =>
          log(`[stack] restarting ${label(name)} failed (next try in ${ms} ms): ${(err as Error).message}`),
        onUp: (name) => {
          restarted.add(name);
          queueNews(tryRecover);
        },
      });
      const own = standIns;
      cleanups.push(() => own.stop());
      endpoints = { dynamodb: standIns.dynamodb.endpoint, sqs: standIns.sqs.endpoint };
    }
    const awsEnv: Record<string, string> = {
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      DYNAMODB_ENDPOINT: endpoints.dynamodb,
      SQS_ENDPOINT: endpoints.sqs,
    };

    // 2. resources (tables, queues) and the functions' environment
    const variablesEnv = {
      ...process.env,
      ALLOW_PRIVATE_TARGETS: opts.env?.ALLOW_PRIVATE_TARGETS ?? process.env.ALLOW_PRIVATE_TARGETS ?? 'true',
    };
    const o = opts.overrides ?? {};
    const custom = {
      ...(o.custom ?? {}),
      ...(o.maxReceiveCount !== undefined ? { maxReceiveCount: o.maxReceiveCount } : {}),
    };
    const preview = loadServerlessConfig({ file: opts.serverlessFile, stage, region, env: variablesEnv, custom });
    const sqsFns = sqsFunctionsFromServerless(preview);
    const queues = { ...(o.queues ?? {}) };
    if (o.visibilityTimeout !== undefined) {
      for (const f of sqsFns) {
        if (f.queueLogicalId)
          queues[f.queueLogicalId] = { ...(queues[f.queueLogicalId] ?? {}), VisibilityTimeout: o.visibilityTimeout };
      }
    }
    const ep = endpoints;
    // only created where missing: a persistent DynamoDB Local keeps its tables (and items) across restarts
    const makeResources = () =>
      createResources({
        dynamodbEndpoint: ep.dynamodb,
        sqsEndpoint: ep.sqs,
        region,
        stage,
        suffix: opts.suffix,
        file: opts.serverlessFile,
        variablesEnv,
        overrides: { custom, queues, tables: o.tables },
      });
    const resources = await makeResources();
    if (opts.destroyResources ?? !!opts.endpoints) cleanups.push(() => resources.destroy());

    const given = opts.adminToken ?? opts.env?.TRIGGERFISH_ADMIN_TOKEN ?? process.env.TRIGGERFISH_ADMIN_TOKEN;
    const stored = given === undefined && opts.dataDir ? persistentAdminToken(opts.dataDir) : undefined;
    const adminToken = given ?? stored?.token ?? randomBytes(24).toString('base64url');
    const adminTokenSource: AdminTokenSource =
      given !== undefined
        ? { given: true }
        : stored
          ? { generated: stored.created, file: stored.file }
          : { generated: true };
    const fnEnv: Record<string, string> = {};
    for (const [k, v] of Object.entries(resources.env)) if (!NOT_LOCAL.has(k)) fnEnv[k] = v;
    // the local secret store target references resolve from: kept in the data dir, or for this run only
    let secretsDir: string;
    if (opts.dataDir) secretsDir = path.join(opts.dataDir, 'secrets');
    else {
      const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'triggerfish-secrets-'));
      cleanups.push(async () => fs.rmSync(temp, { recursive: true, force: true }));
      secretsDir = temp;
    }
    const env: Record<string, string> = {
      ...awsEnv,
      TRIGGERFISH_SECRETS_DIR: secretsDir,
      ...localObservabilityEnv(),
      ...fnEnv,
      ...(o.retryBaseSeconds !== undefined ? { RETRY_BASE_SECONDS: String(o.retryBaseSeconds) } : {}),
      ...(o.env ?? {}),
      TRIGGERFISH_ADMIN_TOKEN: adminToken,
      ...(opts.env ?? {}),
    };
    installLocalInvokeStore();
    setEnv(env); // before any handler module is required (they are loaded on first use)

    // 3. deploys left in flight by the last run (killed, crashed): queued again before the deployer starts
    let reconciled: ReconcileReport | undefined;
    if (opts.reconcileOnStart ?? true) {
      // loaded only now, like the handlers: the logger it brings reads its settings from the env set above
      const { reconcileInFlight, repairLaneStates } = await import('../deploy/reconcile');
      await repairLaneStates();
      reconciled = await reconcileInFlight({ cause: 'a restart of the local stack' });
      if (reconciled.reverified.length)
        log(`[stack] scheduled again the verification of ${reconciled.reverified.length} deploy(s)`);
      if (reconciled.requeued.length) {
        log(
          `[stack] queued again ${reconciled.requeued.length} deploy(s) left in flight by the last run` +
            (reconciled.unknownOutcome.length
              ? ` (${reconciled.unknownOutcome.length} were running: outcome unknown, retried)`
              : ''),
        );
      }
    }

    const dependencies = () => dependencyStatus(ep, env.DEPLOY_QUEUE_URL, down);

    // 4. HTTP API
    const substitute = <T extends { name: string; handler: string | LambdaHandler }>(f: T): T =>
      opts.handlers?.[f.name] !== undefined ? { ...f, handler: opts.handlers[f.name] } : f;
    const withLocalHealth = <T extends { name: string; handler: string | LambdaHandler }>(f: T): T =>
      f.name === 'health' && opts.handlers?.health === undefined
        ? { ...f, handler: localHealthHandler(dependencies) }
        : f;
    const routes = (opts.routes ?? routesFromServerless(resources.config)).map(substitute).map(withLocalHealth);
    const svc = resources.config.service;
    const service = String((svc && typeof svc === 'object' ? svc.name : svc) ?? 'triggerfish');
    const gateway: Gateway = await startGateway({
      routes,
      host: opts.host,
      port: opts.port,
      projectRoot: opts.projectRoot,
      service,
      stage,
      region,
      accessLog: opts.accessLog,
      onError: opts.onError
        ? (err, info) => opts.onError!(err, `${info.routeKey} (request ${info.requestId})`)
        : undefined,
    });
    cleanups.push(() => gateway.close());
    if (!opts.env?.PUBLIC_BASE_URL) {
      env.PUBLIC_BASE_URL = gateway.url;
      setEnv({ PUBLIC_BASE_URL: gateway.url });
    }

    // 5. SQS event sources (the deployer); paused while a stand-in is down
    const sqsFunctions = sqsFunctionsFromServerless(resources.config).map(substitute);
    const failedWhileDown = new FailedDeliveries();
    let pollers: SqsPoller[] = [];
    const startPollers = () => {
      pollers = sqsFunctions.map((f) => {
        const queue = f.queueLogicalId
          ? resources.queues[f.queueLogicalId]
          : Object.values(resources.queues).find((q) => q.queueArn === f.queueArn);
        if (!queue) throw new Error(`function ${f.name}: its sqs event's queue is not a local resource`);
        return startSqsPoller({
          queueUrl: queue.queueUrl,
          queueArn: queue.queueArn,
          fn: f,
          sqsEndpoint: ep.sqs,
          region,
          projectRoot: opts.projectRoot,
          service,
          stage,
          onError: opts.onError,
          onBatch: (report) => {
            failedWhileDown.note(queue.queueUrl, report);
            opts.onBatch?.(report);
          },
        });
      });
    };
    const stopPollers = async () => {
      const running = pollers;
      pollers = [];
      await Promise.all(running.map((p) => p.stop()));
    };
    startPollers();
    cleanups.push(() => stopPollers());

    onStandInDown = async (name) => {
      failedWhileDown.outageStarted(name);
      if (pollers.length) log('[stack] deployer paused until it is back');
      await stopPollers();
    };
    recover = async (names) => {
      // an in-memory stand-in comes back empty: create what is missing (a persistent DynamoDB Local has it all)
      const again = await makeResources();
      for (const [id, q] of Object.entries(again.queues)) {
        if (q.queueUrl !== resources.queues[id]?.queueUrl)
          log(`[stack] queue ${id} came back at another URL: ${q.queueUrl}`);
      }
      if (names.includes('sqs')) {
        // its messages are gone: the trigger log says what was waiting (the deployer is stopped, so nothing runs)
        const { reconcileInFlight } = await import('../deploy/reconcile');
        const r = await reconcileInFlight({ cause: 'a restart of the SQS stand-in' });
        log(`[stack] queued again ${r.requeued.length} deploy(s) that were waiting in the SQS stand-in`);
      } else {
        // deliveries that failed because DynamoDB was away come back at once, not after the visibility timeout
        await failedWhileDown.release(ep.sqs, region);
      }
      if (!stopped && pollers.length === 0) startPollers();
    };

    let stopping: Promise<void> | undefined;
    return {
      url: gateway.url,
      port: gateway.port,
      adminToken,
      adminTokenSource,
      env,
      resources,
      endpoints,
      standIns,
      reconciled,
      dependencies,
      stop: () => (stopping ??= runCleanups()),
    };
  } catch (err) {
    await runCleanups();
    throw err;
  }
}

/** Probes each dependency once (1 s timeouts); a stand-in known to be restarting is down without asking. */
async function dependencyStatus(
  endpoints: { dynamodb: string; sqs: string },
  queueUrl: string,
  down: Set<StandInName>,
): Promise<DependencyStatus> {
  const [dynamodb, sqs] = await Promise.all([
    down.has('dynamodb') ? Promise.resolve(false) : dynamoAnswers(endpoints.dynamodb, 1000),
    down.has('sqs') ? Promise.resolve(false) : probeSqs(endpoints.sqs, queueUrl),
  ]);
  return { dynamodb, sqs };
}

async function probeSqs(endpoint: string, queueUrl: string): Promise<boolean> {
  const client = localSqsClient(endpoint, LOCAL_REGION, {
    maxAttempts: 1,
    requestHandler: { connectionTimeout: 1000, requestTimeout: 1000 },
  });
  try {
    await client.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
    return true;
  } catch {
    return false;
  } finally {
    client.destroy();
  }
}

/**
 * Receipt handles of deliveries that failed around a DynamoDB Local outage. The deployer could not even record
 * them, and left alone they would stay invisible for the queue's visibility timeout (30 minutes), holding up
 * their trigger's FIFO group; once DynamoDB is back they are made visible at once. A handle of a deploy that
 * failed for its own reasons may be among them: it is then retried early, which is harmless.
 */
class FailedDeliveries {
  private failures: { at: number; queueUrl: string; receiptHandle: string }[] = [];
  private since = Infinity;

  note(queueUrl: string, report: BatchReport): void {
    const now = Date.now();
    this.failures = this.failures.filter((f) => now - f.at < 60_000 || f.at >= this.since - 5_000);
    for (const r of report.event.Records) {
      if (report.failed.includes(r.messageId))
        this.failures.push({ at: now, queueUrl, receiptHandle: r.receiptHandle });
    }
  }

  outageStarted(name: StandInName): void {
    if (name === 'dynamodb') this.since = Math.min(this.since, Date.now());
  }

  async release(sqsEndpoint: string, region: string): Promise<void> {
    // failures noted shortly before the exit was seen count too (the deployer may notice first)
    const from = this.since - 5_000;
    const due = this.failures.filter((f) => f.at >= from);
    this.failures = [];
    this.since = Infinity;
    if (!due.length) return;
    const client = localSqsClient(sqsEndpoint, region);
    try {
      await Promise.all(
        due.map(
          (f) =>
            client
              .send(
                new ChangeMessageVisibilityCommand({
                  QueueUrl: f.queueUrl,
                  ReceiptHandle: f.receiptHandle,
                  VisibilityTimeout: 0,
                }),
              )
              .catch(() => undefined), // deleted or received again meanwhile
        ),
      );
    } finally {
      client.destroy();
    }
  }
}
