import { cdevents } from '../../lib/receive/providers/cdevents';
import { webhookHandler } from '../../lib/receive/handlers';

export const handler = webhookHandler(cdevents);
