import { api } from '../../lib/providers/api';
import { webhookHandler } from '../../lib/handlers';

export const handler = webhookHandler(api);
