/**
 * Where `npm start` keeps its data: `.triggerfish/` in the project (git-ignored), or TRIGGERFISH_DATA_DIR.
 *   .triggerfish/dynamodb/     DynamoDB Local's files (-dbPath): triggers, secrets, the trigger log, deploy state
 *   .triggerfish/admin-token   the admin token (mode 0600), kept across restarts unless TRIGGERFISH_ADMIN_TOKEN is set
 *   .triggerfish/secrets/      the local secret store (one 0600 file per secret, lib/store/local-secrets.ts)
 *   .triggerfish/lock          the Triggerfish using it (pid and start time; one per data dir)
 * The SQS stand-in keeps nothing (fauxqs has no persistence): on start, what was waiting is queued again from the
 * trigger log (lib/deploy/reconcile.ts). `rm -rf .triggerfish` (or `npm start -- --reset`) starts from scratch.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from './paths';

export const DEFAULT_DATA_DIR = path.join(PROJECT_ROOT, '.triggerfish');

export function dataDirFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.TRIGGERFISH_DATA_DIR || DEFAULT_DATA_DIR);
}

/** Creates the folder (mode 0700: it holds every trigger secret) if missing. */
export function ensureDataDir(dir: string): string {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/**
 * The admin token stored in the data dir, created on first use (random, 0600), and whether this call created it. A
 * token file that others can read is tightened to 0600 rather than trusted as is.
 */
export function persistentAdminToken(dir: string): { token: string; created: boolean; file: string } {
  ensureDataDir(dir);
  const file = path.join(dir, 'admin-token');
  try {
    const token = fs.readFileSync(file, 'utf8').trim();
    if (token) {
      if ((fs.statSync(file).mode & 0o077) !== 0) fs.chmodSync(file, 0o600);
      return { token, created: false, file };
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const token = randomBytes(24).toString('base64url');
  // wx: two starts racing on a fresh dir must not end with different tokens
  try {
    fs.writeFileSync(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
    return { token, created: true, file };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST')
      return { token: fs.readFileSync(file, 'utf8').trim(), created: false, file };
    throw e;
  }
}

/**
 * One Triggerfish per data dir: two would share DynamoDB Local's files and each queue again what the other is
 * deploying. The lock file names its owner by pid AND the process's start time (from /proc), so a lock left by a
 * killed run is taken over even when that pid is still a zombie or has been reused by an unrelated process:
 * `kill(pid, 0)` alone passes for both, which turned a crash into a refused restart (an outage under systemd's
 * `Restart=on-failure`). Node has no flock(2), and the lockfile packages judge staleness by mtime, hence by hand.
 * Returns a release function.
 */
export function lockDataDir(dir: string): () => void {
  ensureDataDir(dir);
  const file = path.join(dir, 'lock');
  const me = processIdentity(process.pid);
  for (let tries = 0; tries < 3; tries++) {
    try {
      fs.writeFileSync(file, JSON.stringify(me ?? { pid: process.pid }), { mode: 0o600, flag: 'wx' });
      return () => {
        try {
          if (readLock(file)?.pid === process.pid) fs.unlinkSync(file);
        } catch {
          // gone already
        }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const owner = readLock(file);
    if (owner && owner.pid !== process.pid && ownerRuns(owner)) {
      throw new Error(
        `another Triggerfish (pid ${owner.pid}) runs on ${dir}; stop it first or use another TRIGGERFISH_DATA_DIR ` +
          `(if pid ${owner.pid} is not Triggerfish, delete ${file})`,
      );
    }
    fs.rmSync(file, { force: true }); // stale: its owner was killed
  }
  throw new Error(`could not lock ${dir}`);
}

/** Who holds a lock: the pid, and where /proc exists the process's start time and the boot it started in. */
export interface LockOwner {
  pid: number;
  /** field 22 of /proc/<pid>/stat: clock ticks after boot; with the pid, names one process for the whole boot */
  start?: string;
  boot?: string;
}

/** The identity of a running process (undefined where /proc has no entry for it: gone, or not Linux). */
export function processIdentity(pid: number): (LockOwner & { zombie: boolean }) | undefined {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ')'
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { pid, start: fields[19], boot: bootId(), zombie: fields[0] === 'Z' || fields[0] === 'X' };
}

function bootId(): string | undefined {
  try {
    return fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** The lock's owner; a lock written by an older version holds the bare pid. */
function readLock(file: string): LockOwner | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
  if (/^\d+$/.test(text)) return { pid: Number(text) };
  try {
    const v = JSON.parse(text) as Partial<LockOwner>;
    return Number.isSafeInteger(v.pid) && (v.pid as number) > 0 ? (v as LockOwner) : undefined;
  } catch {
    return undefined; // torn or foreign content: nobody provably owns it
  }
}

/** Is the process that wrote the lock still running (not a zombie, not another process under its reused pid)? */
function ownerRuns(owner: LockOwner): boolean {
  const now = processIdentity(owner.pid);
  if (now) {
    if (now.zombie) return false;
    if (owner.start === undefined) return true; // an old lock: the pid is all we know
    return now.start === owner.start && now.boot === owner.boot;
  }
  if (fs.existsSync('/proc/self/stat')) return false; // /proc works and has no such process
  try {
    process.kill(owner.pid, 0); // no /proc (not Linux): the pid is all we can check
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
