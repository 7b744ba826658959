import { dockerhub } from '../../lib/receive/providers/dockerhub';
import { webhookHandler } from '../../lib/receive/handlers';

export const handler = webhookHandler(dockerhub);
