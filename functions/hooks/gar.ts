import { gar } from '../../lib/receive/providers/gar';
import { webhookHandler } from '../../lib/receive/handlers';

export const handler = webhookHandler(gar);
