import type { CfnTemplate } from '../stacks/synthesize';
import { certificateCovers, checkDeployRules, DEPLOY_RULES, formatFindings, type Finding } from '.';

type Resources = CfnTemplate['Resources'];
const template = (Resources: Resources, Outputs?: CfnTemplate['Outputs']): CfnTemplate => ({
  Resources,
  ...(Outputs ? { Outputs } : {}),
});
const ref = (id: string) => ({ Ref: id });
const arn = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });
const rulesOf = (findings: Finding[]) => [...new Set(findings.map((finding) => finding.rule))];
const check = (t: CfnTemplate, quota?: number) =>
  checkDeployRules(t, { account: { lambdaConcurrencyQuota: quota }, pseudo: { 'AWS::Region': 'eu-west-1' } });

const fn = (reserved?: number) => ({
  Type: 'AWS::Lambda::Function',
  Properties: reserved === undefined ? {} : { ReservedConcurrentExecutions: reserved },
});
const document = (...Statement: unknown[]) => ({ Version: '2012-10-17', Statement });
const tlsOnly = (action: string, resource: unknown) => ({
  Sid: 'AllowPublishThroughSSLOnly',
  Effect: 'Deny',
  Principal: '*',
  Action: action,
  Resource: resource,
  Condition: { Bool: { 'aws:SecureTransport': 'false' } },
});
const SOURCE_ACCOUNT = { StringEquals: { 'aws:SourceAccount': '333333333333' } };

describe('deploy rules: each fires on the template AWS would refuse or get wrong', () => {
  it('every rule has an id, a description and an AWS documentation link', () => {
    for (const rule of DEPLOY_RULES) {
      expect(rule.id).toMatch(/^[a-z0-9-]+$/);
      expect(rule.doc).toMatch(/^https:\/\/docs\.aws\.amazon\.com\//);
    }
    expect(new Set(DEPLOY_RULES.map((rule) => rule.id)).size).toBe(DEPLOY_RULES.length);
  });

  describe('lambda-concurrency-budget', () => {
    const five = (each: number) =>
      template(Object.fromEntries(['A', 'B', 'C', 'D', 'E'].map((id) => [id, fn(each)])));
    it('refuses 5 x 200 at the default quota of 1000 (100 must stay unreserved)', () => {
      const findings = check(five(200));
      expect(rulesOf(findings)).toEqual(['lambda-concurrency-budget']);
      expect(findings[0]!.message).toMatch(/add up to 1000 .* at most 900/);
    });
    it('refuses 5 x 20 in a new account whose quota is 50', () => {
      expect(rulesOf(check(five(20), 50))).toEqual(['lambda-concurrency-budget']);
    });
    it('accepts reservations within quota - 100', () => {
      expect(check(five(180))).toEqual([]);
      expect(check(five(10), 150)).toEqual([]);
    });
  });

  describe('sqs-event-source-max-concurrency', () => {
    const mapping = (fnId: string, queue: string, max?: number) => ({
      Type: 'AWS::Lambda::EventSourceMapping',
      Properties: {
        FunctionName: ref(fnId),
        EventSourceArn: arn(queue),
        ...(max === undefined ? {} : { ScalingConfig: { MaximumConcurrency: max } }),
      },
    });
    const queue = { Type: 'AWS::SQS::Queue', Properties: {} };
    it('flags an SQS event source of a reserved function without MaximumConcurrency', () => {
      const findings = check(template({ Fn: fn(10), Q: queue, M: mapping('Fn', 'Q') }));
      expect(findings).toEqual([
        expect.objectContaining({ rule: 'sqs-event-source-max-concurrency', resource: 'M' }),
      ]);
    });
    it('flags event sources whose caps add up past the reservation, and a cap below 2', () => {
      const findings = check(
        template({ Fn: fn(3), Q1: queue, Q2: queue, M1: mapping('Fn', 'Q1', 3), M2: mapping('Fn', 'Q2', 1) }),
      );
      expect(findings.map((finding) => finding.resource).sort()).toEqual(['Fn', 'M2']);
    });
    it('follows the alias to its function', () => {
      const alias = { Type: 'AWS::Lambda::Alias', Properties: { FunctionName: ref('Fn'), Name: 'live' } };
      const findings = check(template({ Fn: fn(10), Live: alias, Q: queue, M: mapping('Live', 'Q') }));
      expect(rulesOf(findings)).toEqual(['sqs-event-source-max-concurrency']);
      expect(check(template({ Fn: fn(10), Live: alias, Q: queue, M: mapping('Live', 'Q', 5) }))).toEqual([]);
    });
    it('leaves an unreserved function alone', () => {
      expect(check(template({ Fn: fn(), Q: queue, M: mapping('Fn', 'Q') }))).toEqual([]);
    });
  });

  describe('alarm-topic-allows-cloudwatch', () => {
    const alarmStack = (statements: unknown[], keyStatements?: unknown[]) =>
      template({
        Topic: { Type: 'AWS::SNS::Topic', Properties: keyStatements ? { KmsMasterKeyId: arn('Key') } : {} },
        Policy: {
          Type: 'AWS::SNS::TopicPolicy',
          Properties: { Topics: [ref('Topic')], PolicyDocument: document(...statements) },
        },
        ...(keyStatements
          ? { Key: { Type: 'AWS::KMS::Key', Properties: { KeyPolicy: document(...keyStatements) } } }
          : {}),
        Alarm: {
          Type: 'AWS::CloudWatch::Alarm',
          Properties: { AlarmActions: [ref('Topic')], Namespace: 'X', MetricName: 'Y' },
        },
      });
    const allowCloudWatch = {
      Effect: 'Allow',
      Principal: { Service: 'cloudwatch.amazonaws.com' },
      Action: 'sns:Publish',
      Resource: ref('Topic'),
      Condition: SOURCE_ACCOUNT,
    };
    const keyForCloudWatch = {
      Effect: 'Allow',
      Principal: { Service: 'cloudwatch.amazonaws.com' },
      Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      Resource: '*',
      Condition: SOURCE_ACCOUNT,
    };
    it('flags a topic whose policy holds only the TLS deny (it replaced the default policy)', () => {
      const findings = check(alarmStack([tlsOnly('sns:Publish', ref('Topic'))]));
      expect(findings).toEqual([
        expect.objectContaining({ rule: 'alarm-topic-allows-cloudwatch', resource: 'Topic' }),
      ]);
    });
    it('flags an encrypted topic whose key policy leaves CloudWatch out', () => {
      const findings = check(
        alarmStack(
          [allowCloudWatch],
          [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::1:root' }, Action: 'kms:*', Resource: '*' }],
        ),
      );
      expect(findings.map((finding) => finding.message)).toEqual([expect.stringMatching(/key policy/)]);
    });
    it('flags an unconditional deny of sns:Publish', () => {
      const deny = { Sid: 'NoOne', Effect: 'Deny', Principal: '*', Action: 'sns:*', Resource: ref('Topic') };
      expect(check(alarmStack([allowCloudWatch, deny])).map((finding) => finding.message)).toEqual([
        expect.stringMatching(/NoOne denies every sns:Publish/),
      ]);
    });
    it('accepts the allow with its source condition and a key that lets CloudWatch in', () => {
      expect(
        check(alarmStack([tlsOnly('sns:Publish', ref('Topic')), allowCloudWatch], [keyForCloudWatch])),
      ).toEqual([]);
    });
  });

  describe('subscribed-queue-allows-sns', () => {
    const stack = (queueStatements: unknown[] | undefined, keyStatements: unknown[]) =>
      template({
        Topic: { Type: 'AWS::SNS::Topic', Properties: {} },
        Queue: { Type: 'AWS::SQS::Queue', Properties: { KmsMasterKeyId: arn('Key') } },
        Key: { Type: 'AWS::KMS::Key', Properties: { KeyPolicy: document(...keyStatements) } },
        ...(queueStatements
          ? {
              QueuePolicy: {
                Type: 'AWS::SQS::QueuePolicy',
                Properties: { Queues: [ref('Queue')], PolicyDocument: document(...queueStatements) },
              },
            }
          : {}),
        Sub: {
          Type: 'AWS::SNS::Subscription',
          Properties: { Protocol: 'sqs', TopicArn: ref('Topic'), Endpoint: arn('Queue') },
        },
      });
    const sendFromTopic = (topic: string) => ({
      Effect: 'Allow',
      Principal: { Service: 'sns.amazonaws.com' },
      Action: 'sqs:SendMessage',
      Resource: arn('Queue'),
      Condition: { ArnEquals: { 'aws:SourceArn': ref(topic) } },
    });
    const keyForSns = {
      Effect: 'Allow',
      Principal: { Service: 'sns.amazonaws.com' },
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Resource: '*',
      Condition: { ArnEquals: { 'aws:SourceArn': ref('Topic') } },
    };
    it('flags a subscribed queue with no policy letting SNS send', () => {
      expect(rulesOf(check(stack(undefined, [keyForSns])))).toEqual(['subscribed-queue-allows-sns']);
    });
    it('flags a queue policy that lets another topic send', () => {
      const findings = check(stack([sendFromTopic('OtherTopic')], [keyForSns]));
      expect(findings.map((finding) => finding.message)).toEqual([
        expect.stringMatching(/not from the subscribed topic/),
      ]);
    });
    it('flags a queue key that SNS may not use', () => {
      expect(check(stack([sendFromTopic('Topic')], [])).map((finding) => finding.message)).toEqual([
        expect.stringMatching(/key policy does not let sns/),
      ]);
    });
    it('accepts the topic-pinned send and key grant', () => {
      expect(check(stack([sendFromTopic('Topic')], [keyForSns]))).toEqual([]);
    });
  });

  describe('service-grants-pinned-to-source', () => {
    const permission = (extra: Record<string, unknown>) =>
      template({
        Permission: {
          Type: 'AWS::Lambda::Permission',
          Properties: {
            Action: 'lambda:InvokeFunction',
            FunctionName: ref('Fn'),
            Principal: 'elasticloadbalancing.amazonaws.com',
            ...extra,
          },
        },
      });
    it('flags a load balancer permission without SourceArn and SourceAccount', () => {
      expect(rulesOf(check(permission({})))).toEqual(['service-grants-pinned-to-source']);
      expect(rulesOf(check(permission({ SourceAccount: '1' })))).toEqual(['service-grants-pinned-to-source']);
      expect(
        check(permission({ SourceArn: ref('TargetGroup'), SourceAccount: ref('AWS::AccountId') })),
      ).toEqual([]);
    });
    it('flags a key policy that lets a service principal in without a source condition', () => {
      const key = (condition?: unknown) =>
        template({
          Key: {
            Type: 'AWS::KMS::Key',
            Properties: {
              KeyPolicy: document({
                Effect: 'Allow',
                Principal: { Service: 'cloudwatch.amazonaws.com' },
                Action: 'kms:Decrypt',
                Resource: '*',
                ...(condition ? { Condition: condition } : {}),
              }),
            },
          },
        });
      expect(rulesOf(check(key()))).toEqual(['service-grants-pinned-to-source']);
      expect(check(key(SOURCE_ACCOUNT))).toEqual([]);
    });
  });

  describe('connection-permission-prefix', () => {
    const policy = (action: string) =>
      template({
        Role: { Type: 'AWS::IAM::Role', Properties: {} },
        Policy: {
          Type: 'AWS::IAM::Policy',
          Properties: {
            Roles: [ref('Role')],
            PolicyDocument: document({
              Effect: 'Allow',
              Action: action,
              Resource:
                'arn:aws:codeconnections:eu-west-1:444444444444:connection/0f0f0f0f-0000-0000-0000-000000000000',
            }),
          },
        },
      });
    it('flags codestar-connections:UseConnection on a codeconnections ARN', () => {
      expect(rulesOf(check(policy('codestar-connections:UseConnection')))).toEqual([
        'connection-permission-prefix',
      ]);
      expect(check(policy('codeconnections:UseConnection'))).toEqual([]);
    });
  });

  describe('webhook-after-connection-grant', () => {
    const connection =
      'arn:aws:codeconnections:eu-west-1:444444444444:connection/0f0f0f0f-0000-0000-0000-000000000000';
    const stack = (dependsOn?: string[]) =>
      template({
        Role: { Type: 'AWS::IAM::Role', Properties: {} },
        Grant: {
          Type: 'AWS::IAM::Policy',
          Properties: {
            Roles: [ref('Role')],
            PolicyDocument: document({
              Effect: 'Allow',
              Action: 'codeconnections:UseConnection',
              Resource: connection,
            }),
          },
        },
        Project: {
          Type: 'AWS::CodeBuild::Project',
          ...(dependsOn ? { DependsOn: dependsOn } : {}),
          Properties: {
            ServiceRole: arn('Role'),
            Source: { Type: 'GITHUB', Auth: { Type: 'CODECONNECTIONS', Resource: connection } },
            Triggers: { Webhook: true },
          },
        },
      });
    it('flags a webhook project that does not depend on its connection grant', () => {
      expect(rulesOf(check(stack()))).toEqual(['webhook-after-connection-grant']);
      expect(check(stack(['Grant']))).toEqual([]);
    });
  });

  describe('name-length', () => {
    it('flags a role name over 64 characters, resolving pseudo parameters', () => {
      const role = (name: unknown) =>
        template({ Role: { Type: 'AWS::IAM::Role', Properties: { RoleName: name } } });
      const long = {
        'Fn::Join': [
          '-',
          ['Prod-OrderPipeline-with-a-much-longer-stack-name', ref('AWS::Region'), 'post-deploy'],
        ],
      };
      expect(rulesOf(check(role(long)))).toEqual(['name-length']);
      expect(
        check(role({ 'Fn::Join': ['-', ['Prod-OrderPipeline', ref('AWS::Region'), 'post-deploy']] })),
      ).toEqual([]);
    });
  });

  describe('https-url-on-certified-name', () => {
    const url = (host: unknown) => ({ Value: { 'Fn::Join': ['', ['https://', host, '/orders']] } });
    const lb = { Type: 'AWS::ElasticLoadBalancingV2::LoadBalancer', Properties: {} };
    const listener = {
      Type: 'AWS::ElasticLoadBalancingV2::Listener',
      Properties: { Protocol: 'HTTPS', Certificates: [{ CertificateArn: ref('Cert') }] },
    };
    const cert = (name: string) => ({
      Type: 'AWS::CertificateManager::Certificate',
      Properties: { DomainName: name },
    });
    const record = (name: string) => ({
      Type: 'AWS::Route53::RecordSet',
      Properties: { Name: name, Type: 'A' },
    });
    it("flags https:// on the load balancer's DNS name", () => {
      const findings = check(template({ Lb: lb }, { OrdersUrl: url({ 'Fn::GetAtt': ['Lb', 'DNSName'] }) }));
      expect(findings).toEqual([
        expect.objectContaining({ rule: 'https-url-on-certified-name', resource: 'Outputs.OrdersUrl' }),
      ]);
    });
    it('flags a name the certificate does not cover, and one no record points anywhere', () => {
      const uncovered = check(
        template(
          { Lb: lb, L: listener, Cert: cert('*.example.com'), R: record('a.b.example.com.') },
          { OrdersUrl: url('a.b.example.com') },
        ),
      );
      expect(uncovered.map((finding) => finding.message)).toEqual([
        expect.stringMatching(/does not cover a\.b\.example\.com/),
      ]);
      const unrouted = check(
        template(
          { Lb: lb, L: listener, Cert: cert('orders.example.com') },
          { OrdersUrl: url('orders.example.com') },
        ),
      );
      expect(unrouted.map((finding) => finding.message)).toEqual([
        expect.stringMatching(/no Route 53 record/),
      ]);
    });
    it('accepts a covered name with its record, also through a Ref to the record', () => {
      const resources = {
        Lb: lb,
        L: listener,
        Cert: cert('*.example.com'),
        R: record('orders.example.com.'),
      };
      expect(check(template(resources, { OrdersUrl: url('orders.example.com') }))).toEqual([]);
      expect(check(template(resources, { OrdersUrl: url(ref('R')) }))).toEqual([]);
    });
    it('covers a name with a wildcard of exactly one label', () => {
      expect(certificateCovers('*.example.com', 'orders.example.com')).toBe(true);
      expect(certificateCovers('*.example.com', 'example.com')).toBe(false);
      expect(certificateCovers('*.example.com', 'a.orders.example.com')).toBe(false);
      expect(certificateCovers('orders.example.com', 'ORDERS.example.com.')).toBe(true);
    });
  });

  describe('canary-alarms-see-broken-version', () => {
    const alarm = (namespace: string, name: string, dimensions: string[]) => ({
      Type: 'AWS::CloudWatch::Alarm',
      Properties: {
        Namespace: namespace,
        MetricName: name,
        Dimensions: dimensions.map((Name) => ({ Name, Value: 'x' })),
      },
    });
    const group = (...alarms: string[]) => ({
      Type: 'AWS::CodeDeploy::DeploymentGroup',
      Properties: { AlarmConfiguration: { Enabled: true, Alarms: alarms.map((id) => ({ Name: ref(id) })) } },
    });
    it('flags a group that rolls back on Lambda Errors alone, per function', () => {
      const findings = check(
        template({ Errors: alarm('AWS/Lambda', 'Errors', ['FunctionName']), Group: group('Errors') }),
      );
      expect(findings.map((finding) => finding.resource)).toEqual(['Group', 'Errors']);
    });
    it('accepts target 5XX plus version-scoped Lambda errors', () => {
      const t = template({
        Target5xx: alarm('AWS/ApplicationELB', 'HTTPCode_Target_5XX_Count', ['LoadBalancer', 'TargetGroup']),
        Errors: alarm('AWS/Lambda', 'Errors', ['FunctionName', 'Resource', 'ExecutedVersion']),
        Group: group('Target5xx', 'Errors'),
      });
      expect(check(t)).toEqual([]);
    });
    it('flags a group with alarms disabled', () => {
      const t = template({ Group: { Type: 'AWS::CodeDeploy::DeploymentGroup', Properties: {} } });
      expect(rulesOf(check(t))).toEqual(['canary-alarms-see-broken-version']);
    });
  });

  describe('dlq-alarm-counts-arrivals', () => {
    const queues = {
      Work: {
        Type: 'AWS::SQS::Queue',
        Properties: { RedrivePolicy: { deadLetterTargetArn: arn('Dlq'), maxReceiveCount: 5 } },
      },
      Dlq: { Type: 'AWS::SQS::Queue', Properties: {} },
      Drain: {
        Type: 'AWS::Lambda::EventSourceMapping',
        Properties: { EventSourceArn: arn('Dlq'), FunctionName: ref('Fn') },
      },
      Fn: fn(),
    };
    const alarm = (metric: string) => ({
      Type: 'AWS::CloudWatch::Alarm',
      Properties: {
        Namespace: 'AWS/SQS',
        MetricName: metric,
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['Dlq', 'QueueName'] } }],
      },
    });
    it('flags a drained DLQ watched only by its visible count', () => {
      const findings = check(template({ ...queues, Alarm: alarm('ApproximateNumberOfMessagesVisible') }));
      expect(findings).toEqual([
        expect.objectContaining({ rule: 'dlq-alarm-counts-arrivals', resource: 'Dlq' }),
      ]);
    });
    it('flags NumberOfMessagesSent on a redrive DLQ: SQS does not count dead-lettered messages there', () => {
      const findings = check(template({ ...queues, Alarm: alarm('NumberOfMessagesSent') }));
      expect(findings.map((finding) => finding.resource).sort()).toEqual(['Alarm', 'Dlq']);
    });
    it('accepts NumberOfMessagesReceived by the draining handler', () => {
      expect(check(template({ ...queues, Alarm: alarm('NumberOfMessagesReceived') }))).toEqual([]);
    });
  });

  describe('workflow-log-group-vended', () => {
    const stack = (name?: string) =>
      template({
        Logs: { Type: 'AWS::Logs::LogGroup', Properties: name ? { LogGroupName: name } : {} },
        Machine: {
          Type: 'AWS::StepFunctions::StateMachine',
          Properties: {
            LoggingConfiguration: {
              Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: arn('Logs') } }],
            },
          },
        },
      });
    it('flags a state machine logging outside /aws/vendedlogs/', () => {
      expect(rulesOf(check(stack()))).toEqual(['workflow-log-group-vended']);
      expect(rulesOf(check(stack('/orders/workflow')))).toEqual(['workflow-log-group-vended']);
      expect(check(stack('/aws/vendedlogs/states/orders-workflow'))).toEqual([]);
    });
  });

  describe('lambda-log-filters-keep-emf', () => {
    const logging = (
      LoggingConfig: Record<string, string>,
      variables: Record<string, string> = { POWERTOOLS_SERVICE_NAME: 'order-x' },
    ) =>
      template({
        Fn: {
          Type: 'AWS::Lambda::Function',
          Properties: { LoggingConfig, Environment: { Variables: variables } },
        },
      });
    it('flags an application filter above INFO on a Powertools function (its EMF lines count as INFO)', () => {
      const findings = check(
        logging({ LogFormat: 'JSON', ApplicationLogLevel: 'WARN', SystemLogLevel: 'WARN' }),
      );
      expect(rulesOf(findings)).toEqual(['lambda-log-filters-keep-emf']);
      expect(findings[0]!.message).toMatch(/ApplicationLogLevel WARN drops/);
      expect(rulesOf(check(logging({ LogFormat: 'JSON', ApplicationLogLevel: 'ERROR' })))).toEqual([
        'lambda-log-filters-keep-emf',
      ]);
    });
    it('accepts the filter at INFO, text without filters, and a function without Powertools', () => {
      expect(
        check(logging({ LogFormat: 'JSON', ApplicationLogLevel: 'INFO', SystemLogLevel: 'WARN' })),
      ).toEqual([]);
      expect(check(logging({}))).toEqual([]);
      expect(check(logging({ LogFormat: 'JSON', ApplicationLogLevel: 'ERROR' }, {}))).toEqual([]);
    });
  });

  it('formats findings with the reason and the documentation of each broken rule', () => {
    const text = formatFindings(check(template({ A: fn(950) })));
    expect(text).toMatch(/^lambda-concurrency-budget {2}A: reservations add up to 950/);
    expect(text).toMatch(/Why:\n {2}lambda-concurrency-budget: .*configuration-concurrency\.html/);
  });
});
