import { quay } from '../../lib/providers/quay';
import { webhookHandler } from '../../lib/handlers';

export const handler = webhookHandler(quay);
