/** A deploy target on loopback: answers 200 at once and records when each call arrived (by the logId in its body). */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { nowAbs } from './common';

export interface TargetCall {
  at: number;
  url: string;
  logId?: string;
}

export async function startTarget(): Promise<{ url: string; calls: TargetCall[]; close: () => Promise<void> }> {
  const calls: TargetCall[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = nowAbs();
      let logId: string | undefined;
      try {
        logId = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { log?: string; logId?: string }).log;
      } catch {
        // not JSON: counted, no log id
      }
      calls.push({ at, url: req.url ?? '', logId });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': 11 });
      res.end('{"ok":true}');
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
