import { gitea } from '../../lib/receive/providers/gitea';
import { webhookHandler } from '../../lib/receive/handlers';

export const handler = webhookHandler(gitea);
