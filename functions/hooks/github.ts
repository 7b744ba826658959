import { github } from '../../lib/receive/providers/github';
import { webhookHandler } from '../../lib/receive/handlers';

export const handler = webhookHandler(github);
