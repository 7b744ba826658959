import { gitee } from '../../lib/receive/providers/gitee';
import { webhookHandler } from '../../lib/receive/handlers';

export const handler = webhookHandler(gitee);
