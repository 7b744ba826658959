import type { EventBridgeEvent } from 'aws-lambda';
import { handleEcrEvent } from '../lib/receive/ecr-events';
import { lambdaHandler } from '../lib/core/lambda';

/** ECR "ECR Image Action" events from the EventBridge rule in serverless.yml. */
export const handler = lambdaHandler((event: EventBridgeEvent<string, unknown>) => handleEcrEvent(event));
