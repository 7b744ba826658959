import { gitea } from '../../lib/providers/gitea';
import { webhookHandler } from '../../lib/handlers';

export const handler = webhookHandler(gitea);
