/** The http target keeps its own secrets out of what it records: a target that echoes its request. */
import { httpTarget } from '../../../lib/deploy/targets/http';
import { startTargetServer } from '../../helpers/target-server';

const event = {
  provider: 'dockerhub',
  kind: 'image' as const,
  action: 'push' as const,
  repository: 'web',
  repoFullName: 'ns/web',
  tag: 'v1',
};
const ctx = { triggerId: 't', logId: 'l', event, allowPrivateTargets: true };
const HEADER_SECRET = 'hdr-secret-0123456789';
const PATH_TOKEN = 'Zz9Yy8Xx7Ww6Vv5Uu4Tt';

let echo: Awaited<ReturnType<typeof startTargetServer>>;
beforeAll(async () => {
  echo = await startTargetServer((call) => {
    if (call.url.startsWith('/small')) return { status: 200, body: `${JSON.stringify(call.headers)} ${call.url}` };
    // a secret across the 4 KiB cut (its first bytes would be kept), and more past it
    return {
      status: 200,
      body: `${'.'.repeat(4088)}${call.headers['x-token']} ${JSON.stringify(call.headers)} ${'-'.repeat(10000)}`,
    };
  });
});
afterAll(() => echo.close());

const config = (path: string) => ({
  type: 'http' as const,
  url: `${echo.url}/${path}/${PATH_TOKEN}?auth=qs-secret-998877`,
  headers: { 'X-Token': HEADER_SECRET, Authorization: 'Bearer bearer-secret-5544' },
});

it('redacts the target header values and URL tokens from the recorded response', async () => {
  const result = await httpTarget.deploy(config('small'), ctx);
  expect(result.ok).toBe(true);
  expect(echo.calls.at(-1)!.headers['x-token']).toBe(HEADER_SECRET);
  expect(result.response).toContain('"x-token":"[redacted]"');
  expect(result.response).toContain('"authorization":"[redacted]"');
  expect(result.response).toContain('/small/[redacted]?auth=[redacted]');
});

it('redacts a secret that crosses the 4 KiB cut (no prefix of it is kept)', async () => {
  const result = await httpTarget.deploy(config('long'), ctx);
  const response = result.response!;
  expect(response).toMatch(/^\.{4088}\[redacte…\[truncated \d+ bytes\]$/);
  for (let n = 3; n <= HEADER_SECRET.length; n++) expect(response).not.toContain(HEADER_SECRET.slice(0, n));
});

it('keeps ordinary text of the response', async () => {
  const result = await httpTarget.deploy(
    { type: 'http', url: `${echo.url}/small/plain?page=2`, headers: { 'X-Token': HEADER_SECRET } },
    ctx,
  );
  expect(result.response).toContain('"user-agent":"Triggerfish/0.1"');
  expect(result.response).toContain('/small/plain?page=');
});
