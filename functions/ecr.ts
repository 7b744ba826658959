import type { EventBridgeEvent } from 'aws-lambda';
import { handleEcrEvent } from '../lib/receive/ecr-events';

/** ECR "ECR Image Action" events from the EventBridge rule in serverless.yml. */
export const handler = (event: EventBridgeEvent<string, unknown>) => handleEcrEvent(event);
