import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  deleteLocalSecret,
  listLocalSecrets,
  LocalSecretNameError,
  putLocalSecret,
  readLocalSecret,
} from '../../../lib/store/local-secrets';

let root: string;
let dir: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'tf-local-secrets-'));
  dir = path.join(root, 'secrets');
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

it('writes 0600 files in a 0700 folder, replaces atomically, lists names only, deletes', () => {
  putLocalSecret(dir, 'k8s-token', 'v1');
  putLocalSecret(dir, 'k8s-token', 'v2');
  putLocalSecret(dir, 'git.token@team', 'g');
  expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
  expect(fs.statSync(path.join(dir, 'k8s-token')).mode & 0o777).toBe(0o600);
  expect(readLocalSecret(dir, 'k8s-token')).toBe('v2');
  // no temporary file is left behind, and none would be listed
  fs.writeFileSync(path.join(dir, '.k8s-token.abc.tmp'), 'half');
  expect(listLocalSecrets(dir).map((s) => s.name)).toEqual(['git.token@team', 'k8s-token']);
  expect(JSON.stringify(listLocalSecrets(dir))).not.toContain('v2');
  expect(deleteLocalSecret(dir, 'k8s-token')).toBe(true);
  expect(deleteLocalSecret(dir, 'k8s-token')).toBe(false);
  expect(readLocalSecret(dir, 'k8s-token')).toBeUndefined();
});

it('an empty or missing store lists nothing', () => {
  expect(listLocalSecrets(dir)).toEqual([]);
});

it.each(['', '..', '.', '../x', 'a/b', '/etc/passwd', '.hidden', 'a\\b', 'a b', 'a\0b', 'x'.repeat(65)])(
  'refuses the name %j for every operation, touching nothing',
  (name) => {
    expect(() => putLocalSecret(dir, name, 'v')).toThrow(LocalSecretNameError);
    expect(() => readLocalSecret(dir, name)).toThrow(LocalSecretNameError);
    expect(() => deleteLocalSecret(dir, name)).toThrow(LocalSecretNameError);
    expect(fs.existsSync(dir)).toBe(false);
  },
);
