/**
 * 3. Cold start: for each function's bundle, as `serverless package` builds it (osls + serverless-esbuild, the
 * project's serverless.yml, in a scratch copy of the service so the shared checkout's .serverless/ is untouched),
 * the bytes zipped and the time a fresh `node` process takes to load the bundle and build its clients, against a
 * floor bundle (same esbuild options) that only constructs the same SDK clients. Both with the SDK bundled (what
 * serverless.yml ships) and with @aws-sdk/* external (the Lambda runtime's SDK; here loaded from node_modules).
 *
 * "Build its clients": the functions build their clients lazily, on the first call. So the fresh process loads the
 * bundle, then invokes the handler once with an event that makes it build its clients and send its first call (a
 * trigger or log lookup) to a loopback endpoint answering `{}` at once; the floor does the same first call
 * (DynamoDBDocumentClient GetItem). Measured inside the child with hrtime, from the first line of its script:
 * node's own boot (identical for both) is reported apart.
 */
import { spawn, spawnSync } from 'node:child_process';
import { deflateRawSync } from 'node:zlib';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { BENCH_DIR, PROFILE, QUICK, ROOT, ecrEvent, finish, log, runPart } from './lib/common';
import { startEmptyAwsEndpoint } from './lib/fake-aws';
import { summarizeProfile, type CpuProfile } from './lib/profile';
import { median, round, row, type Row } from './lib/stats';
import { loadServerlessConfig } from '../lib/local/resources';

/** fresh processes per function (each alternated with one of the floor); the 20 hook receivers are near-identical */
const ROUNDS = QUICK ? 2 : 5;
const HOOK_ROUNDS = QUICK ? 2 : 3;
/** in --quick, only these functions */
const QUICK_FUNCTIONS = ['hookGithub', 'deployer', 'ecr'];
const VARIANTS = [
  { id: 'bundled', label: 'SDK bundled', exclude: [] as string[] },
  { id: 'external', label: 'SDK external', exclude: ['@aws-sdk/*'] },
];
/** the top-level entries of the project a scratch service copy must not link */
const NOT_LINKED = new Set([
  '.git',
  '.serverless',
  '.esbuild',
  '.build',
  'serverless.yml',
  'bench',
  'coverage',
  '.local',
]);

/** A scratch copy of the service: links to the project's sources and node_modules, its own serverless.yml. */
function scratchService(dir: string, exclude: string[]): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const entry of readdirSync(ROOT)) {
    if (NOT_LINKED.has(entry)) continue;
    symlinkSync(path.join(ROOT, entry), path.join(dir, entry));
  }
  const doc = parseYaml(readFileSync(path.join(ROOT, 'serverless.yml'), 'utf8'));
  doc.custom ??= {};
  doc.custom.esbuild = { ...(doc.custom.esbuild ?? {}), exclude, keepOutputDirectory: true };
  writeFileSync(path.join(dir, 'serverless.yml'), stringifyYaml(doc));
}

function oslsPackage(dir: string): number {
  const bin = path.join(path.dirname(require.resolve('osls/package.json')), 'bin', 'serverless.js');
  const t0 = Date.now();
  const res = spawnSync(process.execPath, [bin, 'package'], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off' },
    timeout: 240_000,
  });
  if (res.status !== 0) throw new Error(`osls package failed in ${dir}:\n${res.stdout}\n${res.stderr}`);
  return Date.now() - t0;
}

const FLOOR_SOURCE = `
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
let ddb: DynamoDBDocumentClient | undefined;
let sqs: SQSClient | undefined;
export const handler = async () => {
  ddb ??= DynamoDBDocumentClient.from(new DynamoDBClient({ region: process.env.AWS_REGION, endpoint: process.env.DYNAMODB_ENDPOINT }),
    { marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: true } });
  sqs ??= new SQSClient({ region: process.env.AWS_REGION, endpoint: process.env.SQS_ENDPOINT });
  const out = await ddb.send(new GetCommand({ TableName: process.env.TRIGGERS_TABLE, Key: { id: 'x' } }));
  return { statusCode: out.Item ? 200 : 404 };
};
`;

/** The floor bundle, with serverless.yml's custom.esbuild options. */
async function buildFloor(dir: string, exclude: string[], esbuildOptions: any): Promise<string> {
  const esbuild = await import('esbuild');
  mkdirSync(dir, { recursive: true });
  const entry = path.join(dir, 'floor.ts');
  writeFileSync(entry, FLOOR_SOURCE);
  const outfile = path.join(dir, 'floor.js');
  await esbuild.build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    minify: esbuildOptions.minify ?? true,
    sourcemap: esbuildOptions.sourcemap ?? false,
    target: esbuildOptions.target ?? 'node22',
    platform: 'node',
    format: 'cjs',
    external: exclude,
    absWorkingDir: ROOT,
    nodePaths: [path.join(ROOT, 'node_modules')],
    logLevel: 'silent',
  });
  return outfile;
}

/** Size of a zip holding just this file, deflated as serverless packs (zlib level 9). */
function zipSizeOf(file: string, nameInZip: string): number {
  const data = readFileSync(file);
  return deflateRawSync(data, { level: 9 }).length + 30 + 46 + 22 + 2 * Buffer.byteLength(nameInZip);
}

/**
 * Where the load time goes: each dependency bundled on its own (same esbuild options), required in a fresh
 * process; median of a few. Also how many bytes each contributes to the hook bundle (esbuild metafile).
 */
const BREAKDOWN = [
  'zod',
  're2js',
  'semver',
  'minimatch',
  'ipaddr.js',
  '@middy/core',
  '@aws-lambda-powertools/logger',
  '@aws-lambda-powertools/batch',
  '@aws-sdk/client-dynamodb',
  '@aws-sdk/lib-dynamodb',
  '@aws-sdk/client-sqs',
];

async function requireBreakdown(dir: string, esbuildOptions: any, env: Record<string, string>) {
  const esbuild = await import('esbuild');
  mkdirSync(dir, { recursive: true });
  const out: Record<string, { requireMs: number; bytes: number }> = {};
  for (const pkg of BREAKDOWN) {
    try {
      require.resolve(pkg, { paths: [ROOT] });
    } catch {
      continue;
    }
    const entry = path.join(dir, `${pkg.replace(/[@/.]/g, '_')}.js`);
    writeFileSync(entry, `module.exports = require(${JSON.stringify(pkg)});\n`);
    const outfile = entry.replace(/\.js$/, '.bundle.js');
    await esbuild.build({
      entryPoints: [entry],
      outfile,
      bundle: true,
      minify: true,
      target: esbuildOptions.target ?? 'node22',
      platform: 'node',
      format: 'cjs',
      nodePaths: [path.join(ROOT, 'node_modules')],
      logLevel: 'silent',
    });
    const xs: number[] = [];
    for (let i = 0; i < 3; i++) {
      const res = spawnSync(
        process.execPath,
        [
          '-e',
          `const t=process.hrtime.bigint();require(${JSON.stringify(outfile)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`,
        ],
        { env, encoding: 'utf8' },
      );
      xs.push(Number(res.stdout));
    }
    out[pkg] = { requireMs: round(median(xs), 1), bytes: statSync(outfile).size };
  }
  return out;
}

async function bundleComposition(
  entry: string,
  external: string[],
  esbuildOptions: any,
): Promise<Record<string, number>> {
  const esbuild = await import('esbuild');
  const r = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    minify: true,
    target: esbuildOptions.target ?? 'node22',
    platform: 'node',
    format: 'cjs',
    write: false,
    metafile: true,
    external,
    outfile: path.join(os.tmpdir(), 'x.js'),
    absWorkingDir: ROOT,
    logLevel: 'silent',
  });
  const output = Object.values(r.metafile!.outputs)[0];
  const by: Record<string, number> = {};
  for (const [file, v] of Object.entries(output.inputs)) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file);
    const key = m ? m[1] : file.split('/').slice(0, 2).join('/');
    by[key] = (by[key] ?? 0) + v.bytesInOutput;
  }
  return Object.fromEntries(
    Object.entries(by)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 12)
      .map(([k, v]) => [k, Math.round(v / 1024)]),
  );
}

/** the functions --profile records: a receiver, and the ones whose figures were over the limit */
const PROFILED = ['hookGithub', 'deployer', 'deadLetters', 'adminTriggers', 'adminLogs'];

/** Self time (µs) of the frames named `fn`, over all samples of a profile. */
function selfTimeOf(p: CpuProfile, fn: string): number {
  const ids = new Set(p.nodes.filter((n) => n.callFrame.functionName === fn).map((n) => n.id));
  let us = 0;
  (p.samples ?? []).forEach((id, i) => {
    if (ids.has(id)) us += p.timeDeltas?.[i] ?? 0;
  });
  return us;
}

/**
 * `node --cpu-prof` of cold starts (load + first call) of PROFILED functions, SDK bundled as shipped: the same
 * esbuild options but not minified, so names survive and esbuild's "// node_modules/x/y.js" markers say which
 * module each line came from. `compileMs` is V8 compiling the bundle file (node's wrapSafe: it grows with the
 * bundle's bytes, also those of code that only loads on first use), apart from running each module's top level.
 */
async function profileColdStart(
  dir: string,
  esbuildOptions: any,
  env: Record<string, string>,
  functions: Record<string, any>,
) {
  const esbuild = await import('esbuild');
  mkdirSync(dir, { recursive: true });
  const out = path.join(BENCH_DIR, 'profiles');
  mkdirSync(out, { recursive: true });
  const results: Record<string, unknown> = {};
  for (const name of PROFILED) {
    const fn = functions[name];
    if (!fn) continue;
    const handler: string = fn.handler;
    const dot = handler.lastIndexOf('.');
    const bundle = path.join(dir, `${name}.js`);
    await esbuild.build({
      entryPoints: [path.join(ROOT, `${handler.slice(0, dot)}.ts`)],
      outfile: bundle,
      bundle: true,
      minify: false,
      target: esbuildOptions.target ?? 'node22',
      platform: 'node',
      format: 'cjs',
      absWorkingDir: ROOT,
      logLevel: 'silent',
    });
    // line -> module, from esbuild's comments ("// ../../x/node_modules/..." when node_modules is a symlink)
    const starts: Array<[number, string]> = [];
    readFileSync(bundle, 'utf8')
      .split('\n')
      .forEach((line, i) => {
        const m = /^\/\/ ((?:node_modules|lib|functions)\/\S+)$/.exec(
          line.replace(/^\/\/ (?:\.\.\/)+(?:[^/]+\/)*?(node_modules\/)/, '// $1'),
        );
        if (m) starts.push([i + 1, m[1]]);
      });
    const locate = (url: string, line: number) => {
      if (!url.endsWith(`${name}.js`)) return undefined;
      let lo = 0;
      let hi = starts.length - 1;
      let found: string | undefined;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        if (starts[mid][0] <= line) {
          found = starts[mid][1];
          lo = mid + 1;
        } else hi = mid - 1;
      }
      return found ?? '(esbuild runtime: __init/__require wrappers)';
    };
    const profDir = path.join(dir, `prof-${name}`);
    mkdirSync(profDir, { recursive: true });
    const { event } = eventFor(fn);
    const timings: Timing[] = [];
    for (let i = 0; i < 5; i++)
      timings.push(
        await runChild(bundle, handler.slice(dot + 1), event, env, dir, [
          '--cpu-prof',
          `--cpu-prof-dir=${profDir}`,
          '--cpu-prof-interval=100',
        ]),
      );
    const profiles = readdirSync(profDir)
      .filter((f) => f.endsWith('.cpuprofile'))
      .map((f) => JSON.parse(readFileSync(path.join(profDir, f), 'utf8')) as CpuProfile);
    writeFileSync(path.join(out, `cold-${name}.cpuprofile`), JSON.stringify(profiles[0]));
    const top = summarizeProfile(profiles, 20, locate);
    const compileMs = round(median(profiles.map((p) => selfTimeOf(p, 'wrapSafe') / 1000)), 1);
    log(
      `cold-start profile (${name}, not minified): compile ${compileMs} ms; ${JSON.stringify(top.packages.slice(0, 8))}`,
    );
    results[`cold ${name}`] = {
      file: `profiles/cold-${name}.cpuprofile`,
      runs: profiles.length,
      totalMs: round(median(timings.map((t) => t.totalMs))),
      compileMs,
      bundleKB: Math.round(statSync(bundle).size / 1024),
      top,
    };
  }
  return results;
}

// ---------------------------------------------------------------------------------------------------------------
// events that make each kind of function build its clients and make its first AWS call

const HEX24 = 'a'.repeat(24);
const LOG_ID = '01JBENCH000000000000000000';

function eventFor(fn: any): { event: unknown; kind: string } {
  const ev = (fn.events ?? [])[0] ?? {};
  if (ev.httpApi) {
    const spec = typeof ev.httpApi === 'string' ? ev.httpApi : `${ev.httpApi.method} ${ev.httpApi.path}`;
    // prefer a GET route (reads the store without changing it)
    const all = (fn.events as any[])
      .filter((e) => e.httpApi)
      .map((e) => (typeof e.httpApi === 'string' ? e.httpApi : `${e.httpApi.method} ${e.httpApi.path}`));
    const routeKey = all.find((r) => r.startsWith('GET ')) ?? spec;
    const [method, route] = routeKey.split(/\s+/);
    const params: Record<string, string> = {};
    const rawPath = route.replace(/\{([^}+]+)\+?\}/g, (_: string, name: string) => {
      params[name] = name === 'logId' ? LOG_ID : HEX24;
      return params[name];
    });
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      host: 'abc.execute-api.us-east-1.amazonaws.com',
      authorization: 'Bearer bench-admin-token',
    };
    return {
      kind: 'http',
      event: {
        version: '2.0',
        routeKey,
        rawPath,
        rawQueryString: '',
        headers,
        ...(Object.keys(params).length ? { pathParameters: params } : {}),
        requestContext: {
          accountId: '000000000000',
          apiId: 'bench',
          domainName: 'abc.execute-api.us-east-1.amazonaws.com',
          domainPrefix: 'abc',
          http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '192.0.2.1', userAgent: 'bench' },
          requestId: 'bench',
          routeKey,
          stage: '$default',
          time: '01/Jan/2026:00:00:00 +0000',
          timeEpoch: 1767225600000,
        },
        ...(method === 'GET' ? {} : { body: '{}' }),
        isBase64Encoded: false,
      },
    };
  }
  if (ev.sqs) {
    const body = JSON.stringify({
      triggerId: HEX24,
      logId: LOG_ID,
      event: { provider: 'dockerhub', kind: 'image', action: 'push', repository: 'app', repoFullName: 'team/app' },
    });
    return {
      kind: 'sqs',
      event: {
        Records: [
          {
            messageId: '00000000-0000-4000-8000-000000000001',
            receiptHandle: 'bench',
            body,
            attributes: {
              ApproximateReceiveCount: '1',
              SentTimestamp: '1767225600000',
              SenderId: '000000000000',
              ApproximateFirstReceiveTimestamp: '1767225600000',
              MessageGroupId: HEX24,
              SequenceNumber: '1',
              MessageDeduplicationId: 'x',
            },
            messageAttributes: {},
            md5OfBody: '',
            eventSource: 'aws:sqs',
            eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:bench.fifo',
            awsRegion: 'us-east-1',
          },
        ],
      },
    };
  }
  if (ev.eventBridge) return { kind: 'eventBridge', event: ecrEvent('team/app', 1) };
  return { kind: 'other', event: {} };
}

/** The child: load the bundle, invoke once, report timings on a marked line (stdout also carries the function's logs). */
const CHILD = `
const t0 = process.hrtime.bigint();
const c0 = process.cpuUsage();
const boot = performance.now();
const ms = (a, b) => Number(b - a) / 1e6;
const mod = require(process.env.BENCH_BUNDLE);
const t1 = process.hrtime.bigint();
const handler = mod[process.env.BENCH_EXPORT] || (mod.default && mod.default[process.env.BENCH_EXPORT]);
const context = { functionName: 'bench', functionVersion: '$LATEST', invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:bench',
  memoryLimitInMB: '256', awsRequestId: 'bench', logGroupName: '/aws/lambda/bench', logStreamName: 'bench', callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => 10000, done() {}, fail() {}, succeed() {} };
const report = (status, error) => {
  const t2 = process.hrtime.bigint();
  const c = process.cpuUsage(c0);
  require('fs').writeSync(1, '\\n@@BENCH ' + JSON.stringify({ bootMs: boot, requireMs: ms(t0, t1), invokeMs: ms(t1, t2), totalMs: ms(t0, t2), cpuMs: (c.user + c.system) / 1000, status, error }) + '\\n');
  process.exit(0);
};
Promise.resolve()
  .then(() => handler(JSON.parse(process.env.BENCH_EVENT), context))
  .then((r) => report(r && r.statusCode !== undefined ? r.statusCode : 'ok'), (e) => report('error', String(e && e.message || e)));
`;

interface Timing {
  cpuMs: number;
  bootMs: number;
  requireMs: number;
  invokeMs: number;
  totalMs: number;
  status: unknown;
  error?: string;
}

function runChild(
  bundle: string,
  exportName: string,
  event: unknown,
  env: Record<string, string>,
  cwd: string,
  execArgv: string[] = [],
): Promise<Timing> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...execArgv, '-e', CHILD], {
      cwd,
      env: { ...env, BENCH_BUNDLE: bundle, BENCH_EXPORT: exportName, BENCH_EVENT: JSON.stringify(event) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('exit', () => {
      clearTimeout(timer);
      const line = out
        .split('\n')
        .reverse()
        .find((l) => l.startsWith('@@BENCH '));
      if (!line) return reject(new Error(`no timing from ${bundle}:\n${out.slice(-2000)}\n${err.slice(-2000)}`));
      resolve(JSON.parse(line.slice('@@BENCH '.length)) as Timing);
    });
  });
}

interface FnResult {
  fn: string;
  variant: string;
  kind: string;
  zipBytes: number;
  bundleBytes: number;
  status: unknown;
  requireMs: number;
  invokeMs: number;
  totalMs: number;
  cpuMs: number;
  floorTotalMs: number;
  floorRequireMs: number;
  floorCpuMs: number;
  samples: number;
}

async function main() {
  const started = Date.now();
  const work = path.join(os.tmpdir(), `triggerfish-bench-cold-${process.pid}`);
  const aws = await startEmptyAwsEndpoint();
  const anomalies: string[] = [];
  try {
    const results: FnResult[] = [];
    const floors: Record<
      string,
      {
        zipBytes: number;
        bundleBytes: number;
        totalMs: number;
        cpuMs: number;
        requireMs: number;
        invokeMs: number;
        samples: number;
      }
    > = {};
    const packaging: Record<string, number> = {};
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? os.tmpdir(),
      AWS_REGION: 'us-east-1',
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
      POWERTOOLS_SERVICE_NAME: 'triggerfish',
      TRIGGERS_TABLE: 'triggers',
      LOGS_TABLE: 'logs',
      DEPLOY_QUEUE_URL: `${aws.url}/000000000000/deploy.fifo`,
      DLQ_URL: `${aws.url}/000000000000/deploy-dlq.fifo`,
      DYNAMODB_ENDPOINT: aws.url,
      SQS_ENDPOINT: aws.url,
      TRIGGERFISH_ADMIN_TOKEN: 'bench-admin-token',
      ALLOW_PRIVATE_TARGETS: 'true',
    };

    for (const variant of VARIANTS) {
      const dir = path.join(work, variant.id);
      scratchService(dir, variant.exclude);
      packaging[variant.id] = oslsPackage(dir);
      log(`cold-start: osls package (${variant.label}) in ${packaging[variant.id]} ms`);
      const config = loadServerlessConfig({ file: path.join(dir, 'serverless.yml') });
      // the environment the functions get, with local stand-ins for what CloudFormation would resolve
      for (const [k, v] of Object.entries<any>(config.provider?.environment ?? {})) {
        if (typeof v !== 'object' && !(k in env) && k !== 'ADMIN_TOKEN_PARAM') env[k] = String(v);
      }
      const floorBundle = await buildFloor(path.join(dir, 'floor'), variant.exclude, config.custom?.esbuild ?? {});
      const floorZip = zipSizeOf(floorBundle, 'floor.js');
      const floorSamples: Timing[] = [];

      let fns = Object.entries<any>(config.functions ?? {});
      if (QUICK) fns = fns.filter(([name]) => QUICK_FUNCTIONS.includes(name));
      for (const [name, fn] of fns) {
        const handler: string = fn.handler;
        const dot = handler.lastIndexOf('.');
        const bundle = path.join(dir, '.esbuild', '.build', `${handler.slice(0, dot)}.js`);
        const zip = path.join(dir, '.serverless', `${name}.zip`);
        if (!existsSync(bundle) || !existsSync(zip)) {
          anomalies.push(`cold-start ${variant.id}: no bundle/zip for ${name}`);
          continue;
        }
        const { event, kind } = eventFor(fn);
        const subject: Timing[] = [];
        const floor: Timing[] = [];
        const rounds = name.startsWith('hook') ? HOOK_ROUNDS : ROUNDS;
        for (let r = 0; r < rounds; r++) {
          // ABBA
          if (r % 2) floor.push(await runChild(floorBundle, 'handler', {}, env, dir));
          subject.push(await runChild(bundle, handler.slice(dot + 1), event, env, dir));
          if (r % 2 === 0) floor.push(await runChild(floorBundle, 'handler', {}, env, dir));
        }
        floorSamples.push(...floor);
        const errors = subject.filter((t) => t.status === 'error');
        if (errors.length) anomalies.push(`cold-start ${variant.id} ${name}: handler failed: ${errors[0].error}`);
        const res: FnResult = {
          fn: name,
          variant: variant.id,
          kind,
          zipBytes: statSync(zip).size,
          bundleBytes: statSync(bundle).size,
          status: subject[0].status,
          requireMs: round(median(subject.map((t) => t.requireMs))),
          invokeMs: round(median(subject.map((t) => t.invokeMs))),
          totalMs: round(median(subject.map((t) => t.totalMs))),
          cpuMs: round(median(subject.map((t) => t.cpuMs))),
          floorTotalMs: round(median(floor.map((t) => t.totalMs))),
          floorRequireMs: round(median(floor.map((t) => t.requireMs))),
          floorCpuMs: round(median(floor.map((t) => t.cpuMs))),
          samples: rounds,
        };
        results.push(res);
        log(
          `cold-start ${variant.id} ${name}: zip ${res.zipBytes} B, ${res.totalMs} ms (require ${res.requireMs} + first call ${res.invokeMs}) vs floor ${res.floorTotalMs} ms -> ${res.status}`,
        );
      }
      floors[variant.id] = {
        zipBytes: floorZip,
        bundleBytes: statSync(floorBundle).size,
        totalMs: round(median(floorSamples.map((t) => t.totalMs))),
        cpuMs: round(median(floorSamples.map((t) => t.cpuMs))),
        requireMs: round(median(floorSamples.map((t) => t.requireMs))),
        invokeMs: round(median(floorSamples.map((t) => t.invokeMs))),
        samples: floorSamples.length,
      };
      log(`cold-start ${variant.id} floor: zip ${floorZip} B, ${floors[variant.id].totalMs} ms`);
    }

    const esbuildOptions = loadServerlessConfig({ file: path.join(ROOT, 'serverless.yml') }).custom?.esbuild ?? {};
    // where the bytes and the load time go (skipped in --quick)
    let breakdown: Awaited<ReturnType<typeof requireBreakdown>> | undefined;
    let composition: Record<string, Record<string, number>> | undefined;
    if (!QUICK) {
      breakdown = await requireBreakdown(path.join(work, 'breakdown'), esbuildOptions, env);
      log(
        `cold-start: require time by dependency (ms): ${JSON.stringify(Object.fromEntries(Object.entries(breakdown).map(([k, v]) => [k, v.requireMs])))}`,
      );
      composition = {};
      for (const [label, entry] of [
        ['hookGithub', 'functions/hooks/github.ts'],
        ['deployer', 'functions/deployer.ts'],
        ['adminTriggers', 'functions/admin-triggers.ts'],
      ]) {
        if (!existsSync(path.join(ROOT, entry))) continue;
        composition[`${label} (SDK bundled)`] = await bundleComposition(path.join(ROOT, entry), [], esbuildOptions);
        composition[`${label} (SDK external)`] = await bundleComposition(
          path.join(ROOT, entry),
          ['@aws-sdk/*'],
          esbuildOptions,
        );
      }
    }

    let profiles: Record<string, unknown> | undefined;
    if (PROFILE)
      profiles = await profileColdStart(
        path.join(work, 'profile'),
        esbuildOptions,
        env,
        loadServerlessConfig({ file: path.join(ROOT, 'serverless.yml') }).functions ?? {},
      );

    // rows: the hook receivers as one group (same pipeline, one provider each), the other functions one by one
    const rows: Row[] = [];
    for (const variant of VARIANTS) {
      const rs = results.filter((r) => r.variant === variant.id);
      const hooks = rs.filter((r) => r.fn.startsWith('hook'));
      const admins = rs.filter((r) => r.fn.startsWith('admin'));
      const groups: Array<[string, FnResult[]]> = [
        ...(hooks.length
          ? ([[`hook* (${hooks.length} functions, median)`, hooks]] as Array<[string, FnResult[]]>)
          : []),
        ...rs
          .filter((r) => !r.fn.startsWith('hook') && !r.fn.startsWith('admin') && r.fn !== 'health')
          .map((r) => [r.fn, [r]] as [string, FnResult[]]),
        ...(admins.length
          ? ([[`admin* (${admins.length} functions, median)`, admins]] as Array<[string, FnResult[]]>)
          : []),
      ];
      for (const [label, group] of groups) {
        // pair each function's median with the floor medians taken alongside it
        const total = median(group.map((r) => r.totalMs));
        const floorTotal = median(group.map((r) => r.floorTotalMs));
        const zip = median(group.map((r) => r.zipBytes));
        rows.push(
          row({
            id: `3 ${label.split(' ')[0]} ${variant.id}`,
            what: `Cold start, ${label}, ${variant.label}: load + build clients + first call`,
            unit: 'ms',
            subject: total,
            floor: floorTotal,
            limit: 1.5,
            samples: group.reduce((a, r) => a + r.samples, 0),
            note:
              `require ${round(median(group.map((r) => r.requireMs)), 1)} ms + first call ${round(median(group.map((r) => r.invokeMs)), 1)} ms; ` +
              `floor require ${round(median(group.map((r) => r.floorRequireMs)), 1)} ms; CPU ${round(median(group.map((r) => r.cpuMs)), 1)} vs ${round(median(group.map((r) => r.floorCpuMs)), 1)} ms`,
          }),
        );
        rows.push(
          row({
            id: `3 ${label.split(' ')[0]} ${variant.id} zip`,
            what: `Bundle zipped, ${label}, ${variant.label}`,
            unit: 'KB',
            subject: zip / 1024,
            floor: floors[variant.id].zipBytes / 1024,
            limit: 1.5,
            note: `unzipped ${Math.round(median(group.map((r) => r.bundleBytes)) / 1024)} KB; floor ${Math.round(floors[variant.id].bundleBytes / 1024)} KB`,
          }),
        );
      }
    }
    finish(
      'cold-start',
      started,
      rows,
      {
        rounds: ROUNDS,
        hookRounds: HOOK_ROUNDS,
        packagingMs: packaging,
        floors,
        functions: results,
        requireBreakdown: breakdown,
        composition,
        profiles,
      },
      anomalies,
    );
  } finally {
    await aws.close();
    rmSync(work, { recursive: true, force: true });
  }
}

runPart(main);
