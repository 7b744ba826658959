/**
 * The CloudFormation template `osls package` builds from serverless.yml: IAM least privilege, partition-neutral
 * ARNs, retained tables, API throttling and the admin authorizer setting.
 *
 * Runs the real `osls package` (offline, no AWS account) on a copy of serverless.yml in a temp dir, once with the
 * default settings and once with the others (ADMIN_AUTH=iam, task roles named, another tag). The copy differs only
 * in packaging: no serverless-esbuild plugin and one dummy artifact, because bundling all 22 functions takes
 * 15-60 s on 2 busy cores and changes nothing in IAM, routes or resources. Each run takes ~2-5 s.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from '../../lib/local/paths';
import { loadServerlessConfig } from '../../lib/local/resources';

type Json = any;

const run = promisify(execFile);
const OSLS = path.join(PROJECT_ROOT, 'node_modules', '.bin', 'osls');
const SERVICE = 'triggerfish';
const STAGE = 'dev';

async function oslsPackage(
  cwd: string,
  out: string,
  env: Record<string, string | undefined> = {},
): Promise<{ text: string; t: Json }> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  if (env.ADMIN_AUTH === undefined) delete childEnv.ADMIN_AUTH;
  delete childEnv.ALLOW_PRIVATE_TARGETS;
  await run(OSLS, ['package', '--stage', STAGE, '--region', 'us-east-1', '--package', out], {
    cwd,
    env: childEnv,
    maxBuffer: 16 * 1024 * 1024,
  });
  const text = fs.readFileSync(path.join(out, 'cloudformation-template-update-stack.json'), 'utf8');
  return { text, t: JSON.parse(text) };
}

/** serverless.yml in a temp dir, without the bundler (one dummy artifact), with `edit` applied to its text. */
function variantService(edit: (yml: string) => string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tf-sls-variant-'));
  let yml = fs.readFileSync(path.join(PROJECT_ROOT, 'serverless.yml'), 'utf8');
  const unbundled = yml
    .replace('plugins:\n  - serverless-esbuild\n', '')
    .replace('package:\n  individually: true\n', 'package:\n  artifact: dummy.zip\n');
  if (unbundled === yml) throw new Error('serverless.yml layout changed: update variantService()');
  yml = edit(unbundled);
  fs.writeFileSync(path.join(dir, 'serverless.yml'), yml);
  // an empty zip (end-of-central-directory record only) is enough for `package`
  fs.writeFileSync(path.join(dir, 'dummy.zip'), Buffer.from([0x50, 0x4b, 0x05, 0x06, ...new Array(18).fill(0)]));
  return dir;
}

// ---------------------------------------------------------------------------------------------------------------
// reading the template

const resourcesOfType = (t: Json, type: string) =>
  Object.entries<Json>(t.Resources).filter(([, r]) => r.Type === type) as Array<[string, Json]>;

/** Conditions made of Fn::Equals / Fn::Not / Fn::And / Fn::Or over literals, as CloudFormation evaluates them. */
function evalCondition(t: Json, c: Json): boolean {
  if (typeof c === 'string') return evalCondition(t, t.Conditions[c]);
  if (c['Fn::Equals']) return JSON.stringify(c['Fn::Equals'][0]) === JSON.stringify(c['Fn::Equals'][1]);
  if (c['Fn::Not']) return !evalCondition(t, c['Fn::Not'][0]);
  if (c['Fn::And']) return c['Fn::And'].every((x: Json) => evalCondition(t, x));
  if (c['Fn::Or']) return c['Fn::Or'].some((x: Json) => evalCondition(t, x));
  if (c.Condition) return evalCondition(t, c.Condition);
  throw new Error(`condition not understood: ${JSON.stringify(c)}`);
}

/** A role's statements as CloudFormation would deploy them (Fn::If decided, AWS::NoValue dropped). */
function statementsOf(t: Json, role: Json): Json[] {
  const out: Json[] = [];
  for (const policy of role.Properties.Policies ?? []) {
    for (const st of policy.PolicyDocument.Statement) {
      if (st['Fn::If']) {
        const [cond, yes, no] = st['Fn::If'];
        const chosen = evalCondition(t, cond) ? yes : no;
        if (!(chosen && chosen.Ref === 'AWS::NoValue')) out.push(chosen);
      } else out.push(st);
    }
  }
  return out;
}

/** "X" for Fn::GetAtt [X, Arn], the Fn::Sub text, Join parts concatenated. */
function resourceText(r: Json): string {
  if (typeof r === 'string') return r;
  if (r['Fn::GetAtt']) return r['Fn::GetAtt'][0];
  if (r['Fn::Sub']) return typeof r['Fn::Sub'] === 'string' ? r['Fn::Sub'] : r['Fn::Sub'][0];
  if (r['Fn::Join']) return r['Fn::Join'][1].map(resourceText).join(r['Fn::Join'][0]);
  return JSON.stringify(r);
}

const list = (v: Json): Json[] => (Array.isArray(v) ? v : [v]);

/** One line per statement: "Allow a,b on X, Y" (actions sorted), conditions left out. */
function statementLine(st: Json): string {
  const notAction = st.NotAction !== undefined;
  const actions = list(notAction ? st.NotAction : st.Action)
    .slice()
    .sort()
    .join(',');
  const resources = list(st.Resource).map(resourceText).join(', ');
  return `${st.Effect} ${notAction ? 'all but ' : ''}${actions} on ${resources}`;
}

function roleOfFunction(t: Json, fnLogicalId: string): { id: string; role: Json } {
  const ref = t.Resources[fnLogicalId].Properties.Role;
  expect(ref['Fn::GetAtt']?.[1]).toBe('Arn');
  const id = ref['Fn::GetAtt'][0];
  return { id, role: t.Resources[id] };
}

/** Logical id prefix the framework gives a function's resources: hookDockerhub -> HookDockerhub. */
const cap = (name: string) => name[0].toUpperCase() + name.slice(1);

const ARN = (service: string, rest: string) =>
  `arn:\${AWS::Partition}:${service}:\${AWS::Region}:\${AWS::AccountId}:${rest}`;
const TOKEN_PARAM = ARN('ssm', `parameter/triggerfish/${STAGE}/admin-token`);
const logs = (fn: string) => `Allow logs:CreateLogStream,logs:PutLogEvents on ${cap(fn)}LogGroup`;

// GetItem and ConditionCheckItem on the logs table: the deploy state; ChangeMessageVisibility: ending the retry wait
// of a superseded deploy
const LOG_WRITES =
  'Allow dynamodb:BatchGetItem,dynamodb:ConditionCheckItem,dynamodb:DeleteItem,dynamodb:GetItem,dynamodb:PutItem,dynamodb:UpdateItem on LogsTable';
const QUEUE_WRITES = 'Allow sqs:ChangeMessageVisibility,sqs:SendMessage on DeployQueue';
const EVENT_BUS = `Allow events:PutEvents on ${ARN('events', 'event-bus/default')}`;
const RECEIVER = ['Allow dynamodb:GetItem on TriggersTable', LOG_WRITES, QUEUE_WRITES];
const DEPLOYER_ALLOW = [
  'Allow dynamodb:GetItem,dynamodb:UpdateItem on TriggersTable',
  'Allow dynamodb:GetItem,dynamodb:UpdateItem on LogsTable',
  'Allow sqs:ChangeMessageVisibility,sqs:DeleteMessage,sqs:GetQueueAttributes,sqs:ReceiveMessage on DeployQueue',
  'Allow sqs:SendMessage on ScheduleQueue',
  EVENT_BUS,
  // only this stage's target secrets (the prefix holds the stage)
  `Allow secretsmanager:GetSecretValue on ${ARN('secretsmanager', `secret:triggerfish/${STAGE}/*`)}`,
  `Allow ssm:GetParameter on ${ARN('ssm', `parameter/triggerfish/${STAGE}/*`)}`,
  `Allow ecs:DescribeServices,ecs:UpdateService on ${ARN('ecs', 'service/*')}`,
  'Allow ecs:DescribeTaskDefinition,ecs:RegisterTaskDefinition on *',
  `Allow ecs:TagResource on ${ARN('ecs', 'task-definition/*')}`,
  `Allow lambda:GetFunction,lambda:GetFunctionConfiguration,lambda:UpdateFunctionCode on ${ARN('lambda', 'function:*')}`,
  `Allow codebuild:StartBuild on ${ARN('codebuild', 'project/*')}`,
];
const DEPLOYER_DENY = [
  `Deny lambda:* on ${ARN('lambda', `function:${SERVICE}-${STAGE}-*`)}`,
  `Deny iam:* on arn:\${AWS::Partition}:iam::\${AWS::AccountId}:role/${SERVICE}/${STAGE}/*`,
  'Deny all but dynamodb:GetItem,dynamodb:UpdateItem on TriggersTable, TriggersTable/*, LogsTable, LogsTable/*',
  'Deny all but sqs:ChangeMessageVisibility,sqs:DeleteMessage,sqs:GetQueueAttributes,sqs:ReceiveMessage,sqs:SendMessage on DeployQueue, DeployDLQ, ScheduleQueue, ScheduleDLQ',
  // every stage's admin token
  `Deny ssm:* on ${ARN('ssm', 'parameter/triggerfish/*/admin-token')}`,
  `Deny cloudformation:* on ${ARN('cloudformation', 'stack/${AWS::StackName}/*')}`,
];

/** Every statement of every function's role, exactly. */
function expectedStatements(fn: string): string[] {
  if (fn.startsWith('hook')) return [logs(fn), ...RECEIVER];
  switch (fn) {
    case 'ecr':
      return [logs(fn), 'Allow dynamodb:Query on TriggersTable/index/byRepository', LOG_WRITES, QUEUE_WRITES];
    case 'deployer':
      return [logs(fn), ...DEPLOYER_ALLOW, ...DEPLOYER_DENY];
    case 'deadLetters':
      return [
        logs(fn),
        'Allow dynamodb:GetItem,dynamodb:UpdateItem on LogsTable',
        'Allow dynamodb:GetItem on TriggersTable',
        EVENT_BUS,
        'Allow sqs:DeleteMessage,sqs:GetQueueAttributes,sqs:ReceiveMessage on DeployDLQ',
      ];
    case 'adminTriggers':
      return [
        logs(fn),
        'Allow dynamodb:DeleteItem,dynamodb:GetItem,dynamodb:PutItem on TriggersTable',
        'Allow dynamodb:Query on TriggersTable/index/byCreated, TriggersTable/index/byProvider, TriggersTable/index/byEnabled, TriggersTable/index/byProviderEnabled',
        `Allow ssm:GetParameter on ${TOKEN_PARAM}`,
      ];
    case 'adminLogs':
      return [
        logs(fn),
        'Allow dynamodb:GetItem on TriggersTable',
        'Allow dynamodb:BatchGetItem,dynamodb:ConditionCheckItem,dynamodb:DeleteItem,dynamodb:GetItem,dynamodb:PutItem,dynamodb:Query,dynamodb:UpdateItem on LogsTable',
        'Allow dynamodb:Query on LogsTable/index/byStatus',
        QUEUE_WRITES,
        `Allow ssm:GetParameter on ${TOKEN_PARAM}`,
      ];
    case 'sweep':
      return [
        logs(fn),
        'Allow dynamodb:Query on LogsTable/index/inFlightByReceipt',
        'Allow dynamodb:GetItem,dynamodb:UpdateItem on LogsTable',
        'Allow sqs:SendMessage on DeployQueue',
        'Allow sqs:SendMessage on ScheduleQueue',
      ];
    case 'scheduler':
      return [
        logs(fn),
        ...RECEIVER,
        'Allow dynamodb:UpdateItem on TriggersTable',
        'Allow sqs:DeleteMessage,sqs:GetQueueAttributes,sqs:ReceiveMessage,sqs:SendMessage on ScheduleQueue',
        `Allow secretsmanager:GetSecretValue on ${ARN('secretsmanager', `secret:triggerfish/${STAGE}/*`)}`,
        `Allow ssm:GetParameter on ${ARN('ssm', `parameter/triggerfish/${STAGE}/*`)}`,
        `Allow ecs:DescribeServices on ${ARN('ecs', 'service/*')}`,
        EVENT_BUS,
        `Deny ssm:* on ${ARN('ssm', 'parameter/triggerfish/*/admin-token')}`,
      ];
    case 'health':
    case 'webConsole':
      return [logs(fn)];
  }
  throw new Error(`no expectation for function ${fn}: add it to expectedStatements()`);
}

// ---------------------------------------------------------------------------------------------------------------

const yml = loadServerlessConfig({ stage: STAGE, env: {} });
const functionNames = Object.keys(yml.functions);
const ADMIN_FUNCTIONS = ['adminTriggers', 'adminLogs'];

let base: { text: string; t: Json };
let variant: { text: string; t: Json };
const tmpDirs: string[] = [];

beforeAll(async () => {
  const plain = variantService((y) => y);
  const dir = variantService((y) =>
    y
      .replace("ecsTaskRoles: ''", "ecsTaskRoles: 'deploy/web-task-*'")
      .replace("aws:ResourceTag/triggerfish:deploy: 'true'", "aws:ResourceTag/team: 'web'"),
  );
  tmpDirs.push(plain, dir);
  base = await oslsPackage(plain, path.join(plain, 'out'));
  variant = await oslsPackage(dir, path.join(dir, 'out'), { ADMIN_AUTH: 'iam' });
}, 120_000);

afterAll(() => {
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
});

describe('serverless template: partitions', () => {
  it('has no arn:aws: literal (deployable in aws-cn and aws-us-gov)', () => {
    expect(base.text).not.toContain('arn:aws:');
    expect(variant.text).not.toContain('arn:aws:');
    expect(base.text).toContain('arn:${AWS::Partition}:');
  });
});

describe('serverless template: one role per function, with only its statements', () => {
  it('every function has its own role and the framework adds no shared one', () => {
    const fns = resourcesOfType(base.t, 'AWS::Lambda::Function');
    expect(fns.map(([id]) => id).sort()).toEqual(functionNames.map((n) => `${cap(n)}LambdaFunction`).sort());
    const roleIds = fns.map(([id]) => roleOfFunction(base.t, id).id);
    expect(new Set(roleIds).size).toBe(fns.length);
    expect(
      resourcesOfType(base.t, 'AWS::IAM::Role')
        .map(([id]) => id)
        .sort(),
    ).toEqual([...roleIds].sort());
    expect(base.t.Resources.IamRoleLambdaExecution).toBeUndefined();
  });

  it.each(functionNames)('%s: exactly its statements', (fn) => {
    const { role } = roleOfFunction(base.t, `${cap(fn)}LambdaFunction`);
    expect(statementsOf(base.t, role).map(statementLine).sort()).toEqual(expectedStatements(fn).sort());
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
    ]);
  });

  it("logs go only to the function's own log group, which the stack creates", () => {
    for (const fn of functionNames) {
      expect(base.t.Resources[`${cap(fn)}LogGroup`]?.Type).toBe('AWS::Logs::LogGroup');
    }
    for (const [, role] of resourcesOfType(base.t, 'AWS::IAM::Role')) {
      for (const st of statementsOf(base.t, role)) {
        if (list(st.Action ?? []).some((a: string) => a.startsWith('logs:'))) {
          expect(list(st.Resource).every((r: Json) => r['Fn::GetAtt']?.[0].endsWith('LogGroup'))).toBe(true);
        }
      }
    }
  });
});

describe('serverless template: the deployer cannot reach its own stack', () => {
  const deployer = () => statementsOf(base.t, base.t.Resources.DeployerRole);

  it('every function is named <service>-<stage>-*, which the Deny on functions covers', () => {
    // the framework names functions service-stage-key (no FunctionName override in serverless.yml)
    for (const fn of functionNames) {
      const props = base.t.Resources[`${cap(fn)}LambdaFunction`].Properties;
      expect(props.FunctionName).toBe(`${SERVICE}-${STAGE}-${fn}`);
    }
  });

  it('every role sits under /<service>/<stage>/, which the Deny on roles covers', () => {
    for (const [, role] of resourcesOfType(base.t, 'AWS::IAM::Role')) {
      expect(role.Properties.Path).toBe(`/${SERVICE}/${STAGE}/`);
    }
  });

  it('the Deny on tables and queues leaves exactly the item and queue calls the deployer is allowed', () => {
    const sts = deployer();
    const denyOf = (sid: string) => sts.find((s) => s.Sid === sid);
    const allowedOn = (ids: string[], prefix: string) =>
      sts
        .filter((s) => s.Effect === 'Allow' && list(s.Resource).some((r: Json) => ids.includes(r['Fn::GetAtt']?.[0])))
        .flatMap((s) => list(s.Action))
        .filter((a: string) => a.startsWith(prefix));
    const tables = ['TriggersTable', 'LogsTable'];
    const queues = ['DeployQueue', 'DeployDLQ', 'ScheduleQueue', 'ScheduleDLQ'];
    expect([...new Set(allowedOn(tables, 'dynamodb:'))].sort()).toEqual([...denyOf('DenyOwnTables').NotAction].sort());
    expect([...new Set(allowedOn(queues, 'sqs:'))].sort()).toEqual([...denyOf('DenyOwnQueues').NotAction].sort());
    // every table and queue of the stack is covered
    for (const [id] of resourcesOfType(base.t, 'AWS::DynamoDB::Table'))
      expect(statementLine(denyOf('DenyOwnTables'))).toContain(id);
    for (const [id] of resourcesOfType(base.t, 'AWS::SQS::Queue'))
      expect(statementLine(denyOf('DenyOwnQueues'))).toContain(id);
  });

  it("target secrets: the deployer reads the prefix its role may read, which holds the stage; no stage's admin token", () => {
    const env = base.t.Resources.DeployerLambdaFunction.Properties.Environment.Variables;
    expect(env.SECRET_PREFIX).toBe(`triggerfish/${STAGE}/`);
    const allowed = deployer()
      .filter((s) => ['KubernetesTokenReferences', 'KubernetesTokenParameters'].includes(s.Sid))
      .map((s) => list(s.Resource).map(resourceText).join());
    expect(allowed).toEqual([
      ARN('secretsmanager', `secret:${env.SECRET_PREFIX}*`),
      ARN('ssm', `parameter/${env.SECRET_PREFIX}*`),
    ]);
    // the admin token is /triggerfish/<stage>/admin-token for every stage (ADMIN_TOKEN_PARAM)
    expect(env.ADMIN_TOKEN_PARAM).toBe(`/triggerfish/${STAGE}/admin-token`);
    const deny = deployer().find((s) => s.Sid === 'DenyAdminTokens');
    expect([deny.Effect, list(deny.Action)]).toEqual(['Deny', ['ssm:*']]);
  });

  it('ECS services, Lambda functions and CodeBuild projects must be tagged triggerfish:deploy=true', () => {
    const tagged = { StringEquals: { 'aws:ResourceTag/triggerfish:deploy': 'true' } };
    for (const sid of ['EcsTarget', 'LambdaTarget', 'CodeBuildTarget']) {
      expect(deployer().find((s) => s.Sid === sid).Condition).toEqual(tagged);
    }
    // every statement that can change a target carries the condition
    const changing = ['ecs:UpdateService', 'lambda:UpdateFunctionCode', 'codebuild:StartBuild'];
    for (const st of deployer().filter((s) => s.Effect === 'Allow')) {
      if (list(st.Action).some((a: string) => changing.includes(a))) expect(st.Condition).toEqual(tagged);
    }
  });

  it('no iam:PassRole by default, in any role', () => {
    for (const [, role] of resourcesOfType(base.t, 'AWS::IAM::Role')) {
      const passes = statementsOf(base.t, role).filter(
        (s) =>
          s.Effect === 'Allow' &&
          list(s.Action).some((a: string) => a === 'iam:PassRole' || a === 'iam:*' || a === '*'),
      );
      expect(passes).toEqual([]);
    }
  });

  it('with custom.targets.ecsTaskRoles: PassRole to those roles only, only to ecs-tasks; the tag condition is overridable', () => {
    const sts = statementsOf(variant.t, variant.t.Resources.DeployerRole);
    const pass = sts.filter((s) => list(s.Action ?? []).includes('iam:PassRole'));
    expect(pass).toHaveLength(1);
    expect(pass[0].Effect).toBe('Allow');
    expect(list(pass[0].Resource).map(resourceText)).toEqual([
      'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/deploy/web-task-*',
    ]);
    expect(pass[0].Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } });
    expect(sts.find((s) => s.Sid === 'LambdaTarget').Condition).toEqual({
      StringEquals: { 'aws:ResourceTag/team': 'web' },
    });
    // the Deny on Triggerfish's own roles still applies to a pattern that would match them
    expect(sts.some((s) => s.Sid === 'DenyOwnRoles' && s.Effect === 'Deny')).toBe(true);
  });
});

describe('serverless template: data and API', () => {
  it('tables are kept on stack removal and replacement', () => {
    const tables = resourcesOfType(base.t, 'AWS::DynamoDB::Table');
    expect(tables.map(([id]) => id).sort()).toEqual(['LogsTable', 'TriggersTable']);
    for (const [, table] of tables) {
      expect(table.DeletionPolicy).toBe('Retain');
      expect(table.UpdateReplacePolicy).toBe('Retain');
    }
  });

  it('the HTTP API throttles every route by default, with the settings of custom.apiThrottle', () => {
    const settings = base.t.Resources.HttpApiStage.Properties.DefaultRouteSettings;
    expect(settings.ThrottlingRateLimit).toBe(yml.custom.apiThrottle.rateLimit);
    expect(settings.ThrottlingBurstLimit).toBe(yml.custom.apiThrottle.burstLimit);
    expect(settings.ThrottlingRateLimit).toBeGreaterThan(0);
    expect(settings.ThrottlingBurstLimit).toBeGreaterThanOrEqual(settings.ThrottlingRateLimit);
  });
});

describe('serverless template: admin authentication', () => {
  const routes = (t: Json) => resourcesOfType(t, 'AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties);
  const adminRouteKeys = functionNames
    .filter((fn) => ADMIN_FUNCTIONS.includes(fn))
    .flatMap((fn) => yml.functions[fn].events.map((e: Json) => `${e.httpApi.method} ${e.httpApi.path}`));

  it('adminAuth token (default): no authorizer on any route; functions told ADMIN_AUTH=token', () => {
    expect(adminRouteKeys).toHaveLength(19);
    for (const r of routes(base.t)) expect(r.AuthorizationType).toBeUndefined();
    for (const [, fn] of resourcesOfType(base.t, 'AWS::Lambda::Function')) {
      expect(fn.Properties.Environment.Variables.ADMIN_AUTH).toBe('token');
    }
  });

  it("adminAuth iam: AWS_IAM on exactly the admin routes; webhooks, health and the console's static files stay open", () => {
    const rs = routes(variant.t);
    expect(
      rs
        .filter((r) => r.AuthorizationType === 'AWS_IAM')
        .map((r) => r.RouteKey)
        .sort(),
    ).toEqual([...adminRouteKeys].sort());
    for (const r of rs.filter((x) => !adminRouteKeys.includes(x.RouteKey))) {
      expect(r.RouteKey).toMatch(/^(POST \/hooks\/|GET \/health$|GET \/console(\/\{file\})?$)/);
      expect(r.AuthorizationType).toBeUndefined();
    }
    for (const [, fn] of resourcesOfType(variant.t, 'AWS::Lambda::Function')) {
      expect(fn.Properties.Environment.Variables.ADMIN_AUTH).toBe('iam');
    }
  });
});
