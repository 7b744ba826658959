import { gitee } from '../../lib/providers/gitee';
import { webhookHandler } from '../../lib/handlers';

export const handler = webhookHandler(gitee);
