/**
 * The local HTTP API: routes are injected (test handlers under test/helpers/handlers), so these tests do not
 * depend on the product's functions.
 */
import http from 'node:http';
import path from 'node:path';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import {
  buildHttpApiEvent,
  loadHandler,
  routesFromServerless,
  startGateway,
  toHttpResponse,
  type Gateway,
  type HttpRoute,
} from '../../../lib/local/gateway';
import { loadServerlessConfig } from '../../../lib/local/resources';
import * as echo from '../../helpers/handlers/echo';

const H = 'test/helpers/handlers/echo';
const routes: HttpRoute[] = [
  { name: 'echo', method: 'POST', path: '/echo/{id}', handler: `${H}.handler` },
  { name: 'echoGet', method: 'GET', path: '/echo/{id}/items/{item}', handler: `${H}.handler` },
  { name: 'special', method: 'POST', path: '/echo/special', handler: `${H}.plain` },
  { name: 'greedy', method: 'ANY', path: '/files/{path+}', handler: `${H}.handler` },
  { name: 'text', method: 'GET', path: '/text', handler: `${H}.text` },
  { name: 'binary', method: 'GET', path: '/binary', handler: `${H}.binary` },
  { name: 'callback', method: 'GET', path: '/callback', handler: `${H}.callbackStyle` },
  { name: 'throws', method: 'GET', path: '/throws', handler: `${H}.throws` },
  { name: 'malformed', method: 'GET', path: '/malformed', handler: `${H}.malformed` },
  { name: 'missing', method: 'GET', path: '/missing', handler: 'test/helpers/handlers/does-not-exist.handler' },
  { name: 'slow', method: 'GET', path: '/slow', handler: `${H}.slow`, timeout: 1 },
  { name: 'inline', method: 'GET', path: '/inline', handler: async () => ({ statusCode: 204 }) },
];

interface Res {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text: string;
  json: () => any;
}

/** node:http, so repeated headers really go out as separate lines */
function request(
  base: string,
  method: string,
  target: string,
  headers: http.OutgoingHttpHeaders = {},
  body?: Buffer | string,
): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${target}`, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const buf = Buffer.concat(chunks);
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: buf,
          text: buf.toString('utf8'),
          json: () => JSON.parse(buf.toString('utf8')),
        });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('local gateway (API Gateway HTTP API, payload 2.0)', () => {
  let gw: Gateway;
  const errors: { err: unknown; routeKey: string }[] = [];

  beforeAll(async () => {
    gw = await startGateway({
      routes,
      port: 0,
      maxBodyBytes: 64 * 1024,
      onError: (err, info) => errors.push({ err, routeKey: info.routeKey }),
    });
  });
  afterAll(() => gw?.close());
  beforeEach(() => {
    errors.length = 0;
  });

  it('listens on loopback at the URL it returns', () => {
    expect(gw.url).toBe(`http://127.0.0.1:${gw.port}`);
    expect(gw.port).toBeGreaterThan(0);
  });

  it('builds a payload 2.0 event: route key, path params, query, lowercased headers, cookies, body', async () => {
    const res = await request(
      gw.url,
      'POST',
      '/echo/abc%20def?x=1&x=2&y=hello%20world&flag',
      {
        'Content-Type': 'application/json',
        'X-Custom': ['first', 'second'],
        'User-Agent': 'jest-agent',
        Cookie: 'a=1; b=2',
      },
      '{"hello":"wörld"}',
    );
    expect(res.status).toBe(201);
    const { event, context } = res.json() as { event: APIGatewayProxyEventV2; context: Record<string, unknown> };
    expect(event.version).toBe('2.0');
    expect(event.routeKey).toBe('POST /echo/{id}');
    expect(event.rawPath).toBe('/echo/abc def'); // HTTP APIs decode the path (REST APIs do not)
    expect(event.rawQueryString).toBe('x=1&x=2&y=hello%20world&flag');
    expect(event.pathParameters).toEqual({ id: 'abc def' });
    expect(event.queryStringParameters).toEqual({ x: '1,2', y: 'hello world', flag: '' });
    expect(event.headers['x-custom']).toBe('first,second');
    expect(event.headers['content-type']).toBe('application/json');
    expect(event.headers['user-agent']).toBe('jest-agent');
    expect(event.headers.host).toBe(`127.0.0.1:${gw.port}`);
    expect(event.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(Object.keys(event.headers).every((k) => k === k.toLowerCase())).toBe(true);
    expect(event.headers.cookie).toBeUndefined();
    expect(event.cookies).toEqual(['a=1', 'b=2']);
    expect(event.body).toBe('{"hello":"wörld"}');
    expect(event.isBase64Encoded).toBe(false);
    const rc = event.requestContext;
    expect(rc).toMatchObject({
      accountId: expect.any(String),
      apiId: expect.any(String),
      domainName: '127.0.0.1',
      domainPrefix: '127',
      routeKey: 'POST /echo/{id}',
      stage: '$default',
      http: {
        method: 'POST',
        path: '/echo/abc def',
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: 'jest-agent',
      },
    });
    expect(rc.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(rc.time).toMatch(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
    expect(Math.abs(rc.timeEpoch - Date.now())).toBeLessThan(60_000);
    expect(res.headers['apigw-requestid']).toBe(rc.requestId);
    expect(context.functionName).toBe('triggerfish-local-echo');
    expect(context.awsRequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(context.remaining).toBeGreaterThan(0);
    expect(context.invokedFunctionArn).toMatch(/^arn:aws:lambda:[a-z0-9-]+:\d{12}:function:triggerfish-local-echo$/);
  });

  it('omits queryStringParameters, pathParameters, cookies and body when there are none', async () => {
    const res = await request(gw.url, 'GET', '/echo/1/items/2');
    const { event } = res.json() as { event: APIGatewayProxyEventV2 };
    expect(event.pathParameters).toEqual({ id: '1', item: '2' });
    expect(event.rawQueryString).toBe('');
    expect('queryStringParameters' in event).toBe(false);
    expect('cookies' in event).toBe(false);
    expect('body' in event).toBe(false);
    expect(event.isBase64Encoded).toBe(false);
  });

  it('base64-encodes bodies whose content type is not text-like, and bodies without one', async () => {
    const bytes = Buffer.from([0, 1, 2, 250, 251, 252]);
    const bin = await request(gw.url, 'POST', '/echo/x', { 'content-type': 'application/octet-stream' }, bytes);
    const e1 = (bin.json() as { event: APIGatewayProxyEventV2 }).event;
    expect(e1.isBase64Encoded).toBe(true);
    expect(Buffer.from(e1.body!, 'base64')).toEqual(bytes);

    const form = await request(
      gw.url,
      'POST',
      '/echo/x',
      { 'content-type': 'application/x-www-form-urlencoded' },
      'payload=%7B%7D',
    );
    const e2 = (form.json() as { event: APIGatewayProxyEventV2 }).event;
    expect(e2.isBase64Encoded).toBe(true);
    expect(Buffer.from(e2.body!, 'base64').toString()).toBe('payload=%7B%7D');

    const none = await request(gw.url, 'POST', '/echo/x', {}, 'raw');
    expect((none.json() as { event: APIGatewayProxyEventV2 }).event.isBase64Encoded).toBe(true);

    const vendorJson = await request(
      gw.url,
      'POST',
      '/echo/x',
      { 'content-type': 'application/vnd.docker+json; charset=utf-8' },
      '{}',
    );
    const e4 = (vendorJson.json() as { event: APIGatewayProxyEventV2 }).event;
    expect(e4.isBase64Encoded).toBe(false);
    expect(e4.body).toBe('{}');
  });

  it('maps a structured result: status, headers, cookies -> set-cookie', async () => {
    const res = await request(gw.url, 'POST', '/echo/1', { 'content-type': 'application/json' }, '{}');
    expect(res.status).toBe(201);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.headers['x-echo']).toBe('yes');
    expect(res.headers['x-number']).toBe('7');
    expect(res.headers['set-cookie']).toEqual(['session=abc; Path=/', 'theme=dark']);
  });

  it('maps a plain object or string result to 200 application/json', async () => {
    const obj = await request(gw.url, 'POST', '/echo/special');
    expect(obj.status).toBe(200);
    expect(obj.headers['content-type']).toBe('application/json');
    expect(obj.json()).toEqual({ hello: 'world' });
    const txt = await request(gw.url, 'GET', '/text');
    expect(txt.status).toBe(200);
    expect(txt.text).toBe('just text');
  });

  it('decodes a base64 result body, supports callback handlers and inline functions', async () => {
    const bin = await request(gw.url, 'GET', '/binary');
    expect(bin.body).toEqual(Buffer.from([0, 1, 2, 255]));
    const cb = await request(gw.url, 'GET', '/callback');
    expect(cb.status).toBe(202);
    expect(cb.text).toBe('via callback');
    const inline = await request(gw.url, 'GET', '/inline');
    expect(inline.status).toBe(204);
  });

  it('prefers literal segments over {params}, and matches {greedy+}', async () => {
    const special = await request(gw.url, 'POST', '/echo/special');
    expect(special.json()).toEqual({ hello: 'world' });
    const greedy = await request(gw.url, 'DELETE', '/files/a/b/c.txt');
    const { event } = greedy.json() as { event: APIGatewayProxyEventV2 };
    expect(event.routeKey).toBe('ANY /files/{path+}');
    expect(event.pathParameters).toEqual({ path: 'a/b/c.txt' });
  });

  it('answers 404 {"message":"Not Found"} for unknown paths and methods', async () => {
    for (const [method, target] of [
      ['GET', '/nope'],
      ['GET', '/echo/1'], // route exists for POST only
      ['POST', '/echo/1/extra'],
      ['POST', '/echo/'], // empty {id}
      ['GET', '/files/'],
    ]) {
      const res = await request(gw.url, method, target);
      expect({ target, status: res.status }).toEqual({ target, status: 404 });
      expect(res.json()).toEqual({ message: 'Not Found' });
    }
  });

  it('answers 500 {"message":"Internal Server Error"} and reports the error when the handler throws', async () => {
    const res = await request(gw.url, 'GET', '/throws');
    expect(res.status).toBe(500);
    expect(res.json()).toEqual({ message: 'Internal Server Error' });
    expect(errors).toHaveLength(1);
    expect(errors[0].routeKey).toBe('GET /throws');
    expect(String(errors[0].err)).toContain('boom from test handler');
  });

  it('answers 500 for a malformed result, a missing handler module and a timed-out handler', async () => {
    for (const target of ['/malformed', '/missing', '/slow']) {
      const res = await request(gw.url, 'GET', target);
      expect({ target, status: res.status }).toEqual({ target, status: 500 });
      expect(res.json()).toEqual({ message: 'Internal Server Error' });
    }
    expect(errors.map((e) => e.routeKey)).toEqual(['GET /malformed', 'GET /missing', 'GET /slow']);
    expect(String(errors[2].err)).toContain('Task timed out after 1.00 seconds');
  });

  it('reads the whole body and answers 413 above the size limit', async () => {
    const ok = await request(gw.url, 'POST', '/echo/big', { 'content-type': 'text/plain' }, 'a'.repeat(64 * 1024));
    expect(ok.status).toBe(201);
    expect((ok.json() as { event: APIGatewayProxyEventV2 }).event.body).toHaveLength(64 * 1024);
    const tooBig = await request(
      gw.url,
      'POST',
      '/echo/big',
      { 'content-type': 'text/plain' },
      'a'.repeat(64 * 1024 + 1),
    );
    expect(tooBig.status).toBe(413);
    expect(tooBig.json()).toEqual({
      message: 'Request Entity Too Large',
      reason: 'the body is over the limit of 65536 bytes',
    });
  });
});

describe('gateway pieces', () => {
  it('reads the httpApi routes of serverless.yml', () => {
    const config = loadServerlessConfig();
    const routes = routesFromServerless(config);
    const keys = routes.map((r) => `${r.method} ${r.path} -> ${r.name}`);
    // every httpApi event of the yml becomes a route, with the function's handler
    const expected = Object.entries<any>(config.functions).flatMap(([name, fn]) =>
      (fn.events ?? [])
        .filter((e: any) => e.httpApi)
        .map(
          (e: any) =>
            `${typeof e.httpApi === 'string' ? e.httpApi : `${e.httpApi.method} ${e.httpApi.path}`} -> ${name}`,
        ),
    );
    expect(keys).toEqual(expected);
    expect(keys).toContain('POST /hooks/dockerhub/{triggerId} -> hookDockerhub');
    expect(keys).toContain('GET /health -> health');
    const dockerhub = routes.find((r) => r.name === 'hookDockerhub')!;
    expect(dockerhub.handler).toBe('functions/hooks/dockerhub.handler');
    expect(dockerhub.timeout).toBe(Number(config.functions.hookDockerhub.timeout ?? config.provider.timeout));
  });

  it('accepts the string and catch-all forms of httpApi events', () => {
    const routes = routesFromServerless({
      functions: { a: { handler: 'x.h', events: [{ httpApi: 'PATCH /things/{id}' }, { httpApi: '*' }] } },
    });
    expect(routes.map((r) => [r.method, r.path])).toEqual([
      ['PATCH', '/things/{id}'],
      ['ANY', '$default'],
    ]);
  });

  it('event builder: repeated query keys joined, no prototype surprises', () => {
    const e = buildHttpApiEvent({
      method: 'GET',
      url: '/p?constructor=1&a=x&a=y',
      rawHeaders: ['Constructor', 'v', 'X-A', '1', 'x-a', '2'],
      body: undefined,
      sourceIp: '10.0.0.1',
      routeKey: 'GET /p',
    });
    expect(e.queryStringParameters).toEqual({ constructor: '1', a: 'x,y' });
    expect(e.headers.constructor).toBe('v');
    expect(e.headers['x-a']).toBe('1,2');
  });

  it('response mapper: null result, numeric headers, invalid status', () => {
    expect(toHttpResponse(undefined)).toEqual({
      statusCode: 200,
      headers: { 'content-type': 'application/json' },
      body: Buffer.from('null'),
    });
    expect(toHttpResponse({ statusCode: 302, headers: { Location: '/x' } })).toEqual({
      statusCode: 302,
      headers: { location: '/x' },
      body: Buffer.alloc(0),
    });
    expect(() => toHttpResponse({ statusCode: 'abc' })).toThrow(/statusCode/);
  });

  it('loads handlers as <module path relative to the project root>.<export>, with clear errors', () => {
    const fn = loadHandler('test/helpers/handlers/echo.plain');
    expect(fn).toBe(echo.plain);
    expect(loadHandler('helpers/handlers/echo.text', path.resolve(__dirname, '../..'))).toBe(echo.text);
    expect(() => loadHandler('test/helpers/handlers/echo.nope')).toThrow(/does not export a function named nope/);
    expect(() => loadHandler('nodot')).toThrow(/bad handler/);
  });
});
