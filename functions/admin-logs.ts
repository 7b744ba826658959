import { adminHandler } from '../lib/admin/router';
import { logRoutes } from '../lib/admin/logs';
import { stateRoutes } from '../lib/admin/state';
import { steerRoutes } from '../lib/admin/steer';

// steer (setup, dry run, test, OpenAPI) lives with the logs: a test runs the pipeline like a redelivery, with the
// same permissions (read the trigger, write the log and the deploy state, queue the deploy)
export const handler = adminHandler({ ...logRoutes, ...steerRoutes, ...stateRoutes });
