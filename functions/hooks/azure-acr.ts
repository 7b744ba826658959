import { azureAcr } from '../../lib/receive/providers/azure-acr';
import { webhookHandler } from '../../lib/receive/handlers';

export const handler = webhookHandler(azureAcr);
