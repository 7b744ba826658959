import { api } from '../../lib/receive/providers/api';
import { webhookHandler } from '../../lib/receive/handlers';

export const handler = webhookHandler(api);
