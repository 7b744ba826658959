import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { NormalizedEvent } from '../../../lib/core/event';
import { httpTarget, httpTargetSchema, sendRequest, type HttpTargetConfig } from '../../../lib/deploy/targets/http';
import {
  REDACTED,
  redactTarget,
  runTarget,
  targetSchema,
  targets,
  type DeployContext,
} from '../../../lib/deploy/targets';

// Self-signed certificate for 127.0.0.1/localhost (EC P-256, valid until 2126). Test-only key.
const TEST_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgUOVH4/45DD1ueHT4
CoVirxocIg5Iyvh1xgVUCN/ZyKehRANCAAS4Z1vNkIh9dNlhC+m9usE1tb8fB8w4
8bEil+1MiOfsvvIcvrIFD1HC3kPQp3rLBt3PDranDi1UADZDPZyTTe+o
-----END PRIVATE KEY-----`;
const TEST_CERT = `-----BEGIN CERTIFICATE-----
MIIBmzCCAUGgAwIBAgIUNEeqXoprVL6P+VMg/AG5HqYfTcgwCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTEyMTE1MTQ0MVoYDzIxMjYxMDI4
MTUxNDQxWjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAAS4Z1vNkIh9dNlhC+m9usE1tb8fB8w48bEil+1MiOfsvvIcvrIFD1HC
3kPQp3rLBt3PDranDi1UADZDPZyTTe+oo28wbTAdBgNVHQ4EFgQUibmmJORsrCoP
RfTDS2SXoMTP2p4wHwYDVR0jBBgwFoAUibmmJORsrCoPRfTDS2SXoMTP2p4wDwYD
VR0TAQH/BAUwAwEB/zAaBgNVHREEEzARgglsb2NhbGhvc3SHBH8AAAEwCgYIKoZI
zj0EAwIDSAAwRQIgGIpya0KWCFQ50qGsnI+oDgV3Bg1A8BHiCWwvc92rfawCIQCx
GJOe5I5TIIl9uvPMUeAD533B0zVh1Sev/90Ji1vT2w==
-----END CERTIFICATE-----`;

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  body: string;
}
interface TestServer {
  base: string;
  port: number;
  requests: Received[];
  connections: number;
  close(): Promise<void>;
}
type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

const servers: TestServer[] = [];

async function startServer(handler: Handler = (_q, res) => res.end('ok'), tls = false): Promise<TestServer> {
  const state = { requests: [] as Received[], connections: 0 };
  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      state.requests.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      handler(req, res);
    });
  };
  const server = tls ? https.createServer({ key: TEST_KEY, cert: TEST_CERT }, onRequest) : http.createServer(onRequest);
  server.on('connection', () => state.connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const s: TestServer = {
    base: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    port,
    get requests() {
      return state.requests;
    },
    get connections() {
      return state.connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  servers.push(s);
  return s;
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const event: NormalizedEvent = {
  provider: 'dockerhub',
  kind: 'image',
  action: 'push',
  namespace: 'acme',
  repository: 'web/app',
  repoFullName: 'acme/web/app',
  image: 'acme/web/app:1.4.0',
  tag: '1.4.0',
  owner: 'octocat',
  commit: { id: 'c0ffee', message: 'release\r\nX-Injected: yes\nnext line' },
};
const ctx = (over: Partial<DeployContext> = {}): DeployContext => ({
  triggerId: 'trg_1',
  logId: 'log_1',
  event,
  allowPrivateTargets: true,
  ...over,
});
const deploy = (config: Omit<HttpTargetConfig, 'type'>, over: Partial<DeployContext> = {}) =>
  httpTarget.deploy({ type: 'http', ...config }, ctx(over));

describe('http target: what arrives', () => {
  it('sends the templated body exactly, to the templated URL', async () => {
    const s = await startServer((_q, res) => res.end('deployed'));
    const body = {
      image: '{{image}}',
      tag: '{{ tag }}',
      '{{tag}}': 'keys are not templates',
      nested: { list: ['{{repoFullName}}', 3, true, null, '{{triggerId}}/{{logId}}'], missing: '{{branch}}' },
    };
    const r = await deploy({ url: `${s.base}/deploy/{{repository}}?tag={{tag}}`, body });
    expect(r).toMatchObject({ ok: true, retryable: false, statusCode: 200, response: 'deployed' });
    expect(r.error).toBeUndefined();
    expect(typeof r.durationMs).toBe('number');
    expect(s.requests).toHaveLength(1);
    const got = s.requests[0];
    expect(got.method).toBe('POST');
    expect(got.url).toBe('/deploy/web%2Fapp?tag=1.4.0');
    expect(got.body).toBe(
      JSON.stringify({
        image: 'acme/web/app:1.4.0',
        tag: '1.4.0',
        '{{tag}}': 'keys are not templates',
        nested: { list: ['acme/web/app', 3, true, null, 'trg_1/log_1'], missing: '' },
      }),
    );
    expect(got.headers['content-type']).toBe('application/json');
    expect(got.headers['user-agent']).toBe('Triggerfish/0.1');
    expect(got.headers['content-length']).toBe(String(Buffer.byteLength(got.body)));
  });

  it('sends the normalized event as JSON when no body is configured', async () => {
    const s = await startServer();
    const r = await deploy({ url: `${s.base}/hook`, method: 'PUT' });
    expect(r.ok).toBe(true);
    expect(s.requests[0].method).toBe('PUT');
    expect(s.requests[0].body).toBe(JSON.stringify(event));
    expect(JSON.parse(s.requests[0].body)).toEqual(event);
  });

  it('sends templated headers with CR/LF stripped from substituted values', async () => {
    const s = await startServer();
    const r = await deploy({
      url: `${s.base}/hook`,
      method: 'PATCH',
      headers: { 'X-Token': 'static-secret', 'X-Tag': 'v={{tag}}', 'X-Msg': '{{commit.message}}' },
    });
    expect(r.ok).toBe(true);
    const h = s.requests[0].headers;
    expect(s.requests[0].method).toBe('PATCH');
    expect(h['x-token']).toBe('static-secret');
    expect(h['x-tag']).toBe('v=1.4.0');
    expect(h['x-msg']).toBe('releaseX-Injected: yesnext line');
    expect(h['x-injected']).toBeUndefined();
  });

  it('sends non-ASCII substituted header values as UTF-8 bytes', async () => {
    const s = await startServer();
    const r = await deploy(
      { url: `${s.base}/hook`, headers: { 'X-Msg': '{{commit.message}}' } },
      { event: { ...event, commit: { id: 'x', message: 'café ☕' } } },
    );
    expect(r.ok).toBe(true);
    // node's server decodes header bytes as latin1
    expect(Buffer.from(s.requests[0].headers['x-msg'] as string, 'latin1').toString('utf8')).toBe('café ☕');
  });

  it('GET sends no body and no Content-Type', async () => {
    const s = await startServer();
    const r = await deploy({ url: `${s.base}/hook?image={{image}}`, method: 'GET' });
    expect(r.ok).toBe(true);
    expect(s.requests[0]).toMatchObject({ method: 'GET', url: '/hook?image=acme%2Fweb%2Fapp%3A1.4.0', body: '' });
    expect(s.requests[0].headers['content-type']).toBeUndefined();
  });
});

describe('http target: results', () => {
  it('500: retryable failure with the status and the response truncated to 4 KiB', async () => {
    const s = await startServer((_q, res) => {
      res.statusCode = 500;
      res.end('a'.repeat(5000));
    });
    const r = await deploy({ url: `${s.base}/hook` });
    expect(r).toMatchObject({ ok: false, retryable: true, statusCode: 500 });
    expect(r.error).toMatch(/500/);
    expect(r.response).toBe(`${'a'.repeat(4096)}…[truncated 904 bytes]`);
  });

  it('truncation never cuts a multi-byte character', async () => {
    const s = await startServer((_q, res) => res.end(`${'a'.repeat(4095)}é${'b'.repeat(10)}`));
    const r = await deploy({ url: `${s.base}/hook` });
    expect(r.ok).toBe(true);
    expect(r.response).toBe(`${'a'.repeat(4095)}…[truncated 12 bytes]`);
  });

  it.each([429, 408, 502, 503])('%d: retryable', async (status) => {
    const s = await startServer((_q, res) => {
      res.statusCode = status;
      res.end();
    });
    expect(await deploy({ url: `${s.base}/hook` })).toMatchObject({ ok: false, retryable: true, statusCode: status });
  });

  it.each([400, 401, 404])('%d: not retryable', async (status) => {
    const s = await startServer((_q, res) => {
      res.statusCode = status;
      res.end('nope');
    });
    const r = await deploy({ url: `${s.base}/hook` });
    expect(r).toMatchObject({ ok: false, retryable: false, statusCode: status, response: 'nope' });
  });

  it('204 and 201 are success', async () => {
    const s = await startServer((q, res) => {
      res.statusCode = q.url === '/a' ? 204 : 201;
      res.end();
    });
    expect((await deploy({ url: `${s.base}/a` })).ok).toBe(true);
    expect((await deploy({ url: `${s.base}/b` })).ok).toBe(true);
  });

  it('a server slower than the timeout: retryable timeout', async () => {
    const s = await startServer((_q, res) => {
      setTimeout(() => res.end('late'), 5000).unref();
    });
    const r = await deploy({ url: `${s.base}/slow` }, { timeoutMs: 150 });
    expect(r).toMatchObject({ ok: false, retryable: true });
    expect(r.error).toMatch(/timed out after 150 ms/);
    expect(s.requests).toHaveLength(1);
  });

  it('a redirect is not followed', async () => {
    const s = await startServer((q, res) => {
      if (q.url === '/hook') {
        res.writeHead(302, { Location: '/elsewhere' });
        res.end();
      } else res.end('followed');
    });
    const r = await deploy({ url: `${s.base}/hook` });
    expect(r).toMatchObject({
      ok: false,
      retryable: false,
      statusCode: 302,
      error: 'redirect to /elsewhere not followed',
    });
    expect(s.requests.map((q) => q.url)).toEqual(['/hook']);
  });

  it('connection refused: retryable network error, no header value in the error', async () => {
    const s = await startServer();
    const base = s.base;
    await s.close();
    const r = await deploy({ url: `${base}/hook`, headers: { Authorization: 'Bearer hunter2-secret' } });
    expect(r).toMatchObject({ ok: false, retryable: true });
    expect(r.error).toMatch(/ECONNREFUSED/);
    expect(r.error).not.toContain('hunter2');
  });
});

describe('http target: destination rules', () => {
  it('127.0.0.1 is refused before any connection when private targets are not allowed', async () => {
    const s = await startServer();
    const r = await deploy(
      { url: `${s.base}/hook`, headers: { 'X-Token': 'hunter2-secret' } },
      { allowPrivateTargets: false },
    );
    expect(r).toMatchObject({ ok: false, retryable: false });
    expect(r.error).toMatch(/refused.*127\.0\.0\.1 is loopback/);
    expect(r.error).not.toContain('hunter2');
    expect(s.connections).toBe(0);
    expect(s.requests).toHaveLength(0);
  });

  it('hostname "localhost" is refused by the connect-time lookup', async () => {
    const s = await startServer();
    const r = await deploy({ url: `http://localhost:${s.port}/hook` }, { allowPrivateTargets: false });
    expect(r).toMatchObject({ ok: false, retryable: false });
    expect(r.error).toMatch(/localhost resolves to .* is loopback/);
    expect(s.connections).toBe(0);
    expect(s.requests).toHaveLength(0);
  });

  it('hostname "localhost" is reached when private targets are allowed', async () => {
    const s = await startServer();
    const r = await deploy({ url: `http://localhost:${s.port}/hook` }, { allowPrivateTargets: true });
    expect(r.ok).toBe(true);
    expect(r.details?.address).toBe('127.0.0.1');
    expect(s.requests).toHaveLength(1);
  });

  it('a rendered URL breaking the static rules is refused without connecting', async () => {
    const s = await startServer();
    const r = await deploy({ url: `http://127.0.0.1:22/hook` });
    expect(r).toMatchObject({ ok: false, retryable: false });
    expect(r.error).toMatch(/port 22/);
    expect(s.connections).toBe(0);
  });

  it('TLS is verified: a self-signed certificate fails and nothing is delivered', async () => {
    const s = await startServer(undefined, true);
    // sendRequest skips the port rule (https on 443 only), which a test server on port 0 cannot meet
    const r = await sendRequest(
      { url: new URL(`${s.base}/hook`), method: 'POST', headers: {}, body: Buffer.from('{}') },
      { allowPrivate: true },
    );
    expect(r).toMatchObject({ ok: false });
    expect(r.error).toMatch(/certificate|cert/i);
    expect(s.requests).toHaveLength(0);
  });
});

describe('http target: schema (trigger validation)', () => {
  const ok = (t: unknown) => expect(targetSchema.safeParse(t).success).toBe(true);
  const bad = (t: unknown, msg: RegExp) => {
    const r = targetSchema.safeParse(t);
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.message).join('; ')).toMatch(msg);
  };
  it('accepts the contract example and templated URLs', () => {
    ok({
      type: 'http',
      url: 'https://deploy.example.com/hook',
      method: 'POST',
      headers: { 'X-Token': '...' },
      body: { image: '{{image}}', tag: '{{tag}}' },
    });
    ok({ type: 'http', url: 'https://x/{{repository}}' });
    ok({ type: 'http', url: 'https://deploy.example.com/{{namespace}}/{{repoFullName}}?tag={{tag}}' });
    ok({ type: 'http', url: 'http://deploy.example.com:8080/', method: 'GET' });
  });
  it.each([
    [{ type: 'http', url: 'ftp://x/' }, /scheme ftp/],
    [{ type: 'http', url: 'https://x:8443/' }, /https port 8443/],
    [{ type: 'http', url: 'http://x:22/' }, /http port 22/],
    [{ type: 'http', url: 'http://x:{{tag}}/' }, /not allowed in the scheme, host or port/],
    [{ type: 'http', url: 'https://{{namespace}}.deploy.example.com/' }, /not allowed in the scheme, host or port/],
    [{ type: 'http', url: 'https://u:p@x/' }, /credentials/],
    [{ type: 'http', url: 'https://x/{{nope}}' }, /unknown placeholder \{\{nope\}\}/],
    [{ type: 'http', url: 'https://x/', headers: { 'X-A': '{{nope}}' } }, /\{\{nope\}\}/],
    [{ type: 'http', url: 'https://x/', headers: { 'X-A': 'a\r\nB: c' } }, /control characters/],
    [{ type: 'http', url: 'https://x/', headers: { 'Bad Name': 'v' } }, /header name/],
    [{ type: 'http', url: 'https://x/', headers: { Host: 'evil' } }, /set by Triggerfish/],
    [{ type: 'http', url: 'https://x/', body: { a: ['{{nope}}'] } }, /\{\{nope\}\}/],
    [{ type: 'http', url: 'https://x/', method: 'GET', body: { a: 1 } }, /GET request has no body/],
    [{ type: 'http', url: 'https://x/', method: 'DELETE' }, /./],
    [{ type: 'http', url: 'https://x/', insecure: true }, /./],
    [{ type: 'nope', url: 'https://x/' }, /./],
  ])('refuses %j', (t, msg) => bad(t, msg));
});

describe('http target: a pushed value cannot move the request', () => {
  const fieldOf = (t: unknown) => {
    const r = targetSchema.safeParse(t);
    expect(r.success).toBe(false);
    return { path: r.error?.issues[0].path.join('.'), message: r.error?.issues[0].message };
  };

  it('refuses a placeholder in the host at creation, naming url', () => {
    expect(
      fieldOf({ type: 'http', url: 'http://{{tag}}:8080/deploy', headers: { 'X-Token': 'hunter2-secret' } }),
    ).toEqual({
      path: 'url',
      message: 'placeholders are not allowed in the scheme, host or port (only in the path and the query)',
    });
  });

  it('a stored target with a placeholder in the host is refused at send time, nothing sent (no retry)', async () => {
    const s = await startServer();
    const r = await runTarget(
      { type: 'http', url: `http://{{tag}}:${s.port}/deploy`, headers: { 'X-Token': 'hunter2-secret' } },
      ctx({ event: { ...event, tag: '127.0.0.1' } }),
    );
    expect(r).toMatchObject({ ok: false, retryable: false });
    expect(r.error).toMatch(/url: placeholders are not allowed in the scheme, host or port/);
    expect(r.error).not.toContain('hunter2');
    expect(s.connections).toBe(0);
  });

  it('a ".." tag in a path placeholder is refused, not sent to /deploy', async () => {
    const s = await startServer();
    const r = await deploy(
      { url: `${s.base}/tenant-a/{{tag}}/deploy`, headers: { 'X-Token': 'hunter2-secret' } },
      { event: { ...event, tag: '..' } },
    );
    expect(r).toMatchObject({ ok: false, retryable: false });
    expect(r.error).toBe('URL refused: path segment {{tag}} renders to "..", which would change the URL path');
    expect(s.connections).toBe(0);
  });

  it('"/", "%2F", "\\", "?" and "#" in a path value stay in their segment', async () => {
    const s = await startServer();
    for (const tag of ['../x', '%2F..%2Fdeploy', '..\\deploy', 'a?b=1', 'a#b']) {
      const r = await deploy({ url: `${s.base}/tenant-a/{{tag}}/deploy` }, { event: { ...event, tag } });
      expect(r.ok).toBe(true);
    }
    expect(s.requests.map((q) => q.url)).toEqual([
      '/tenant-a/..%2Fx/deploy',
      '/tenant-a/%252F..%252Fdeploy/deploy',
      '/tenant-a/..%5Cdeploy/deploy',
      '/tenant-a/a%3Fb%3D1/deploy',
      '/tenant-a/a%23b/deploy',
    ]);
  });
});

describe('http target: creation-time address checks', () => {
  const saved = process.env.ALLOW_PRIVATE_TARGETS;
  afterEach(() => {
    if (saved === undefined) delete process.env.ALLOW_PRIVATE_TARGETS;
    else process.env.ALLOW_PRIVATE_TARGETS = saved;
  });
  it.each([
    'http://169.254.169.254/',
    'http://127.0.0.1/',
    'http://[::ffff:169.254.169.254]/',
    'http://2852039166/',
    'http://0x7f.1/',
    'http://0177.0.0.1/',
    'http://127.1/',
    'http://[::1]:8080/',
    'http://localhost:8080/',
    'http://api.localhost/',
    'http://[64:ff9b::a9fe:a9fe]/',
  ])('%s: refused at creation, naming url, when private targets are not allowed', (url) => {
    process.env.ALLOW_PRIVATE_TARGETS = 'false';
    const r = targetSchema.safeParse({ type: 'http', url: `${url}{{tag}}` });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0].path).toEqual(['url']);
    expect(r.error?.issues[0].message).toMatch(/private targets are not allowed/);
    process.env.ALLOW_PRIVATE_TARGETS = 'true';
    expect(targetSchema.safeParse({ type: 'http', url }).success).toBe(true);
  });
});

describe('targets registry', () => {
  // runTarget validates the stored config again; the creation-time address rule follows ALLOW_PRIVATE_TARGETS
  const saved = process.env.ALLOW_PRIVATE_TARGETS;
  beforeAll(() => {
    process.env.ALLOW_PRIVATE_TARGETS = 'true';
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.ALLOW_PRIVATE_TARGETS;
    else process.env.ALLOW_PRIVATE_TARGETS = saved;
  });
  it('registers http', () => {
    expect(targets.http).toBe(httpTarget);
    expect(targets.http.schema).toBe(httpTargetSchema);
  });
  it('runTarget dispatches by type', async () => {
    const s = await startServer();
    const r = await runTarget({ type: 'http', url: `${s.base}/run`, body: { t: '{{tag}}' } }, ctx());
    expect(r.ok).toBe(true);
    expect(s.requests[0].body).toBe('{"t":"1.4.0"}');
  });
  it('runTarget refuses an unknown type or an invalid config without retry', async () => {
    const unknown = await runTarget({ type: 'carrier-pigeon' } as never, ctx());
    expect(unknown).toMatchObject({ ok: false, retryable: false });
    expect(unknown.error).toMatch(/unknown target type/);
    const invalid = await runTarget({ type: 'http', url: 'http://127.0.0.1:22/' }, ctx());
    expect(invalid).toMatchObject({ ok: false, retryable: false });
    expect(invalid.error).toMatch(/port 22/);
  });
  it('redacts header values and URL tokens', () => {
    const shown = redactTarget({
      type: 'http',
      url: 'https://x/hook?token=abc&tag={{tag}}#frag',
      headers: { Authorization: 'Bearer abc' },
      body: { a: 1 },
    });
    expect(shown).toEqual({
      type: 'http',
      url: `https://x/hook?token=${REDACTED}&tag={{tag}}#frag`,
      headers: { Authorization: REDACTED },
      body: { a: 1 },
    });
  });
});
