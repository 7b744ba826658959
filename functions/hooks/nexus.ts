import { nexus } from '../../lib/providers/nexus';
import { webhookHandler } from '../../lib/handlers';

export const handler = webhookHandler(nexus);
