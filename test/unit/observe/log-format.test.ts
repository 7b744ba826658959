/** The local log format (lib/core/log-format.ts) through a real Powertools logger, and the JSON it replaces. */
import type { Context } from 'aws-lambda';
import { LocalLogFormatter, shortFunctionName } from '../../../lib/core/log-format';
import { TriggerfishLogger, createLogger } from '../../../lib/core/logger';
import { captureOutput, type CapturedOutput } from '../../helpers/capture-output';

let out: CapturedOutput;
beforeEach(() => {
  out = captureOutput();
});
afterEach(() => out.restore());

const context = (functionName: string) =>
  ({
    functionName,
    awsRequestId: 'req-1',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: '256',
    functionVersion: '$LATEST',
  }) as Context;

const localLogger = () => {
  const logger = new TriggerfishLogger({
    serviceName: 'triggerfish',
    logLevel: 'DEBUG',
    logFormatter: new LocalLogFormatter(),
  });
  logger.addContext(context('triggerfish-local-deployer'));
  return logger;
};

describe('local format', () => {
  it('renders a deploy attempt as one line: time, level, function, trigger, provider, image, status, details, error, log id', () => {
    localLogger().warn('deploy attempt', {
      triggerId: 'a'.repeat(24),
      triggerName: 'web-prod',
      logId: '01JLOG',
      provider: 'dockerhub',
      image: 'library/web:1.4.0',
      targetType: 'http',
      attempt: 1,
      maxAttempts: 5,
      durationMs: 12,
      statusCode: 503,
      outcome: 'retry',
      retryInSeconds: 2,
      error: 'HTTP 503',
    });
    const lines = out.lines();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^\d\d:\d\d:\d\d\.\d{3} WARN {2}deployer {7}deploy attempt: web-prod dockerhub library\/web:1\.4\.0 http retry \(attempt 1\/5, 12 ms, HTTP 503, retry in 2 s\) error: HTTP 503 log=01JLOG$/,
    );
  });

  it("renders the receiver's trigger log line with its reason, a short commit and any other field as key=value", () => {
    const logger = localLogger();
    logger.addContext(context('triggerfish-local-hookGithub'));
    logger.info('trigger log', {
      triggerId: 'T1',
      triggerName: 'api-prod',
      logId: 'L1',
      provider: 'github',
      commit: '0123456789abcdef0123456789abcdef01234567',
      status: 'untriggered',
      reason: 'branch "dev" does not match',
      deliveryId: 'd-1',
    });
    expect(out.lines()).toEqual([
      expect.stringMatching(
        / INFO {2}hookGithub {5}trigger log: api-prod github 0123456789ab untriggered - branch "dev" does not match deliveryId=d-1 log=L1$/,
      ),
    ]);
  });

  it('falls back to the trigger id when no name is given, shows errors by message and a plain message alone', () => {
    const logger = localLogger();
    logger.error('deploy outcome', {
      triggerId: 'T9',
      status: 'given-up',
      attempts: 5,
      durationMs: 1500,
      latencyMs: 930000,
      error: new Error('boom'),
    });
    logger.info('ECR event ignored');
    const [first, second] = out.lines();
    expect(first).toMatch(
      / ERROR deployer {7}deploy outcome: T9 given-up \(5 attempts, 1\.5 s, 15\.5 min after the webhook\) error: boom$/,
    );
    expect(second).toMatch(/ INFO {2}deployer {7}ECR event ignored$/);
  });

  it('keeps the level filter: debug lines are dropped at INFO', () => {
    const logger = new TriggerfishLogger({
      serviceName: 'triggerfish',
      logLevel: 'INFO',
      logFormatter: new LocalLogFormatter(),
    });
    logger.debug('hidden');
    logger.info('shown');
    expect(out.lines()).toEqual([expect.stringMatching(/ INFO {2}- {14}shown$/)]);
  });

  it('keeps a line one line with the escapes shown when values hold newlines, ESC, C1 and bidi controls', () => {
    localLogger().info('trigger log', {
      triggerName: 'web',
      provider: 'dockerhub',
      image: 'acme/web:v1\n12:00:00.000 INFO  deployer       forged line',
      status: 'triggered',
      reason: 'clear \x1b[2J\x1b]0;title\x07 \u009b31m',
      error: 'e\r\u202egnp.exe',
      owner: 'eve\u2028x',
    });
    expect(out.lines()).toHaveLength(1);
    const raw = out.lines()[0];
    expect(raw).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e]/);
    expect(out.lines()[0]).toContain(
      'trigger log: web dockerhub acme/web:v1\\n12:00:00.000 INFO  deployer       forged line triggered - clear \\x1b[2J\\x1b]0;title\\x07 \\x9b31m error: e\\r\\u202egnp.exe owner=eve\\u2028x',
    );
  });

  it('shortens function names to the serverless.yml function key', () => {
    expect(shortFunctionName('triggerfish-local-hookDockerhub', 'triggerfish')).toBe('hookDockerhub');
    expect(shortFunctionName('triggerfish-prod-deployer', 'triggerfish')).toBe('deployer');
    expect(shortFunctionName('other-fn', 'triggerfish')).toBe('other-fn');
    expect(shortFunctionName(undefined, 'triggerfish')).toBe('-');
  });
});

describe('Lambda format', () => {
  it('stays Powertools JSON when TRIGGERFISH_LOG_FORMAT is not local', () => {
    const saved = process.env.TRIGGERFISH_LOG_FORMAT;
    delete process.env.TRIGGERFISH_LOG_FORMAT;
    try {
      const logger = createLogger();
      logger.setLogLevel('INFO');
      logger.addContext(context('triggerfish-prod-deployer'));
      logger.info('deploy attempt', { triggerId: 'T1', outcome: 'succeeded' });
    } finally {
      if (saved !== undefined) process.env.TRIGGERFISH_LOG_FORMAT = saved;
    }
    const [line] = out.json();
    expect(line).toMatchObject({
      level: 'INFO',
      message: 'deploy attempt',
      service: 'triggerfish',
      function_name: 'triggerfish-prod-deployer',
      function_request_id: 'req-1',
      triggerId: 'T1',
      outcome: 'succeeded',
    });
    expect(typeof line.timestamp).toBe('string');
  });
});
