import { adminHandler } from '../lib/admin/router';
import { secretRoutes } from '../lib/admin/secrets';
import { triggerRoutes } from '../lib/admin/triggers';

export const handler = adminHandler({ ...triggerRoutes, ...secretRoutes });
