import { nexus } from '../../lib/receive/providers/nexus';
import { webhookHandler } from '../../lib/receive/handlers';

export const handler = webhookHandler(nexus);
