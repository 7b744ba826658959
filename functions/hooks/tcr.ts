import { tcr } from '../../lib/receive/providers/tcr';
import { webhookHandler } from '../../lib/receive/handlers';

export const handler = webhookHandler(tcr);
