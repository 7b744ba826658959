/** The statuses of a trigger log entry (CONTRACT.md), shared by the store, the admin API and the CLI. */
export const LOG_STATUSES = [
  'untriggered',
  'unauthorized',
  'rejected',
  'duplicate',
  'queued',
  'deploying',
  'succeeded',
  'failed',
  'superseded',
  /** the trigger was disabled before a (further) attempt: nothing more is deployed */
  'cancelled',
] as const;
export type LogStatus = (typeof LOG_STATUSES)[number];

/** Waiting for or in a deploy: what a reader polls until it changes. */
export const IN_FLIGHT_STATUSES: readonly LogStatus[] = ['queued', 'deploying'];
