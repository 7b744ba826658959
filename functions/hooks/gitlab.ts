import { gitlab } from '../../lib/providers/gitlab';
import { webhookHandler } from '../../lib/handlers';

export const handler = webhookHandler(gitlab);
