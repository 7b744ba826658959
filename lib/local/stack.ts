/**
 * The whole system on loopback: DynamoDB Local + the SQS stand-in, the tables and queues of serverless.yml, the
 * HTTP API (gateway.ts) and the deployer's SQS event source (sqs-poller.ts), with the environment the functions
 * read (lib/core/config.ts) set in process.env before any handler module is loaded.
 *
 * process.env is global: run one stack per process (jest gives each test file its own copy of process.env).
 */
import { randomBytes } from 'node:crypto';
import { startStandIns, type StandIns } from './standins';
import {
  LOCAL_REGION,
  LOCAL_STAGE,
  createResources,
  loadServerlessConfig,
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
}

export interface LocalStack {
  /** gateway base URL, e.g. http://127.0.0.1:3000 */
  url: string;
  port: number;
  adminToken: string;
  /** every variable this stack set in process.env */
  env: Record<string, string>;
  resources: LocalResources;
  endpoints: { dynamodb: string; sqs: string };
  /** stops poller, gateway, stand-ins we started; deletes resources if asked; restores process.env */
  stop(): Promise<void>;
}

/** provider.environment entries that make no sense in-process locally */
const NOT_LOCAL = new Set(['NODE_OPTIONS', 'ADMIN_TOKEN_PARAM']);

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
  const runCleanups = async () => {
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

  try {
    // 1. stand-ins
    let endpoints = opts.endpoints;
    if (!endpoints) {
      const standIns: StandIns = await startStandIns();
      cleanups.push(() => standIns.stop());
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
    const custom = { ...(o.custom ?? {}), ...(o.maxReceiveCount !== undefined ? { maxReceiveCount: o.maxReceiveCount } : {}) };
    const preview = loadServerlessConfig({ file: opts.serverlessFile, stage, region, env: variablesEnv, custom });
    const sqsFns = sqsFunctionsFromServerless(preview);
    const queues = { ...(o.queues ?? {}) };
    if (o.visibilityTimeout !== undefined) {
      for (const f of sqsFns) {
        if (f.queueLogicalId) queues[f.queueLogicalId] = { ...(queues[f.queueLogicalId] ?? {}), VisibilityTimeout: o.visibilityTimeout };
      }
    }
    const resources = await createResources({
      dynamodbEndpoint: endpoints.dynamodb,
      sqsEndpoint: endpoints.sqs,
      region,
      stage,
      suffix: opts.suffix,
      file: opts.serverlessFile,
      variablesEnv,
      overrides: { custom, queues, tables: o.tables },
    });
    if (opts.destroyResources ?? !!opts.endpoints) cleanups.push(() => resources.destroy());

    const adminToken =
      opts.adminToken ?? opts.env?.TRIGGERFISH_ADMIN_TOKEN ?? process.env.TRIGGERFISH_ADMIN_TOKEN ?? randomBytes(24).toString('base64url');
    const fnEnv: Record<string, string> = {};
    for (const [k, v] of Object.entries(resources.env)) if (!NOT_LOCAL.has(k)) fnEnv[k] = v;
    const env: Record<string, string> = {
      ...awsEnv,
      ...localObservabilityEnv(),
      ...fnEnv,
      ...(o.retryBaseSeconds !== undefined ? { RETRY_BASE_SECONDS: String(o.retryBaseSeconds) } : {}),
      ...(o.env ?? {}),
      TRIGGERFISH_ADMIN_TOKEN: adminToken,
      ...(opts.env ?? {}),
    };
    installLocalInvokeStore();
    setEnv(env); // before any handler module is required (they are loaded on first use)

    // 3. HTTP API
    const substitute = <T extends { name: string; handler: string | LambdaHandler }>(f: T): T =>
      opts.handlers?.[f.name] !== undefined ? { ...f, handler: opts.handlers[f.name] } : f;
    const routes = (opts.routes ?? routesFromServerless(resources.config)).map(substitute);
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
      onError: opts.onError ? (err, info) => opts.onError!(err, `${info.routeKey} (request ${info.requestId})`) : undefined,
    });
    cleanups.push(() => gateway.close());
    if (!opts.env?.PUBLIC_BASE_URL) {
      env.PUBLIC_BASE_URL = gateway.url;
      setEnv({ PUBLIC_BASE_URL: gateway.url });
    }

    // 4. SQS event sources (the deployer)
    for (const f of sqsFunctionsFromServerless(resources.config).map(substitute)) {
      const queue = f.queueLogicalId
        ? resources.queues[f.queueLogicalId]
        : Object.values(resources.queues).find((q) => q.queueArn === f.queueArn);
      if (!queue) throw new Error(`function ${f.name}: its sqs event's queue is not a local resource`);
      const poller: SqsPoller = startSqsPoller({
        queueUrl: queue.queueUrl,
        queueArn: queue.queueArn,
        fn: f,
        sqsEndpoint: endpoints.sqs,
        region,
        projectRoot: opts.projectRoot,
        service,
        stage,
        onError: opts.onError,
        onBatch: opts.onBatch,
      });
      cleanups.push(() => poller.stop());
    }

    let stopping: Promise<void> | undefined;
    return {
      url: gateway.url,
      port: gateway.port,
      adminToken,
      env,
      resources,
      endpoints,
      stop: () => (stopping ??= runCleanups()),
    };
  } catch (err) {
    await runCleanups();
    throw err;
  }
}
