import path from 'node:path';

/** The project's root folder (handlers are found from here, as the Lambda runtime finds them in the zip). */
export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');
