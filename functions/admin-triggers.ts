import { adminHandler } from '../lib/admin/router';
import { triggerRoutes } from '../lib/admin/triggers';

export const handler = adminHandler(triggerRoutes);
