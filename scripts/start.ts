/**
 * `npm start`: the whole Triggerfish stack on loopback (DynamoDB Local, the SQS stand-in, the HTTP API and the
 * deployer consuming the queue). Data lives in .triggerfish/ (TRIGGERFISH_DATA_DIR overrides) and survives
 * restarts; `npm start -- --in-memory` for a throwaway run, `npm start -- --reset` to start from scratch.
 * PORT (default 3000), HOST (default 127.0.0.1) and TRIGGERFISH_ADMIN_TOKEN override. The admin token is printed only
 * when it was just generated or stdout is a terminal (tokenShown).
 * Ctrl-C / SIGTERM stops every child process and exits 0.
 */
import fs from 'node:fs';
import path from 'node:path';
import { visibleText } from '../lib/core/terminal-text';
import { dataDirFromEnv, ensureDataDir, lockDataDir } from '../lib/local/data-dir';
import { dynamoListensOnAllInterfaces } from '../lib/local/standins';
import { startLocalStack, type LocalStack } from '../lib/local/stack';

const USAGE = `usage: npm start [-- --in-memory | --reset]
  --in-memory  keep nothing: DynamoDB Local runs in memory, a new admin token every run
  --reset      delete the data dir (every trigger, secret and log entry) before starting
environment: PORT (3000), HOST (127.0.0.1), TRIGGERFISH_DATA_DIR (.triggerfish), TRIGGERFISH_ADMIN_TOKEN`;

function parseArgs(argv: string[]): { inMemory: boolean; reset: boolean } {
  const out = { inMemory: false, reset: false };
  for (const a of argv) {
    if (a === '--in-memory') out.inMemory = true;
    else if (a === '--reset') out.reset = true;
    else if (a === '--help' || a === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else {
      console.error(`unknown argument ${a}\n${USAGE}`);
      process.exit(2);
    }
  }
  return out;
}

/**
 * `npm start` runs us as npm -> sh -c -> tsx -> node. A SIGTERM sent to npm alone (e.g. `kill <npm pid>`) reaches
 * sh, which exits without passing it on, so we would live on. We therefore also stop when any process of that
 * launch chain (up to npm) goes away. Linux (/proc) only; elsewhere just our parent is watched.
 */
function launchChain(): number[] {
  const viaNpm = !!(process.env.npm_lifecycle_event || process.env.npm_command);
  if (process.platform !== 'linux' || !viaNpm) return [process.ppid];
  const chain: number[] = [];
  let pid = process.ppid;
  for (let i = 0; i < 6 && pid > 1; i++) {
    chain.push(pid);
    let cmd: string;
    let parent: number;
    try {
      cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    } catch {
      break;
    }
    if (/^npm\b|npm-cli\.js|npx-cli\.js/.test(cmd)) break;
    pid = parent;
  }
  return chain;
}

function alive(pid: number): boolean {
  try {
    if (process.platform === 'linux') {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
    }
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const port = Number(process.env.PORT || 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT=${process.env.PORT} is not a port`);
  // loopback unless told otherwise (behind a reverse proxy on the same host, keep it so)
  const host = process.env.HOST || '127.0.0.1';
  const dataDir = args.inMemory ? undefined : dataDirFromEnv();
  if (dataDir) {
    // locked first: a reset must not pull the data from under a running instance
    process.on('exit', lockDataDir(ensureDataDir(dataDir)));
    if (args.reset) {
      for (const f of fs.readdirSync(dataDir))
        if (f !== 'lock') fs.rmSync(path.join(dataDir, f), { recursive: true, force: true });
      console.log(`--reset: deleted everything in ${dataDir}`);
    }
  }

  // eslint-disable-next-line prefer-const -- `shutdown` below reads it before the stack has started
  let stack: LocalStack | undefined;
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping...`);
    const force = setTimeout(() => {
      console.error('did not stop within 15 s; exiting anyway');
      process.exit(1);
    }, 15_000);
    force.unref();
    void (stack?.stop() ?? Promise.resolve()).then(
      () => process.exit(0),
      (err) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  // installed before start-up so a Ctrl-C during it still cleans up
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => shutdown(sig));
  const chain = launchChain();
  const initialParent = process.ppid;
  setInterval(() => {
    if (process.ppid !== initialParent || !chain.every(alive)) shutdown('parent process exited');
  }, 1000).unref();

  console.log('Starting DynamoDB Local, the SQS stand-in, the HTTP API and the deployer...');
  const started = Date.now();
  stack = await startLocalStack({
    host,
    port,
    dataDir,
    // the path is the sender's: shown with control characters escaped, one line per request
    accessLog: (line) => console.log(`[http] ${visibleText(line)}`),
    log: (line) => console.error(line),
  });
  if (stopping) {
    await stack.stop();
    return;
  }

  let health: string;
  try {
    const res = await fetch(`${stack.url}/health`);
    health = `${res.status}${res.ok ? '' : ` (${(await res.text()).slice(0, 200)})`}`;
  } catch (err) {
    health = `error: ${(err as Error).message}`;
  }

  const token = tokenShown(stack);
  const q = stack.resources.queues;
  const t = stack.resources.tables;
  console.log(
    [
      '',
      `Triggerfish is running (ready in ${((Date.now() - started) / 1000).toFixed(1)} s)`,
      `  base URL     ${stack.url}`,
      `  admin token  ${token.line}`,
      `  GET /health  ${health}`,
      `  data         ${dataDir ? `${dataDir} (kept across restarts; --reset or rm -rf it to start over)` : 'IN MEMORY (--in-memory): all data is lost on exit'}`,
      `  console      ${stack.url}/console  (sign in with the admin token)`,
      `  DynamoDB     ${stack.endpoints.dynamodb}  (DynamoDB Local${dynamoListensOnAllInterfaces ? ', WARNING: on every interface, no javac to bind it to loopback' : ''})`,
      `               tables ${Object.values(t)
        .map((x) => x.tableName)
        .join(', ')}`,
      `  SQS          ${stack.endpoints.sqs}  (fauxqs, in memory: waiting deploys are queued again from the log on start)`,
      `               queues ${Object.values(q)
        .map((x) => x.queueName)
        .join(', ')}`,
      `  private/loopback deploy targets: ${process.env.ALLOW_PRIVATE_TARGETS === 'true' ? 'allowed' : 'refused'}`,
      ...(stack.reconciled?.requeued.length
        ? [`  recovered    ${stack.reconciled.requeued.length} deploy(s) left in flight by the last run, queued again`]
        : []),
      '',
      'Try:',
      `  curl -s -H "Authorization: Bearer ${token.shell}" ${stack.url}/admin/triggers`,
      '',
      'Ctrl-C stops everything.',
    ].join('\n'),
  );
}

/**
 * The admin token is a credential, and a service's stdout ends in its journal (journald, docker logs): it is printed
 * only when this start just made it (nobody could know it otherwise) or stdout is a terminal; otherwise the banner
 * says where it is kept. `shell` is what the curl example uses in its place.
 */
function tokenShown(stack: LocalStack): { line: string; shell: string } {
  const source = stack.adminTokenSource;
  if (('generated' in source && source.generated) || process.stdout.isTTY) {
    return { line: stack.adminToken, shell: stack.adminToken };
  }
  if ('file' in source && source.file) {
    return {
      line: `(not printed: stdout is not a terminal) in ${source.file}`,
      shell: `$(cat ${source.file})`,
    };
  }
  return {
    line: '(not printed: stdout is not a terminal) from TRIGGERFISH_ADMIN_TOKEN',
    shell: '$TRIGGERFISH_ADMIN_TOKEN',
  };
}

main().catch((err) => {
  console.error('npm start failed:', err instanceof Error ? err.message : err);
  process.exit(1);
});
