import { bitbucket } from '../../lib/providers/bitbucket';
import { webhookHandler } from '../../lib/handlers';

export const handler = webhookHandler(bitbucket);
