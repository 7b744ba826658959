/**
 * `npm start`: the whole Triggerfish stack on loopback (DynamoDB Local, the SQS stand-in, the HTTP API and the
 * deployer consuming the queue). PORT (default 3000) and TRIGGERFISH_ADMIN_TOKEN override.
 * Ctrl-C / SIGTERM stops every child process and exits 0.
 */
import fs from 'node:fs';
import { startLocalStack, type LocalStack } from '../lib/local/stack';

const HOST = '127.0.0.1';

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
    let cmd = '';
    let parent = 0;
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
  const port = Number(process.env.PORT || 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT=${process.env.PORT} is not a port`);

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
    host: HOST,
    port,
    accessLog: (line) => console.log(`[http] ${line}`),
  });
  if (stopping) {
    await stack.stop();
    return;
  }

  let health = 'not checked';
  try {
    const res = await fetch(`${stack.url}/health`);
    health = `${res.status}${res.ok ? '' : ` (${(await res.text()).slice(0, 200)})`}`;
  } catch (err) {
    health = `error: ${(err as Error).message}`;
  }

  const q = stack.resources.queues;
  const t = stack.resources.tables;
  console.log(
    [
      '',
      `Triggerfish is running (ready in ${((Date.now() - started) / 1000).toFixed(1)} s)`,
      `  base URL     ${stack.url}`,
      `  admin token  ${stack.adminToken}`,
      `  GET /health  ${health}`,
      `  console      ${stack.url}/console  (sign in with the admin token)`,
      `  DynamoDB     ${stack.endpoints.dynamodb}  (DynamoDB Local, IN MEMORY: all data is lost on exit)`,
      `               tables ${Object.values(t).map((x) => x.tableName).join(', ')}`,
      `  SQS          ${stack.endpoints.sqs}  (fauxqs, in memory)`,
      `               queues ${Object.values(q).map((x) => x.queueName).join(', ')}`,
      `  private/loopback deploy targets: ${process.env.ALLOW_PRIVATE_TARGETS === 'true' ? 'allowed' : 'refused'}`,
      '',
      'Try:',
      `  curl -s -H "Authorization: Bearer ${stack.adminToken}" ${stack.url}/admin/triggers`,
      '',
      'Ctrl-C stops everything.',
    ].join('\n'),
  );
}

main().catch((err) => {
  console.error('npm start failed:', err instanceof Error ? err.message : err);
  process.exit(1);
});
