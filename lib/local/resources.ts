/**
 * Reads serverless.yml (the single source of truth) and creates its DynamoDB tables and SQS queues on the local
 * stand-ins, so local runs and tests use exactly the deployed key schemas, indexes, TTL, FIFO and redrive settings.
 *
 * Only the few Serverless variables the file uses are resolved: ${self:...}, ${sls:stage}, ${opt:X, default},
 * ${env:X, default} (plus ${aws:region} / ${aws:accountId}); CloudFormation's own ${AWS::Region} is left alone.
 */
import { PROJECT_ROOT } from './paths';
import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  type CreateTableCommandInput,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, DeleteQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';

export const DEFAULT_SERVERLESS_FILE = path.join(PROJECT_ROOT, 'serverless.yml');
export const LOCAL_STAGE = 'local';
export const LOCAL_REGION = 'us-east-1';
export const LOCAL_ACCOUNT_ID = '000000000000';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = any;

// ---------------------------------------------------------------------------------------------------------------
// serverless.yml

export interface LoadOptions {
  /** path to serverless.yml (default: the project's) */
  file?: string;
  /** ${sls:stage} and ${opt:stage} (default 'local') */
  stage?: string;
  /** ${opt:region} / ${aws:region} (default us-east-1) */
  region?: string;
  /** other ${opt:X} values */
  options?: Record<string, string>;
  /** source of ${env:X} (default process.env) */
  env?: Record<string, string | undefined>;
  /** merged over `custom` BEFORE resolution, e.g. {maxReceiveCount: 2} */
  custom?: Record<string, unknown>;
}

/** serverless.yml with its variables resolved. */
export function loadServerlessConfig(opts: LoadOptions = {}): Json {
  const file = opts.file ?? DEFAULT_SERVERLESS_FILE;
  const raw = parseYaml(fs.readFileSync(file, 'utf8')) as Json;
  if (!raw || typeof raw !== 'object') throw new Error(`${file}: not a YAML mapping`);
  if (opts.custom) raw.custom = { ...(raw.custom ?? {}), ...opts.custom };
  const stage = opts.stage ?? LOCAL_STAGE;
  const region = opts.region ?? LOCAL_REGION;
  const resolver = new VariableResolver(raw, {
    stage,
    region,
    options: { stage, region, ...(opts.options ?? {}) },
    env: opts.env ?? process.env,
  });
  return resolver.resolveAll();
}

interface ResolverContext {
  stage: string;
  region: string;
  options: Record<string, string>;
  env: Record<string, string | undefined>;
}

const KNOWN_SOURCES = new Set(['self', 'sls', 'opt', 'env', 'aws']);
/** innermost ${...} (no nested ${ inside) */
const VAR = /\$\{([^${}]+)\}/g;

class VariableResolver {
  private resolving = new Set<string>();
  constructor(
    private readonly raw: Json,
    private readonly ctx: ResolverContext,
  ) {}

  resolveAll(): Json {
    return this.resolveValue(this.raw, '');
  }

  private resolveValue(v: Json, where: string): Json {
    if (typeof v === 'string') return this.resolveString(v, where);
    if (Array.isArray(v)) return v.map((x, i) => this.resolveValue(x, `${where}[${i}]`));
    if (v && typeof v === 'object') {
      const out: Json = {};
      for (const [k, x] of Object.entries(v)) out[k] = this.resolveValue(x, where ? `${where}.${k}` : k);
      return out;
    }
    return v;
  }

  /** Resolves innermost variables first; a string that is exactly one variable keeps the value's type. */
  private resolveString(s: string, where: string): Json {
    let current: Json = s;
    for (let guard = 0; guard < 50 && typeof current === 'string'; guard++) {
      let changed = false;
      let whole: { value: Json } | undefined;
      const str: string = current;
      const replaced = str.replace(VAR, (match, inner: string) => {
        const source = /^\s*([a-zA-Z]+):/.exec(inner)?.[1];
        if (!source || !KNOWN_SOURCES.has(source) || inner.trimStart().startsWith(`${source}::`)) return match;
        const value = this.resolveExpression(inner, where);
        changed = true;
        if (match === str) whole = { value };
        return typeof value === 'object' ? JSON.stringify(value) : String(value);
      });
      if (!changed) return current;
      current = whole ? whole.value : replaced;
    }
    return current;
  }

  /** `source:address` optionally followed by `, fallback` */
  private resolveExpression(inner: string, where: string): Json {
    const [head, ...rest] = splitTopLevel(inner);
    const value = this.lookup(head.trim(), where);
    if (value !== undefined && value !== null) return value;
    if (rest.length === 0) throw new Error(`serverless.yml ${where}: cannot resolve \${${inner}}`);
    return this.fallback(rest.join(',').trim(), where);
  }

  private fallback(text: string, where: string): Json {
    const quoted = /^'(.*)'$|^"(.*)"$/s.exec(text);
    if (quoted) return quoted[1] ?? quoted[2];
    if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
    if (text === 'true' || text === 'false') return text === 'true';
    if (text === 'null') return null;
    const source = /^([a-zA-Z]+):/.exec(text)?.[1];
    if (source && KNOWN_SOURCES.has(source)) return this.resolveExpression(text, where);
    return text;
  }

  private lookup(ref: string, where: string): Json {
    const idx = ref.indexOf(':');
    const source = ref.slice(0, idx);
    const address = ref.slice(idx + 1).trim();
    switch (source) {
      case 'sls':
        if (address === 'stage') return this.ctx.stage;
        if (address === 'instanceId') return 'local';
        break;
      case 'opt':
        return this.ctx.options[address];
      case 'env':
        return this.ctx.env[address];
      case 'aws':
        if (address === 'region') return this.ctx.region;
        if (address === 'accountId') return LOCAL_ACCOUNT_ID;
        break;
      case 'self': {
        if (this.resolving.has(address)) throw new Error(`serverless.yml ${where}: circular \${self:${address}}`);
        let node: Json = this.raw;
        for (const key of address === '' ? [] : address.split('.')) {
          if (node === undefined || node === null || typeof node !== 'object') return undefined;
          node = node[key];
        }
        if (node === undefined) return undefined;
        this.resolving.add(address);
        try {
          return this.resolveValue(node, `self:${address}`);
        } finally {
          this.resolving.delete(address);
        }
      }
    }
    throw new Error(`serverless.yml ${where}: unsupported variable \${${ref}}`);
  }
}

/** splits "a, 'b, c', d" on commas outside quotes */
function splitTopLevel(s: string): string[] {
  const parts: string[] = [];
  let cur = '';
  let quote: string | undefined;
  for (const ch of s) {
    if (quote) {
      if (ch === quote) quote = undefined;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
    } else if (ch === ',') {
      parts.push(cur);
      cur = '';
      continue;
    }
    cur += ch;
  }
  parts.push(cur);
  return parts;
}

// ---------------------------------------------------------------------------------------------------------------
// resources

export interface TableResource {
  kind: 'table';
  tableName: string;
  tableArn: string;
}
export interface QueueResource {
  kind: 'queue';
  queueName: string;
  queueUrl: string;
  queueArn: string;
}
export type LocalResource = TableResource | QueueResource;

export interface ResourceOverrides {
  /** merged over serverless.yml `custom` before resolution, e.g. {maxReceiveCount: 2} */
  custom?: Record<string, unknown>;
  /** merged over a queue's CloudFormation Properties, e.g. {DeployQueue: {VisibilityTimeout: 1}} */
  queues?: Record<string, Record<string, unknown>>;
  /** merged over a table's CloudFormation Properties */
  tables?: Record<string, Record<string, unknown>>;
  /** merged over the derived environment, e.g. {RETRY_BASE_SECONDS: '1'} */
  env?: Record<string, string>;
}

export interface CreateResourcesOptions {
  dynamodbEndpoint: string;
  sqsEndpoint: string;
  region?: string;
  stage?: string;
  /** appended to every table and queue name (before .fifo) so each test stack gets fresh ones */
  suffix?: string;
  file?: string;
  /** ${env:X} source (default process.env) */
  variablesEnv?: Record<string, string | undefined>;
  overrides?: ResourceOverrides;
}

export interface LocalResources {
  /** logicalId -> created table/queue */
  resources: Record<string, LocalResource>;
  tables: Record<string, TableResource>;
  queues: Record<string, QueueResource>;
  /** provider.environment with Ref/Fn::GetAtt resolved to the local names, plus overrides.env */
  env: Record<string, string>;
  /** the resolved serverless.yml */
  config: Json;
  region: string;
  stage: string;
  /** deletes every table and queue created here (for test stacks on shared stand-ins) */
  destroy(): Promise<void>;
}

const localCredentials = () =>
  process.env.AWS_ACCESS_KEY_ID && process.env.AWS_SECRET_ACCESS_KEY
    ? undefined
    : { accessKeyId: 'local', secretAccessKey: 'local' };

type ClientTuning = { maxAttempts?: number; requestHandler?: { connectionTimeout?: number; requestTimeout?: number } };

export function localDynamoClient(endpoint: string, region = LOCAL_REGION, tuning: ClientTuning = {}): DynamoDBClient {
  return new DynamoDBClient({ endpoint, region, credentials: localCredentials(), ...tuning });
}
export function localSqsClient(endpoint: string, region = LOCAL_REGION, tuning: ClientTuning = {}): SQSClient {
  return new SQSClient({ endpoint, region, credentials: localCredentials(), ...tuning });
}

/** `suffix` must be a short run of letters, digits, `-`, `_`. */
export function withSuffix(name: string, suffix?: string): string {
  if (!suffix) return name;
  if (!/^[A-Za-z0-9_-]{1,40}$/.test(suffix)) throw new Error(`bad resource name suffix ${JSON.stringify(suffix)}`);
  return name.endsWith('.fifo') ? `${name.slice(0, -'.fifo'.length)}-${suffix}.fifo` : `${name}-${suffix}`;
}

/** A unique suffix for a test stack: short, valid in table and queue names. */
export function uniqueSuffix(): string {
  return `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

export async function createResources(opts: CreateResourcesOptions): Promise<LocalResources> {
  const region = opts.region ?? LOCAL_REGION;
  const stage = opts.stage ?? LOCAL_STAGE;
  const config = loadServerlessConfig({
    file: opts.file,
    stage,
    region,
    env: opts.variablesEnv,
    custom: opts.overrides?.custom,
  });
  const service: string = typeof config.service === 'object' ? config.service.name : config.service;
  const defs: Record<string, Json> = config.resources?.Resources ?? {};

  const ddb = localDynamoClient(opts.dynamodbEndpoint, region);
  const sqs = localSqsClient(opts.sqsEndpoint, region);
  const resources: Record<string, LocalResource> = {};
  const tables: Record<string, TableResource> = {};
  const queues: Record<string, QueueResource> = {};

  const destroy = async () => {
    const d = localDynamoClient(opts.dynamodbEndpoint, region);
    const q = localSqsClient(opts.sqsEndpoint, region);
    try {
      await Promise.allSettled([
        ...Object.values(tables).map((t) => d.send(new DeleteTableCommand({ TableName: t.tableName }))),
        ...Object.values(queues).map((x) => q.send(new DeleteQueueCommand({ QueueUrl: x.queueUrl }))),
      ]);
    } finally {
      d.destroy();
      q.destroy();
    }
  };

  try {
    // tables
    for (const [logicalId, def] of Object.entries(defs)) {
      if (def?.Type !== 'AWS::DynamoDB::Table') continue;
      const props = { ...(def.Properties ?? {}), ...(opts.overrides?.tables?.[logicalId] ?? {}) };
      const baseName: string = props.TableName ?? `${service}-${stage}-${logicalId}`;
      const tableName = withSuffix(baseName, opts.suffix);
      const input = createTableInput(tableName, props);
      // a persistent DynamoDB Local (npm start's data dir) has the tables already: keep them and their items
      const existing = await describeTable(ddb, tableName);
      const created = existing ? { TableDescription: existing } : await ddb.send(new CreateTableCommand(input));
      if (existing) await addMissingIndexes(ddb, tableName, input, existing);
      await waitActive(ddb, tableName);
      const ttl = props.TimeToLiveSpecification;
      if (ttl?.Enabled && !existing) {
        await ddb.send(
          new UpdateTimeToLiveCommand({
            TableName: tableName,
            TimeToLiveSpecification: { AttributeName: ttl.AttributeName, Enabled: true },
          }),
        );
      }
      const table: TableResource = {
        kind: 'table',
        tableName,
        tableArn:
          created.TableDescription?.TableArn ?? `arn:aws:dynamodb:${region}:${LOCAL_ACCOUNT_ID}:table/${tableName}`,
      };
      tables[logicalId] = table;
      resources[logicalId] = table;
    }

    // queues, dead-letter targets first
    const queueIds = Object.keys(defs).filter((id) => defs[id]?.Type === 'AWS::SQS::Queue');
    for (const logicalId of orderByDependencies(queueIds, defs)) {
      const props = { ...(defs[logicalId].Properties ?? {}), ...(opts.overrides?.queues?.[logicalId] ?? {}) };
      let baseName: string = props.QueueName ?? `${service}-${stage}-${logicalId}`;
      if (isTrue(props.FifoQueue) && !baseName.endsWith('.fifo')) baseName += '.fifo';
      const queueName = withSuffix(baseName, opts.suffix);
      const attributes = queueAttributes(props, (ref) =>
        resolveIntrinsic(ref, resources, `${logicalId}.RedrivePolicy`),
      );
      const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: queueName, Attributes: attributes }));
      if (!QueueUrl) throw new Error(`CreateQueue ${queueName}: no QueueUrl`);
      const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
      const queue: QueueResource = {
        kind: 'queue',
        queueName,
        queueUrl: QueueUrl,
        queueArn: attrs.Attributes?.QueueArn ?? `arn:aws:sqs:${region}:${LOCAL_ACCOUNT_ID}:${queueName}`,
      };
      queues[logicalId] = queue;
      resources[logicalId] = queue;
    }

    const env = environmentFrom(config, resources);
    Object.assign(env, opts.overrides?.env ?? {});
    return { resources, tables, queues, env, config, region, stage, destroy };
  } catch (err) {
    await destroy().catch(() => undefined);
    throw err;
  } finally {
    ddb.destroy();
    sqs.destroy();
  }
}

/** provider.environment as strings, Ref / Fn::GetAtt resolved against the local resources. */
export function environmentFrom(config: Json, resources: Record<string, LocalResource>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries<Json>(config.provider?.environment ?? {})) {
    if (value === undefined || value === null) continue;
    out[name] =
      typeof value === 'object' ? resolveIntrinsic(value, resources, `provider.environment.${name}`) : String(value);
  }
  return out;
}

/** Ref (table -> name, queue -> URL, as CloudFormation does) and Fn::GetAtt [X, Arn | QueueName | QueueUrl]. */
export function resolveIntrinsic(value: Json, resources: Record<string, LocalResource>, where: string): string {
  if (value && typeof value === 'object') {
    if (typeof value.Ref === 'string') {
      const r = resources[value.Ref];
      if (!r) throw new Error(`${where}: Ref ${value.Ref} is not a local table or queue`);
      return r.kind === 'table' ? r.tableName : r.queueUrl;
    }
    const getAtt = value['Fn::GetAtt'];
    if (getAtt) {
      const [id, attr] = Array.isArray(getAtt) ? getAtt : String(getAtt).split('.');
      const r = resources[id];
      if (!r) throw new Error(`${where}: Fn::GetAtt ${id} is not a local table or queue (create it first)`);
      if (attr === 'Arn') return r.kind === 'table' ? r.tableArn : r.queueArn;
      if (r.kind === 'queue' && attr === 'QueueName') return r.queueName;
      if (r.kind === 'queue' && attr === 'QueueUrl') return r.queueUrl;
      throw new Error(`${where}: Fn::GetAtt ${id}.${attr} is not supported locally`);
    }
  }
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new Error(`${where}: cannot resolve ${JSON.stringify(value)} locally`);
}

function isTrue(v: unknown): boolean {
  return v === true || v === 'true';
}

function createTableInput(tableName: string, p: Json): CreateTableCommandInput {
  const billingMode = p.BillingMode ?? 'PROVISIONED';
  const provisioned = billingMode === 'PROVISIONED';
  const throughput = (t: Json) =>
    provisioned
      ? {
          ReadCapacityUnits: Number(t?.ReadCapacityUnits ?? 1),
          WriteCapacityUnits: Number(t?.WriteCapacityUnits ?? 1),
        }
      : undefined;
  const index = (ix: Json, global: boolean) => ({
    IndexName: ix.IndexName,
    KeySchema: ix.KeySchema,
    Projection: ix.Projection,
    ...(global && provisioned ? { ProvisionedThroughput: throughput(ix.ProvisionedThroughput) } : {}),
  });
  return {
    TableName: tableName,
    AttributeDefinitions: p.AttributeDefinitions,
    KeySchema: p.KeySchema,
    BillingMode: billingMode,
    ProvisionedThroughput: throughput(p.ProvisionedThroughput),
    GlobalSecondaryIndexes: p.GlobalSecondaryIndexes?.map((ix: Json) => index(ix, true)),
    LocalSecondaryIndexes: p.LocalSecondaryIndexes?.map((ix: Json) => index(ix, false)),
    StreamSpecification: p.StreamSpecification?.StreamViewType
      ? { StreamEnabled: true, StreamViewType: p.StreamSpecification.StreamViewType }
      : undefined,
  };
}

async function describeTable(ddb: DynamoDBClient, tableName: string): Promise<TableDescription | undefined> {
  try {
    return (await ddb.send(new DescribeTableCommand({ TableName: tableName }))).Table;
  } catch (e) {
    if ((e as Error).name === 'ResourceNotFoundException') return undefined;
    throw e;
  }
}

/** A table made by an older serverless.yml gets the global secondary indexes added since (one per UpdateTable). */
async function addMissingIndexes(
  ddb: DynamoDBClient,
  tableName: string,
  input: CreateTableCommandInput,
  existing: TableDescription,
) {
  const have = new Set((existing.GlobalSecondaryIndexes ?? []).map((ix) => ix.IndexName));
  for (const ix of input.GlobalSecondaryIndexes ?? []) {
    if (have.has(ix.IndexName)) continue;
    const used = new Set(ix.KeySchema?.map((k) => k.AttributeName));
    await ddb.send(
      new UpdateTableCommand({
        TableName: tableName,
        AttributeDefinitions: input.AttributeDefinitions?.filter((a) => used.has(a.AttributeName)),
        GlobalSecondaryIndexUpdates: [{ Create: ix }],
      }),
    );
    await waitActive(ddb, tableName);
  }
}

async function waitActive(ddb: DynamoDBClient, tableName: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const d = await ddb.send(new DescribeTableCommand({ TableName: tableName }));
    const indexesActive = (d.Table?.GlobalSecondaryIndexes ?? []).every((ix) => ix.IndexStatus === 'ACTIVE');
    if (d.Table?.TableStatus === 'ACTIVE' && indexesActive) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`table ${tableName} did not become ACTIVE`);
}

/** CloudFormation AWS::SQS::Queue Properties -> CreateQueue Attributes (strings) */
function queueAttributes(p: Json, resolve: (v: Json) => string): Record<string, string> {
  const attrs: Record<string, string> = {};
  const simple = [
    'VisibilityTimeout',
    'MessageRetentionPeriod',
    'DelaySeconds',
    'MaximumMessageSize',
    'ReceiveMessageWaitTimeSeconds',
    'DeduplicationScope',
    'FifoThroughputLimit',
  ];
  for (const key of simple) if (p[key] !== undefined) attrs[key] = String(p[key]);
  if (isTrue(p.FifoQueue)) attrs.FifoQueue = 'true';
  if (p.ContentBasedDeduplication !== undefined)
    attrs.ContentBasedDeduplication = String(isTrue(p.ContentBasedDeduplication));
  if (p.RedrivePolicy) {
    const rp = typeof p.RedrivePolicy === 'string' ? JSON.parse(p.RedrivePolicy) : p.RedrivePolicy;
    attrs.RedrivePolicy = JSON.stringify({
      deadLetterTargetArn: resolve(rp.deadLetterTargetArn),
      maxReceiveCount: Number(rp.maxReceiveCount),
    });
  }
  if (p.RedriveAllowPolicy) {
    attrs.RedriveAllowPolicy =
      typeof p.RedriveAllowPolicy === 'string' ? p.RedriveAllowPolicy : JSON.stringify(p.RedriveAllowPolicy);
  }
  return attrs;
}

/** queues referenced by another queue's RedrivePolicy (Fn::GetAtt / Ref) come first */
function orderByDependencies(ids: string[], defs: Record<string, Json>): string[] {
  const deps = (id: string): string[] => {
    const target = defs[id]?.Properties?.RedrivePolicy?.deadLetterTargetArn;
    const getAtt = target?.['Fn::GetAtt'];
    const ref = Array.isArray(getAtt) ? getAtt[0] : typeof getAtt === 'string' ? getAtt.split('.')[0] : target?.Ref;
    return ref && ids.includes(ref) ? [ref] : [];
  };
  const out: string[] = [];
  const visiting = new Set<string>();
  const visit = (id: string) => {
    if (out.includes(id)) return;
    if (visiting.has(id)) throw new Error(`circular RedrivePolicy involving ${id}`);
    visiting.add(id);
    deps(id).forEach(visit);
    visiting.delete(id);
    out.push(id);
  };
  ids.forEach(visit);
  return out;
}
