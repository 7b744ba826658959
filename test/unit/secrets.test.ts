import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
  InternalServiceError,
} from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { putLocalSecret } from '../../lib/store/local-secrets';
import {
  arnRegion,
  describeSecretRef,
  clearSecretCache,
  resolveSecret,
  SECRET_CACHE_TTL_MS,
  SecretError,
  secretRefSchema,
  type SecretRef,
} from '../../lib/deploy/secrets';

const sm = mockClient(SecretsManagerClient);
const ssm = mockClient(SSMClient);

const T0 = 1_700_000_000_000;
let now = T0;
const clock = { now: () => now };

beforeEach(() => {
  sm.reset();
  ssm.reset();
  clearSecretCache();
  now = T0;
  process.env.AWS_REGION = 'eu-central-1';
  delete process.env.SECRET_PREFIX;
  delete process.env.TRIGGERFISH_SECRETS_DIR;
});

async function regionOfCall(call: { thisValue: unknown }): Promise<string> {
  return (call.thisValue as SecretsManagerClient | SSMClient).config.region();
}

async function failure(p: Promise<unknown>): Promise<SecretError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(SecretError);
    return err as SecretError;
  }
  throw new Error('expected a SecretError');
}

describe('secretRefSchema', () => {
  it('takes Secrets Manager and SSM references', () => {
    expect(secretRefSchema.safeParse({ secretsManager: 'prod/k8s-token' }).success).toBe(true);
    expect(
      secretRefSchema.safeParse({
        secretsManager: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:x-AbCdEf',
        key: 'token',
      }).success,
    ).toBe(true);
    expect(secretRefSchema.safeParse({ ssmParameter: '/triggerfish/k8s/token' }).success).toBe(true);
  });

  it('refuses an inline value, empty names, both kinds at once and unknown fields', () => {
    const inline = secretRefSchema.safeParse('eyJhbGciOiJSUzI1NiIsImtpZCI6IiJ9.token');
    expect(inline.success).toBe(false);
    expect(inline.error!.issues[0].message).toMatch(/not accepted inline/);
    expect(secretRefSchema.safeParse({ secretsManager: '' }).success).toBe(false);
    expect(secretRefSchema.safeParse({ secretsManager: 'has space' }).success).toBe(false);
    expect(secretRefSchema.safeParse({ secretsManager: 'a', ssmParameter: '/b' }).success).toBe(false);
    expect(secretRefSchema.safeParse({ ssmParameter: '/b', key: 'k' }).success).toBe(false);
    expect(secretRefSchema.safeParse({ value: 'the-token' }).success).toBe(false);
  });
});

describe('resolveSecret: Secrets Manager', () => {
  it('returns the SecretString, asking in the configured region', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: 'token-value-1' });
    await expect(resolveSecret({ secretsManager: 'prod/k8s-token' }, clock)).resolves.toBe('token-value-1');
    const calls = sm.commandCalls(GetSecretValueCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0].args[0].input).toEqual({ SecretId: 'prod/k8s-token' });
    await expect(regionOfCall(calls[0])).resolves.toBe('eu-central-1');
  });

  it('uses the region of an ARN', async () => {
    const arn = 'arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:k8s-AbCdEf';
    expect(arnRegion(arn)).toBe('ap-northeast-1');
    sm.on(GetSecretValueCommand).resolves({ SecretString: 'v' });
    await resolveSecret({ secretsManager: arn }, clock);
    const [call] = sm.commandCalls(GetSecretValueCommand);
    expect(call.args[0].input).toEqual({ SecretId: arn });
    await expect(regionOfCall(call)).resolves.toBe('ap-northeast-1');
  });

  it('takes one key of a JSON secret', async () => {
    sm.on(GetSecretValueCommand, { SecretId: 'prod/cluster' }).resolves({
      SecretString: JSON.stringify({ token: 'the-bearer-token', other: 'x' }),
    });
    await expect(resolveSecret({ secretsManager: 'prod/cluster', key: 'token' }, clock)).resolves.toBe(
      'the-bearer-token',
    );
  });

  it('reads a binary secret as UTF-8', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretBinary: new Uint8Array(Buffer.from('binary-token')) });
    await expect(resolveSecret({ secretsManager: 'bin' }, clock)).resolves.toBe('binary-token');
  });

  it('caches a value for 5 minutes per reference, then asks again', async () => {
    sm.on(GetSecretValueCommand).resolvesOnce({ SecretString: 'first' }).resolves({ SecretString: 'second' });
    const ref: SecretRef = { secretsManager: 'prod/k8s-token' };
    await expect(resolveSecret(ref, clock)).resolves.toBe('first');
    now = T0 + SECRET_CACHE_TTL_MS - 1;
    await expect(resolveSecret({ ...ref }, clock)).resolves.toBe('first');
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    now = T0 + SECRET_CACHE_TTL_MS;
    await expect(resolveSecret(ref, clock)).resolves.toBe('second');
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('keeps references apart in the cache (another key of the same secret is its own entry)', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ a: 'A', b: 'B' }) });
    await expect(resolveSecret({ secretsManager: 's', key: 'a' }, clock)).resolves.toBe('A');
    await expect(resolveSecret({ secretsManager: 's', key: 'b' }, clock)).resolves.toBe('B');
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('shares one request between concurrent resolutions', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: 'v' });
    const ref: SecretRef = { secretsManager: 'prod/k8s-token' };
    const values = await Promise.all([resolveSecret(ref, clock), resolveSecret(ref, clock), resolveSecret(ref, clock)]);
    expect(values).toEqual(['v', 'v', 'v']);
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it('does not cache a failure', async () => {
    sm.on(GetSecretValueCommand)
      .rejectsOnce(new InternalServiceError({ message: 'boom', $metadata: { httpStatusCode: 500 } }))
      .resolves({ SecretString: 'ok-now' });
    const ref: SecretRef = { secretsManager: 'flaky' };
    const err = await failure(resolveSecret(ref, clock));
    expect(err.retryable).toBe(true);
    expect(err.message).toContain('Secrets Manager secret flaky');
    await expect(resolveSecret(ref, clock)).resolves.toBe('ok-now');
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('a missing secret is not retryable', async () => {
    sm.on(GetSecretValueCommand).rejects(
      new ResourceNotFoundException({
        message: "Secrets Manager can't find the specified secret.",
        $metadata: { httpStatusCode: 400 },
      }),
    );
    const err = await failure(resolveSecret({ secretsManager: 'nope' }, clock));
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/^Secrets Manager secret nope: ResourceNotFoundException/);
  });

  it('throttling is retryable, access denied is not', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), {
      name: 'ThrottlingException',
      $metadata: { httpStatusCode: 400 },
    });
    const denied = Object.assign(new Error('User is not authorized'), {
      name: 'AccessDeniedException',
      $metadata: { httpStatusCode: 400 },
    });
    sm.on(GetSecretValueCommand, { SecretId: 'busy' }).rejects(throttled);
    sm.on(GetSecretValueCommand, { SecretId: 'denied' }).rejects(denied);
    const t = await failure(resolveSecret({ secretsManager: 'busy' }, clock));
    expect(t.retryable).toBe(true);
    expect(t.message).toBe('Secrets Manager secret busy: ThrottlingException: Rate exceeded');
    const d = await failure(resolveSecret({ secretsManager: 'denied' }, clock));
    expect(d.retryable).toBe(false);
    expect(d.message).toBe('Secrets Manager secret denied: AccessDeniedException: User is not authorized');
  });

  it('a key of a secret that is not JSON, or lacks it, fails without quoting the secret', async () => {
    const secret = 'plain-secret-token-value';
    sm.on(GetSecretValueCommand, { SecretId: 'plain' }).resolves({ SecretString: secret });
    const notJson = await failure(resolveSecret({ secretsManager: 'plain', key: 'token' }, clock));
    expect(notJson.retryable).toBe(false);
    expect(notJson.message).toMatch(/not a JSON object/);
    expect(notJson.message).not.toContain('plain-secret');

    sm.on(GetSecretValueCommand, { SecretId: 'json' }).resolves({
      SecretString: JSON.stringify({ other: 'hidden-value' }),
    });
    const missing = await failure(resolveSecret({ secretsManager: 'json', key: 'token' }, clock));
    expect(missing.retryable).toBe(false);
    expect(missing.message).toMatch(/has no key "token"/);
    expect(missing.message).not.toContain('hidden-value');
  });
});

describe('resolveSecret: SSM', () => {
  it('reads the parameter with decryption, in the configured region, and caches it', async () => {
    ssm
      .on(GetParameterCommand)
      .resolves({ Parameter: { Name: '/k8s/token', Value: 'ssm-token', Type: 'SecureString' } });
    await expect(resolveSecret({ ssmParameter: '/k8s/token' }, clock)).resolves.toBe('ssm-token');
    await expect(resolveSecret({ ssmParameter: '/k8s/token' }, clock)).resolves.toBe('ssm-token');
    const calls = ssm.commandCalls(GetParameterCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0].args[0].input).toEqual({ Name: '/k8s/token', WithDecryption: true });
    await expect(regionOfCall(calls[0])).resolves.toBe('eu-central-1');
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(0);
    now = T0 + SECRET_CACHE_TTL_MS + 1;
    await resolveSecret({ ssmParameter: '/k8s/token' }, clock);
    expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(2);
  });

  it('a missing parameter is not retryable', async () => {
    ssm.on(GetParameterCommand).rejects(new ParameterNotFound({ message: '', $metadata: { httpStatusCode: 400 } }));
    const err = await failure(resolveSecret({ ssmParameter: '/missing' }, clock));
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/^SSM parameter \/missing: ParameterNotFound/);
  });

  it('the same name as a secret and as a parameter are different entries', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: 'from-sm' });
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: 'from-ssm' } });
    await expect(resolveSecret({ secretsManager: 'same' }, clock)).resolves.toBe('from-sm');
    await expect(resolveSecret({ ssmParameter: 'same' }, clock)).resolves.toBe('from-ssm');
  });
});

describe('names under the stage prefix (SECRET_PREFIX, on AWS)', () => {
  beforeEach(() => {
    process.env.SECRET_PREFIX = 'triggerfish/prod/';
  });

  it('a Secrets Manager name is the secret <prefix><name>; an ARN is used as it is', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: 'v' });
    await resolveSecret({ secretsManager: 'k8s-token' }, clock);
    const arn = 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:triggerfish/prod/x-AbCdEf';
    await resolveSecret({ secretsManager: arn }, clock);
    expect(sm.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input.SecretId)).toEqual([
      'triggerfish/prod/k8s-token',
      arn,
    ]);
    expect(describeSecretRef({ secretsManager: 'k8s-token', key: 'token' })).toBe(
      'Secrets Manager secret triggerfish/prod/k8s-token (key "token")',
    );
  });

  it('an SSM name is the parameter /<prefix><name>, with or without its own leading slash', async () => {
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: 'v' } });
    await resolveSecret({ ssmParameter: 'k8s-token' }, clock);
    await resolveSecret({ ssmParameter: '/git/token' }, clock);
    expect(ssm.commandCalls(GetParameterCommand).map((c) => c.args[0].input.Name)).toEqual([
      '/triggerfish/prod/k8s-token',
      '/triggerfish/prod/git/token',
    ]);
    expect(describeSecretRef({ ssmParameter: 'k8s-token' })).toBe('SSM parameter /triggerfish/prod/k8s-token');
  });

  it('a name cannot climb out of the prefix: . and .. segments are refused', () => {
    for (const name of ['..', '../prod/admin-token', 'a/../../b', './x', 'a/.']) {
      expect([name, secretRefSchema.safeParse({ secretsManager: name }).success]).toEqual([name, false]);
      expect([name, secretRefSchema.safeParse({ ssmParameter: name }).success]).toEqual([name, false]);
    }
    expect(secretRefSchema.safeParse({ secretsManager: 'a..b/c.d' }).success).toBe(true);
  });
});

describe('the local secret store (TRIGGERFISH_SECRETS_DIR, on the local stack)', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tf-secrets-unit-'));
    process.env.TRIGGERFISH_SECRETS_DIR = dir;
    process.env.SECRET_PREFIX = 'triggerfish/prod/';
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('both kinds of reference read the same name from the store, never from AWS; `key` works as in Secrets Manager', async () => {
    putLocalSecret(dir, 'cluster', JSON.stringify({ token: 'from-json' }));
    putLocalSecret(dir, 'plain', 'plain-value');
    await expect(resolveSecret({ secretsManager: 'plain' }, clock)).resolves.toBe('plain-value');
    await expect(resolveSecret({ ssmParameter: 'plain' }, clock)).resolves.toBe('plain-value');
    await expect(resolveSecret({ secretsManager: 'cluster', key: 'token' }, clock)).resolves.toBe('from-json');
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(0);
    expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(0);
  });

  it('a replaced value is read at once (no cache locally)', async () => {
    putLocalSecret(dir, 'plain', 'one');
    await expect(resolveSecret({ secretsManager: 'plain' }, clock)).resolves.toBe('one');
    putLocalSecret(dir, 'plain', 'two');
    await expect(resolveSecret({ secretsManager: 'plain' }, clock)).resolves.toBe('two');
  });

  it('a missing secret, an ARN or a path name fail without retry, saying how to store it', async () => {
    const missing = await failure(resolveSecret({ secretsManager: 'nope' }, clock));
    expect(missing.retryable).toBe(false);
    expect(missing.message).toBe(
      'local secret nope is not stored; store it with `triggerfish secrets set nope` (or PUT /admin/secrets/{name})',
    );
    const arn = await failure(resolveSecret({ secretsManager: 'arn:aws:secretsmanager:x:1:secret:y' }, clock));
    expect(arn.retryable).toBe(false);
    expect(arn.message).toMatch(/local secret store takes a name of 1-64/);
    await expect(failure(resolveSecret({ ssmParameter: '/a/b' }, clock))).resolves.toBeInstanceOf(SecretError);
  });

  it('a value that is not JSON, asked for a key, is reported without quoting it', async () => {
    putLocalSecret(dir, 'plain', 'not-json-secret-value');
    const err = await failure(resolveSecret({ secretsManager: 'plain', key: 'token' }, clock));
    expect(err.message).not.toContain('not-json-secret-value');
    expect(err.message).toMatch(/not a JSON object/);
  });
});
