import { gar } from '../../lib/providers/gar';
import { webhookHandler } from '../../lib/handlers';

export const handler = webhookHandler(gar);
