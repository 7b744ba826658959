import { harbor } from '../../lib/providers/harbor';
import { webhookHandler } from '../../lib/handlers';

export const handler = webhookHandler(harbor);
