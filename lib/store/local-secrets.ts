/**
 * The local secret store (`npm start` and the tests): one file per secret under the data dir's `secrets/`, mode
 * 0600 in a 0700 folder. Written and deleted through the admin API or the CLI, read only by the deployer (a
 * `{"secretsManager": name}` or `{"ssmParameter": name}` reference, lib/deploy/secrets.ts): the API lists names,
 * never values. On AWS the same names live under the stage's prefix in Secrets Manager or SSM.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * One path segment of the characters Secrets Manager and SSM names share, starting with a letter or digit: no `/`,
 * no `.`/`..`, nothing a file system reads specially. 64 at most, the admin API's longest path parameter.
 */
export const LOCAL_SECRET_NAME = /^[A-Za-z0-9][A-Za-z0-9_.@+=-]{0,63}$/;
export const LOCAL_SECRET_NAME_RULE =
  'a name of 1-64 letters, digits and _ . @ + = -, starting with a letter or digit (no slashes)';
/** Secrets Manager's limit for a SecretString */
export const MAX_LOCAL_SECRET_BYTES = 64 * 1024;

export class LocalSecretNameError extends Error {}

function fileOf(dir: string, name: string): string {
  if (!LOCAL_SECRET_NAME.test(name)) throw new LocalSecretNameError(`invalid secret name: ${LOCAL_SECRET_NAME_RULE}`);
  const file = path.join(dir, name);
  // the grammar above already keeps it inside; this is the check that does not depend on it
  if (path.dirname(file) !== path.resolve(dir)) throw new LocalSecretNameError('invalid secret name');
  return file;
}

function ensureDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
}

/** Stores (or replaces) a secret: written to a new 0600 file, then renamed over the old one (never half written). */
export function putLocalSecret(dir: string, name: string, value: string): void {
  const file = fileOf(dir, name);
  ensureDir(dir);
  // temporary names start with '.', which no secret name does, so a listing never shows them
  const tmp = path.join(dir, `.${name}.${randomBytes(6).toString('hex')}.tmp`);
  fs.writeFileSync(tmp, value, { mode: 0o600, flag: 'wx' });
  try {
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

/** true when it existed */
export function deleteLocalSecret(dir: string, name: string): boolean {
  const file = fileOf(dir, name);
  try {
    fs.unlinkSync(file);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

/** The value, or undefined when no such secret is stored. For the deployer only: the admin API never reads it. */
export function readLocalSecret(dir: string, name: string): string | undefined {
  const file = fileOf(dir, name);
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Names and when each was last set, sorted by name; never values. */
export function listLocalSecrets(dir: string): Array<{ name: string; updatedAt: string }> {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const out: Array<{ name: string; updatedAt: string }> = [];
  for (const name of names.filter((n) => LOCAL_SECRET_NAME.test(n)).sort()) {
    try {
      out.push({ name, updatedAt: fs.statSync(path.join(dir, name)).mtime.toISOString() });
    } catch {
      // deleted meanwhile
    }
  }
  return out;
}
