/* eslint-disable @typescript-eslint/no-explicit-any -- serverless.yml and the deployed descriptions are untyped here */
/**
 * The deployed stack against what serverless.yml means: tables (keys, GSIs, TTL, billing), queues (FIFO, redrive,
 * visibility timeout, retention), one role per function with the template's statements, the SQS event sources.
 * Each check appends a line to `checked`; each mismatch one to `mismatches`.
 */
import { ListStackResourcesCommand, type StackResourceSummary } from '@aws-sdk/client-cloudformation';
import { DescribeTableCommand, DescribeTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { GetRoleCommand, GetRolePolicyCommand, ListRolePoliciesCommand } from '@aws-sdk/client-iam';
import { GetFunctionConfigurationCommand, ListEventSourceMappingsCommand } from '@aws-sdk/client-lambda';
import { GetQueueAttributesCommand, GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { isDeepStrictEqual } from 'node:util';
import type { Clients } from './aws';

/** SQS defaults for what a queue resource leaves out */
const SQS_DEFAULTS = { VisibilityTimeout: 30, MessageRetentionPeriod: 345600 };

export interface StackFacts {
  physical: Map<string, string>;
  resourceCount: number;
  /** function key -> role ARN */
  roleArns: Map<string, string>;
}

/** every mismatch found (the checks go on, so one run shows them all) */
export const mismatches: string[] = [];

function expectEqual(what: string, actual: unknown, expected: unknown): void {
  if (!isDeepStrictEqual(actual, expected)) {
    mismatches.push(`${what}: deployed ${JSON.stringify(actual)}, serverless.yml means ${JSON.stringify(expected)}`);
  }
}

const byName = <T extends { IndexName?: string }>(xs: T[] = []) =>
  [...xs].sort((a, b) => String(a.IndexName).localeCompare(String(b.IndexName)));
const keys = (ks: any[] = []) => ks.map((k) => `${k.AttributeName}:${k.KeyType}`);

export async function stackResources(aws: Clients, stackName: string): Promise<StackResourceSummary[]> {
  const out: StackResourceSummary[] = [];
  let token: string | undefined;
  do {
    const page = await aws.cfn.send(new ListStackResourcesCommand({ StackName: stackName, NextToken: token }));
    out.push(...(page.StackResourceSummaries ?? []));
    token = page.NextToken;
  } while (token);
  return out;
}

export async function checkResources(
  aws: Clients,
  yml: any,
  stackName: string,
  functionName: (key: string) => string,
  checked: string[],
): Promise<StackFacts> {
  const summaries = await stackResources(aws, stackName);
  const failed = summaries.filter(
    (r) => !/_COMPLETE$/.test(String(r.ResourceStatus)) || /FAILED/.test(String(r.ResourceStatus)),
  );
  if (failed.length) throw new Error(`resources not complete: ${failed.map((r) => r.LogicalResourceId).join(', ')}`);
  const physical = new Map(summaries.map((r) => [r.LogicalResourceId!, r.PhysicalResourceId!]));
  checked.push(`stack ${stackName}: ${summaries.length} resources, all *_COMPLETE`);
  const resources: Record<string, any> = yml.resources.Resources;

  // tables
  for (const [id, r] of Object.entries(resources).filter(([, r]) => r.Type === 'AWS::DynamoDB::Table')) {
    const name = physical.get(id)!;
    const t = (await aws.ddb.send(new DescribeTableCommand({ TableName: name }))).Table!;
    const p = r.Properties;
    expectEqual(`${id} key`, keys(t.KeySchema), keys(p.KeySchema));
    expectEqual(`${id} billing`, t.BillingModeSummary?.BillingMode ?? 'PROVISIONED', p.BillingMode);
    expectEqual(
      `${id} GSIs`,
      byName(t.GlobalSecondaryIndexes).map((g) => [g.IndexName, keys(g.KeySchema), g.Projection?.ProjectionType]),
      byName(p.GlobalSecondaryIndexes).map((g: any) => [g.IndexName, keys(g.KeySchema), g.Projection.ProjectionType]),
    );
    const ttl = (await aws.ddb.send(new DescribeTimeToLiveCommand({ TableName: name }))).TimeToLiveDescription;
    const wantTtl = p.TimeToLiveSpecification;
    expectEqual(
      `${id} TTL`,
      wantTtl ? [ttl?.AttributeName, ttl?.TimeToLiveStatus] : [undefined, ttl?.TimeToLiveStatus ?? 'DISABLED'],
      wantTtl ? [wantTtl.AttributeName, 'ENABLED'] : [undefined, 'DISABLED'],
    );
    checked.push(
      `table ${id}: key ${keys(p.KeySchema).join(',')}; GSIs ${(p.GlobalSecondaryIndexes ?? []).map((g: any) => g.IndexName).join(', ') || 'none'}; TTL ${wantTtl?.AttributeName ?? 'none'}; ${p.BillingMode}`,
    );
  }

  // queues
  const queueArns = new Map<string, string>();
  const queues = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::SQS::Queue');
  for (const [id, r] of queues) {
    const url = (await aws.sqs.send(new GetQueueUrlCommand({ QueueName: r.Properties.QueueName }))).QueueUrl!;
    const a = (await aws.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] })))
      .Attributes!;
    queueArns.set(id, a.QueueArn!);
    (r as any).attributes = a;
  }
  for (const [id, r] of queues) {
    const p = r.Properties;
    const a = (r as any).attributes as Record<string, string>;
    expectEqual(`${id} FifoQueue`, a.FifoQueue === 'true', p.FifoQueue === true);
    for (const k of ['VisibilityTimeout', 'MessageRetentionPeriod'] as const) {
      expectEqual(`${id} ${k}`, Number(a[k]), Number(p[k] ?? SQS_DEFAULTS[k]));
    }
    const redrive = a.RedrivePolicy ? JSON.parse(a.RedrivePolicy) : undefined;
    const want = p.RedrivePolicy;
    expectEqual(
      `${id} redrive`,
      redrive && [redrive.deadLetterTargetArn, Number(redrive.maxReceiveCount)],
      want && [queueArns.get(want.deadLetterTargetArn['Fn::GetAtt'][0]), Number(want.maxReceiveCount)],
    );
    checked.push(
      `queue ${id}: FIFO ${a.FifoQueue}, visibility ${a.VisibilityTimeout} s, retention ${a.MessageRetentionPeriod} s` +
        (want ? `, redrive to ${want.deadLetterTargetArn['Fn::GetAtt'][0]} after ${want.maxReceiveCount}` : ''),
    );
  }

  // functions: each with its own role (the one serverless.yml names), with the template's statements
  const roleArns = new Map<string, string>();
  const timeoutOf = (fn: any) => Number(fn.timeout ?? yml.provider.timeout ?? 6);
  for (const [key, fn] of Object.entries<any>(yml.functions)) {
    const c = await aws.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: functionName(key) }));
    const role = (await aws.iam.send(new GetRoleCommand({ RoleName: physical.get(fn.role)! }))).Role!;
    expectEqual(`${key} role`, c.Role, role.Arn);
    expectEqual(`${key} timeout`, c.Timeout, timeoutOf(fn));
    expectEqual(`${key} runtime`, c.Runtime, yml.provider.runtime);
    const names = (await aws.iam.send(new ListRolePoliciesCommand({ RoleName: role.RoleName }))).PolicyNames ?? [];
    const deployedSids: string[] = [];
    for (const n of names) {
      const doc = (await aws.iam.send(new GetRolePolicyCommand({ RoleName: role.RoleName, PolicyName: n })))
        .PolicyDocument!;
      const parsed = JSON.parse(doc.startsWith('{') ? doc : decodeURIComponent(doc));
      deployedSids.push(...parsed.Statement.filter(Boolean).map((s: any) => `${s.Sid}:${s.Effect}`));
    }
    const templateSids = (resources[fn.role].Properties.Policies as any[]).flatMap((pol) =>
      pol.PolicyDocument.Statement.filter((s: any) => !s['Fn::If']).map((s: any) => `${s.Sid}:${s.Effect}`),
    );
    // Fn::If statements (EcsPassTaskRoles) are decided at deploy time: absent by default
    expectEqual(`${key} role statements`, deployedSids.sort(), templateSids.sort());
    roleArns.set(key, role.Arn!);
  }
  expectEqual('one role per function', new Set(roleArns.values()).size, roleArns.size);
  checked.push(
    `functions: ${roleArns.size}, each with its own role (${roleArns.size} roles), statements as in the template`,
  );

  // SQS event sources: batch size, partial batch responses
  for (const [key, fn] of Object.entries<any>(yml.functions)) {
    for (const e of (fn.events ?? []).filter((x: any) => x.sqs)) {
      const queueId = e.sqs.arn['Fn::GetAtt'][0];
      // by queue: moto keeps the function of a mapping CloudFormation made as its ARN, and filters by name
      const mappings =
        (await aws.lambda.send(new ListEventSourceMappingsCommand({ EventSourceArn: queueArns.get(queueId) })))
          .EventSourceMappings ?? [];
      const m = mappings.find((x) => String(x.FunctionArn).endsWith(`:function:${functionName(key)}`));
      if (!m) {
        mismatches.push(`${key}: no event source mapping from ${queueId}`);
        continue;
      }
      expectEqual(`${key} batch size`, m.BatchSize, e.sqs.batchSize);
      expectEqual(
        `${key} response types`,
        m.FunctionResponseTypes ?? [],
        e.sqs.functionResponseType ? [e.sqs.functionResponseType] : [],
      );
      checked.push(`event source ${queueId} -> ${key}: batch ${m.BatchSize}, ${m.FunctionResponseTypes?.join(',')}`);
    }
  }
  return { physical, resourceCount: summaries.length, roleArns };
}
