import { quay } from '../../lib/receive/providers/quay';
import { webhookHandler } from '../../lib/receive/handlers';

export const handler = webhookHandler(quay);
