import { azureAcr } from '../../lib/providers/azure-acr';
import { webhookHandler } from '../../lib/handlers';

export const handler = webhookHandler(azureAcr);
