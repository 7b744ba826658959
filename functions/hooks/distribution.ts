import { distribution } from '../../lib/receive/providers/distribution';
import { webhookHandler } from '../../lib/receive/handlers';

export const handler = webhookHandler(distribution);
