/**
 * Issue 20, finding 9: `npm start` printed the admin token in its banner, so a service's journal held it. In a file
 * of its own: the child inherits this process's environment, which must not hold an in-process stack's.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { apiClient } from '../helpers/api';
import { startChildStack, type ChildStack } from '../helpers/child-stack';

describe("npm start's banner prints the admin token only when just generated or to a terminal (finding 9)", () => {
  it('a restart with stdout a pipe (as under systemd) names the token file instead of printing the token', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tf-banner-'));
    const run = async (check: (s: ChildStack) => Promise<void>) => {
      const s = await startChildStack({ dataDir, port: 0, env: { POWERTOOLS_LOG_LEVEL: 'ERROR' } });
      try {
        await check(s);
      } finally {
        s.child.kill('SIGTERM');
        await s.exited;
      }
    };
    try {
      const file = path.join(dataDir, 'admin-token');
      let token = '';
      await run(async (s) => {
        // just generated: nobody could know it otherwise
        token = fs.readFileSync(file, 'utf8').trim();
        expect(s.output()).toContain(`admin token  ${token}`);
      });
      await run(async (s) => {
        expect(s.output()).not.toContain(token);
        expect(s.output()).toContain(`admin token  (not printed: stdout is not a terminal) in ${file}`);
        expect(s.output()).toContain(`Bearer $(cat ${file})`);
        expect(s.adminToken).toBe(token);
        expect((await apiClient(s.url, token).admin('GET', '/admin/triggers')).status).toBe(200);
      });
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }, 240_000);
});
