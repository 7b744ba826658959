/**
 * `npm start` as a user runs it (scripts/start.ts), in a child process on a data dir of the test's own, so tests
 * can stop it, SIGKILL it, kill one of its stand-ins and start it again.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../lib/local/paths';

export interface ChildStack {
  child: ChildProcess;
  url: string;
  adminToken: string;
  dynamodbPort: number;
  sqsPort: number;
  /** everything it printed so far (for failure messages) */
  output(): string;
  exited: Promise<void>;
}

export async function startChildStack(opts: {
  dataDir: string;
  port: number;
  env?: Record<string, string>;
  timeoutMs?: number;
}): Promise<ChildStack> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...opts.env,
    TRIGGERFISH_DATA_DIR: opts.dataDir,
    PORT: String(opts.port),
  };
  // the stack under test finds its own stand-ins; the token comes from its data dir
  for (const k of [
    'TF_TEST_DYNAMODB_ENDPOINT',
    'TF_TEST_SQS_ENDPOINT',
    'TRIGGERFISH_ADMIN_TOKEN',
    'npm_lifecycle_event',
    'npm_command',
  ])
    delete env[k];
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'scripts', 'start.ts')], {
    cwd: PROJECT_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // A stack that dies by itself (not by a test's signal) says why: a later ECONNREFUSED alone tells nothing.
  child.once('exit', (code, signal) => {
    const wasUp = out.includes('Ctrl-C stops everything.'); // one that never came up throws its output itself
    if (wasUp && code !== 0 && !['SIGKILL', 'SIGTERM', 'SIGINT'].includes(signal ?? ''))
      process.stderr.write(
        `npm start (pid ${child.pid}) exited by itself with code ${code}; its output:\n${out.slice(-6000)}\n`,
      );
  });
  const deadline = Date.now() + (opts.timeoutMs ?? 90_000);
  while (!out.includes('Ctrl-C stops everything.')) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`npm start exited early:\n${out}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`npm start did not come up:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const field = (re: RegExp) => {
    const m = re.exec(out);
    if (!m) throw new Error(`no ${re} in:\n${out}`);
    return m[1];
  };
  return {
    child,
    url: field(/base URL\s+(\S+)/),
    // printed only when just generated (stdout is a pipe here): else the banner names the file that keeps it
    adminToken: /admin token\s+\(not printed/.test(out)
      ? fs.readFileSync(field(/admin token\s+\(not printed[^)]*\) in (\S+)/), 'utf8').trim()
      : field(/admin token\s+(\S+)/),
    dynamodbPort: Number(field(/DynamoDB\s+http:\/\/127\.0\.0\.1:(\d+)/)),
    sqsPort: Number(field(/SQS\s+http:\/\/127\.0\.0\.1:(\d+)/)),
    output: () => out,
    exited,
  };
}

/** Listening TCP sockets of this machine by port: the local address each is bound to (from /proc/net/tcp{,6}). */
export function listeners(): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.trim().split('\n').slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (state !== '0A') continue; // LISTEN
      const [hex, portHex] = local.split(':');
      const port = parseInt(portHex, 16);
      out.set(port, [...(out.get(port) ?? []), decodeAddress(hex)]);
    }
  }
  return out;
}

/** /proc/net/tcp writes addresses as host-order 32-bit words in hex */
function decodeAddress(hex: string): string {
  const words = hex.match(/.{8}/g)!.map((w) => w.match(/../g)!.reverse().join(''));
  if (words.length === 1)
    return words[0]
      .match(/../g)!
      .map((b) => parseInt(b, 16))
      .join('.');
  const v6 = words.join('').toLowerCase();
  if (v6.startsWith('00000000000000000000ffff'))
    return `::ffff:${v6
      .slice(24)
      .match(/../g)!
      .map((b) => parseInt(b, 16))
      .join('.')}`;
  if (/^0+$/.test(v6)) return '::';
  return v6.match(/.{4}/g)!.join(':');
}

/** The pid listening on a port (Linux: the socket inode in /proc/net/tcp*, found among this user's fds). */
export function pidListeningOn(port: number, candidates: number[]): number | undefined {
  const inodes = new Set<string>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of fs.readFileSync(file, 'utf8').trim().split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[3] === '0A' && parseInt(f[1].split(':')[1], 16) === port) inodes.add(f[9]);
    }
  }
  for (const pid of candidates) {
    let fds: string[];
    try {
      fds = fs.readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m && inodes.has(m[1])) return pid;
      } catch {
        // fd closed meanwhile
      }
    }
  }
  return undefined;
}

/** This process tree under `root` (Linux /proc): the only processes a test may kill. */
export function descendants(root: number): number[] {
  const all: number[] = [];
  const walk = (pid: number) => {
    let kids: string[];
    try {
      kids = fs
        .readdirSync(`/proc/${pid}/task`)
        .flatMap((t) => fs.readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/))
        .filter(Boolean);
    } catch {
      return;
    }
    for (const k of kids) {
      all.push(Number(k));
      walk(Number(k));
    }
  };
  walk(root);
  return all;
}
