import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import fs from 'node:fs';
import type http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { NormalizedEvent } from '../../../lib/core/event';
import { clearSecretCache } from '../../../lib/deploy/secrets';
import {
  kubernetesTarget,
  kubernetesTargetSchema,
  RESTARTED_AT_ANNOTATION,
  type KubernetesTargetConfig,
} from '../../../lib/deploy/targets/kubernetes';
import type { AttemptResult, DeployContext } from '../../../lib/deploy/targets/types';

// test-only TLS material, see test/fixtures/tls/README.md
const TLS_DIR = path.join(__dirname, '../../fixtures/tls');
const SERVER_KEY = fs.readFileSync(path.join(TLS_DIR, 'server.key'), 'utf8');
const SERVER_CERT = fs.readFileSync(path.join(TLS_DIR, 'server.crt'), 'utf8');
const CA_DATA = Buffer.from(fs.readFileSync(path.join(TLS_DIR, 'ca.crt'), 'utf8')).toString('base64');
const OTHER_CA_DATA = Buffer.from(fs.readFileSync(path.join(TLS_DIR, 'other-ca.crt'), 'utf8')).toString('base64');

const TOKEN = 'k8s-test-token-3f9a7c';
const ENV_SECRET = 's3cr3t-in-the-pod-env';
const OLD_IMAGE = 'registry.example.com/team/app:1.0.0';
const DIGEST = 'sha256:' + 'ab'.repeat(32);

// the test API servers run on loopback: allowed, as in local runs (each test file has its own process.env)
process.env.ALLOW_PRIVATE_TARGETS = 'true';

const sm = mockClient(SecretsManagerClient);

// ---- a tiny API server: GET and strategic-merge PATCH of apps/v1 and batch/v1 objects ----

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}
interface ApiServer {
  base: string;
  requests: Received[];
  connections: number;
  objects: Map<string, Record<string, any>>;
  /** answer `${METHOD} ${path}` with this status and body instead */
  overrides: Map<string, { status: number; body: unknown }>;
  /** never answer (timeouts) */
  hang: boolean;
  close(): Promise<void>;
}

function podTemplate(containers: Array<Record<string, unknown>>) {
  return { metadata: { labels: { app: 'app' } }, spec: { containers } };
}
function containers() {
  return [
    { name: 'sidecar', image: 'envoyproxy/envoy:v1.30.0' },
    { name: 'web', image: OLD_IMAGE, env: [{ name: 'DB_PASSWORD', value: ENV_SECRET }] },
  ];
}
function workload(kind: string, name: string, ns: string, cs = containers()): Record<string, any> {
  const metadata = { name, namespace: ns, resourceVersion: '100', generation: 3, annotations: {} };
  if (kind === 'CronJob') {
    return {
      apiVersion: 'batch/v1',
      kind,
      metadata,
      spec: { schedule: '*/5 * * * *', jobTemplate: { spec: { template: podTemplate(cs) } } },
    };
  }
  return { apiVersion: 'apps/v1', kind, metadata, spec: { replicas: 2, template: podTemplate(cs) } };
}

/** strategic merge, as far as these tests need: maps merge, `containers` merge by name */
function merge(target: any, patch: any, key?: string): any {
  if (Array.isArray(patch) && key === 'containers' && Array.isArray(target)) {
    const out = target.map((c: any) => ({ ...c }));
    for (const p of patch) {
      const i = out.findIndex((c: any) => c.name === p.name);
      if (i >= 0) out[i] = merge(out[i], p);
      else out.push(p);
    }
    return out;
  }
  if (patch && typeof patch === 'object' && !Array.isArray(patch)) {
    const out = target && typeof target === 'object' ? { ...target } : {};
    for (const [k, v] of Object.entries(patch)) out[k] = merge(out[k], v, k);
    return out;
  }
  return patch;
}

function status(code: number, reason: string, message: string) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

const servers: ApiServer[] = [];

async function startApiServer(): Promise<ApiServer> {
  const state = {
    requests: [] as Received[],
    connections: 0,
    objects: new Map<string, Record<string, any>>(),
    overrides: new Map<string, { status: number; body: unknown }>(),
    hang: false,
  };
  const send = (res: http.ServerResponse, code: number, body: unknown) => {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const server = https.createServer({ key: SERVER_KEY, cert: SERVER_CERT }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      state.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      if (state.hang) return;
      const p = (req.url ?? '').split('?')[0];
      const override = state.overrides.get(`${req.method} ${p}`);
      if (override) return send(res, override.status, override.body);
      const obj = state.objects.get(p);
      if (!obj) return send(res, 404, status(404, 'NotFound', `the object at ${p} was not found`));
      if (req.method === 'GET') return send(res, 200, obj);
      if (req.method === 'PATCH') {
        if (req.headers['content-type'] !== 'application/strategic-merge-patch+json') {
          return send(
            res,
            415,
            status(415, 'UnsupportedMediaType', 'the body of the request was in an unknown format'),
          );
        }
        const next = merge(obj, JSON.parse(body));
        next.metadata.resourceVersion = String(Number(obj.metadata.resourceVersion) + 1);
        next.metadata.generation = obj.metadata.generation + 1;
        state.objects.set(p, next);
        return send(res, 200, next);
      }
      send(res, 405, status(405, 'MethodNotAllowed', 'method not allowed'));
    });
  });
  server.on('secureConnection', () => state.connections++);
  server.on('connection', () => state.connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const s: ApiServer = {
    base: `https://127.0.0.1:${port}`,
    get requests() {
      return state.requests;
    },
    get connections() {
      return state.connections;
    },
    objects: state.objects,
    overrides: state.overrides,
    get hang() {
      return state.hang;
    },
    set hang(v: boolean) {
      state.hang = v;
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

const PATHS: Record<string, (ns: string, name: string) => string> = {
  Deployment: (ns, n) => `/apis/apps/v1/namespaces/${ns}/deployments/${n}`,
  StatefulSet: (ns, n) => `/apis/apps/v1/namespaces/${ns}/statefulsets/${n}`,
  DaemonSet: (ns, n) => `/apis/apps/v1/namespaces/${ns}/daemonsets/${n}`,
  CronJob: (ns, n) => `/apis/batch/v1/namespaces/${ns}/cronjobs/${n}`,
};

function event(over: Partial<NormalizedEvent> = {}): NormalizedEvent {
  return {
    provider: 'harbor',
    kind: 'image',
    action: 'push',
    registry: 'registry.example.com',
    namespace: 'team',
    repository: 'app',
    repoFullName: 'team/app',
    image: 'registry.example.com/team/app:1.1.0',
    tag: '1.1.0',
    digest: DIGEST,
    ...over,
  };
}

function ctx(over: Partial<DeployContext> = {}): DeployContext {
  return { triggerId: 'trg_1', logId: 'log_1', event: event(), allowPrivateTargets: true, ...over };
}

function cfg(server: ApiServer, over: Partial<KubernetesTargetConfig> = {}): KubernetesTargetConfig {
  return kubernetesTargetSchema.parse({
    type: 'kubernetes',
    apiServer: server.base,
    caData: CA_DATA,
    auth: { token: { secretsManager: 'prod/k8s-deployer', key: 'token' } },
    namespace: 'shop',
    kind: 'Deployment',
    name: 'web-app',
    container: 'web',
    ...over,
  });
}

/** deploys and checks what must hold for every result: no token, no object contents */
async function deploy(config: KubernetesTargetConfig, c: DeployContext = ctx()): Promise<AttemptResult> {
  const r = await kubernetesTarget.deploy(config, c);
  const text = JSON.stringify(r);
  expect(text).not.toContain(TOKEN);
  expect(text).not.toContain(ENV_SECRET);
  expect(typeof r.durationMs).toBe('number');
  return r;
}

beforeEach(() => {
  clearSecretCache();
  sm.reset();
  sm.on(GetSecretValueCommand, { SecretId: 'prod/k8s-deployer' }).resolves({
    SecretString: JSON.stringify({ token: `${TOKEN}\n` }),
  });
});

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serverWith(kind = 'Deployment', ns = 'shop', name = 'web-app', cs = containers()): Promise<ApiServer> {
  const s = await startApiServer();
  s.objects.set(PATHS[kind](ns, name), workload(kind, name, ns, cs));
  return s;
}

// ---- schema ----

describe('kubernetesTargetSchema', () => {
  const valid = {
    type: 'kubernetes',
    apiServer: 'https://ABCDEF0123.gr7.eu-west-1.eks.amazonaws.com',
    caData: CA_DATA,
    auth: { eks: { clusterName: 'prod-eu', region: 'eu-west-1' } },
    namespace: 'shop',
    kind: 'Deployment',
    name: 'web-app',
    container: 'web',
  };

  it('takes an EKS or a secret-reference config, any port, an optional path prefix', () => {
    expect(kubernetesTargetSchema.safeParse(valid).success).toBe(true);
    expect(
      kubernetesTargetSchema.safeParse({
        ...valid,
        apiServer: 'https://k8s.example.com:6443/k8s/clusters/c-1',
        caData: undefined,
        auth: { token: { ssmParameter: '/deploy/k8s-token' } },
        kind: 'CronJob',
        name: 'nightly.report',
        pinDigest: true,
      }).success,
    ).toBe(true);
  });

  it('refuses an inline token', () => {
    const r = kubernetesTargetSchema.safeParse({ ...valid, auth: { token: 'eyJhbGciOiJSUzI1NiJ9.payload.sig' } });
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.message).join(' ')).toMatch(/not accepted inline/);
    expect(kubernetesTargetSchema.safeParse({ ...valid, auth: { token: { value: 'abc' } } }).success).toBe(false);
    expect(kubernetesTargetSchema.safeParse({ ...valid, token: 'abc' }).success).toBe(false);
    expect(kubernetesTargetSchema.safeParse({ ...valid, auth: { bearer: 'abc' } }).success).toBe(false);
  });

  it.each([
    ['http API server', { apiServer: 'http://k8s.example.com:6443' }],
    ['credentials in the URL', { apiServer: 'https://u:p@k8s.example.com' }],
    ['a query', { apiServer: 'https://k8s.example.com/?x=1' }],
    ['caData that is not base64 PEM', { caData: Buffer.from('not a certificate').toString('base64') }],
    ['caData as raw PEM text', { caData: fs.readFileSync(path.join(TLS_DIR, 'ca.crt'), 'utf8') }],
    ['an unknown kind', { kind: 'ReplicaSet' }],
    ['a namespace that is not a DNS label', { namespace: 'Shop_1' }],
    ['a name that is not a DNS subdomain', { name: 'web/app' }],
    ['an invalid container name', { container: 'Web' }],
    ['an invalid EKS region', { auth: { eks: { clusterName: 'prod', region: 'europe' } } }],
    ['an unknown field', { insecureSkipTLSVerify: true }],
  ])('refuses %s', (_label, over) => {
    expect(kubernetesTargetSchema.safeParse({ ...valid, ...over }).success).toBe(false);
  });

  it.each([
    'https://127.0.0.1:6443',
    'https://169.254.169.254',
    'https://[::ffff:10.0.0.1]',
    'https://0x7f.1:6443',
    'https://localhost:6443',
  ])('refuses the literal private address %s at creation when private targets are not allowed', (apiServer) => {
    process.env.ALLOW_PRIVATE_TARGETS = 'false';
    try {
      const r = kubernetesTargetSchema.safeParse({ ...valid, apiServer });
      expect(r.success).toBe(false);
      expect(r.error!.issues[0].path).toEqual(['apiServer']);
      expect(r.error!.issues[0].message).toMatch(/private targets are not allowed/);
    } finally {
      process.env.ALLOW_PRIVATE_TARGETS = 'true';
    }
    expect(kubernetesTargetSchema.safeParse({ ...valid, apiServer }).success).toBe(true);
  });

  it('redact keeps the references visible and returns a copy', () => {
    const config = kubernetesTargetSchema.parse({
      ...valid,
      auth: { token: { secretsManager: 'prod/k8s', key: 'token' } },
    });
    const out = kubernetesTarget.redact(config);
    expect(out).toEqual(config);
    expect(out).not.toBe(config);
    expect(out.auth).not.toBe(config.auth);
  });
});

// ---- deploy ----

describe('kubernetes target: set image / restart', () => {
  it('Deployment: GET then PATCH with the exact set-image document, content type and bearer token', async () => {
    const s = await serverWith();
    const r = await deploy(cfg(s));
    expect(r).toMatchObject({ ok: true, retryable: false, statusCode: 200 });
    expect(r.details).toMatchObject({
      previousImage: OLD_IMAGE,
      image: 'registry.example.com/team/app:1.1.0',
      action: 'set-image',
      resourceVersion: '101',
      generation: 4,
      address: '127.0.0.1',
    });
    const p = PATHS.Deployment('shop', 'web-app');
    expect(s.requests.map((q) => `${q.method} ${q.url}`)).toEqual([`GET ${p}`, `PATCH ${p}`]);
    const [get, patch] = s.requests;
    expect(get.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(get.headers.accept).toBe('application/json');
    expect(get.body).toBe('');
    expect(patch.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(patch.headers['content-type']).toBe('application/strategic-merge-patch+json');
    expect(patch.body).toBe(
      '{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"registry.example.com/team/app:1.1.0"}]}}}}',
    );
    expect(patch.headers['content-length']).toBe(String(Buffer.byteLength(patch.body)));
    // only the named container changed
    const now = s.objects.get(p)!;
    expect(now.spec.template.spec.containers.map((c: any) => c.image)).toEqual([
      'envoyproxy/envoy:v1.30.0',
      'registry.example.com/team/app:1.1.0',
    ]);
  });

  it('the same image (a re-pushed tag) restarts with the restartedAt annotation, as kubectl rollout restart', async () => {
    const s = await serverWith('Deployment', 'shop', 'web-app', [
      { name: 'web', image: 'registry.example.com/team/app:latest' },
    ]);
    const before = Math.floor(Date.now() / 1000) * 1000;
    const r = await deploy(cfg(s), ctx({ event: event({ tag: 'latest' }) }));
    const after = Date.now();
    expect(r.ok).toBe(true);
    expect(r.details).toMatchObject({
      previousImage: 'registry.example.com/team/app:latest',
      image: 'registry.example.com/team/app:latest',
      action: 'restart',
    });
    const patch = s.requests[1];
    expect(patch.method).toBe('PATCH');
    expect(patch.headers['content-type']).toBe('application/strategic-merge-patch+json');
    const doc = JSON.parse(patch.body);
    const at = doc.spec.template.metadata.annotations[RESTARTED_AT_ANNOTATION];
    expect(doc).toEqual({
      spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': at } } } },
    });
    // RFC 3339, seconds, UTC: time.Now().Format(time.RFC3339) on a UTC host
    expect(at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(Date.parse(at)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(at)).toBeLessThanOrEqual(after);
  });

  it.each(['StatefulSet', 'DaemonSet'])('%s: apps/v1 path and the same set-image document', async (kind) => {
    const s = await serverWith(kind, 'data', 'db');
    const r = await deploy(cfg(s, { kind: kind as KubernetesTargetConfig['kind'], namespace: 'data', name: 'db' }));
    expect(r.ok).toBe(true);
    expect(r.details).toMatchObject({ action: 'set-image', previousImage: OLD_IMAGE });
    expect(s.requests.map((q) => `${q.method} ${q.url}`)).toEqual([
      `GET ${PATHS[kind]('data', 'db')}`,
      `PATCH ${PATHS[kind]('data', 'db')}`,
    ]);
    expect(JSON.parse(s.requests[1].body)).toEqual({
      spec: { template: { spec: { containers: [{ name: 'web', image: 'registry.example.com/team/app:1.1.0' }] } } },
    });
  });

  it('CronJob: batch/v1 path, container read from and patched under spec.jobTemplate', async () => {
    const s = await serverWith('CronJob', 'jobs', 'nightly');
    const r = await deploy(cfg(s, { kind: 'CronJob', namespace: 'jobs', name: 'nightly' }));
    expect(r.ok).toBe(true);
    expect(r.details).toMatchObject({ action: 'set-image', previousImage: OLD_IMAGE, resourceVersion: '101' });
    const p = '/apis/batch/v1/namespaces/jobs/cronjobs/nightly';
    expect(s.requests.map((q) => `${q.method} ${q.url}`)).toEqual([`GET ${p}`, `PATCH ${p}`]);
    expect(s.requests[1].body).toBe(
      '{"spec":{"jobTemplate":{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"registry.example.com/team/app:1.1.0"}]}}}}}}',
    );
    expect(s.objects.get(p)!.spec.jobTemplate.spec.template.spec.containers[1].image).toBe(
      'registry.example.com/team/app:1.1.0',
    );
  });

  it('CronJob with the same image: the restart annotation under spec.jobTemplate', async () => {
    const s = await serverWith('CronJob', 'jobs', 'nightly', [
      { name: 'web', image: 'registry.example.com/team/app:1.1.0' },
    ]);
    const r = await deploy(cfg(s, { kind: 'CronJob', namespace: 'jobs', name: 'nightly' }));
    expect(r.details).toMatchObject({ action: 'restart' });
    const doc = JSON.parse(s.requests[1].body);
    expect(Object.keys(doc.spec)).toEqual(['jobTemplate']);
    expect(doc.spec.jobTemplate.spec.template.metadata.annotations[RESTARTED_AT_ANNOTATION]).toMatch(/Z$/);
    expect(doc).toEqual({
      spec: {
        jobTemplate: {
          spec: { template: { metadata: { annotations: { [RESTARTED_AT_ANNOTATION]: expect.any(String) } } } },
        },
      },
    });
  });

  it('an API server URL with a path prefix (a proxy such as Rancher) keeps the prefix', async () => {
    const s = await startApiServer();
    const p = `/k8s/clusters/c-1${PATHS.Deployment('shop', 'web-app')}`;
    s.objects.set(p, workload('Deployment', 'web-app', 'shop'));
    const r = await deploy(cfg(s, { apiServer: `${s.base}/k8s/clusters/c-1/` }));
    expect(r.ok).toBe(true);
    expect(s.requests.map((q) => q.url)).toEqual([p, p]);
  });
});

describe('kubernetes target: the image reference', () => {
  it('pinDigest deploys repo@digest', async () => {
    const s = await serverWith();
    const r = await deploy(cfg(s, { pinDigest: true }));
    expect(r.details?.image).toBe(`registry.example.com/team/app@${DIGEST}`);
    expect(JSON.parse(s.requests[1].body).spec.template.spec.containers).toEqual([
      { name: 'web', image: `registry.example.com/team/app@${DIGEST}` },
    ]);
  });

  it('without pinDigest the tag is deployed even when the event has a digest', async () => {
    const s = await serverWith();
    await deploy(cfg(s, { pinDigest: false }));
    expect(JSON.parse(s.requests[1].body).spec.template.spec.containers[0].image).toBe(
      'registry.example.com/team/app:1.1.0',
    );
  });

  it('pinDigest without a digest in the event falls back to the tag', async () => {
    const s = await serverWith();
    await deploy(cfg(s, { pinDigest: true }), ctx({ event: event({ digest: undefined }) }));
    expect(JSON.parse(s.requests[1].body).spec.template.spec.containers[0].image).toBe(
      'registry.example.com/team/app:1.1.0',
    );
  });

  it('an event with only a digest deploys by digest; no registry host (Docker Hub) means repo alone', async () => {
    const s = await serverWith();
    await deploy(cfg(s), ctx({ event: event({ tag: undefined, registry: undefined }) }));
    expect(JSON.parse(s.requests[1].body).spec.template.spec.containers[0].image).toBe(`team/app@${DIGEST}`);
  });

  it('neither tag nor digest: not retryable, nothing sent', async () => {
    const s = await serverWith();
    const r = await deploy(cfg(s), ctx({ event: event({ tag: undefined, digest: undefined }) }));
    expect(r).toMatchObject({ ok: false, retryable: false });
    expect(r.error).toMatch(/neither a tag nor a digest/);
    expect(s.requests).toHaveLength(0);
  });

  it('a code push is not an image: not retryable, nothing sent', async () => {
    const s = await serverWith();
    const r = await deploy(cfg(s), ctx({ event: event({ kind: 'code', branch: 'main' }) }));
    expect(r).toMatchObject({ ok: false, retryable: false });
    expect(s.requests).toHaveLength(0);
  });
});

describe('kubernetes target: failures', () => {
  it('container missing: not retryable, names it, no PATCH', async () => {
    const s = await serverWith();
    const r = await deploy(cfg(s, { container: 'api' }));
    expect(r).toMatchObject({ ok: false, retryable: false, statusCode: 200 });
    expect(r.error).toBe('container api not found in deployment shop/web-app (containers: sidecar, web)');
    expect(s.requests.map((q) => q.method)).toEqual(['GET']);
  });

  it('404: "deployment ns/name not found", not retryable', async () => {
    const s = await startApiServer();
    const r = await deploy(cfg(s, { name: 'gone' }));
    expect(r).toMatchObject({ ok: false, retryable: false, statusCode: 404 });
    expect(r.error).toMatch(/^deployment shop\/gone not found/);
    expect(s.requests).toHaveLength(1);
  });

  it('403 on PATCH: not retryable, points at RBAC, never shows the token', async () => {
    const s = await serverWith();
    const p = PATHS.Deployment('shop', 'web-app');
    s.overrides.set(`PATCH ${p}`, {
      status: 403,
      body: status(
        403,
        'Forbidden',
        'deployments.apps "web-app" is forbidden: User "deployer" cannot patch resource "deployments"',
      ),
    });
    const r = await deploy(cfg(s));
    expect(r).toMatchObject({ ok: false, retryable: false, statusCode: 403 });
    expect(r.error).toMatch(
      /^the token was refused \(HTTP 403 on PATCH\): check RBAC for patch on deployments in namespace shop/,
    );
    expect(r.error).toContain('cannot patch resource');
  });

  it('401 on GET: not retryable, no PATCH', async () => {
    const s = await serverWith();
    s.overrides.set(`GET ${PATHS.Deployment('shop', 'web-app')}`, {
      status: 401,
      body: status(401, 'Unauthorized', 'Unauthorized'),
    });
    const r = await deploy(cfg(s));
    expect(r).toMatchObject({ ok: false, retryable: false, statusCode: 401 });
    expect(r.error).toMatch(/^the token was refused \(HTTP 401 on GET\)/);
    expect(s.requests).toHaveLength(1);
  });

  it.each([
    ['GET', 500],
    ['GET', 503],
    ['PATCH', 409],
    ['PATCH', 429],
    ['PATCH', 500],
  ])('%s answering %i is retryable', async (method, code) => {
    const s = await serverWith();
    s.overrides.set(`${method} ${PATHS.Deployment('shop', 'web-app')}`, {
      status: code,
      body: status(code, 'X', 'try later'),
    });
    const r = await deploy(cfg(s));
    expect(r).toMatchObject({ ok: false, retryable: true, statusCode: code });
    expect(r.error).toBe(`HTTP ${code} on ${method} deployment shop/web-app: try later`);
  });

  it('422 (the API server refuses the patch) is not retryable and quotes the Status message only', async () => {
    const s = await serverWith();
    s.overrides.set(`PATCH ${PATHS.Deployment('shop', 'web-app')}`, {
      status: 422,
      body: status(
        422,
        'Invalid',
        'Deployment.apps "web-app" is invalid: spec.template.spec.containers[1].image: Invalid value',
      ),
    });
    const r = await deploy(cfg(s));
    expect(r).toMatchObject({ ok: false, retryable: false, statusCode: 422 });
    expect(r.error).toMatch(/is invalid/);
  });

  it('an answer that is not a workload is not retryable', async () => {
    const s = await serverWith();
    s.overrides.set(`GET ${PATHS.Deployment('shop', 'web-app')}`, { status: 200, body: { hello: 'world' } });
    const r = await deploy(cfg(s));
    expect(r).toMatchObject({ ok: false, retryable: false });
    expect(r.error).toMatch(/not a Deployment with containers/);
  });

  it('TLS is verified: a server whose certificate is not from caData is refused, nothing is sent', async () => {
    const s = await serverWith();
    const r = await deploy(cfg(s, { caData: OTHER_CA_DATA }));
    expect(r).toMatchObject({ ok: false, retryable: false });
    expect(r.error).toMatch(/TLS verification of the API server failed/);
    expect(s.requests).toHaveLength(0);
  });

  it('TLS is verified against the system CAs when caData is absent', async () => {
    const s = await serverWith();
    const r = await deploy(cfg(s, { caData: undefined }));
    expect(r).toMatchObject({ ok: false, retryable: false });
    expect(r.error).toMatch(/TLS verification/);
    expect(s.requests).toHaveLength(0);
  });

  it('the address rules apply unless private targets are allowed', async () => {
    const s = await serverWith();
    const r = await deploy(cfg(s), ctx({ allowPrivateTargets: false }));
    expect(r).toMatchObject({ ok: false, retryable: false });
    expect(r.error).toMatch(/^API server refused: address 127\.0\.0\.1 is loopback/);
    expect(s.connections).toBe(0);
  });

  it('a hostname resolving to a private address is refused at connect time', async () => {
    const s = await serverWith();
    const r = await deploy(
      cfg(s, { apiServer: s.base.replace('127.0.0.1', 'localhost') }),
      ctx({ allowPrivateTargets: false }),
    );
    expect(r).toMatchObject({ ok: false, retryable: false });
    expect(r.error).toMatch(/^API server refused: localhost resolves to/);
    expect(s.connections).toBe(0);
  });

  it('a server that does not answer times out, retryable', async () => {
    const s = await serverWith();
    s.hang = true;
    const r = await deploy(cfg(s), ctx({ timeoutMs: 300 }));
    expect(r).toMatchObject({ ok: false, retryable: true });
    expect(r.error).toMatch(/timed out/);
  });

  it('nothing listening: a network error, retryable', async () => {
    const s = await serverWith();
    const base = s.base;
    await s.close();
    const r = await deploy(cfg({ ...s, base }));
    expect(r).toMatchObject({ ok: false, retryable: true });
    expect(r.error).toMatch(/ECONNREFUSED/);
  });

  it('a token secret that cannot be read: not retryable when missing, nothing sent', async () => {
    const s = await serverWith();
    sm.on(GetSecretValueCommand, { SecretId: 'prod/missing' }).rejects(
      new ResourceNotFoundException({
        message: "Secrets Manager can't find the specified secret.",
        $metadata: { httpStatusCode: 400 },
      }),
    );
    const r = await deploy(cfg(s, { auth: { token: { secretsManager: 'prod/missing' } } }));
    expect(r).toMatchObject({ ok: false, retryable: false });
    expect(r.error).toMatch(/^token: Secrets Manager secret prod\/missing: ResourceNotFoundException/);
    expect(s.connections).toBe(0);
  });

  it('a token that cannot be a header value is refused without quoting it', async () => {
    const s = await serverWith();
    sm.on(GetSecretValueCommand, { SecretId: 'prod/bad' }).resolves({ SecretString: `${TOKEN} with spaces` });
    const r = await deploy(cfg(s, { auth: { token: { secretsManager: 'prod/bad' } } }));
    expect(r).toMatchObject({ ok: false, retryable: false });
    expect(s.connections).toBe(0);
  });
});

describe('kubernetes target: EKS auth', () => {
  const saved = { ...process.env };
  beforeAll(() => {
    // the default provider chain reads these first (as the Lambda runtime's role credentials)
    process.env.AWS_ACCESS_KEY_ID = 'AKIDEKSTEST';
    process.env.AWS_SECRET_ACCESS_KEY = 'eks-test-secret';
    process.env.AWS_SESSION_TOKEN = 'eks-test-session';
  });
  afterAll(() => {
    process.env = saved;
  });

  it('sends a k8s-aws-v1 presigned STS token for the cluster, no secret lookup', async () => {
    const s = await serverWith();
    const r = await deploy(cfg(s, { auth: { eks: { clusterName: 'prod-eu', region: 'eu-west-1' } } }));
    expect(r.ok).toBe(true);
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(0);
    const auth = s.requests[0].headers.authorization!;
    expect(auth).toMatch(/^Bearer k8s-aws-v1\.[A-Za-z0-9_-]+$/);
    const url = new URL(Buffer.from(auth.slice('Bearer k8s-aws-v1.'.length), 'base64url').toString('utf8'));
    expect(url.host).toBe('sts.eu-west-1.amazonaws.com');
    expect(url.searchParams.get('Action')).toBe('GetCallerIdentity');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('60');
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('host;x-k8s-aws-id');
    expect(url.searchParams.get('X-Amz-Credential')).toMatch(/^AKIDEKSTEST\/\d{8}\/eu-west-1\/sts\/aws4_request$/);
    expect(url.searchParams.get('X-Amz-Security-Token')).toBe('eks-test-session');
    expect(s.requests[1].headers.authorization).toBe(auth);
  });
});
