/**
 * Where `npm start` keeps its data: `.triggerfish/` in the project (git-ignored), or TRIGGERFISH_DATA_DIR.
 *   .triggerfish/dynamodb/     DynamoDB Local's files (-dbPath): triggers, secrets, the trigger log, deploy state
 *   .triggerfish/admin-token   the admin token (mode 0600), kept across restarts unless TRIGGERFISH_ADMIN_TOKEN is set
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
 * The admin token stored in the data dir, created on first use (random, 0600). A token file that others can read
 * is tightened to 0600 rather than trusted as is.
 */
export function persistentAdminToken(dir: string): string {
  ensureDataDir(dir);
  const file = path.join(dir, 'admin-token');
  try {
    const token = fs.readFileSync(file, 'utf8').trim();
    if (token) {
      if ((fs.statSync(file).mode & 0o077) !== 0) fs.chmodSync(file, 0o600);
      return token;
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const token = randomBytes(24).toString('base64url');
  // wx: two starts racing on a fresh dir must not end with different tokens
  try {
    fs.writeFileSync(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
    return token;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return fs.readFileSync(file, 'utf8').trim();
    throw e;
  }
}
