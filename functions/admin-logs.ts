import { adminHandler } from '../lib/admin/router';
import { logRoutes } from '../lib/admin/logs';

export const handler = adminHandler(logRoutes);
