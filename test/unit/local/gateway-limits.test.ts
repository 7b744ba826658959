/**
 * The local gateway's limits, over real sockets: a body over the limit is a 413 naming it before the body is read
 * (by Content-Length, or by counting a chunked body), a stalled upload is cut with a 408, connections are capped,
 * and the cap still takes a burst of 300 webhooks at once.
 */
import http from 'node:http';
import net from 'node:net';
import { startGateway, type Gateway, type HttpRoute } from '../../../lib/local/gateway';
import { MAX_BODY_BYTES } from '../../../lib/receive/limits';

const H = 'test/helpers/handlers/echo';
const routes: HttpRoute[] = [{ name: 'echo', method: 'POST', path: '/echo/{id}', handler: `${H}.handler` }];
const LIMIT = MAX_BODY_BYTES + 64 * 1024;

/** POSTs `chunks` (chunked when no content-length is given); the answer, even one sent before the body was read */
function post(
  base: string,
  chunks: Buffer[],
  headers: http.OutgoingHttpHeaders = {},
): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${base}/echo/x`,
      { method: 'POST', headers: { 'content-type': 'text/plain', ...headers }, agent: false },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => {
          const text = Buffer.concat(parts).toString('utf8');
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {
            // not JSON (node's own 408 has no body)
          }
          resolve({ status: res.statusCode ?? 0, body });
        });
      },
    );
    req.on('error', reject);
    for (const c of chunks) req.write(c);
    req.end();
  });
}

let gw: Gateway;
beforeAll(async () => {
  gw = await startGateway({ routes, port: 0 });
});
afterAll(() => gw?.close());

describe('local gateway limits', () => {
  it('a Content-Length over the limit is a 413 naming the limit', async () => {
    const body = Buffer.alloc(2 * 1024 * 1024, 'a');
    const res = await post(gw.url, [body], { 'content-length': body.length });
    expect(res).toEqual({
      status: 413,
      body: { message: 'Request Entity Too Large', reason: `the body is over the limit of ${LIMIT} bytes` },
    });
  });

  it('a chunked body is counted as it arrives: over the limit is a 413', async () => {
    const chunk = Buffer.alloc(64 * 1024, 'b');
    const res = await post(
      gw.url,
      Array.from({ length: 24 }, () => chunk),
    );
    expect(res.status).toBe(413);
    expect(res.body.reason).toBe(`the body is over the limit of ${LIMIT} bytes`);
  });

  it('a body just over the contract limit still reaches the handler (it answers and logs its own 413)', async () => {
    const body = Buffer.alloc(MAX_BODY_BYTES + 10, 'c');
    const res = await post(gw.url, [body], { 'content-length': body.length });
    expect(res.status).toBe(201);
    expect(res.body.event.body).toHaveLength(MAX_BODY_BYTES + 10);
  });

  it('takes a burst of 300 webhooks at once', async () => {
    const answers = await Promise.all(Array.from({ length: 300 }, (_, i) => post(gw.url, [Buffer.from(`{"n":${i}}`)])));
    expect(answers.map((a) => a.status)).toEqual(Array.from({ length: 300 }, () => 201));
  });

  it('an upload that stalls is answered 408 and its connection closed', async () => {
    const slow = await startGateway({ routes, port: 0, requestTimeoutMs: 500, headersTimeoutMs: 500 });
    try {
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = net.connect(slow.port, '127.0.0.1', () => {
          // the headers promise 100 bytes; 10 come, then nothing
          socket.write('POST /echo/x HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n0123456789');
        });
        let got = '';
        socket.on('data', (c: Buffer) => (got += c.toString('latin1')));
        socket.on('close', () => resolve(got));
        socket.on('error', reject);
      });
      expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    } finally {
      await slow.close();
    }
  });

  it('connections over the cap are dropped without an answer', async () => {
    const capped = await startGateway({ routes, port: 0, maxConnections: 2 });
    const held: net.Socket[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        const s = net.connect(capped.port, '127.0.0.1');
        await new Promise((r) => s.once('connect', r));
        s.write('POST /echo/x HTTP/1.1\r\nhost: x\r\n'); // headers never finished: the connection stays open
        held.push(s);
      }
      const third = await new Promise<{ data: string; closed: boolean }>((resolve) => {
        const s = net.connect(capped.port, '127.0.0.1', () =>
          s.write('POST /echo/x HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\n{}'),
        );
        let data = '';
        s.on('data', (c: Buffer) => (data += c.toString('latin1')));
        s.on('error', () => undefined); // a reset is one way of being dropped
        s.on('close', () => resolve({ data, closed: true }));
      });
      expect(third).toEqual({ data: '', closed: true });
    } finally {
      held.forEach((s) => s.destroy());
      await capped.close();
    }
  });
});
