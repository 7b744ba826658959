/**
 * AWS without the network: an SDK request handler that answers DynamoDB and SQS JSON-protocol calls from memory,
 * so the SDK still serializes, signs and parses every call (work the function is billed for) but no I/O happens.
 * Also a tiny loopback HTTP server answering `{}` to any call, for cold starts in fresh processes.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

type Answer = (operation: string, input: Record<string, unknown>) => unknown;

const decoder = new TextDecoder();
const md5 = (s: string) => createHash('md5').update(s, 'utf8').digest('hex');

/** Default answers: GetItem from `items`, writes succeed, SendMessage with the MD5 the SDK checks. */
export function defaultAnswers(getItem: (input: Record<string, unknown>) => unknown): Answer {
  return (op, input) => {
    switch (op) {
      case 'GetItem':
        return getItem(input);
      case 'SendMessage':
        return {
          MessageId: '00000000-0000-4000-8000-000000000000',
          MD5OfMessageBody: md5(String(input.MessageBody ?? '')),
          SequenceNumber: '1',
        };
      case 'Query':
        return { Items: [], Count: 0, ScannedCount: 0 };
      default:
        return {};
    }
  };
}

/** A smithy RequestHandler answering from memory. Put it in client.config.requestHandler. */
export function memoryRequestHandler(answer: Answer) {
  return {
    metadata: { handlerProtocol: 'http/1.1' },
    async handle(request: { headers: Record<string, string>; body?: unknown }) {
      const target = request.headers['x-amz-target'] ?? request.headers['X-Amz-Target'] ?? '';
      const op = target.slice(target.indexOf('.') + 1);
      const text =
        typeof request.body === 'string'
          ? request.body
          : request.body
            ? decoder.decode(request.body as Uint8Array)
            : '{}';
      const out = answer(op, JSON.parse(text || '{}') as Record<string, unknown>);
      const body = Buffer.from(JSON.stringify(out ?? {}), 'utf8');
      return {
        response: {
          statusCode: 200,
          reason: 'OK',
          headers: {
            'content-type': 'application/x-amz-json-1.0',
            'content-length': String(body.length),
            'x-amzn-requestid': 'bench',
          },
          body,
        },
      };
    },
    updateHttpClientConfig() {},
    httpHandlerConfigs() {
      return {};
    },
    destroy() {},
  };
}

/** An HTTP endpoint on loopback answering 200 `{}` to every AWS JSON call (counts them). */
export async function startEmptyAwsEndpoint(): Promise<{
  url: string;
  calls: () => number;
  close: () => Promise<void>;
}> {
  let calls = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      calls++;
      const target = String(req.headers['x-amz-target'] ?? '');
      const body = target.endsWith('.Query') ? '{"Items":[],"Count":0}' : '{}';
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls: () => calls,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
