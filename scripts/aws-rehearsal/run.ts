/* eslint-disable @typescript-eslint/no-explicit-any -- JSON answers and serverless.yml are untyped here */
/**
 * `npm run test:aws`: every commit proves that it deploys. On a local moto_server (our launcher, moto_server.py):
 *   1. `osls deploy` of a throwaway stage, as a user deploys (AWS_ENDPOINT_URL, dummy credentials);
 *   2. the deployed tables, queues, functions, roles and event sources against what serverless.yml means;
 *   3. cfn-lint on the packaged template: no error (warnings listed);
 *   4. IAM on: the packaged handlers (the zips osls built) through webhook -> queue -> deployer -> log, each with its
 *      own role's STS credentials; every call they make must be allowed;
 *   5. calls outside each role, which must be denied (and the deployer's own stage's target secrets, allowed);
 *   6. `osls remove`.
 * Prints the time, what was checked and the allowed and denied calls per role. Exit 1 on any failure.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { GetQueueAttributesCommand, GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import { GetFunctionConfigurationCommand } from '@aws-sdk/client-lambda';
import { loadServerlessConfig } from '../../lib/local/resources';
import { PROJECT_ROOT } from '../../lib/local/paths';
import { clients, DEPLOY_CREDENTIALS, REGION } from './aws';
import { checkResources, mismatches } from './check-resources';
import { call, httpEvent, outcomeOf, probes, runDeployerOnce, startTargetServer } from './drive';
import { checkTools, startMoto, type Decision } from './moto';
import { unpack, type Credentials, type PackagedFunction } from './packaged';

const runFile = promisify(execFile);
const SERVICE = 'triggerfish';
const STAGE = `rh${randomBytes(3).toString('hex')}`;
/** another stage whose admin token and target secrets this stage's functions must not read */
const OTHER_STAGE = 'prod';
const SERVERLESS_DIR = path.join(PROJECT_ROOT, '.serverless');
const t0 = Date.now();
const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(0)} s`;
const say = (line: string) => console.log(`[test:aws ${elapsed()}] ${line}`);

function osls(args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(PROJECT_ROOT, 'node_modules', '.bin', 'osls'), args, {
      cwd: PROJECT_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (out += c));
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`osls ${args.join(' ')} exited ${code}:\n${out.slice(-4000)}`)),
    );
  });
}

async function cfnLint(template: string): Promise<Array<{ id: string; level: string; message: string; path: string }>> {
  let stdout: string;
  try {
    stdout = (await runFile('cfn-lint', ['--format', 'json', template], { maxBuffer: 16 * 1024 * 1024 })).stdout;
  } catch (err) {
    // cfn-lint exits non-zero when it found anything: its JSON is still on stdout
    stdout = (err as { stdout?: string }).stdout ?? '';
    if (!stdout.trim().startsWith('[')) throw err;
  }
  return (JSON.parse(stdout) as any[]).map((m) => ({
    id: m.Rule.Id,
    level: m.Level,
    message: m.Message,
    path: (m.Location?.Path ?? []).join('/'),
  }));
}

/** "HookDockerhubRole" out of the assumed-role ARN .../assumed-role/triggerfish-<stage>-HookDockerhubRole-XYZ/session */
function roleOf(principal: string): string {
  const name = principal.split('/')[1] ?? principal;
  return name.replace(`${SERVICE}-${STAGE}-`, '').replace(/-[A-Z0-9]+$/, '');
}

function summarize(decisions: Decision[]): string[] {
  // arn:aws:dynamodb:us-east-1:123456789012:table/triggerfish-<stage>-LogsTable-ABC123 -> dynamodb table/LogsTable
  const short = (resource: string) =>
    resource
      .replace(/^arn:aws:([a-z0-9-]+):[a-z0-9-]*:\d*:/, '$1 ')
      .replace(new RegExp(`${SERVICE}-${STAGE}-([A-Za-z]+)-[A-Za-z0-9]{6,}`, 'g'), '$1')
      .replace(/(stack\/[^/]+)\/[0-9a-f-]{36}$/, '$1');
  const byRole = new Map<string, { allowed: Set<string>; denied: Set<string> }>();
  for (const d of decisions) {
    const role = roleOf(d.principal);
    if (!byRole.has(role)) byRole.set(role, { allowed: new Set(), denied: new Set() });
    byRole.get(role)![d.allowed ? 'allowed' : 'denied'].add(`${d.action} on ${short(d.resource)}`);
  }
  return [...byRole].flatMap(([role, r]) => [
    `${role}:`,
    ...[...r.allowed].sort().map((c) => `  allowed ${c}`),
    ...[...r.denied].sort().map((c) => `  DENIED  ${c}`),
  ]);
}

async function main(): Promise<void> {
  const python = checkTools();
  const moto = await startMoto(python, () => undefined);
  say(`moto_server on ${moto.endpoint}; deploying stage ${STAGE}`);
  const deployEnv: NodeJS.ProcessEnv = {
    ...process.env,
    AWS_ENDPOINT_URL: moto.endpoint,
    AWS_ACCESS_KEY_ID: DEPLOY_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: DEPLOY_CREDENTIALS.secretAccessKey,
    AWS_REGION: REGION,
    AWS_SESSION_TOKEN: '',
  };
  for (const k of [
    'ADMIN_AUTH',
    'ALLOW_PRIVATE_TARGETS',
    'DEFAULT_NOTIFY',
    'ALARM_EMAIL',
    'LOG_LEVEL',
    'AWS_PROFILE',
  ]) {
    delete deployEnv[k];
  }
  const unpacked = fs.mkdtempSync(path.join(os.tmpdir(), 'tf-test-aws-'));
  const target = await startTargetServer();
  let deployed = false;
  const failures: string[] = [];
  const checked: string[] = [];
  try {
    await osls(['deploy', '--stage', STAGE, '--region', REGION], deployEnv);
    deployed = true;
    say('deployed');
    const lint = cfnLint(path.join(SERVERLESS_DIR, 'cloudformation-template-update-stack.json'));
    lint.catch(() => undefined); // awaited below; a failure before then must not be an unhandled rejection

    const aws = clients(moto.endpoint);
    const yml = loadServerlessConfig({ stage: STAGE, region: REGION, env: {} });
    const fnName = (key: string) => `${SERVICE}-${STAGE}-${key}`;
    const facts = await checkResources(aws, yml, `${SERVICE}-${STAGE}`, fnName, checked);
    failures.push(...mismatches);
    say(`resources checked (${checked.length} checks, ${mismatches.length} mismatches)`);

    // what the functions read: the admin tokens (this stage and another) and target secrets of both stages
    const adminToken = randomBytes(24).toString('base64url');
    const hubToken = `hub-${randomBytes(12).toString('hex')}`;
    for (const [name, value] of [
      [`/triggerfish/${STAGE}/admin-token`, adminToken],
      [`/triggerfish/${OTHER_STAGE}/admin-token`, 'other-stage-admin-token'],
      [`/triggerfish/${STAGE}/hub-token`, hubToken],
      [`/triggerfish/${OTHER_STAGE}/hub-token`, 'other-stage-hub-token'],
    ]) {
      await aws.ssm.send(new PutParameterCommand({ Name: name, Value: value, Type: 'SecureString' }));
    }
    for (const [name, value] of [
      [`triggerfish/${STAGE}/hub-token`, hubToken],
      [`triggerfish/${OTHER_STAGE}/hub-token`, 'other-stage-hub-token'],
    ]) {
      await aws.sm.send(new CreateSecretCommand({ Name: name, SecretString: value }));
    }

    // each function as deployed: unzipped package, deployed environment, its role's credentials
    const packaged = async (key: string): Promise<PackagedFunction> => {
      const c = await aws.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: fnName(key) }));
      const creds = (
        await aws.sts.send(new AssumeRoleCommand({ RoleArn: facts.roleArns.get(key)!, RoleSessionName: key }))
      ).Credentials!;
      return {
        name: fnName(key),
        handler: c.Handler!,
        dir: await unpack(SERVERLESS_DIR, key, unpacked),
        timeoutSeconds: c.Timeout!,
        credentials: creds as Credentials,
        env: {
          ...(c.Environment?.Variables ?? {}),
          AWS_REGION: REGION,
          AWS_ENDPOINT_URL: moto.endpoint,
          // moto answers queue URLs on AWS's host name: the project's own override sends SQS calls to moto
          SQS_ENDPOINT: moto.endpoint,
          // the target server of this run is on loopback; Docker Hub callbacks would leave the machine
          ALLOW_PRIVATE_TARGETS: 'true',
          DOCKERHUB_CALLBACKS: 'false',
          POWERTOOLS_METRICS_DISABLED: 'true',
        },
      };
    };
    const [receiver, deployer, adminTriggers, adminLogs] = await Promise.all(
      ['hookDockerhub', 'deployer', 'adminTriggers', 'adminLogs'].map(packaged),
    );
    const queueUrl = (await aws.sqs.send(new GetQueueUrlCommand({ QueueName: `${SERVICE}-${STAGE}-deploy.fifo` })))
      .QueueUrl!;
    const dlqUrl = (await aws.sqs.send(new GetQueueUrlCommand({ QueueName: `${SERVICE}-${STAGE}-deploy-dlq.fifo` })))
      .QueueUrl!;
    const queueArn = (
      await aws.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))
    ).Attributes!.QueueArn!;

    await moto.setAuth(true);
    const flowStart = moto.decisions.length;
    say('IAM enforced; driving the packaged handlers');
    const admin = { authorization: `Bearer ${adminToken}` };

    // secrets routes on AWS: 501 naming where to store the secret
    const secretsRoute = await call(
      adminTriggers,
      httpEvent('PUT /admin/secrets/{name}', {
        path: '/admin/secrets/hub-token',
        pathParameters: { name: 'hub-token' },
        headers: admin,
        body: JSON.stringify({ value: 'x' }),
      }),
    );
    if (secretsRoute.status !== 501 || secretsRoute.body.secretsManager !== `triggerfish/${STAGE}/hub-token`) {
      failures.push(`PUT /admin/secrets on AWS: ${secretsRoute.status} ${JSON.stringify(secretsRoute.body)}`);
    }

    const created = await call(
      adminTriggers,
      httpEvent('POST /admin/triggers', {
        path: '/admin/triggers',
        headers: admin,
        body: JSON.stringify({
          name: 'rehearsal',
          provider: 'dockerhub',
          target: { type: 'http', url: `${target.url}/deploy/{{repository}}`, body: { tag: '{{tag}}' } },
        }),
      }),
    );
    if (created.status !== 201)
      throw new Error(`POST /admin/triggers: ${created.status} ${JSON.stringify(created.body)}`);
    const trigger = created.body as { id: string; secret: string };
    checked.push(`adminTriggers: POST /admin/triggers -> 201 (trigger ${trigger.id})`);

    const push = fs.readFileSync(path.join(PROJECT_ROOT, 'test/fixtures/dockerhub/push-docs-example.json'), 'utf8');
    const hook = await call(
      receiver,
      httpEvent('POST /hooks/dockerhub/{triggerId}', {
        path: `/hooks/dockerhub/${trigger.id}`,
        pathParameters: { triggerId: trigger.id },
        query: { token: trigger.secret },
        body: push,
      }),
    );
    if (hook.status !== 202 || hook.body.status !== 'triggered') {
      throw new Error(`webhook: ${hook.status} ${JSON.stringify(hook.body)}\n${hook.output}`);
    }
    checked.push(`hookDockerhub: a Docker Hub push -> 202 triggered (log ${hook.body.log})`);

    const batch = await runDeployerOnce(moto.endpoint, deployer, queueUrl, queueArn);
    if (batch.failures.length) throw new Error(`deployer reported failures: ${batch.failures}\n${batch.output}`);
    const deployCall = target.calls.find((c) => c.url === '/deploy/testhook');
    if (!deployCall || JSON.parse(deployCall.body).tag !== 'latest') {
      throw new Error(`the target server got ${JSON.stringify(target.calls)}\n${batch.output}`);
    }
    checked.push(`deployer: ${batch.handled} message(s) from the queue -> POST ${deployCall.url} at the target server`);

    const entry = await call(
      adminLogs,
      httpEvent('GET /admin/triggers/{id}/logs/{logId}', {
        path: `/admin/triggers/${trigger.id}/logs/${hook.body.log}`,
        pathParameters: { id: trigger.id, logId: hook.body.log },
        headers: admin,
      }),
    );
    if (entry.status !== 200 || entry.body.status !== 'succeeded') {
      throw new Error(`log entry: ${entry.status} ${JSON.stringify(entry.body)}`);
    }
    checked.push(`adminLogs: the entry is succeeded with ${entry.body.attempts.length} attempt(s)`);
    const flowDenied = moto.decisions.slice(flowStart).filter((d) => !d.allowed);
    for (const d of flowDenied)
      failures.push(`a handler was denied ${d.action} on ${d.resource} (${roleOf(d.principal)})`);

    // calls outside each role
    const tables = { triggersTable: facts.physical.get('TriggersTable')!, logsTable: facts.physical.get('LogsTable')! };
    const results: string[] = [];
    for (const p of probes(
      moto.endpoint,
      {
        receiver: receiver.credentials,
        deployer: deployer.credentials,
        adminTriggers: adminTriggers.credentials,
        adminLogs: adminLogs.credentials,
      },
      { stack: `${SERVICE}-${STAGE}`, stage: STAGE, otherStage: OTHER_STAGE, ...tables, queueUrl, dlqUrl },
    )) {
      const outcome = await outcomeOf(p);
      results.push(`${p.role}: ${p.call}: ${outcome}`);
      if (outcome !== p.expect) failures.push(`${p.role}: ${p.call}: expected ${p.expect}, got ${outcome}`);
    }
    await moto.setAuth(false);

    const matches = await lint;
    const errors = matches.filter((m) => m.level === 'Error');
    for (const e of errors) failures.push(`cfn-lint ${e.id} at ${e.path}: ${e.message}`);

    console.log('\nChecked:');
    for (const c of checked) console.log(`  ${c}`);
    console.log('\nProbes (calls outside the handlers, with each role):');
    for (const r of results) console.log(`  ${r}`);
    console.log('\nIAM decisions per role (every call made while IAM was enforced):');
    for (const l of summarize(moto.decisions.slice(flowStart))) console.log(`  ${l}`);
    console.log(
      `\ncfn-lint ${path.relative(PROJECT_ROOT, SERVERLESS_DIR)}/cloudformation-template-update-stack.json: ${errors.length} errors, ${matches.length - errors.length} warnings/notes`,
    );
    // one line per rule: how often, and the first place (osls repeats W3005 on every function and route)
    const byRule = new Map<string, typeof matches>();
    for (const m of matches.filter((x) => x.level !== 'Error')) byRule.set(m.id, [...(byRule.get(m.id) ?? []), m]);
    for (const [id, ms] of byRule) console.log(`  ${id} x${ms.length}, e.g. ${ms[0].path}: ${ms[0].message}`);
  } catch (err) {
    failures.push((err as Error).stack ?? String(err));
  } finally {
    try {
      await moto.setAuth(false);
      if (deployed) {
        await osls(['remove', '--stage', STAGE, '--region', REGION], deployEnv);
        say('removed');
      }
    } catch (err) {
      failures.push(`osls remove: ${(err as Error).message}`);
    }
    await target.close();
    await moto.stop();
    fs.rmSync(unpacked, { recursive: true, force: true });
  }
  if (failures.length) {
    console.error(`\ntest:aws FAILED after ${elapsed()}:\n- ${failures.join('\n- ')}`);
    process.exitCode = 1;
  } else {
    console.log(`\ntest:aws passed in ${elapsed()}`);
  }
}

main().catch((err: unknown) => {
  console.error(`test:aws: ${(err as Error).message}`);
  process.exitCode = 1;
});
