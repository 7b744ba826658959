/**
 * Run as a separate process by test/unit/local/standins.test.ts (node --import tsx): starts both stand-ins,
 * prints {dynamodb, sqs} endpoints and pids as one JSON line, then waits to be killed.
 */
import { startStandIns } from '../../lib/local/standins';

startStandIns().then(
  (s) => {
    process.stdout.write(
      JSON.stringify({
        dynamodb: { endpoint: s.dynamodb.endpoint, pid: s.dynamodb.pid },
        sqs: { endpoint: s.sqs.endpoint, pid: s.sqs.pid },
      }) + '\n',
    );
    setInterval(() => undefined, 60_000);
  },
  (err) => {
    process.stderr.write(`${err}\n`);
    process.exit(1);
  },
);
