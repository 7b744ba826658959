/**
 * `kubernetes` deploy target (EKS or any cluster): points one container of a Deployment, StatefulSet, DaemonSet
 * or CronJob at the pushed image, over the API server's REST API (plain node:https, no client library).
 *
 * One attempt:
 * 1. image = `[registry/]repo@digest` when the trigger asks for digest pinning and the event has a digest, else
 *    `[registry/]repo:tag` (an event with only a digest deploys by digest; neither → not retryable).
 * 2. a bearer token: from Secrets Manager / SSM by reference (lib/secrets, cached 5 min), or for EKS a presigned
 *    STS GetCallerIdentity token (lib/eks-token) made for this attempt.
 * 3. GET the object, read the container's current image (spec.template.spec.containers; CronJob:
 *    spec.jobTemplate.spec.template.spec.containers).
 * 4. PATCH (application/strategic-merge-patch+json; containers merge by name so only this one changes):
 *    - image differs: {"spec":{"template":{"spec":{"containers":[{"name":C,"image":I}]}}}}
 *    - image unchanged (a re-pushed tag): {"spec":{"template":{"metadata":{"annotations":
 *      {"kubectl.kubernetes.io/restartedAt":"<RFC 3339 now>"}}}}}, what `kubectl rollout restart` sends.
 *    For a CronJob both are nested under spec.jobTemplate (the next Job runs with them; nothing runs now).
 *
 * Rules, as the http target: never throws for an expected failure; TLS always verified (against caData when
 * given, else the system CAs; never disabled); the API server address obeys ../outbound (IP literals checked
 * before sending, hostnames at connect time) unless ALLOW_PRIVATE_TARGETS; 10 s for the whole attempt;
 * 2xx ok; 401/403/404/other 4xx not retryable; 408/409/429/5xx/network/timeouts retryable. The token never
 * appears in a result, and neither do the objects read (their env may hold plain-text secrets): only a
 * Kubernetes Status message is quoted from an error answer.
 */
import { X509Certificate } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import * as z from 'zod';
import { verifySchema } from '../verify/schema';
import { lazy } from '../../core/lazy';
import type { NormalizedEvent } from '../../core/event';
import { config as settings } from '../../core/config';
import {
  bareHostname,
  checkHostAtCreation,
  checkLiteralHost,
  effectivePort,
  guardedLookup,
  isOutboundRefused,
} from '../../core/outbound';
import { describeSecretRef, resolveSecret, SecretError, secretRefSchema } from '../secrets';
import { rolloutStatus } from './k8s-rollout';
import type { AttemptResult, DeployTarget, VerifyContext, VerifyPoll } from './types';

export const K8S_TIMEOUT_MS = 10_000;
export const KUBERNETES_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'CronJob'] as const;
export type KubernetesKind = (typeof KUBERNETES_KINDS)[number];
export const RESTARTED_AT_ANNOTATION = 'kubectl.kubernetes.io/restartedAt';
export const STRATEGIC_MERGE_PATCH = 'application/strategic-merge-patch+json';
const USER_AGENT = 'Triggerfish/0.1';
/** bytes of an API server answer read at most (objects carry managedFields; 8 MiB is far above real ones) */
const READ_LIMIT = 8 * 1024 * 1024;
const STATUS_MESSAGE_LIMIT = 512;

const RESOURCES: Record<KubernetesKind, { apiPath: string; plural: string }> = {
  Deployment: { apiPath: 'apis/apps/v1', plural: 'deployments' },
  StatefulSet: { apiPath: 'apis/apps/v1', plural: 'statefulsets' },
  DaemonSet: { apiPath: 'apis/apps/v1', plural: 'daemonsets' },
  CronJob: { apiPath: 'apis/batch/v1', plural: 'cronjobs' },
};

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const EKS_CLUSTER_NAME = /^[0-9A-Za-z][A-Za-z0-9\-_]*$/;
const AWS_REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

const apiServerSchema = z
  .string()
  .max(2048)
  .superRefine((s, ctx) => {
    let u: URL;
    try {
      u = new URL(s);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'not a valid URL' });
      return;
    }
    if (u.protocol !== 'https:') ctx.addIssue({ code: 'custom', message: 'the API server URL must be https' });
    if (u.username || u.password) {
      ctx.addIssue({ code: 'custom', message: 'credentials (user:password@) are not allowed in the URL' });
    }
    if (!u.hostname) ctx.addIssue({ code: 'custom', message: 'the URL has no host' });
    if (s.includes('?') || s.includes('#')) {
      ctx.addIssue({ code: 'custom', message: 'the API server URL takes no query or fragment' });
    }
    // literal private addresses and localhost are refused at creation too (any port: API servers use 6443 ...)
    const host = checkHostAtCreation(u, settings.allowPrivateTargets());
    if (host) ctx.addIssue({ code: 'custom', message: host });
  });

/** The PEM certificates in base64 caData, or undefined when it is not a base64 PEM bundle. */
export function decodeCaData(caData: string): string | undefined {
  const compact = caData.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) return undefined;
  const pem = Buffer.from(compact, 'base64').toString('utf8');
  const certs = pem.match(PEM_CERT);
  if (!certs) return undefined;
  try {
    for (const c of certs) new X509Certificate(c);
  } catch {
    return undefined;
  }
  return certs.join('\n') + '\n';
}

const caDataSchema = z
  .string()
  .min(1)
  .max(256 * 1024)
  .refine((s) => decodeCaData(s) !== undefined, {
    message: 'caData must be base64 of PEM certificates (the certificate-authority-data of a kubeconfig)',
  });

const authSchema = z.union(
  [
    z.strictObject({ token: secretRefSchema }),
    z.strictObject({
      eks: z.strictObject({
        clusterName: z.string().min(1).max(100).regex(EKS_CLUSTER_NAME, 'not a valid EKS cluster name'),
        region: z.string().regex(AWS_REGION, 'not an AWS region'),
      }),
    }),
  ],
  {
    error: (iss) =>
      iss.code === 'invalid_union'
        ? 'auth is {token: {secretsManager: "<name or ARN>", key?} | {ssmParameter: "<name>"}} or {eks: {clusterName, region}}; tokens are not accepted inline'
        : undefined,
  },
);

export const kubernetesTargetSchema = z.strictObject({
  type: z.literal('kubernetes'),
  /** after the target accepted: what makes the deploy succeeded (lib/deploy/verify) */
  verify: verifySchema.optional(),
  /** https://host[:port][/path prefix]; 443 or 6443 usually, any port */
  apiServer: apiServerSchema,
  /** the cluster CA, base64 PEM; absent: the system CAs */
  caData: caDataSchema.optional(),
  auth: authSchema,
  namespace: z.string().min(1).max(63).regex(DNS1123_LABEL, 'not a valid namespace (DNS-1123 label)'),
  kind: z.enum(KUBERNETES_KINDS),
  name: z.string().min(1).max(253).regex(DNS1123_SUBDOMAIN, 'not a valid object name (DNS-1123 subdomain)'),
  container: z.string().min(1).max(63).regex(DNS1123_LABEL, 'not a valid container name (DNS-1123 label)'),
  /** deploy repo@digest when the event has a digest (default: repo:tag) */
  pinDigest: z.boolean().optional(),
});

export type KubernetesTargetConfig = z.infer<typeof kubernetesTargetSchema>;

/** The image reference to deploy for an event, or why there is none. */
export function imageForEvent(
  event: NormalizedEvent,
  pinDigest: boolean | undefined,
): { image?: string; error?: string } {
  if (event.kind !== 'image') return { error: `the event is a ${event.kind} push, not an image` };
  if (!event.repoFullName) return { error: 'the event names no repository' };
  const base = event.registry ? `${event.registry}/${event.repoFullName}` : event.repoFullName;
  if (event.digest && (pinDigest || !event.tag)) return { image: `${base}@${event.digest}` };
  if (event.tag) return { image: `${base}:${event.tag}` };
  return { error: 'the event has neither a tag nor a digest' };
}

/** RFC 3339 in UTC, seconds precision: what kubectl rollout restart writes (time.Now().Format(time.RFC3339)). */
export function restartedAtNow(now: Date = new Date()): string {
  return now.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The strategic-merge patch documents sent (exported for tests and docs). */
export function setImagePatch(kind: KubernetesKind, container: string, image: string): unknown {
  const template = { spec: { containers: [{ name: container, image }] } };
  return kind === 'CronJob' ? { spec: { jobTemplate: { spec: { template } } } } : { spec: { template } };
}
export function restartPatch(kind: KubernetesKind, restartedAt: string): unknown {
  const template = { metadata: { annotations: { [RESTARTED_AT_ANNOTATION]: restartedAt } } };
  return kind === 'CronJob' ? { spec: { jobTemplate: { spec: { template } } } } : { spec: { template } };
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}
type Outcome = { answer: Answer } | { failure: { retryable: boolean; error: string } };

/** TLS verification failures: the CA (caData) or the server certificate is wrong; trying again will not help. */
const TLS_VERIFY_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'INVALID_CA',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

interface RequestOptions {
  ca?: string;
  allowPrivate: boolean;
  timeoutMs: number;
  details: Record<string, unknown>;
}

/** One request to the API server; resolves with the whole answer or a classified failure, never rejects. */
function apiRequest(
  url: URL,
  method: 'GET' | 'PATCH',
  headers: Record<string, string>,
  body: Buffer | undefined,
  opts: RequestOptions,
): Promise<Outcome> {
  return new Promise<Outcome>((resolve) => {
    let settled = false;
    // eslint-disable-next-line prefer-const -- assigned below, after `finish` that clears it is defined
    let timer: NodeJS.Timeout | undefined;
    const finish = (o: Outcome) => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      resolve(o);
    };
    const fail = (retryable: boolean, error: string) => finish({ failure: { retryable, error } });

    const literal = checkLiteralHost(url, opts.allowPrivate);
    if (literal) return fail(false, `API server refused: ${literal}`);
    if (opts.timeoutMs <= 0) return fail(true, 'timed out before the request was sent');

    const options: https.RequestOptions = {
      hostname: bareHostname(url),
      port: effectivePort(url),
      path: `${url.pathname}${url.search}`,
      method,
      headers: body ? { ...headers, 'content-length': String(body.length) } : headers,
      lookup: guardedLookup(opts.allowPrivate),
      agent: false,
      rejectUnauthorized: true,
    };
    if (opts.ca) options.ca = opts.ca;

    let cr: ReturnType<typeof https.request>;
    try {
      cr = https.request(options);
    } catch (err) {
      // e.g. an invalid header (Node names the header, never its value)
      return fail(false, `invalid request: ${(err as Error).message}`);
    }
    timer = setTimeout(() => {
      fail(true, `${method} timed out (attempt limit ${opts.timeoutMs} ms)`);
      cr.destroy();
    }, opts.timeoutMs);

    cr.on('socket', (socket) => {
      socket.on('connect', () => {
        opts.details.address = socket.remoteAddress;
      });
    });
    cr.on('error', (err) => {
      if (isOutboundRefused(err)) return fail(false, `API server refused: ${err.message}`);
      const code = (err as NodeJS.ErrnoException).code;
      if (code && TLS_VERIFY_CODES.has(code)) {
        return fail(false, `TLS verification of the API server failed: ${err.message} (${code}); check caData`);
      }
      fail(true, code && !err.message.includes(code) ? `${err.message} (${code})` : err.message);
    });
    cr.on('response', (res) => {
      const chunks: Buffer[] = [];
      let total = 0;
      res.on('data', (chunk: Buffer) => {
        total += chunk.length;
        if (total > READ_LIMIT) {
          fail(true, `the API server's answer to ${method} is over ${READ_LIMIT} bytes`);
          res.destroy();
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () =>
        finish({ answer: { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) } }),
      );
      res.on('error', (err) => fail(true, `response: ${err.message}`));
      res.on('close', () => {
        if (!res.complete) fail(true, 'connection closed before the response ended');
      });
    });
    cr.end(body);
  });
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** The message of a Kubernetes Status answer (never anything else from a body: objects may carry secrets). */
function statusMessage(body: Buffer): string | undefined {
  const j = parseJson(body) as { kind?: unknown; message?: unknown } | undefined;
  if (!j || j.kind !== 'Status' || typeof j.message !== 'string' || !j.message) return undefined;
  return j.message.length > STATUS_MESSAGE_LIMIT ? `${j.message.slice(0, STATUS_MESSAGE_LIMIT)}…` : j.message;
}

function at(obj: unknown, path: readonly string[]): unknown {
  let v = obj;
  for (const k of path) {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}

/** the pod template's containers: spec.template.spec.containers (CronJob: under spec.jobTemplate.spec) */
function containersOf(kind: KubernetesKind, obj: unknown): unknown {
  const template = kind === 'CronJob' ? ['spec', 'jobTemplate', 'spec', 'template'] : ['spec', 'template'];
  return at(obj, [...template, 'spec', 'containers']);
}

function clean(v: unknown): string | number | undefined {
  return typeof v === 'string' || typeof v === 'number' ? v : undefined;
}

/** The config as admin answers show it (a function of its own, so the admin bundles leave out the deploy code). */
export function redactKubernetesTarget(config: KubernetesTargetConfig): KubernetesTargetConfig {
  // nothing secret is stored: the token is a reference (kept visible), caData is a public certificate
  return structuredClone(config);
}

// the EKS token signer (SigV4, SHA-256) loads on the first EKS token, not in every deployer cold start
const eksSigner = /* @__PURE__ */ lazy(() => import('../eks-token'));
const eksTokenFor = async (eks: { clusterName: string; region: string }): Promise<string> =>
  (await eksSigner()).eksToken(eks);

/** The object's URL on the API server: <apiServer>/<api path>/namespaces/<ns>/<plural>/<name>. */
function objectUrl(config: KubernetesTargetConfig): URL {
  const { apiPath, plural } = RESOURCES[config.kind];
  const base = new URL(config.apiServer);
  const prefix = base.pathname.replace(/\/+$/, '');
  const url = new URL(base.origin);
  url.pathname = `${prefix}/${apiPath}/namespaces/${encodeURIComponent(config.namespace)}/${plural}/${encodeURIComponent(config.name)}`;
  return url;
}

/** The bearer token of an attempt or a verification poll, or why there is none (never quoting the token). */
async function bearerToken(
  config: KubernetesTargetConfig,
  timeoutMs: number,
): Promise<{ token: string } | { error: string; retryable: boolean }> {
  let token: string;
  try {
    const pending = 'token' in config.auth ? resolveSecret(config.auth.token) : eksTokenFor(config.auth.eks);
    token = await withTimeout(pending, timeoutMs);
  } catch (err) {
    if (err instanceof TimeoutError) return { retryable: true, error: 'timed out getting the token' };
    if (err instanceof SecretError) return { retryable: err.retryable, error: `token: ${err.message}` };
    const source = 'token' in config.auth ? describeSecretRef(config.auth.token) : 'EKS token';
    return { retryable: true, error: `${source}: ${(err as Error)?.message ?? String(err)}` };
  }
  token = token.trim();
  // not quoted: it is the secret
  if (!token || !/^[\x21-\x7e]+$/.test(token))
    return { retryable: false, error: 'the token is empty or has characters a bearer token cannot have' };
  return { token };
}

/**
 * One verification poll: GET the object (the same `get` RBAC as a deploy) and judge its rollout as `kubectl rollout
 * status` does (./k8s-rollout.ts). The container must still run the image deployed: someone else's change is a
 * failure of this rollout. Only the status message is kept, never the object (its env may hold secrets).
 */
async function verifyRollout(config: KubernetesTargetConfig, ctx: VerifyContext): Promise<VerifyPoll> {
  if (config.kind === 'CronJob') return rolloutStatus('CronJob', undefined);
  const deadline = performance.now() + K8S_TIMEOUT_MS;
  const remaining = () => Math.max(0, Math.round(deadline - performance.now()));
  const auth = await bearerToken(config, remaining());
  if ('error' in auth) return { done: !auth.retryable, ok: false, message: auth.error };
  const headers = { accept: 'application/json', authorization: `Bearer ${auth.token}`, 'user-agent': USER_AGENT };
  const ca = config.caData ? decodeCaData(config.caData) : undefined;
  const got = await apiRequest(objectUrl(config), 'GET', headers, undefined, {
    ca,
    allowPrivate: ctx.allowPrivateTargets,
    timeoutMs: remaining(),
    details: {},
  });
  if ('failure' in got) return { done: !got.failure.retryable, ok: false, message: got.failure.error };
  const s = got.answer.status;
  if (s < 200 || s >= 300) {
    const msg = statusMessage(got.answer.body);
    const retryable = s >= 500 || s === 408 || s === 429;
    return { done: !retryable, ok: false, message: `HTTP ${s} on GET${msg ? `: ${msg}` : ''}` };
  }
  const object = parseJson(got.answer.body);
  const deployed = typeof ctx.details?.image === 'string' ? ctx.details.image : undefined;
  const containers = containersOf(config.kind, object);
  const now = Array.isArray(containers)
    ? (containers.find((c) => (c as { name?: unknown })?.name === config.container) as { image?: unknown } | undefined)
    : undefined;
  if (deployed && typeof now?.image === 'string' && now.image !== deployed)
    return { done: true, ok: false, message: `container ${config.container} runs ${now.image} now, not ${deployed}` };
  return rolloutStatus(config.kind, object);
}

export const kubernetesTarget: DeployTarget<KubernetesTargetConfig> = {
  type: 'kubernetes',
  schema: kubernetesTargetSchema,

  async deploy(config, ctx) {
    const startedAt = performance.now();
    const timeoutMs = ctx.timeoutMs ?? K8S_TIMEOUT_MS;
    const deadline = startedAt + timeoutMs;
    const remaining = () => Math.max(0, Math.round(deadline - performance.now()));
    const { kind, namespace, name, container } = config;
    const what = `${kind.toLowerCase()} ${namespace}/${name}`;
    const { plural } = RESOURCES[kind];
    const details: Record<string, unknown> = { kind, namespace, name, container };
    let statusCode: number | undefined;
    const result = (r: Omit<AttemptResult, 'durationMs' | 'details' | 'statusCode'>): AttemptResult => ({
      ...r,
      statusCode,
      durationMs: Math.round(performance.now() - startedAt),
      details,
    });

    // 1. the image
    const { image, error: imageError } = imageForEvent(ctx.event, config.pinDigest);
    if (!image) return result({ ok: false, retryable: false, error: `nothing to deploy: ${imageError}` });
    details.image = image;

    // 2. the token
    const auth = await bearerToken(config, remaining());
    if ('error' in auth) return result({ ok: false, retryable: auth.retryable, error: auth.error });
    const { token } = auth;

    // 3. read the object
    const url = objectUrl(config);
    const ca = config.caData ? decodeCaData(config.caData) : undefined;
    const headers = { accept: 'application/json', authorization: `Bearer ${token}`, 'user-agent': USER_AGENT };
    const reqOpts = (): RequestOptions => ({
      ca,
      allowPrivate: ctx.allowPrivateTargets,
      timeoutMs: remaining(),
      details,
    });

    const refused = (answer: Answer, verb: 'get' | 'patch'): AttemptResult | undefined => {
      statusCode = answer.status;
      const s = answer.status;
      if (s >= 200 && s < 300) return undefined;
      const msg = statusMessage(answer.body);
      const suffix = msg ? `: ${msg}` : '';
      if (s === 401) {
        return result({
          ok: false,
          retryable: false,
          error: `the token was refused (HTTP 401 on ${verb.toUpperCase()}): it is not valid for this cluster or has expired${suffix}`,
        });
      }
      if (s === 403) {
        return result({
          ok: false,
          retryable: false,
          error: `the token was refused (HTTP 403 on ${verb.toUpperCase()}): check RBAC for ${verb} on ${plural} in namespace ${namespace}${suffix}`,
        });
      }
      if (s === 404) return result({ ok: false, retryable: false, error: `${what} not found${suffix}` });
      const retryable = s >= 500 || s === 408 || s === 409 || s === 429;
      return result({ ok: false, retryable, error: `HTTP ${s} on ${verb.toUpperCase()} ${what}${suffix}` });
    };

    const got = await apiRequest(url, 'GET', headers, undefined, reqOpts());
    if ('failure' in got) return result({ ok: false, ...got.failure });
    const getRefused = refused(got.answer, 'get');
    if (getRefused) return getRefused;
    const containers = containersOf(kind, parseJson(got.answer.body));
    if (!Array.isArray(containers)) {
      return result({ ok: false, retryable: false, error: `the API server's answer is not a ${kind} with containers` });
    }
    const current = containers.find((c) => (c as { name?: unknown })?.name === container) as
      { image?: unknown } | undefined;
    if (!current) {
      const names = containers.map((c) => String((c as { name?: unknown })?.name)).join(', ');
      return result({
        ok: false,
        retryable: false,
        error: `container ${container} not found in ${what} (containers: ${names || 'none'})`,
      });
    }
    const previousImage = typeof current.image === 'string' ? current.image : undefined;
    details.previousImage = previousImage;

    // 4. set the image, or restart when it is already that image
    const action = previousImage === image ? 'restart' : 'set-image';
    details.action = action;
    const patch = action === 'set-image' ? setImagePatch(kind, container, image) : restartPatch(kind, restartedAtNow());
    const body = Buffer.from(JSON.stringify(patch), 'utf8');
    const patched = await apiRequest(
      url,
      'PATCH',
      { ...headers, 'content-type': STRATEGIC_MERGE_PATCH },
      body,
      reqOpts(),
    );
    if ('failure' in patched) return result({ ok: false, ...patched.failure });
    const patchRefused = refused(patched.answer, 'patch');
    if (patchRefused) return patchRefused;
    const after = parseJson(patched.answer.body) as
      { metadata?: { resourceVersion?: unknown; generation?: unknown } } | undefined;
    details.resourceVersion = clean(after?.metadata?.resourceVersion);
    details.generation = clean(after?.metadata?.generation);
    return result({ ok: true, retryable: false });
  },

  verify: verifyRollout,
  redact: redactKubernetesTarget,
};

class TimeoutError extends Error {}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new TimeoutError('timed out')), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}
