/* eslint-disable @typescript-eslint/no-explicit-any -- a resolved serverless.yml and Lambda events are untyped here */
/**
 * A local stand-in for API Gateway HTTP API (payload format 2.0) in front of Lambda: a node:http server that serves
 * the `httpApi` routes of serverless.yml by calling the functions' handlers in this process, with the event,
 * context and response mapping Lambda and API Gateway use.
 *
 * Also home of the small Lambda runtime emulation (handler loading, context, timeout) that sqs-poller.ts shares.
 */
// limits.ts loads no logger: importing the pipeline here would create the logger before the stack sets its level
import { MAX_BODY_BYTES } from '../receive/limits';
import { PROJECT_ROOT } from './paths';
import { runInvocation } from './invoke-store';
import http from 'node:http';
import path from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';

const ACCOUNT_ID = '000000000000';

// ---------------------------------------------------------------------------------------------------------------
// Lambda runtime emulation

/** what a handler module exports: async (event, context) or the callback style (event, context, callback) */
export type LambdaHandler = (
  event: any,
  context: Context,
  callback?: (err?: unknown, result?: unknown) => void,
) => unknown;

export interface LambdaFunction {
  /** the key under `functions:` in serverless.yml (e.g. hookDockerhub) */
  name: string;
  /** 'functions/hooks/dockerhub.handler' (module path relative to projectRoot + export), or the function itself */
  handler: string | LambdaHandler;
  /** seconds (serverless.yml function timeout, else provider timeout, else 6) */
  timeout?: number;
  memorySize?: number;
}

/** A function's settings in a resolved serverless.yml: its own timeout/memory, else the provider's, else Lambda's. */
export function lambdaFunctionOf(config: any, name: string): LambdaFunction {
  const fn = config.functions?.[name] ?? {};
  return {
    name,
    handler: fn.handler,
    timeout: Number(fn.timeout ?? config.provider?.timeout ?? 6),
    memorySize: Number(fn.memorySize ?? config.provider?.memorySize ?? 1024),
  };
}

const handlerCache = new Map<string, LambdaHandler>();

/**
 * Loads a handler the way the Lambda Node runtime does: module path + '.' + export name (the last dot splits them).
 * Uses require, which works under tsx (npm start) and jest (transformed by swc). Cached like a warm container.
 */
export function loadHandler(handler: string | LambdaHandler, projectRoot = PROJECT_ROOT): LambdaHandler {
  if (typeof handler === 'function') return handler;
  const key = `${projectRoot}\0${handler}`;
  const cached = handlerCache.get(key);
  if (cached) return cached;
  const dot = handler.lastIndexOf('.');
  if (dot <= 0) throw new Error(`bad handler "${handler}": expected <module path>.<export>`);
  const modulePath = path.resolve(projectRoot, handler.slice(0, dot));
  const exportName = handler.slice(dot + 1);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(modulePath) as Record<string, unknown>;
  const fn = mod[exportName] ?? (mod.default as Record<string, unknown> | undefined)?.[exportName];
  if (typeof fn !== 'function') {
    throw new Error(`handler "${handler}": ${modulePath} does not export a function named ${exportName}`);
  }
  handlerCache.set(key, fn as LambdaHandler);
  return fn as LambdaHandler;
}

export function lambdaFunctionName(service: string, stage: string, key: string): string {
  return `${service}-${stage}-${key}`;
}

export function lambdaContext(fn: {
  functionName: string;
  timeout?: number;
  memorySize?: number;
  region?: string;
}): Context {
  const deadline = Date.now() + (fn.timeout ?? 6) * 1000;
  const day = new Date().toISOString().slice(0, 10).replace(/-/g, '/');
  const region = fn.region ?? process.env.AWS_REGION ?? 'us-east-1';
  const unsupported = () => {
    throw new Error('context.done/fail/succeed are not supported; return a value or a promise');
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: fn.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:${ACCOUNT_ID}:function:${fn.functionName}`,
    memoryLimitInMB: String(fn.memorySize ?? 1024),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${fn.functionName}`,
    logStreamName: `${day}/[$LATEST]${randomBytes(16).toString('hex')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported,
    fail: unsupported,
    succeed: unsupported,
  };
}

export class LambdaTimeoutError extends Error {
  constructor(seconds: number) {
    super(`Task timed out after ${seconds.toFixed(2)} seconds`);
    this.name = 'LambdaTimeoutError';
  }
}

/**
 * Invokes a handler like the Node runtime: a returned promise (or value) is the result, otherwise the callback's.
 * Rejects with LambdaTimeoutError after `timeoutSeconds` (the handler keeps running in the background: unlike
 * Lambda we cannot freeze it).
 */
export async function invokeHandler(
  fn: LambdaHandler,
  event: unknown,
  context: Context,
  timeoutSeconds: number,
): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new LambdaTimeoutError(timeoutSeconds)), timeoutSeconds * 1000);
  });
  const run = new Promise<unknown>((resolve, reject) => {
    const callback = (err?: unknown, result?: unknown) => (err ? reject(err) : resolve(result));
    try {
      // each invocation with its own Powertools state (logger context, metrics): see invoke-store.ts
      const ret = runInvocation(context, () => (fn.length >= 3 ? fn(event, context, callback) : fn(event, context)));
      if (fn.length < 3 || (ret && typeof (ret as PromiseLike<unknown>).then === 'function')) {
        Promise.resolve(ret).then(resolve, reject);
      }
    } catch (err) {
      reject(err);
    }
  });
  try {
    return await Promise.race([run, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// routes

export interface HttpRoute extends LambdaFunction {
  /** GET, POST ... or ANY */
  method: string;
  /** '/hooks/dockerhub/{triggerId}', '/files/{proxy+}', or '$default' */
  path: string;
}

/** The httpApi routes of a resolved serverless.yml (see resources.loadServerlessConfig). */
export function routesFromServerless(config: any): HttpRoute[] {
  const routes: HttpRoute[] = [];
  for (const [name, fn] of Object.entries<any>(config.functions ?? {})) {
    for (const ev of fn?.events ?? []) {
      const h = ev?.httpApi;
      if (h === undefined) continue;
      let method: string;
      let routePath: string;
      if (typeof h === 'string') {
        if (h === '*' || h === '$default') [method, routePath] = ['ANY', '$default'];
        else [method, routePath] = h.trim().split(/\s+/, 2);
      } else {
        method = String(h.method ?? 'ANY');
        routePath = String(h.path ?? '$default');
      }
      if (method === '*') method = 'ANY';
      if (routePath === '*') routePath = '$default';
      routes.push({ ...lambdaFunctionOf(config, name), method: method.toUpperCase(), path: routePath });
    }
  }
  return routes;
}

interface CompiledRoute {
  route: HttpRoute;
  routeKey: string;
  segments: { literal?: string; param?: string; greedy?: boolean }[];
}

function compileRoute(route: HttpRoute): CompiledRoute {
  const routeKey = route.path === '$default' ? '$default' : `${route.method} ${route.path}`;
  const segments =
    route.path === '$default'
      ? []
      : route.path
          .split('/')
          .slice(1)
          .map((s) => {
            const m = /^\{([^{}]+?)(\+)?\}$/.exec(s);
            return m ? { param: m[1], greedy: !!m[2] } : { literal: s };
          });
  return { route, routeKey, segments };
}

/** Specificity, highest first: literal segments beat {param}, which beats {greedy+}; a method beats ANY. */
function matchRoute(
  routes: CompiledRoute[],
  method: string,
  rawPath: string,
): { compiled: CompiledRoute; params: Record<string, string> } | undefined {
  const parts = rawPath.split('/').slice(1);
  let best: { compiled: CompiledRoute; params: Record<string, string>; score: number[] } | undefined;
  for (const compiled of routes) {
    const { route, segments } = compiled;
    if (route.path === '$default') continue;
    if (route.method !== 'ANY' && route.method !== method) continue;
    const params: Record<string, string> = {};
    const score: number[] = [];
    let ok = true;
    for (let i = 0; i < segments.length && ok; i++) {
      const seg = segments[i];
      if (seg.greedy) {
        const rest = parts.slice(i);
        if (rest.length === 0 || rest.join('/') === '') ok = false;
        else params[seg.param!] = decode(rest.join('/'));
        score.push(0);
        if (ok && i !== segments.length - 1) ok = false;
        break;
      }
      const part = parts[i];
      if (part === undefined) ok = false;
      else if (seg.literal !== undefined) {
        ok = seg.literal === part;
        score.push(2);
      } else {
        ok = part !== '';
        params[seg.param!] = decode(part);
        score.push(1);
      }
    }
    const greedyLast = segments.length > 0 && segments[segments.length - 1].greedy;
    if (ok && !greedyLast && parts.length !== segments.length) ok = false;
    if (!ok) continue;
    score.push(route.method === 'ANY' ? 0 : 1);
    if (!best || compareScores(score, best.score) > 0) best = { compiled, params, score };
  }
  if (best) return best;
  const fallback = routes.find((r) => r.route.path === '$default');
  return fallback ? { compiled: fallback, params: {} } : undefined;
}

function compareScores(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? -1) - (b[i] ?? -1);
    if (d) return d;
  }
  return 0;
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// event

/** API Gateway passes these content types as text; anything else (or no content type) arrives base64-encoded. */
export function isTextContentType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const type = contentType.split(';')[0].trim().toLowerCase();
  return (
    type.startsWith('text/') ||
    type === 'application/json' ||
    type.endsWith('+json') ||
    type === 'application/xml' ||
    type.endsWith('+xml') ||
    type === 'application/javascript'
  );
}

function clfTime(d: Date): string {
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number) => String(n).padStart(2, '0');
  return (
    `${p(d.getUTCDate())}/${months[d.getUTCMonth()]}/${d.getUTCFullYear()}:` +
    `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`
  );
}

export interface BuildEventInput {
  method: string;
  /** request target as received: path plus optional ?query */
  url: string;
  /** alternating names and values, as node's req.rawHeaders */
  rawHeaders: string[];
  body: Buffer | undefined;
  sourceIp: string;
  routeKey: string;
  pathParameters?: Record<string, string>;
  requestId?: string;
  apiId?: string;
  localPort?: number;
  httpVersion?: string;
  now?: Date;
}

/** An APIGatewayProxyEventV2 as API Gateway HTTP API (payload 2.0, $default stage) builds it. */
export function buildHttpApiEvent(input: BuildEventInput): APIGatewayProxyEventV2 {
  const now = input.now ?? new Date();
  const q = input.url.indexOf('?');
  // HTTP APIs hand Lambda the path percent-DECODED in rawPath and http.path (unlike REST APIs and function URLs;
  // seen in live captures, e.g. hotsock/voker#8); the query string stays raw.
  const rawPath = decode(q < 0 ? input.url : input.url.slice(0, q));
  const rawQueryString = q < 0 ? '' : input.url.slice(q + 1);

  // headers: lowercased, repeated ones joined with ','; cookies move to `cookies`
  const headers: Record<string, string> = Object.create(null);
  const cookies: string[] = [];
  for (let i = 0; i + 1 < input.rawHeaders.length; i += 2) {
    const name = input.rawHeaders[i].toLowerCase();
    const value = input.rawHeaders[i + 1];
    if (name === 'cookie') {
      cookies.push(
        ...value
          .split(';')
          .map((c) => c.trim())
          .filter(Boolean),
      );
      continue;
    }
    headers[name] = headers[name] !== undefined ? `${headers[name]},${value}` : value;
  }
  const requestId = input.requestId ?? randomUUID();
  headers['x-forwarded-for'] = headers['x-forwarded-for']
    ? `${headers['x-forwarded-for']}, ${input.sourceIp}`
    : input.sourceIp;
  headers['x-forwarded-proto'] ??= 'http';
  if (input.localPort) headers['x-forwarded-port'] ??= String(input.localPort);
  headers['x-amzn-trace-id'] ??=
    `Root=1-${Math.floor(now.getTime() / 1000).toString(16)}-${randomBytes(12).toString('hex')}`;

  // query: decoded, repeated keys joined with ','
  let queryStringParameters: Record<string, string> | undefined;
  if (rawQueryString) {
    const qs: Record<string, string> = Object.create(null);
    for (const [k, v] of new URLSearchParams(rawQueryString)) {
      qs[k] = qs[k] !== undefined ? `${qs[k]},${v}` : v;
    }
    queryStringParameters = { ...qs };
    if (Object.keys(queryStringParameters).length === 0) queryStringParameters = undefined;
  }

  let body: string | undefined;
  let isBase64Encoded = false;
  if (input.body && input.body.length > 0) {
    if (isTextContentType(headers['content-type'])) body = input.body.toString('utf8');
    else {
      body = input.body.toString('base64');
      isBase64Encoded = true;
    }
  }

  const host = headers.host ?? 'localhost';
  const domainName = host.replace(/:\d+$/, '');
  const event: APIGatewayProxyEventV2 = {
    version: '2.0',
    routeKey: input.routeKey,
    rawPath,
    rawQueryString,
    ...(cookies.length ? { cookies } : {}),
    headers: { ...headers },
    ...(queryStringParameters ? { queryStringParameters } : {}),
    ...(input.pathParameters && Object.keys(input.pathParameters).length
      ? { pathParameters: input.pathParameters }
      : {}),
    requestContext: {
      accountId: ACCOUNT_ID,
      apiId: input.apiId ?? 'local',
      domainName,
      domainPrefix: domainName.split('.')[0],
      http: {
        method: input.method,
        path: rawPath,
        protocol: `HTTP/${input.httpVersion ?? '1.1'}`,
        sourceIp: input.sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey: input.routeKey,
      stage: '$default',
      time: clfTime(now),
      timeEpoch: now.getTime(),
    },
    ...(body !== undefined ? { body } : {}),
    isBase64Encoded,
  };
  return event;
}

// ---------------------------------------------------------------------------------------------------------------
// response

export interface HttpResponse {
  statusCode: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

export class MalformedResponseError extends Error {}

/**
 * Maps a handler's result the way API Gateway does for payload 2.0: an object with statusCode is a structured
 * response; anything else is taken as the body of a 200 application/json response (a string as is, other values
 * JSON-encoded).
 */
export function toHttpResponse(result: unknown): HttpResponse {
  if (result && typeof result === 'object' && 'statusCode' in result) {
    const r = result as APIGatewayProxyStructuredResultV2;
    const statusCode = Number(r.statusCode);
    if (!Number.isInteger(statusCode) || statusCode < 100 || statusCode > 599) {
      throw new MalformedResponseError(`Malformed Lambda proxy response: statusCode ${JSON.stringify(r.statusCode)}`);
    }
    if (r.body !== undefined && r.body !== null && typeof r.body !== 'string') {
      throw new MalformedResponseError('Malformed Lambda proxy response: body must be a string (JSON.stringify it)');
    }
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(r.headers ?? {})) {
      if (v === undefined || v === null) continue;
      headers[k.toLowerCase()] = Array.isArray(v) ? v.join(',') : String(v);
    }
    if (r.cookies?.length) {
      const existing = headers['set-cookie'];
      headers['set-cookie'] = [...(existing ? [existing].flat() : []), ...r.cookies];
    }
    const body = r.body ? Buffer.from(r.body, r.isBase64Encoded ? 'base64' : 'utf8') : Buffer.alloc(0);
    return { statusCode, headers, body };
  }
  const text = typeof result === 'string' ? result : JSON.stringify(result ?? null);
  return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from(text, 'utf8') };
}

// ---------------------------------------------------------------------------------------------------------------
// server

export interface GatewayOptions {
  routes: HttpRoute[];
  /** default 127.0.0.1 */
  host?: string;
  /** default 0 (any free port) */
  port?: number;
  /** where handler module paths are resolved (default the project root) */
  projectRoot?: string;
  /** Lambda function names are `${service}-${stage}-${route.name}` */
  service?: string;
  stage?: string;
  region?: string;
  /** bodies over this are answered 413 before more is read (default: the contract's 1 MiB plus 64 KiB, see below) */
  maxBodyBytes?: number;
  /** open connections at most; more are dropped by node:http (default 512, see below) */
  maxConnections?: number;
  /** a request's headers must arrive within this (default 10 s) and the whole request within requestTimeoutMs */
  headersTimeoutMs?: number;
  /** default 30 s; a slower upload is answered 408 and its connection closed */
  requestTimeoutMs?: number;
  /** handler errors, timeouts and malformed responses (default: console.error) */
  onError?: (err: unknown, info: { routeKey: string; requestId: string }) => void;
  /** one line per request (default: none) */
  accessLog?: (line: string) => void;
}

export interface Gateway {
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * API Gateway reads up to 10 MiB and hands it to the function, which refuses more than the contract's 1 MiB (a 413
 * with a `rejected` log entry). A local process holding 10 MiB per open request is a memory lever for anyone who can
 * connect, so the gateway stops at the contract's limit plus 64 KiB: a body just over 1 MiB still reaches its
 * webhook and is logged as on AWS; a larger one is a 413 from the gateway, answered as soon as Content-Length (or,
 * for a chunked body, the bytes counted so far) says so, and the rest is never kept.
 */
const DEFAULT_MAX_BODY = MAX_BODY_BYTES + 64 * 1024;
/**
 * A burst of 300 webhooks at once (a registry announcing a release's tags, what the bursts benchmark sends) must
 * all be taken, with room for the console, CLI and health checks; 512 open connections at most. Together with the
 * body limit and the timeouts this bounds what uploads can hold: 512 x ~1 MiB, each for at most 30 s.
 */
const DEFAULT_MAX_CONNECTIONS = 512;
const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;
const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

function sendJson(
  res: http.ServerResponse,
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(statusCode, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/**
 * Reads the body; undefined as soon as it is known to exceed max (a Content-Length over it, or more bytes than it
 * counted): what was read is dropped and the rest is not kept (node:http discards it after the answer; a client that
 * keeps sending far more is cut off).
 */
function readBody(req: http.IncomingMessage, max: number): Promise<Buffer | undefined> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > max) {
    cutOffAfter(req, max * 8);
    return Promise.resolve(undefined);
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= max) {
        chunks.push(chunk);
        return;
      }
      chunks.length = 0;
      req.off('data', onData);
      cutOffAfter(req, max * 8 - size);
      resolve(undefined);
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Discards the rest of a refused body; a client that sends more than `bytes` of it is disconnected. */
function cutOffAfter(req: http.IncomingMessage, bytes: number): void {
  let dropped = 0;
  req.on('data', (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > bytes) req.socket.destroy();
  });
  req.resume();
}

export async function startGateway(opts: GatewayOptions): Promise<Gateway> {
  const compiled = opts.routes.map(compileRoute);
  const projectRoot = opts.projectRoot ?? PROJECT_ROOT;
  const maxBody = opts.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const onError =
    opts.onError ??
    ((err: unknown, info: { routeKey: string; requestId: string }) =>
      console.error(`[gateway] ${info.routeKey} (request ${info.requestId}) failed:`, err));
  const apiId = randomBytes(5).toString('hex');
  const service = opts.service ?? 'triggerfish';
  const stage = opts.stage ?? 'local';

  const requestTimeout = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const server = http.createServer(
    {
      requestTimeout,
      // node:http refuses a headers timeout longer than the request timeout
      headersTimeout: Math.min(opts.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS, requestTimeout),
      // how often node:http looks for requests over those timeouts (its default, 30 s, would let them run longer)
      connectionsCheckingInterval: Math.min(1000, opts.headersTimeoutMs ?? 1000, opts.requestTimeoutMs ?? 1000),
    },
    (req, res) => {
      const started = Date.now();
      const requestId = randomUUID();
      const method = (req.method ?? 'GET').toUpperCase();
      const url = req.url ?? '/';
      const rawPath = url.split('?')[0];
      res.on('finish', () =>
        opts.accessLog?.(`${method} ${rawPath} -> ${res.statusCode} (${Date.now() - started} ms)`),
      );
      void (async () => {
        const base = { 'apigw-requestid': requestId };
        const body = await readBody(req, maxBody);
        if (body === undefined) {
          if (!res.headersSent)
            // no `connection: close`: node:http reads and drops the rest (cutOffAfter bounds it), so the client,
            // still sending, gets this answer rather than a reset
            sendJson(
              res,
              413,
              { message: 'Request Entity Too Large', reason: `the body is over the limit of ${maxBody} bytes` },
              base,
            );
          return;
        }
        const match = matchRoute(compiled, method, rawPath);
        if (!match) {
          sendJson(res, 404, { message: 'Not Found' }, base);
          return;
        }
        const { route, routeKey } = match.compiled;
        try {
          const event = buildHttpApiEvent({
            method,
            url,
            rawHeaders: req.rawHeaders,
            body,
            sourceIp: (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, ''),
            routeKey,
            pathParameters: match.params,
            requestId,
            apiId,
            localPort: req.socket.localPort,
            httpVersion: req.httpVersion,
          });
          const timeout = route.timeout ?? 6;
          const fn = loadHandler(route.handler, projectRoot);
          const context = lambdaContext({
            functionName: lambdaFunctionName(service, stage, route.name),
            timeout,
            memorySize: route.memorySize,
            region: opts.region,
          });
          // API Gateway's own integration timeout is 30 s
          const result = await invokeHandler(fn, event, context, Math.min(timeout, 30));
          const out = toHttpResponse(result);
          res.writeHead(out.statusCode, { ...out.headers, ...base, 'content-length': out.body.length });
          res.end(method === 'HEAD' ? undefined : out.body);
        } catch (err) {
          if (req.destroyed && res.destroyed) return; // the client went away
          onError(err, { routeKey, requestId });
          if (!res.headersSent) sendJson(res, 500, { message: 'Internal Server Error' }, base);
          else res.destroy();
        }
      })().catch((err) => {
        if (req.destroyed && res.destroyed) return; // the client went away mid-request
        onError(err, { routeKey: `${method} ${rawPath}`, requestId });
        if (!res.headersSent) sendJson(res, 500, { message: 'Internal Server Error' });
      });
    },
  );
  server.maxConnections = opts.maxConnections ?? DEFAULT_MAX_CONNECTIONS;

  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        // requests still running get a moment, then their connections are cut
        setTimeout(() => server.closeAllConnections(), 2000).unref();
      })),
  };
}
