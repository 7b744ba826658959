/** Structured JSON logs (CloudWatch). Never log secrets, credentials or raw bodies here. */
import { Logger } from '@aws-lambda-powertools/logger';

export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'triggerfish' });
