import { gogs } from '../../lib/receive/providers/gogs';
import { webhookHandler } from '../../lib/receive/handlers';

export const handler = webhookHandler(gogs);
