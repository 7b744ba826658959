import { gitlab } from '../../lib/receive/providers/gitlab';
import { webhookHandler } from '../../lib/receive/handlers';

export const handler = webhookHandler(gitlab);
