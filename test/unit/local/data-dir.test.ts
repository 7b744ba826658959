/**
 * The data dir's lock must prove its owner: after a SIGKILL the dead owner's pid can still be a zombie (not yet
 * reaped) or be reused by an unrelated process; either way a restart must take the lock over (issue 23).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { lockDataDir, processIdentity } from '../../../lib/local/data-dir';

const children: ChildProcess[] = [];
afterAll(() => children.forEach((c) => c.kill('SIGKILL')));

/** Polls until `get` returns a value; the deadline is generous because the machine may be busy. */
async function until<T>(what: string, get: () => T | undefined, deadlineMs = 20_000): Promise<T> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const v = get();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A process that keeps running, and its pid. */
function sleeper(): ChildProcess {
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  children.push(child);
  return child;
}

/** The pid of a zombie: a child of a shell that exec()s into `sleep` and so never reaps it. */
async function zombie(): Promise<number> {
  const parent = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 60'], { stdio: ['ignore', 'pipe', 'ignore'] });
  children.push(parent);
  let out = '';
  parent.stdout!.on('data', (d) => (out += d));
  const pid = await until('the zombie pid', () => (/^\d+\n/.test(out) ? Number(out) : undefined));
  await until('the child to become a zombie', () => (processIdentity(pid)?.zombie ? true : undefined));
  return pid;
}

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'tf-lock-'));
}

function writeLock(dir: string, owner: object | string): void {
  fs.writeFileSync(path.join(dir, 'lock'), typeof owner === 'string' ? owner : JSON.stringify(owner));
}

describe('lockDataDir', () => {
  it('takes over a lock whose owner is a zombie', async () => {
    const dir = tempDir();
    const pid = await zombie();
    const { zombie: _z, ...owner } = processIdentity(pid)!;
    writeLock(dir, owner);
    const release = lockDataDir(dir);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'lock'), 'utf8')).pid).toBe(process.pid);
    release();
    expect(fs.existsSync(path.join(dir, 'lock'))).toBe(false);
  });

  it('takes over an old-format lock (bare pid) whose owner is a zombie', async () => {
    const dir = tempDir();
    writeLock(dir, String(await zombie()));
    lockDataDir(dir)();
  });

  it('takes over a lock whose pid now belongs to an unrelated process (a reused pid)', async () => {
    const dir = tempDir();
    const other = sleeper();
    const now = await until('the sleeper in /proc', () => processIdentity(other.pid!));
    // the lock was written by the process that had this pid before: same pid, another start time
    writeLock(dir, { pid: other.pid, start: String(Number(now.start) - 1), boot: now.boot });
    lockDataDir(dir)();
  });

  it('refuses while the owner that wrote the lock runs, naming its pid', async () => {
    const dir = tempDir();
    const owner = sleeper();
    const { zombie: _z, ...identity } = await until('the owner in /proc', () => processIdentity(owner.pid!));
    writeLock(dir, identity);
    expect(() => lockDataDir(dir)).toThrow(`another Triggerfish (pid ${owner.pid}) runs on ${dir}`);
  });

  it('takes over a lock whose owner is gone, and one with torn content', () => {
    const dir = tempDir();
    writeLock(dir, { pid: 2 ** 22 + 12345, start: '1', boot: 'x' }); // above pid_max's default: no such process
    lockDataDir(dir)();
    writeLock(dir, '{"pid": 12');
    lockDataDir(dir)();
  });
});
