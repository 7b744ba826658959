/** Admin API polish found by trying it as a new user (issue 13, scope 4). */
import { apiClient } from '../helpers/api';
import { fixture } from '../helpers/fixtures';
import { startTestStack } from '../helpers/stack';

let stack: Awaited<ReturnType<typeof startTestStack>>;
let api: ReturnType<typeof apiClient>;

beforeAll(async () => {
  stack = await startTestStack();
  api = apiClient(stack.url, stack.adminToken);
});
afterAll(() => stack?.stop());

const trigger = (name: string, provider = 'dockerhub') => ({
  name,
  provider,
  target: { type: 'http', url: 'https://deploy.example.com/hook' },
});

it('trigger names are unique: a second web-prod is a 409 naming the field; renaming onto it too', async () => {
  const first = await api.admin('POST', '/admin/triggers', trigger('web-prod'));
  expect(first.status).toBe(201);
  const second = await api.admin('POST', '/admin/triggers', trigger('web-prod', 'github'));
  expect(second.status).toBe(409);
  expect(second.body).toMatchObject({ field: 'name', id: first.body.id });
  const other = await api.admin('POST', '/admin/triggers', trigger('web-staging'));
  expect((await api.admin('PATCH', `/admin/triggers/${other.body.id}`, { name: 'web-prod' })).status).toBe(409);
  // keeping one's own name is fine
  expect(
    (await api.admin('PATCH', `/admin/triggers/${first.body.id}`, { name: 'web-prod', enabled: false })).status,
  ).toBe(200);
  expect((await api.admin('GET', '/admin/triggers')).body.items.filter((t: any) => t.name === 'web-prod')).toHaveLength(
    1,
  );
});

it('previousSecretExpiresAt is not shown; the rotate answer has previousSecretValidUntil', async () => {
  const t = await api.admin('POST', '/admin/triggers', trigger('rotated'));
  const rotated = await api.admin('POST', `/admin/triggers/${t.body.id}/secret`);
  expect(rotated.body.previousSecretValidUntil).toEqual(expect.any(String));
  expect(rotated.body).not.toHaveProperty('previousSecretExpiresAt');
  expect((await api.admin('GET', `/admin/triggers/${t.body.id}`)).body).not.toHaveProperty('previousSecretExpiresAt');
  expect(JSON.stringify((await api.admin('GET', '/admin/triggers')).body)).not.toContain('previousSecretExpiresAt');
});

it("the GitLab hint speaks GitLab's words (no code names)", async () => {
  const t = await api.admin('POST', '/admin/triggers', trigger('gl', 'gitlab'));
  expect(t.body.hint).not.toContain('gitlabSigningToken');
  expect(t.body.hint).toContain('"Signing token"');
  expect(t.body.settings['Signing token']).toMatch(/^whsec_/);
});

it('a TCR webhook without its header is told about the Authorization header', async () => {
  const t = await api.admin('POST', '/admin/triggers', trigger('tcr', 'tcr'));
  const res = await api.hook(`/hooks/tcr/${t.body.id}`, fixture('tencent-tcr/pushImage-tcr-docs-example.json'));
  expect(res.status).toBe(401);
  expect(res.body.reason).toContain('Authorization');
  expect(res.body.reason).not.toContain('token query parameter');
});

it('a signed GitHub request without X-GitHub-Event is a 400 naming the header (and a rejected entry)', async () => {
  const { createHmac } = await import('node:crypto');
  const t = await api.admin('POST', '/admin/triggers', trigger('gh', 'github'));
  const body = fixture('github/push-go-playground-binkkatal.json');
  const sig = `sha256=${createHmac('sha256', t.body.secret).update(body).digest('hex')}`;
  const res = await api.hook(`/hooks/github/${t.body.id}`, body, {
    'x-hub-signature-256': sig,
    'x-github-delivery': 'd-1',
  });
  expect(res.status).toBe(400);
  expect(res.body.field).toBe('headers.X-GitHub-Event');
  expect((await api.admin('GET', `/admin/triggers/${t.body.id}/logs/${res.body.log}`)).body.status).toBe('rejected');
});
