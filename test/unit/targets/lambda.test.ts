import {
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  LambdaClient,
  ResourceConflictException,
  ResourceNotFoundException,
  UpdateFunctionCodeCommand,
  type FunctionConfiguration,
} from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import type { NormalizedEvent } from '../../../lib/core/event';
import {
  lambdaPolling,
  lambdaTarget,
  lambdaTargetSchema,
  type LambdaTargetConfig,
} from '../../../lib/deploy/targets/lambda';
import type { DeployContext } from '../../../lib/deploy/targets/types';

const lambda = mockClient(LambdaClient);

const REGISTRY = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
const OLD_IMAGE = `${REGISTRY}/acme/fn:1.3.0`;
const NEW_IMAGE = `${REGISTRY}/acme/fn:1.4.0`;
const DIGEST = 'sha256:4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945';
const SHA = 'd3f1c0ffee0d3f1c0ffee0d3f1c0ffee0d3f1c0ffee=';

const event: NormalizedEvent = {
  provider: 'ecr',
  kind: 'image',
  action: 'push',
  registry: REGISTRY,
  namespace: 'acme',
  repository: 'fn',
  repoFullName: 'acme/fn',
  image: NEW_IMAGE,
  tag: '1.4.0',
  digest: DIGEST,
};
const ctx = (over: Partial<DeployContext> = {}, ev: Partial<NormalizedEvent> = {}): DeployContext => ({
  triggerId: 'trg_1',
  logId: 'log_1',
  event: { ...event, ...ev },
  allowPrivateTargets: false,
  ...over,
});
const config = (over: Partial<LambdaTargetConfig> = {}): LambdaTargetConfig => ({
  type: 'lambda',
  functionName: 'acme-fn',
  region: 'eu-west-1',
  ...over,
});

const conf = (over: Partial<FunctionConfiguration>): FunctionConfiguration => ({
  FunctionName: 'acme-fn',
  PackageType: 'Image',
  CodeSha256: SHA,
  ...over,
});

function happyPath(version = '7') {
  lambda.on(GetFunctionCommand).resolves({
    Configuration: conf({ Version: '$LATEST', State: 'Active', LastUpdateStatus: 'Successful' }),
    Code: { RepositoryType: 'ECR', ImageUri: OLD_IMAGE, ResolvedImageUri: `${REGISTRY}/acme/fn@sha256:0ld` },
  });
  lambda
    .on(UpdateFunctionCodeCommand)
    .resolves(conf({ Version: version, State: 'Pending', LastUpdateStatus: 'InProgress' }));
  lambda
    .on(GetFunctionConfigurationCommand)
    .resolvesOnce(conf({ Version: version, State: 'Pending', LastUpdateStatus: 'InProgress' }))
    // the code is in, but the version is not ready to run yet
    .resolvesOnce(conf({ Version: version, State: 'Pending', LastUpdateStatus: 'Successful' }))
    .resolves(conf({ Version: version, State: 'Active', LastUpdateStatus: 'Successful' }));
}

function sent(): Array<[string, unknown]> {
  return lambda.calls().map((c) => [(c.args[0] as object).constructor.name, (c.args[0] as { input: unknown }).input]);
}

beforeEach(() => {
  lambda.reset();
  lambdaPolling.intervalMs = 0;
});

describe('lambda target', () => {
  it('updates the code, waits until Lambda is done and records the new version', async () => {
    happyPath();
    const r = await lambdaTarget.deploy(config(), ctx());
    expect(r).toMatchObject({ ok: true, retryable: false });
    expect(r.error).toBeUndefined();
    expect(r.details).toEqual({ image: NEW_IMAGE, previousImage: OLD_IMAGE, version: '7', codeSha256: SHA });
    expect(sent()).toEqual([
      ['GetFunctionCommand', { FunctionName: 'acme-fn' }],
      ['UpdateFunctionCodeCommand', { FunctionName: 'acme-fn', ImageUri: NEW_IMAGE, Publish: true }],
      ['GetFunctionConfigurationCommand', { FunctionName: 'acme-fn', Qualifier: '7' }],
      ['GetFunctionConfigurationCommand', { FunctionName: 'acme-fn', Qualifier: '7' }],
      ['GetFunctionConfigurationCommand', { FunctionName: 'acme-fn', Qualifier: '7' }],
    ]);
  });

  it('publish: false updates $LATEST and waits on it', async () => {
    happyPath('$LATEST');
    const r = await lambdaTarget.deploy(config({ publish: false }), ctx());
    expect(r).toMatchObject({ ok: true, details: { version: '$LATEST' } });
    expect(lambda.commandCalls(UpdateFunctionCodeCommand)[0].args[0].input).toEqual({
      FunctionName: 'acme-fn',
      ImageUri: NEW_IMAGE,
      Publish: false,
    });
    for (const call of lambda.commandCalls(GetFunctionConfigurationCommand)) {
      expect(call.args[0].input).toEqual({ FunctionName: 'acme-fn' });
    }
  });

  it('pinDigest deploys repo@digest', async () => {
    happyPath();
    const r = await lambdaTarget.deploy(config({ pinDigest: true }), ctx());
    expect(r.ok).toBe(true);
    expect(lambda.commandCalls(UpdateFunctionCodeCommand)[0].args[0].input.ImageUri).toBe(
      `${REGISTRY}/acme/fn@${DIGEST}`,
    );
  });

  it('a Failed update is not retried and says why', async () => {
    happyPath();
    lambda.on(GetFunctionConfigurationCommand).resolves(
      conf({
        Version: '7',
        State: 'Active',
        LastUpdateStatus: 'Failed',
        LastUpdateStatusReason: 'The image manifest or layer media type is not supported.',
        LastUpdateStatusReasonCode: 'ImageAccessDenied',
      }),
    );
    const r = await lambdaTarget.deploy(config(), ctx());
    expect(r).toMatchObject({
      ok: false,
      retryable: false,
      error: 'update failed: The image manifest or layer media type is not supported. (ImageAccessDenied)',
    });
  });

  it('ResourceConflictException (an update in progress) is retryable', async () => {
    happyPath();
    lambda.on(UpdateFunctionCodeCommand).rejects(
      new ResourceConflictException({
        message: 'The operation cannot be performed at this time. An update is in progress',
        $metadata: { httpStatusCode: 409 },
      }),
    );
    const r = await lambdaTarget.deploy(config(), ctx());
    expect(r).toMatchObject({ ok: false, retryable: true, statusCode: 409 });
    expect(r.error).toMatch(/^UpdateFunctionCode: ResourceConflictException: /);
    expect(lambda.commandCalls(GetFunctionConfigurationCommand)).toHaveLength(0);
  });

  it('a missing function is not retryable, and nothing is updated', async () => {
    happyPath();
    lambda.on(GetFunctionCommand).rejects(
      new ResourceNotFoundException({
        message: 'Function not found: arn:aws:lambda:eu-west-1:123456789012:function:acme-fn',
        $metadata: { httpStatusCode: 404 },
      }),
    );
    const r = await lambdaTarget.deploy(config(), ctx());
    expect(r).toMatchObject({ ok: false, retryable: false });
    expect(r.error).toMatch(/^GetFunction: ResourceNotFoundException: Function not found/);
    expect(lambda.commandCalls(UpdateFunctionCodeCommand)).toHaveLength(0);
  });

  it('InvalidParameterValueException is not retryable', async () => {
    happyPath();
    const err = Object.assign(new Error('Source image ... is not valid.'), {
      name: 'InvalidParameterValueException',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
    });
    lambda.on(UpdateFunctionCodeCommand).rejects(err);
    expect(await lambdaTarget.deploy(config(), ctx())).toMatchObject({ ok: false, retryable: false });
  });

  it('a .zip function is refused before any update', async () => {
    happyPath();
    lambda
      .on(GetFunctionCommand)
      .resolves({ Configuration: conf({ PackageType: 'Zip' }), Code: { RepositoryType: 'S3' } });
    const r = await lambdaTarget.deploy(config(), ctx());
    expect(r).toMatchObject({ ok: false, retryable: false });
    expect(r.error).toContain('Zip function');
    expect(lambda.commandCalls(UpdateFunctionCodeCommand)).toHaveLength(0);
  });

  it.each([
    ['Docker Hub', { registry: 'docker.io' }, 'from docker.io'],
    ['no registry host', { registry: undefined }, 'Docker Hub'],
    ['a look-alike host', { registry: '123456789012.dkr.ecr.eu-west-1.amazonaws.com.evil.example' }, 'Amazon ECR only'],
    ['ECR in another region', { registry: '123456789012.dkr.ecr.us-east-1.amazonaws.com' }, 'in us-east-1'],
    ['an event without tag or digest', { tag: undefined, digest: undefined }, 'no tag or digest'],
    ['a code event', { kind: 'code' as const }, 'code event'],
  ])('refuses %s without calling AWS', async (_what, ev, message) => {
    happyPath();
    const r = await lambdaTarget.deploy(config(), ctx({}, ev));
    expect(r).toMatchObject({ ok: false, retryable: false });
    expect(r.error).toContain(message);
    expect(lambda.calls()).toHaveLength(0);
  });

  it('accepts ECR in China and FIPS hosts', async () => {
    happyPath();
    const cn = '123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn';
    const r = await lambdaTarget.deploy(config({ region: 'cn-north-1' }), ctx({}, { registry: cn }));
    expect(r.ok).toBe(true);
    expect(lambda.commandCalls(UpdateFunctionCodeCommand)[0].args[0].input.ImageUri).toBe(`${cn}/acme/fn:1.4.0`);
    expect(await lambda.call(0).thisValue.config.region()).toBe('cn-north-1');
    lambda.resetHistory();
    const fips = '123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com';
    expect((await lambdaTarget.deploy(config({ region: 'us-gov-west-1' }), ctx({}, { registry: fips }))).ok).toBe(true);
  });

  it('takes the region from a function ARN', async () => {
    happyPath();
    const arn = 'arn:aws:lambda:eu-west-1:123456789012:function:acme-fn';
    const r = await lambdaTarget.deploy(config({ functionName: arn, region: undefined }), ctx());
    expect(r.ok).toBe(true);
    expect(await lambda.call(0).thisValue.config.region()).toBe('eu-west-1');
    expect(lambda.commandCalls(UpdateFunctionCodeCommand)[0].args[0].input.FunctionName).toBe(arn);
  });

  it('still updating at the end of the budget: retryable', async () => {
    happyPath();
    lambdaPolling.intervalMs = 5;
    lambda
      .on(GetFunctionConfigurationCommand)
      .resolves(conf({ Version: '7', State: 'Active', LastUpdateStatus: 'InProgress' }));
    const r = await lambdaTarget.deploy(config(), ctx({ timeoutMs: 60 }));
    expect(r).toMatchObject({ ok: false, retryable: true });
    expect(r.error).toBe(
      'UpdateFunctionCode accepted but not finished in time (LastUpdateStatus InProgress, State Active)',
    );
  });

  it('throttled polls are tolerated', async () => {
    happyPath();
    lambda
      .on(GetFunctionConfigurationCommand)
      .rejectsOnce(
        Object.assign(new Error('Rate exceeded'), {
          name: 'TooManyRequestsException',
          $fault: 'client',
          $metadata: { httpStatusCode: 429 },
        }),
      )
      .resolves(conf({ Version: '7', State: 'Active', LastUpdateStatus: 'Successful' }));
    const r = await lambdaTarget.deploy(config(), ctx());
    expect(r).toMatchObject({ ok: true, details: { version: '7' } });
    expect(lambda.commandCalls(GetFunctionConfigurationCommand)).toHaveLength(2);
  });
});

describe('lambda target: config', () => {
  it.each([
    ['a name', 'acme-fn'],
    ['a partial ARN', '123456789012:function:acme-fn'],
    ['an ARN', 'arn:aws:lambda:eu-west-1:123456789012:function:acme-fn'],
  ])('accepts %s', (_what, functionName) => {
    expect(lambdaTargetSchema.safeParse({ type: 'lambda', functionName }).success).toBe(true);
  });

  it.each([
    ['a qualified ARN', { functionName: 'arn:aws:lambda:eu-west-1:123456789012:function:acme-fn:7' }],
    [
      'an ARN in another region',
      { functionName: 'arn:aws:lambda:us-east-1:123456789012:function:acme-fn', region: 'eu-west-1' },
    ],
    ['an unknown key', { functionName: 'acme-fn', memorySize: 128 }],
    ['a bad region', { functionName: 'acme-fn', region: 'localhost' }],
  ])('refuses %s', (_what, over) => {
    expect(lambdaTargetSchema.safeParse({ type: 'lambda', ...over }).success).toBe(false);
  });
});
