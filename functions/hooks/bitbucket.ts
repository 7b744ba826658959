import { bitbucket } from '../../lib/receive/providers/bitbucket';
import { webhookHandler } from '../../lib/receive/handlers';

export const handler = webhookHandler(bitbucket);
