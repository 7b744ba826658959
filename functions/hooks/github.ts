import { github } from '../../lib/providers/github';
import { webhookHandler } from '../../lib/handlers';

export const handler = webhookHandler(github);
