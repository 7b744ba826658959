import { harbor } from '../../lib/receive/providers/harbor';
import { webhookHandler } from '../../lib/receive/handlers';

export const handler = webhookHandler(harbor);
