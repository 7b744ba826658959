// Starts fauxqs (the SQS stand-in; ESM-only, so it runs in its own process) on loopback and prints one JSON
// line {"port": N, "host": "127.0.0.1"} to stdout. Used by lib/local/standins.ts; can also be run by hand:
// `node scripts/fauxqs.mjs`. FAUXQS_PORT (default 0 = any free port) and FAUXQS_HOST (default 127.0.0.1) override.
//
// fauxqs 1.9.2's startFauxqs() always listens on 0.0.0.0 (its `host` option only changes the host written into
// queue URLs), so we build the same app with its exported buildApp() and listen on loopback ourselves.
// Queue URLs then look like http://sqs.<region>.localhost:PORT/000000000000/<name>: clients must use the URL
// returned by CreateQueue/GetQueueUrl verbatim and set their SDK `endpoint` to http://127.0.0.1:PORT.
// When stdin is a pipe (started by a parent process), the server exits as soon as that pipe closes, so it never
// outlives its parent, even when the parent is killed with SIGKILL.
import { buildApp } from 'fauxqs';

const port = Number(process.env.FAUXQS_PORT ?? 0);
const host = process.env.FAUXQS_HOST || '127.0.0.1';

const app = buildApp({ logger: false });
let actualPort;
try {
  const address = await app.listen({ port, host });
  actualPort = Number(new URL(address).port);
} catch (err) {
  process.stderr.write(`fauxqs failed to start: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
}

let stopping = false;
async function shutdown(code = 0) {
  if (stopping) return;
  stopping = true;
  const force = setTimeout(() => process.exit(code), 2000);
  force.unref();
  try {
    await app.close();
  } catch {
    // exiting anyway
  }
  process.exit(code);
}

process.on('SIGTERM', () => void shutdown(0));
process.on('SIGINT', () => void shutdown(0));
process.on('SIGHUP', () => void shutdown(0));
if (!process.stdin.isTTY) {
  process.stdin.on('end', () => void shutdown(0));
  process.stdin.on('error', () => void shutdown(0));
  process.stdin.resume();
}

process.stdout.write(JSON.stringify({ port: actualPort, host }) + '\n');
