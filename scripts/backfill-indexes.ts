/**
 * `npx tsx scripts/backfill-indexes.ts`: once after deploying the `byStatus` and trigger listing indexes, gives the
 * items written before them their index keys (lib/store/store.ts backfillIndexKeys). Needs TRIGGERS_TABLE and
 * LOGS_TABLE (the deployed table names) and AWS credentials allowed to Scan and UpdateItem both tables.
 */
import { backfillIndexKeys } from '../lib/store/store';

backfillIndexKeys().then(
  (n) => process.stdout.write(`backfilled ${n.entries} log entries and ${n.triggers} triggers\n`),
  (e) => {
    process.stderr.write(`${(e as Error).stack ?? e}\n`);
    process.exit(1);
  },
);
