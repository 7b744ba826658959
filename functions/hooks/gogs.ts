import { gogs } from '../../lib/providers/gogs';
import { webhookHandler } from '../../lib/handlers';

export const handler = webhookHandler(gogs);
