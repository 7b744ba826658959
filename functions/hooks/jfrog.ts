import { jfrog } from '../../lib/providers/jfrog';
import { webhookHandler } from '../../lib/handlers';

export const handler = webhookHandler(jfrog);
