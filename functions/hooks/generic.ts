import { generic } from '../../lib/receive/providers/generic';
import { webhookHandler } from '../../lib/receive/handlers';

export const handler = webhookHandler(generic);
