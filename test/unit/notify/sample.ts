/** A trigger and a finished log entry, as the deployer leaves them, for the notifier tests. */
import type { LogEntry } from '../../../lib/store/store';
import type { Trigger } from '../../../lib/trigger';
import { outcomeOf, type Outcome } from '../../../lib/notify/message';

// the notifiers' endpoints are local servers on 127.0.0.1: allowed as ALLOW_PRIVATE_TARGETS allows them locally
// (each jest test file has its own process.env)
process.env.ALLOW_PRIVATE_TARGETS = 'true';

export const trigger = (over: Partial<Trigger> = {}): Trigger => ({
  id: 'a1b2c3d4e5f6a1b2c3d4e5f6',
  name: 'web-prod',
  provider: 'dockerhub',
  enabled: true,
  match: {},
  target: { type: 'http', url: 'https://deploy.example.com/hook' },
  secret: 'trigger-secret-never-shown',
  createdAt: '2026-12-01T10:00:00.000Z',
  updatedAt: '2026-12-01T10:00:00.000Z',
  ...over,
});

export const entry = (over: Partial<LogEntry> = {}): LogEntry => ({
  id: '01JDEPLOYLOGENTRY000000001',
  triggerId: 'a1b2c3d4e5f6a1b2c3d4e5f6',
  receivedAt: '2026-12-01T12:00:00.000Z',
  provider: 'dockerhub',
  origin: 'webhook',
  event: {
    provider: 'dockerhub',
    kind: 'image',
    action: 'push',
    namespace: 'library',
    repository: 'web',
    repoFullName: 'library/web',
    image: 'library/web:1.4.0',
    tag: '1.4.0',
    digest: 'sha256:4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945',
  },
  status: 'succeeded',
  attempts: [
    { at: '2026-12-01T12:00:01.000Z', durationMs: 700, statusCode: 500, error: 'HTTP 500' },
    { at: '2026-12-01T12:00:12.000Z', durationMs: 540, statusCode: 200 },
  ],
  updatedAt: '2026-12-01T12:00:12.000Z',
  expiresAt: 1767268800,
  ...over,
});

export const outcome = (e: Partial<LogEntry> = {}, base?: string): Outcome => outcomeOf(trigger(), entry(e), base);

export const sendCtx = { allowPrivate: true, timeoutMs: 5000 };

/** A failed outcome whose sender-given values carry each chat service's link, emphasis and mention syntax. */
export const hostileOutcome = (): Outcome =>
  outcome({
    status: 'failed',
    reason: 'tag [click](https://evil.example) **bold** <!channel> <@U123> @everyone & `x`',
    event: {
      provider: 'dockerhub',
      kind: 'image',
      action: 'push',
      repository: 'web',
      repoFullName: 'library/web',
      image: 'library/web:[x](https://evil.example)',
      tag: '[x](https://evil.example)',
    },
  });
