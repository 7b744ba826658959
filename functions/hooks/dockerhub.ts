import { dockerhub } from '../../lib/providers/dockerhub';
import { webhookHandler } from '../../lib/handlers';

export const handler = webhookHandler(dockerhub);
