import { jfrog } from '../../lib/receive/providers/jfrog';
import { webhookHandler } from '../../lib/receive/handlers';

export const handler = webhookHandler(jfrog);
