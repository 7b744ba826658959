/**
 * The alarms, their SNS topic and the dashboard in serverless.yml, read the way the local stack reads it
 * (lib/local/resources.ts resolves the same variables osls does; `npx osls package` takes 5-25 s, too slow here).
 */
import { loadServerlessConfig } from '../../../lib/local/resources';
import { MetricName, METRICS_NAMESPACE } from '../../../lib/core/metrics';

const load = (env: Record<string, string | undefined> = {}) => loadServerlessConfig({ stage: 'prod', env });

describe('serverless.yml alarms', () => {
  const config = load();
  const r = config.resources.Resources;

  it('has an SNS topic for alarms, subscribed by e-mail only when ALARM_EMAIL is set', () => {
    expect(r.AlarmTopic.Type).toBe('AWS::SNS::Topic');
    expect(r.AlarmEmailSubscription).toMatchObject({
      Type: 'AWS::SNS::Subscription',
      Condition: 'HasAlarmEmail',
      Properties: { TopicArn: { Ref: 'AlarmTopic' }, Protocol: 'email' },
    });
    // unset: the condition compares '' with '' (false), so no subscription is created
    expect(config.resources.Conditions.HasAlarmEmail).toEqual({ 'Fn::Not': [{ 'Fn::Equals': ['', ''] }] });
    const withEmail = load({ ALARM_EMAIL: 'ops@example.com' });
    expect(withEmail.resources.Conditions.HasAlarmEmail).toEqual({
      'Fn::Not': [{ 'Fn::Equals': ['ops@example.com', ''] }],
    });
    expect(withEmail.resources.Resources.AlarmEmailSubscription.Properties.Endpoint).toBe('ops@example.com');
  });

  it('alarms when the DLQ has a visible message', () => {
    expect(r.DeadLetterQueueAlarm).toMatchObject({
      Type: 'AWS::CloudWatch::Alarm',
      Properties: {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['DeployDLQ', 'QueueName'] } }],
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        AlarmActions: [{ Ref: 'AlarmTopic' }],
      },
    });
  });

  it('alarms on failed deploys: the DeploysFailed metric, Sum > 0 over 5 minutes', () => {
    expect(r.FailedDeploysAlarm).toMatchObject({
      Type: 'AWS::CloudWatch::Alarm',
      Properties: {
        Namespace: METRICS_NAMESPACE,
        MetricName: MetricName.DeploysFailed,
        Dimensions: [{ Name: 'service', Value: 'triggerfish' }],
        Statistic: 'Sum',
        Period: 300,
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [{ Ref: 'AlarmTopic' }],
      },
    });
  });

  it('gives the functions the log level and metrics namespace settings', () => {
    expect(config.provider.environment).toMatchObject({
      LOG_LEVEL: 'INFO',
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
    });
    expect(load({ LOG_LEVEL: 'DEBUG' }).provider.environment.LOG_LEVEL).toBe('DEBUG');
  });

  it('has a dashboard of every metric, valid JSON once substituted, with partition-aware ARNs', () => {
    expect(r.Dashboard.Type).toBe('AWS::CloudWatch::Dashboard');
    const [template, vars] = r.Dashboard.Properties.DashboardBody['Fn::Sub'];
    expect(vars).toMatchObject({
      Namespace: METRICS_NAMESPACE,
      Service: 'triggerfish',
      DeadLetterQueueName: { 'Fn::GetAtt': ['DeployDLQ', 'QueueName'] },
    });
    const body = JSON.parse(template.replace(/\$\{[^}]+\}/g, 'X'));
    expect(body.widgets.length).toBeGreaterThanOrEqual(6);
    for (const name of Object.values(MetricName)) expect(template).toContain(name);
    expect(template).toContain('ApproximateNumberOfMessagesVisible');
    const arns = template.match(/"arn:[^"]*"/g) ?? [];
    expect(arns.length).toBe(2);
    for (const arn of arns) expect(arn).toMatch(/^"arn:\$\{AWS::Partition\}:/);
  });
});
