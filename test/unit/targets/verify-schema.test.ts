/** `target.verify` as the admin API validates and shows it (lib/deploy/verify/schema.ts, targets/index.ts). */
import { redactTarget, REDACTED, targetSchema } from '../../../lib/deploy/targets';
import { durationSeconds } from '../../../lib/deploy/verify/schema';
import { verificationPlan } from '../../../lib/deploy/verify/phase';

const http = { type: 'http' as const, url: 'https://deploy.example.com/hook' };

it('durations are "<n>s", "<n>m" or "<n>h"', () => {
  expect(durationSeconds('90s')).toBe(90);
  expect(durationSeconds('5m')).toBe(300);
  expect(durationSeconds('1h')).toBe(3600);
  for (const bad of ['5', '1.5m', '0s', '-1m', '5 m', '1d']) expect(durationSeconds(bad)).toBeUndefined();
});

it('a timeout under 5 s or over 24 h, or a verify URL the outbound rules refuse, is refused naming the field', () => {
  const issue = (verify: unknown) => {
    const r = targetSchema.safeParse({ ...http, verify });
    return r.success ? undefined : r.error.issues[0].path.join('.');
  };
  expect(issue({ timeout: '4s' })).toBe('verify.timeout');
  expect(issue({ timeout: '25h' })).toBe('verify.timeout');
  expect(issue({ http: { url: 'ftp://example.com/version' } })).toBe('verify.http.url');
  expect(issue({ http: { url: 'https://example.com/v', extra: 1 } })).toBe('verify.http');
  expect(issue(false)).toBeUndefined();
  expect(issue({ timeout: '5s', http: { url: 'https://web.example.com/version' } })).toBeUndefined();
});

it('verify.http header values are redacted in admin answers', () => {
  const shown = redactTarget({
    ...http,
    verify: { http: { url: 'https://web.example.com/version', headers: { Authorization: 'Bearer s3cr3t' } } },
  });
  expect(JSON.stringify(shown)).not.toContain('s3cr3t');
  expect(shown.verify).toEqual({
    http: { url: 'https://web.example.com/version', headers: { Authorization: REDACTED } },
  });
});

it('what is verified per target: kubernetes rollouts but not CronJobs, ecs unless it waited, http only with verify.http', () => {
  const k8s = {
    type: 'kubernetes' as const,
    apiServer: 'https://k8s.example.com',
    auth: { token: { secretsManager: 'triggerfish/k' } },
    namespace: 'web',
    kind: 'Deployment' as const,
    name: 'web',
    container: 'web',
  };
  expect(verificationPlan(k8s)).toEqual({ timeoutSeconds: 600, checks: ['target'] });
  expect(verificationPlan({ ...k8s, kind: 'CronJob' })).toBeUndefined();
  expect(verificationPlan({ ...k8s, verify: false })).toBeUndefined();
  expect(verificationPlan({ type: 'ecs', cluster: 'c', service: 's', container: 'app' })?.checks).toEqual(['target']);
  expect(
    verificationPlan({ type: 'ecs', cluster: 'c', service: 's', container: 'app', waitForSteadyState: true }),
  ).toBeUndefined();
  expect(verificationPlan(http)).toBeUndefined();
  expect(verificationPlan({ ...http, verify: { timeout: '2m', http: { url: 'https://w.example.com/v' } } })).toEqual({
    timeoutSeconds: 120,
    checks: ['http'],
  });
});
