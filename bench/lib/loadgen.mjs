// Load generator, run as a child process (forked with IPC) so the sender never shares an event loop with the
// server it measures. Plain JavaScript: starts in a few ms, no transpiler.
//
// Job (one message from the parent):
//   { mode: 'open', rate, durationMs, targets }     requests sent on a fixed schedule (open loop); latency counts
//                                                   from the scheduled send time, so a slow server is not hidden
//   { mode: 'closed', concurrency, durationMs, targets }   `concurrency` senders, each sends again on an answer
//   { mode: 'burst', count, concurrency, targets }  exactly `count` requests, `concurrency` in flight
// targets: [{ url, headers, body }] used round robin; "__N__" in url and body is replaced by a per-request counter
// (start at job.counterBase), so every delivery is distinct.
// Answer: { results: [{ at, ms, status, log }], elapsedMs } where `at` is the absolute send time
// (performance.timeOrigin + now, comparable across processes) and `log` the "log" field of a JSON answer.
import http from 'node:http';

const agent = new http.Agent({ keepAlive: true, maxSockets: 1024 });
const now = () => performance.timeOrigin + performance.now();

function send(target, n) {
  const url = new URL(target.url.replaceAll('__N__', String(n)));
  const body = Buffer.from(target.body.replaceAll('__N__', String(n)));
  return new Promise((resolve) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': body.length, ...(target.headers ?? {}) },
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          let log;
          try {
            log = JSON.parse(Buffer.concat(chunks).toString('utf8')).log;
          } catch {
            // not JSON
          }
          resolve({ status: res.statusCode, log });
        });
        res.on('error', () => resolve({ status: 0 }));
      },
    );
    req.on('error', (e) => resolve({ status: 0, error: e.message }));
    req.end(body);
  });
}

async function open(job) {
  const results = [];
  const total = Math.round((job.rate * job.durationMs) / 1000);
  const interval = 1000 / job.rate;
  const t0 = now() + 5;
  const pending = [];
  let n = job.counterBase ?? 0;
  for (let i = 0; i < total; i++) {
    const scheduled = t0 + i * interval;
    const wait = scheduled - now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait - 0.5));
    while (now() < scheduled) {
      // spin the last half millisecond
    }
    const target = job.targets[i % job.targets.length];
    const k = n++;
    pending.push(
      send(target, k).then((r) => {
        results.push({ at: scheduled, ms: now() - scheduled, status: r.status, log: r.log });
      }),
    );
  }
  await Promise.all(pending);
  return { results, elapsedMs: now() - t0 };
}

async function closed(job) {
  const results = [];
  const t0 = now();
  const end = t0 + job.durationMs;
  let n = job.counterBase ?? 0;
  let i = 0;
  const worker = async () => {
    while (now() < end) {
      const target = job.targets[i++ % job.targets.length];
      const at = now();
      const r = await send(target, n++);
      results.push({ at, ms: now() - at, status: r.status, log: r.log });
    }
  };
  await Promise.all(Array.from({ length: job.concurrency }, worker));
  return { results, elapsedMs: now() - t0 };
}

async function burst(job) {
  const results = [];
  const t0 = now();
  let next = 0;
  const base = job.counterBase ?? 0;
  const worker = async () => {
    while (next < job.count) {
      const i = next++;
      const target = job.targets[i % job.targets.length];
      const at = now();
      const r = await send(target, base + i);
      results.push({ i, at, ms: now() - at, status: r.status, log: r.log });
    }
  };
  await Promise.all(Array.from({ length: job.concurrency }, worker));
  return { results, elapsedMs: now() - t0 };
}

process.on('message', async (job) => {
  try {
    const out = job.mode === 'open' ? await open(job) : job.mode === 'closed' ? await closed(job) : await burst(job);
    process.send({ ok: true, ...out }, () => undefined);
  } catch (e) {
    process.send({ ok: false, error: String(e && e.stack ? e.stack : e) });
  }
});
process.on('disconnect', () => process.exit(0));
