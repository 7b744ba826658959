/**
 * Secret references: a deploy target never holds a credential inline, only where to read it.
 *
 *   {secretsManager: "<name>", key?: "<JSON key>"}  → the SecretString (or the string value of `key` in it)
 *   {ssmParameter: "<name>"}                       → the (decrypted) parameter value
 *
 * A name is under the stage's prefix (SECRET_PREFIX, serverless.yml custom.targets.secretPrefix, by default
 * `triggerfish/<stage>/`): on AWS `{"secretsManager": "k8s"}` reads the secret `triggerfish/prod/k8s` and
 * `{"ssmParameter": "k8s"}` the parameter `/triggerfish/prod/k8s`; the deployer's role may read only that prefix,
 * so one stage never reads another's secrets. On the local stack (TRIGGERFISH_SECRETS_DIR) the same name is read
 * from the local secret store (lib/store/local-secrets.ts), so one trigger works in both places. An ARN is used as
 * it is (another region; IAM still allows only the prefix unless custom.targets is widened); locally it cannot be.
 *
 * AWS values are cached per Lambda container for 5 minutes (a rotated secret is picked up within that time);
 * concurrent resolutions of the same reference share one request. Failures are not cached. Local values are read
 * on each use (a `secrets set` is seen at once).
 *
 * Region: the one from config (AWS_REGION), except a Secrets Manager or SSM ARN names its own region, which is
 * used instead (a secret in another region of the account).
 *
 * Errors (SecretError) name the reference, never a value: a secret that is not JSON, or lacks `key`, is reported
 * without quoting any of it (V8's JSON.parse messages quote the input, so they are never passed on).
 */
import type { GetSecretValueCommandOutput, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SSMClient } from '@aws-sdk/client-ssm';
import * as z from 'zod';
import { lazy } from '../core/lazy';
import { config } from '../core/config';
import { LOCAL_SECRET_NAME, LOCAL_SECRET_NAME_RULE, readLocalSecret } from '../store/local-secrets';

/** how long a resolved value is reused */
export const SECRET_CACHE_TTL_MS = 5 * 60 * 1000;

/** printable, no whitespace, no `.`/`..` path segment (a name stays under the prefix it is put under) */
const REF_NAME = /^(?!(?:.*\/)?\.\.?(?:\/|$))[\x21-\x7e]+$/;

const secretsManagerRefSchema = z.strictObject({
  secretsManager: z
    .string()
    .min(1)
    .max(2048)
    .regex(REF_NAME, 'a secret name under the stage prefix, or an ARN (no spaces, no . or .. segments)'),
  key: z.string().min(1).max(512).optional(),
});
const ssmRefSchema = z.strictObject({
  ssmParameter: z
    .string()
    .min(1)
    .max(2048)
    .regex(REF_NAME, 'a parameter name under the stage prefix, or an ARN (no spaces, no . or .. segments)'),
});

/**
 * A reference to a secret. Anything else (in particular a plain string, i.e. an inline secret) is refused.
 */
export const secretRefSchema = z.union([secretsManagerRefSchema, ssmRefSchema], {
  error:
    'a secret reference is {secretsManager: "<name>", key?: "<JSON key>"} or {ssmParameter: "<name>"}, the name under the stage prefix; secret values are not accepted inline',
});
export type SecretRef = z.infer<typeof secretRefSchema>;

export class SecretError extends Error {
  /** worth trying again later (throttling, service errors, network); false for missing/denied/malformed */
  readonly retryable: boolean;
  constructor(message: string, retryable: boolean) {
    super(message);
    this.name = 'SecretError';
    this.retryable = retryable;
  }
}

/** The Secrets Manager SecretId a name stands for: the name under the prefix, or an ARN as it is. */
export function secretIdOf(name: string, prefix = config.secretPrefix()): string {
  return name.startsWith('arn:') ? name : `${prefix}${name}`;
}

/** The SSM parameter name a name stands for: `/<prefix><name>` (one leading slash), or an ARN as it is. */
export function parameterNameOf(name: string, prefix = config.secretPrefix()): string {
  if (name.startsWith('arn:') || !prefix) return name;
  const full = `${prefix.replace(/^\/+/, '')}${name.replace(/^\/+/, '')}`;
  // an SSM name with a slash is a path and must start with one; a plain name must not
  return full.includes('/') ? `/${full}` : full;
}

/**
 * "Secrets Manager secret triggerfish/prod/k8s (key token)" / "SSM parameter /triggerfish/prod/k8s" (what is read,
 * so the message says where to store it) / "local secret k8s", for messages.
 */
export function describeSecretRef(ref: SecretRef): string {
  const name = 'secretsManager' in ref ? ref.secretsManager : ref.ssmParameter;
  const key = 'secretsManager' in ref && ref.key !== undefined ? ` (key ${JSON.stringify(ref.key)})` : '';
  if (config.localSecretsDir()) return `local secret ${name}${key}`;
  if ('secretsManager' in ref) return `Secrets Manager secret ${secretIdOf(name)}${key}`;
  return `SSM parameter ${parameterNameOf(name)}`;
}

/** The region named by an ARN (arn:partition:service:region:account:...), or undefined. */
export function arnRegion(nameOrArn: string): string | undefined {
  if (!nameOrArn.startsWith('arn:')) return undefined;
  const region = nameOrArn.split(':')[3];
  return region || undefined;
}

const smClients = new Map<string, SecretsManagerClient>();
const ssmClients = new Map<string, SSMClient>();

// loaded on the first secret read, not in every deployer cold start
const smSdk = /* @__PURE__ */ lazy(() => import('@aws-sdk/client-secrets-manager'));
const ssmSdk = /* @__PURE__ */ lazy(() => import('@aws-sdk/client-ssm'));

async function smClient(region: string): Promise<SecretsManagerClient> {
  let c = smClients.get(region);
  if (!c) {
    c = new (await smSdk()).SecretsManagerClient({ region });
    smClients.set(region, c);
  }
  return c;
}

async function ssmClient(region: string): Promise<SSMClient> {
  let c = ssmClients.get(region);
  if (!c) {
    c = new (await ssmSdk()).SSMClient({ region });
    ssmClients.set(region, c);
  }
  return c;
}

interface CacheEntry {
  value?: string;
  expiresAt: number;
  pending?: Promise<string>;
}
const cache = new Map<string, CacheEntry>();

/** Forgets every cached value (tests; a rotation that must be seen at once). */
export function clearSecretCache(): void {
  cache.clear();
}

function cacheKey(ref: SecretRef): string {
  return 'secretsManager' in ref
    ? JSON.stringify(['sm', secretIdOf(ref.secretsManager), ref.key ?? null])
    : JSON.stringify(['ssm', parameterNameOf(ref.ssmParameter)]);
}

const NOT_RETRYABLE_ERRORS = new Set([
  // Secrets Manager
  'ResourceNotFoundException',
  'AccessDeniedException',
  'DecryptionFailure',
  'InvalidParameterException',
  'InvalidRequestException',
  'ValidationException',
  'UnrecognizedClientException',
  // SSM
  'ParameterNotFound',
  'ParameterVersionNotFound',
  'InvalidKeyId',
]);

/** An SDK error as a SecretError naming the reference (the SDK's messages hold no secret values). */
function sdkError(ref: SecretRef, err: unknown): SecretError {
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const name = e?.name ?? 'Error';
  const status = e?.$metadata?.httpStatusCode;
  const throttled = status === 429 || /Throttl|TooManyRequests|RequestLimitExceeded/i.test(name);
  // other 4xx answers (missing, denied, invalid) will not change by trying again; 5xx and network errors may
  const clientError = status !== undefined && status >= 400 && status < 500 && !throttled;
  const retryable = !NOT_RETRYABLE_ERRORS.has(name) && !clientError;
  const message = e?.message && e.message !== name ? `${name}: ${e.message}` : name;
  return new SecretError(`${describeSecretRef(ref)}: ${message}`.slice(0, 1024), retryable);
}

function secretStringOf(out: GetSecretValueCommandOutput): string | undefined {
  if (typeof out.SecretString === 'string') return out.SecretString;
  if (out.SecretBinary) return Buffer.from(out.SecretBinary).toString('utf8');
  return undefined;
}

async function fetchSecretsManager(ref: Extract<SecretRef, { secretsManager: string }>): Promise<string> {
  const region = arnRegion(ref.secretsManager) ?? config.region();
  let out: GetSecretValueCommandOutput;
  try {
    out = await (
      await smClient(region)
    ).send(new (await smSdk()).GetSecretValueCommand({ SecretId: secretIdOf(ref.secretsManager) }));
  } catch (err) {
    throw sdkError(ref, err);
  }
  const text = secretStringOf(out);
  if (text === undefined) throw new SecretError(`${describeSecretRef(ref)} has no value`, false);
  return valueAtKey(ref, text);
}

/** The whole secret, or the string value of `ref.key` in it (a JSON object). */
function valueAtKey(ref: SecretRef, text: string): string {
  if (!('secretsManager' in ref) || ref.key === undefined) return text;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // never pass on the parse error: it quotes the secret
    throw new SecretError(
      `${describeSecretRef(ref)}: the secret is not a JSON object, so it has no key ${JSON.stringify(ref.key)}`,
      false,
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new SecretError(
      `${describeSecretRef(ref)}: the secret is not a JSON object, so it has no key ${JSON.stringify(ref.key)}`,
      false,
    );
  }
  if (!Object.prototype.hasOwnProperty.call(parsed, ref.key)) {
    throw new SecretError(`${describeSecretRef(ref)}: the secret has no key ${JSON.stringify(ref.key)}`, false);
  }
  const value = (parsed as Record<string, unknown>)[ref.key];
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new SecretError(
    `${describeSecretRef(ref)}: the value of key ${JSON.stringify(ref.key)} is not a string`,
    false,
  );
}

async function fetchSsm(ref: Extract<SecretRef, { ssmParameter: string }>): Promise<string> {
  const region = arnRegion(ref.ssmParameter) ?? config.region();
  let value: string | undefined;
  try {
    const out = await (
      await ssmClient(region)
    ).send(new (await ssmSdk()).GetParameterCommand({ Name: parameterNameOf(ref.ssmParameter), WithDecryption: true }));
    value = out.Parameter?.Value;
  } catch (err) {
    throw sdkError(ref, err);
  }
  if (typeof value !== 'string') throw new SecretError(`${describeSecretRef(ref)} has no value`, false);
  return value;
}

export interface ResolveOptions {
  /** clock for the cache (ms since the epoch); tests */
  now?: () => number;
}

/**
 * The value a reference points to. Throws SecretError (with `retryable`) when it cannot be read; the message
 * names the reference, never the value.
 */
export async function resolveSecret(ref: SecretRef, opts: ResolveOptions = {}): Promise<string> {
  const localDir = config.localSecretsDir();
  if (localDir) return readLocal(localDir, ref);
  const now = opts.now ?? Date.now;
  const key = cacheKey(ref);
  const hit = cache.get(key);
  if (hit) {
    if (hit.pending) return hit.pending;
    if (hit.value !== undefined && now() < hit.expiresAt) return hit.value;
    cache.delete(key);
  }
  const pending = ('secretsManager' in ref ? fetchSecretsManager(ref) : fetchSsm(ref)).then(
    (value) => {
      // the entry may have been cleared meanwhile (clearSecretCache): then do not bring it back
      if (cache.get(key)?.pending === pending) cache.set(key, { value, expiresAt: now() + SECRET_CACHE_TTL_MS });
      return value;
    },
    (err: unknown) => {
      if (cache.get(key)?.pending === pending) cache.delete(key);
      throw err instanceof SecretError ? err : sdkError(ref, err);
    },
  );
  cache.set(key, { pending, expiresAt: 0 });
  return pending;
}

/** A reference read from the local secret store: the same name, the same `key` rules as Secrets Manager. */
function readLocal(dir: string, ref: SecretRef): Promise<string> {
  const name = 'secretsManager' in ref ? ref.secretsManager : ref.ssmParameter;
  const set = `store it with \`triggerfish secrets set ${LOCAL_SECRET_NAME.test(name) ? name : '<name>'}\` (or PUT /admin/secrets/{name})`;
  if (!LOCAL_SECRET_NAME.test(name)) {
    return Promise.reject(
      new SecretError(
        `${describeSecretRef(ref)}: the local secret store takes ${LOCAL_SECRET_NAME_RULE}; ${set}`,
        false,
      ),
    );
  }
  let text: string | undefined;
  try {
    text = readLocalSecret(dir, name);
  } catch (err) {
    return Promise.reject(
      new SecretError(`${describeSecretRef(ref)}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`, true),
    );
  }
  if (text === undefined)
    return Promise.reject(new SecretError(`${describeSecretRef(ref)} is not stored; ${set}`, false));
  try {
    return Promise.resolve(valueAtKey(ref, text));
  } catch (err) {
    return Promise.reject(err);
  }
}
