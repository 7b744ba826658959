import { cloudevents } from '../../lib/receive/providers/cloudevents';
import { webhookHandler } from '../../lib/receive/handlers';

export const handler = webhookHandler(cloudevents);
