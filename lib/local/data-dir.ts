/**
 * Where `npm start` keeps its data: `.triggerfish/` in the project (git-ignored), or TRIGGERFISH_DATA_DIR.
 *   .triggerfish/dynamodb/     DynamoDB Local's files (-dbPath): triggers, secrets, the trigger log, deploy state
 *   .triggerfish/admin-token   the admin token (mode 0600), kept across restarts unless TRIGGERFISH_ADMIN_TOKEN is set
 *   .triggerfish/lock          the pid of the Triggerfish using it (one per data dir)
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
 * deploying. The lock file holds the owner's pid; one left by a killed run (its pid gone) is taken over.
 * Returns a release function.
 */
export function lockDataDir(dir: string): () => void {
  ensureDataDir(dir);
  const file = path.join(dir, 'lock');
  for (let tries = 0; tries < 3; tries++) {
    try {
      fs.writeFileSync(file, String(process.pid), { mode: 0o600, flag: 'wx' });
      return () => {
        try {
          if (fs.readFileSync(file, 'utf8').trim() === String(process.pid)) fs.unlinkSync(file);
        } catch {
          // gone already
        }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const owner = Number(fs.readFileSync(file, 'utf8').trim());
    if (owner && owner !== process.pid && isAlive(owner)) {
      throw new Error(
        `another Triggerfish (pid ${owner}) runs on ${dir}; stop it first or use another TRIGGERFISH_DATA_DIR ` +
          `(if pid ${owner} is not Triggerfish, delete ${file})`,
      );
    }
    fs.rmSync(file, { force: true }); // stale: its owner was killed
  }
  throw new Error(`could not lock ${dir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
