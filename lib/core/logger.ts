/**
 * Structured JSON logs (CloudWatch). Never log secrets, credentials or raw bodies here.
 *
 * Level: POWERTOOLS_LOG_LEVEL, else LOG_LEVEL (serverless.yml `custom.logLevel`), default INFO; on Lambda the
 * function's Advanced Logging Controls level wins. Format: Powertools JSON, or one human-readable line per call
 * when TRIGGERFISH_LOG_FORMAT=local (lib/local sets it for `npm start` and the tests' stacks).
 */
import { Logger, type LogItem } from '@aws-lambda-powertools/logger';
import type { ConstructorOptions } from '@aws-lambda-powertools/logger/types';
import { LocalLogFormatter, TextLogItem } from './log-format';

/** Prints the local format's ready-made line as is; everything else the Powertools way (JSON). */
export class TriggerfishLogger extends Logger {
  protected override printLog(logLevel: number, log: LogItem): void {
    if (log instanceof TextLogItem) {
      process.stdout.write(`${log.text}\n`);
      return;
    }
    super.printLog(logLevel, log);
  }

  protected override createLogger(options?: ConstructorOptions): Logger {
    return new TriggerfishLogger(options);
  }
}

export function localLogFormat(): boolean {
  return process.env.TRIGGERFISH_LOG_FORMAT === 'local';
}

export function createLogger(): TriggerfishLogger {
  return new TriggerfishLogger({
    serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'triggerfish',
    ...(localLogFormat() ? { logFormatter: new LocalLogFormatter() } : {}),
  });
}

export const logger = createLogger();
