import { tcr } from '../../lib/providers/tcr';
import { webhookHandler } from '../../lib/handlers';

export const handler = webhookHandler(tcr);
