/**
 * lib/deploy/report.ts: the log line (level, fields, nothing else) and the EMF metrics of each deploy attempt and
 * outcome, as Powertools writes them to stdout/stderr.
 */
import { captureOutput, type CapturedOutput } from '../../helpers/capture-output';

type Report = typeof import('../../../lib/deploy/report');
type MetricsModule = typeof import('../../../lib/core/metrics');
let report: Report;
let metricsModule: MetricsModule;
let out: CapturedOutput;

const subject = {
  triggerId: 'a'.repeat(24),
  triggerName: 'web-prod',
  logId: '01JTESTLOGID0000000000000',
  provider: 'dockerhub',
  image: 'library/web:1.4.0',
  targetType: 'http',
};

beforeAll(async () => {
  // before the modules are loaded: Powertools reads these when the logger and metrics are created
  process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
  delete process.env.TRIGGERFISH_LOG_FORMAT;
  delete process.env.POWERTOOLS_METRICS_NAMESPACE;
  report = await import('../../../lib/deploy/report');
  metricsModule = await import('../../../lib/core/metrics');
});
beforeEach(() => {
  out = captureOutput();
});
afterEach(() => out.restore());

const logLines = () => out.json().filter((l) => !('_aws' in l));
const emfLines = () => out.json().filter((l) => '_aws' in l);

describe('reportAttempt', () => {
  it('logs a succeeded attempt at INFO with the deploy fields, and counts it by target type and outcome', () => {
    report.reportAttempt({
      ...subject,
      attempt: 1,
      maxAttempts: 5,
      durationMs: 123.4,
      statusCode: 200,
      outcome: 'succeeded',
    });
    const [line, ...more] = logLines();
    expect(more).toEqual([]);
    expect(line).toMatchObject({
      level: 'INFO',
      message: 'deploy attempt',
      service: 'triggerfish',
      ...subject,
      attempt: 1,
      maxAttempts: 5,
      durationMs: 123,
      statusCode: 200,
      outcome: 'succeeded',
    });
    expect(line).not.toHaveProperty('retryInSeconds');
    expect(line).not.toHaveProperty('error');

    const [emf, ...moreEmf] = emfLines();
    expect(moreEmf).toEqual([]);
    const directive = emf._aws.CloudWatchMetrics[0];
    expect(directive.Namespace).toBe('Triggerfish');
    expect(directive.Metrics).toEqual([
      { Name: 'DeployAttempts', Unit: 'Count' },
      { Name: 'DeployDuration', Unit: 'Milliseconds' },
    ]);
    expect(directive.Dimensions).toEqual([
      ['service', 'targetType', 'outcome'],
      ['service', 'outcome'],
    ]);
    expect(emf).toMatchObject({
      service: 'triggerfish',
      targetType: 'http',
      outcome: 'succeeded',
      DeployAttempts: 1,
      DeployDuration: 123,
    });
    // never a high-cardinality id as a dimension or value
    expect(JSON.stringify(emf)).not.toContain(subject.triggerId);
    expect(JSON.stringify(emf)).not.toContain(subject.logId);
  });

  it('logs a retry at WARN with when the next attempt runs', () => {
    report.reportAttempt({
      ...subject,
      attempt: 2,
      maxAttempts: 5,
      durationMs: 8,
      statusCode: 503,
      error: 'HTTP 503',
      outcome: 'retry',
      retryInSeconds: 4,
    });
    const [line] = logLines();
    expect(line).toMatchObject({
      level: 'WARN',
      outcome: 'retry',
      attempt: 2,
      maxAttempts: 5,
      retryInSeconds: 4,
      statusCode: 503,
      error: 'HTTP 503',
    });
    expect(emfLines()[0]).toMatchObject({ outcome: 'retry', DeployAttempts: 1 });
  });

  it('logs a failed attempt at ERROR with its error cut to 500 characters', () => {
    const error = `connect ECONNREFUSED ${'x'.repeat(2000)}`;
    report.reportAttempt({
      ...subject,
      commit: 'c'.repeat(40),
      attempt: 5,
      maxAttempts: 5,
      durationMs: 3,
      error,
      outcome: 'failed',
    });
    const [line] = logLines();
    expect(line.level).toBe('ERROR');
    expect(line.commit).toBe('c'.repeat(40));
    expect(line.error.length).toBe(report.MAX_ERROR_CHARS);
    expect(line.error.startsWith('connect ECONNREFUSED x')).toBe(true);
  });

  it('logs only the fields it knows: nothing else given to it reaches the line', () => {
    const withExtras = {
      ...subject,
      attempt: 1,
      maxAttempts: 1,
      durationMs: 1,
      outcome: 'succeeded',
      secret: 's3cr3t',
      headers: { authorization: 'Bearer tok' },
      body: '{"password":"pw"}',
    };
    report.reportAttempt(withExtras as unknown as Parameters<Report['reportAttempt']>[0]);
    const text = out.lines().join('\n');
    expect(text).not.toContain('s3cr3t');
    expect(text).not.toContain('Bearer tok');
    expect(text).not.toContain('password');
  });
});

describe('reportOutcome', () => {
  it.each(['failed', 'given-up', 'dead-lettered', 'refused', 'unqueued'] as const)(
    'logs %s at ERROR and counts it in DeploysFailed (service dimension only)',
    (status) => {
      report.reportOutcome({ ...subject, status, reason: `it ${status}`, attempts: 3, error: 'HTTP 500' });
      const [line, ...more] = logLines();
      expect(more).toEqual([]);
      expect(line).toMatchObject({
        level: 'ERROR',
        message: 'deploy outcome',
        ...subject,
        status,
        reason: `it ${status}`,
        attempts: 3,
        error: 'HTTP 500',
      });
      const emfs = emfLines();
      expect(emfs).toHaveLength(2);
      expect(emfs[0]._aws.CloudWatchMetrics[0].Metrics).toEqual([{ Name: 'Deploys', Unit: 'Count' }]);
      expect(emfs[0]._aws.CloudWatchMetrics[0].Dimensions).toEqual([
        ['service', 'targetType', 'status'],
        ['service', 'status'],
      ]);
      expect(emfs[0]).toMatchObject({ Deploys: 1, status, targetType: 'http' });
      expect(emfs[1]._aws.CloudWatchMetrics[0]).toMatchObject({
        Namespace: 'Triggerfish',
        Dimensions: [['service']],
        Metrics: [{ Name: 'DeploysFailed', Unit: 'Count' }],
      });
      expect(emfs[1]).toMatchObject({ DeploysFailed: 1, service: 'triggerfish' });
    },
  );

  it('logs succeeded at INFO with the webhook-to-deploy latency, and records DeployLatency', () => {
    const now = new Date('2026-12-01T12:00:02.500Z');
    report.reportOutcome(
      { ...subject, status: 'succeeded', attempts: 1, durationMs: 40, receivedAt: '2026-12-01T12:00:00.000Z' },
      now,
    );
    const [line] = logLines();
    expect(line).toMatchObject({ level: 'INFO', status: 'succeeded', attempts: 1, durationMs: 40, latencyMs: 2500 });
    const emfs = emfLines();
    expect(emfs).toHaveLength(1);
    expect(emfs[0]._aws.CloudWatchMetrics[0].Metrics).toEqual([
      { Name: 'Deploys', Unit: 'Count' },
      { Name: 'DeployLatency', Unit: 'Milliseconds' },
    ]);
    expect(emfs[0]).toMatchObject({ Deploys: 1, DeployLatency: 2500, status: 'succeeded' });
  });

  it('logs superseded at INFO and counts no failure', () => {
    report.reportOutcome({ ...subject, status: 'superseded', reason: 'superseded by 01JNEWER', attempts: 0 });
    expect(logLines()[0]).toMatchObject({ level: 'INFO', status: 'superseded' });
    expect(emfLines().map((e) => Object.keys(e).filter((k) => k.startsWith('Deploy')))).toEqual([['Deploys']]);
  });
});

describe('logEntryFields', () => {
  it('gives the trigger log line its trigger name, provider, image or commit, status and reason', () => {
    const fields = report.logEntryFields(
      {
        id: 'LOG1',
        triggerId: 'T1',
        provider: 'github',
        status: 'untriggered',
        reason: 'branch "dev" does not match',
        event: {
          provider: 'github',
          kind: 'code',
          action: 'push',
          repository: 'r',
          repoFullName: 'o/r',
          commit: { id: 'abc123', message: 'm' },
        } as never,
      },
      { name: 'api-prod' },
    );
    expect(fields).toEqual({
      triggerId: 'T1',
      triggerName: 'api-prod',
      logId: 'LOG1',
      provider: 'github',
      image: undefined,
      commit: 'abc123',
      status: 'untriggered',
      reason: 'branch "dev" does not match',
    });
  });
});

describe('webhook metric', () => {
  it('maps each answer to its status', () => {
    const s = metricsModule.webhookStatus;
    expect(s(202, '{"log":"L","status":"triggered"}')).toBe('triggered');
    expect(s(202, '{"log":"L","status":"untriggered","reason":"r"}')).toBe('untriggered');
    expect(s(200, '{"status":"duplicate","log":"L"}')).toBe('duplicate');
    expect(s(400, '{}')).toBe('rejected');
    expect(s(413, '{}')).toBe('rejected');
    expect(s(401, '{}')).toBe('unauthorized');
    expect(s(404, '{}')).toBe('unknown-trigger');
    expect(s(503, '{}')).toBe('unavailable');
    expect(s(202, 'not json')).toBe('other');
  });

  it('counts a webhook by provider and status', () => {
    metricsModule.recordWebhook('harbor', 'unauthorized');
    const [emf] = emfLines();
    expect(emf._aws.CloudWatchMetrics[0]).toMatchObject({
      Namespace: 'Triggerfish',
      Dimensions: [
        ['service', 'provider', 'status'],
        ['service', 'status'],
      ],
      Metrics: [{ Name: 'Webhooks', Unit: 'Count' }],
    });
    expect(emf).toMatchObject({ service: 'triggerfish', provider: 'harbor', status: 'unauthorized', Webhooks: 1 });
  });
});

describe('deploySubject and failureStatus', () => {
  it('takes the subject from the trigger, the log id and the event', () => {
    const trigger = { id: 'T1', name: 'web-prod', target: { type: 'kubernetes' }, secret: 'never-logged' };
    const event = { provider: 'harbor', image: 'harbor.example.com/lib/web:2', commit: undefined };
    expect(report.deploySubject(trigger, 'L1', event)).toEqual({
      triggerId: 'T1',
      triggerName: 'web-prod',
      logId: 'L1',
      provider: 'harbor',
      image: 'harbor.example.com/lib/web:2',
      commit: undefined,
      targetType: 'kubernetes',
    });
  });

  it('tells refused from failed and given up', () => {
    expect(report.failureStatus('URL refused: 10.0.0.1 is a private address', false)).toBe('refused');
    expect(report.failureStatus('HTTP 404', false)).toBe('failed');
    expect(report.failureStatus('HTTP 503', true)).toBe('given-up');
  });
});
