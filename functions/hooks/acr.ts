import { acr } from '../../lib/providers/acr';
import { webhookHandler } from '../../lib/handlers';

export const handler = webhookHandler(acr);
