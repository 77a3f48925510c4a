/**
 * What AWS refuses or gets wrong on a real account that cdk-nag, cfn-lint and the local stack
 * cannot see (issue 11): service principals in resource policies, alarms that can see what they
 * watch, and names AWS requires. Each test failed on the templates before the fix.
 */
import { logicalId, logicalIds, show, synth, SYNTH_TIMEOUT_MS, type Synthesized } from './template-helpers';

interface Statement {
  Sid?: string;
  Effect: string;
  Principal?: { Service?: string | string[]; AWS?: unknown } | string;
  Action: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
}
interface AlarmProperties {
  MetricName?: string;
  Namespace?: string;
  Dimensions?: { Name: string; Value: unknown }[];
  Metrics?: { Id: string; Expression?: string; MetricStat?: { Metric: { MetricName: string } } }[];
  Threshold: number;
  AlarmActions?: unknown[];
}

const servicePrincipalOf = (statement: Statement) =>
  typeof statement.Principal === 'object' ? statement.Principal.Service : undefined;

/** The metric names an alarm reads, its own or those of its math expression. */
const metricNamesOf = (alarm: AlarmProperties) =>
  alarm.MetricName
    ? [alarm.MetricName]
    : (alarm.Metrics ?? []).flatMap((metric) =>
        metric.MetricStat ? [metric.MetricStat.Metric.MetricName] : [],
      );

describe('first deploy on a real account (prod)', () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synth('prod');
  }, SYNTH_TIMEOUT_MS);
  const resource = (id: string) => s.json.Resources[id]!;
  const alarm = (id: string) => resource(id).Properties as unknown as AlarmProperties;

  it('lets CloudWatch publish to the alarm topic, for this account only, next to the TLS-only deny', () => {
    const policyId = logicalId(s.json, 'AWS::SNS::TopicPolicy', 'ObservabilityAlarmTopicPolicy');
    const statements = (resource(policyId).Properties!.PolicyDocument as { Statement: Statement[] })
      .Statement;
    expect(statements.find((statement) => statement.Effect === 'Deny')).toMatchObject({
      Action: 'sns:Publish',
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    });
    const allow = statements.filter((statement) => statement.Effect === 'Allow');
    expect(allow).toHaveLength(1);
    expect(allow[0]).toMatchObject({
      Principal: { Service: 'cloudwatch.amazonaws.com' },
      Action: 'sns:Publish',
      Condition: {
        StringEquals: { 'aws:SourceAccount': '333333333333' },
        ArnLike: { 'aws:SourceArn': expect.anything() },
      },
    });
    expect(show(allow[0]!.Condition!.ArnLike!['aws:SourceArn'])).toBe(
      'arn:aws:cloudwatch:eu-west-1:333333333333:alarm:*',
    );
  });

  it('gives CloudWatch the alarm key under the same conditions', () => {
    const keyId = logicalId(s.json, 'AWS::KMS::Key', 'ObservabilityAlarmKey');
    const statements = (resource(keyId).Properties!.KeyPolicy as { Statement: Statement[] }).Statement;
    const cloudWatch = statements.filter(
      (statement) => servicePrincipalOf(statement) === 'cloudwatch.amazonaws.com',
    );
    expect(cloudWatch).toHaveLength(1);
    expect(cloudWatch[0]!.Condition).toMatchObject({
      StringEquals: { 'aws:SourceAccount': '333333333333' },
      ArnLike: { 'aws:SourceArn': expect.anything() },
    });
  });

  it('conditions every key-policy grant to a service principal on aws:SourceAccount', () => {
    const grants = logicalIds(s.json, 'AWS::KMS::Key').flatMap((id) =>
      (resource(id).Properties!.KeyPolicy as { Statement: Statement[] }).Statement.filter(
        (statement) => servicePrincipalOf(statement) !== undefined,
      ).map((statement) => ({ id, statement })),
    );
    // The alarm key (CloudWatch) and the queue key (SNS, written by CDK's SqsSubscription).
    expect(grants.map(({ statement }) => servicePrincipalOf(statement)).sort()).toEqual([
      'cloudwatch.amazonaws.com',
      'sns.amazonaws.com',
    ]);
    for (const { statement } of grants) {
      expect(statement.Condition?.StringEquals?.['aws:SourceAccount']).toBe('333333333333');
    }
  });

  it('alarms on every arrival at a DLQ, not on visible messages the handler drains in seconds', () => {
    const arrivals = logicalIds(s.json, 'AWS::CloudWatch::Alarm').filter(
      (id) => id.endsWith('ArrivalsAlarm') || /Arrivals[0-9A-F]{8}$/.test(id),
    );
    expect(arrivals).toHaveLength(4);
    for (const id of arrivals) {
      const properties = alarm(id);
      expect(properties).toMatchObject({
        Namespace: 'AWS/SQS',
        MetricName: 'NumberOfMessagesReceived',
        Threshold: 1,
      });
      expect(show(properties.AlarmActions)).toMatch(/^ObservabilityAlarmTopic/);
    }
    const visible = logicalIds(s.json, 'AWS::CloudWatch::Alarm').filter((id) =>
      metricNamesOf(alarm(id)).includes('ApproximateNumberOfMessagesVisible'),
    );
    expect(visible).toEqual([]);
  });

  describe('canary deployments watch what a broken version produces', () => {
    const watched = () => {
      const groups = logicalIds(s.json, 'AWS::CodeDeploy::DeploymentGroup');
      return Object.fromEntries(
        groups.map((groupId) => {
          const names = (
            resource(groupId).Properties!.AlarmConfiguration as { Alarms: { Name: { Ref: string } }[] }
          ).Alarms.map((entry) => entry.Name.Ref);
          const handler = /^(\w+?)Function/.exec(groupId)![1]!;
          return [handler, names];
        }),
      );
    };

    it('each group watches more than AWS/Lambda Errors', () => {
      const groups = watched();
      const signals = Object.fromEntries(
        Object.entries(groups).map(([handler, alarms]) => [
          handler,
          alarms.flatMap((id) => metricNamesOf(alarm(id))).sort(),
        ]),
      );
      expect(signals).toEqual({
        Publisher: ['DependencyFailures', 'Errors', 'HTTPCode_Target_5XX_Count', 'UnhandledErrors'],
        Validate: ['Errors', 'ExecutionsFailed'],
        Dlq: [
          'ApproximateAgeOfOldestMessage',
          'ApproximateAgeOfOldestMessage',
          'ApproximateAgeOfOldestMessage',
          'ApproximateAgeOfOldestMessage',
          'Errors',
        ],
        Billing: ['Errors', 'NumberOfMessagesReceived', 'RecordFailures'],
        Archive: ['Errors', 'NumberOfMessagesReceived', 'RecordFailures'],
        Reconciler: ['DependencyFailures', 'Errors'],
      });
    });

    it("scopes Lambda's errors to the new version through the live alias, and the alias waits for that alarm", () => {
      for (const [handler, alarms] of Object.entries(watched())) {
        const errors = alarms.find((id) => alarm(id).MetricName === 'Errors')!;
        const dimensions = Object.fromEntries(
          alarm(errors).Dimensions!.map((dimension) => [dimension.Name, show(dimension.Value)]),
        );
        const functionId = logicalId(s.json, 'AWS::Lambda::Function', `${handler}Function`);
        expect(dimensions.FunctionName).toBe(functionId);
        expect(dimensions.Resource).toBe(`${functionId}:live`);
        expect(dimensions.ExecutedVersion).toMatch(
          new RegExp(`^${handler}FunctionCurrentVersion\\w+\\.Version$`),
        );
        const aliasId = logicalId(s.json, 'AWS::Lambda::Alias', `${handler}FunctionLiveAlias`);
        expect(resource(aliasId).DependsOn).toEqual(expect.arrayContaining([errors]));
      }
    });

    it('publisher: target 5xx of its load balancer and its EMF failure metrics', () => {
      const alarms = watched().Publisher!.map(alarm);
      const byName: Record<string, AlarmProperties> = Object.fromEntries(
        alarms.map((properties) => [properties.MetricName, properties]),
      );
      expect(show(byName.HTTPCode_Target_5XX_Count!.Dimensions!.map((d) => d.Name))).toBe('LoadBalancer');
      for (const name of ['DependencyFailures', 'UnhandledErrors']) {
        expect(byName[name]).toMatchObject({
          Namespace: 'OrderPipeline',
          Dimensions: [{ Name: 'service', Value: 'order-publisher' }],
          Threshold: 1,
        });
      }
    });

    it("validate: the workflow's failed executions, on the state machine's ARN spelled out from its name", () => {
      const failures = watched()
        .Validate!.map(alarm)
        .find((p) => p.MetricName === 'ExecutionsFailed')!;
      const machine = resource(logicalIds(s.json, 'AWS::StepFunctions::StateMachine')[0]!).Properties!;
      expect(machine.StateMachineName).toBe('Prod-OrderPipeline-orders-express');
      expect(failures.Dimensions).toEqual([
        {
          Name: 'StateMachineArn',
          Value: 'arn:aws:states:eu-west-1:333333333333:stateMachine:Prod-OrderPipeline-orders-express',
        },
      ]);
    });

    it('dlq handler: a dead-lettered message older than one visibility timeout was not recorded', () => {
      const [backlog] = watched().Dlq!.filter((id) => alarm(id).Metrics);
      // 6 x the DLQ handler's 10 s timeout in prod.
      expect(alarm(backlog!).Threshold).toBe(60);
      expect(alarm(backlog!).Metrics!.find((metric) => metric.Expression)!.Expression).toMatch(/^MAX\(\[/);
    });
  });

  it("lets only this account's publisher target group invoke the publisher alias, before it registers it", () => {
    const permissions = logicalIds(s.json, 'AWS::Lambda::Permission').filter(
      (id) => resource(id).Properties!.Principal === 'elasticloadbalancing.amazonaws.com',
    );
    expect(permissions).toHaveLength(1);
    const permission = resource(permissions[0]!).Properties!;
    const targetGroupId = logicalId(
      s.json,
      'AWS::ElasticLoadBalancingV2::TargetGroup',
      'ApiPublisherTargets',
    );
    const targetGroup = resource(targetGroupId);
    expect(targetGroup.Properties!.Name).toBe('Prod-OrderPipeline-publisher');
    expect(permission.SourceAccount).toBe('333333333333');
    expect(show(permission.SourceArn)).toBe(
      'arn:aws:elasticloadbalancing:eu-west-1:333333333333:targetgroup/Prod-OrderPipeline-publisher/*',
    );
    expect(show(permission.FunctionName)).toMatch(/^PublisherFunctionLiveAlias/);
    expect(targetGroup.DependsOn).toEqual(expect.arrayContaining([permissions[0]]));
  });

  it("keeps Lambda's unreserved 100, and every SQS mapping of a reserved function within its reservation", () => {
    const functions = logicalIds(s.json, 'AWS::Lambda::Function');
    const reserved = Object.fromEntries(
      functions.map((id) => [
        id,
        resource(id).Properties!.ReservedConcurrentExecutions as number | undefined,
      ]),
    );
    const total = Object.values(reserved).reduce<number>((sum, value) => sum + (value ?? 0), 0);
    expect(total).toBe(400);
    expect(total).toBeLessThanOrEqual(1000 - 100);
    const mappingsOf: Record<string, number[]> = {};
    for (const id of logicalIds(s.json, 'AWS::Lambda::EventSourceMapping')) {
      const properties = resource(id).Properties!;
      // Mappings are named after the alias they invoke: `<Handler>FunctionLiveAliasSqsEventSource...`.
      const handler = /^(\w+?)FunctionLiveAlias/.exec(id)![1]!;
      const functionId = logicalId(s.json, 'AWS::Lambda::Function', `${handler}Function`);
      const maximum = (properties.ScalingConfig as { MaximumConcurrency?: number } | undefined)
        ?.MaximumConcurrency;
      expect(maximum).toBeGreaterThanOrEqual(2);
      (mappingsOf[functionId] ??= []).push(maximum!);
    }
    expect(Object.keys(mappingsOf).sort()).toEqual(
      functions.filter((id) => /^(Billing|Archive|Dlq)Function/.test(id)).sort(),
    );
    const checked = Object.entries(mappingsOf).filter(([functionId]) => reserved[functionId] !== undefined);
    // Billing and archive reserve; the DLQ handler does not (environments/prod.ts says why).
    expect(checked).toHaveLength(2);
    for (const [functionId, maximums] of checked) {
      const sum = maximums.reduce((a, b) => a + b, 0);
      expect(sum).toBeLessThanOrEqual(reserved[functionId]!);
    }
  });

  it('logs the workflow under /aws/vendedlogs/states/', () => {
    const logGroup = resource(logicalId(s.json, 'AWS::Logs::LogGroup', 'WorkflowLogGroup'));
    expect(logGroup.Properties!.LogGroupName).toBe('/aws/vendedlogs/states/Prod-OrderPipeline-orders');
  });
});

describe('HTTPS names and the smoke client', () => {
  let prod: Synthesized;
  let staging: Synthesized;
  beforeAll(() => {
    prod = synth('prod');
    staging = synth('staging');
  }, SYNTH_TIMEOUT_MS);

  it.each([
    ['prod', 'orders.example.com', 'Z0000000000000000PROD'],
    ['staging', 'orders.staging.example.com', 'Z00000000000000STAGE'],
  ])('%s: OrdersUrl is on %s, aliased to the load balancer in its hosted zone', (name, host, zone) => {
    const s = name === 'prod' ? prod : staging;
    expect(s.json.Outputs!.OrdersUrl!.Value).toBe(`https://${host}/orders`);
    const record = s.json.Resources[logicalId(s.json, 'AWS::Route53::RecordSet', 'ApiRecord')]!.Properties!;
    expect(record).toMatchObject({ Name: `${host}.`, Type: 'A', HostedZoneId: zone });
    expect(show((record.AliasTarget as { DNSName: unknown }).DNSName)).toMatch(/ApiLoadBalancer.*DNSName/);
  });

  it('staging requests a DNS-validated certificate for its name; prod uses its existing one', () => {
    staging.template.hasResourceProperties('AWS::CertificateManager::Certificate', {
      DomainName: 'orders.staging.example.com',
      ValidationMethod: 'DNS',
      DomainValidationOptions: [
        { DomainName: 'orders.staging.example.com', HostedZoneId: 'Z00000000000000STAGE' },
      ],
    });
    prod.template.resourceCountIs('AWS::CertificateManager::Certificate', 0);
    const https = logicalIds(prod.json, 'AWS::ElasticLoadBalancingV2::Listener')
      .map((id) => prod.json.Resources[id]!.Properties!)
      .find((listener) => listener.Protocol === 'HTTPS')!;
    expect(https.Certificates).toEqual([
      {
        CertificateArn: 'arn:aws:acm:eu-west-1:333333333333:certificate/00000000-0000-0000-0000-000000000003',
      },
    ]);
  });

  it('prod starts with a smoke-test client whose generated secret is its own', () => {
    const secrets = logicalIds(prod.json, 'AWS::SecretsManager::Secret');
    const smoke = secrets.find((id) => id.startsWith('ClientSecretsSmokeClientSecret'))!;
    expect(prod.json.Resources[smoke]!.Properties!.GenerateSecretString).toBeDefined();
    const document = show(
      prod.json.Resources[logicalId(prod.json, 'AWS::SecretsManager::Secret', 'ClientSecretsSecret')]!
        .Properties!.SecretString,
    );
    expect(document).toContain('"smoke-test":["');
    expect(document).not.toContain('demo-client');
    expect(show(prod.json.Outputs!.SmokeClientSecretId!.Value)).toBe(smoke);
  });
});
