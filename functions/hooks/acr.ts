import { acr } from '../../lib/receive/providers/acr';
import { webhookHandler } from '../../lib/receive/handlers';

export const handler = webhookHandler(acr);
