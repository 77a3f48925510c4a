import { Match } from 'aws-cdk-lib/assertions';
import { logicalIds, show, synth, SYNTH_TIMEOUT_MS, type Synthesized } from './template-helpers';
import { loadEnvironment } from '../../environments';

type State = {
  Type: string;
  Next?: string;
  End?: boolean;
  Resource?: unknown;
  Retry?: { ErrorEquals: string[] }[];
  Catch?: { ErrorEquals: string[]; Next: string }[];
  Choices?: { Next: string }[];
  Default?: string;
  ItemProcessor?: unknown;
};

function definitionOf(s: Synthesized): { StartAt: string; States: Record<string, State> } {
  const id = logicalIds(s.json, 'AWS::StepFunctions::StateMachine')[0]!;
  const body = s.json.Resources[id]!.Properties!.DefinitionString as { 'Fn::Join': [string, unknown[]] };
  // Tokens (ARNs, names) become placeholders; the structure is what matters here.
  const text = body['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : 'TOKEN')).join('');
  return JSON.parse(text);
}
const catches = (state: State) =>
  Object.fromEntries((state.Catch ?? []).map((c) => [c.ErrorEquals.join('|'), c.Next]));

describe('workflow, API and alarms (prod)', () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synth('prod');
  }, SYNTH_TIMEOUT_MS);

  it('has exactly the states and transitions of docs/internals.md', () => {
    const { StartAt, States } = definitionOf(s);
    expect(StartAt).toBe('Validate');
    expect(Object.keys(States).sort()).toEqual(
      [
        'Validate',
        'IsValid',
        'FormatReasons',
        'MarkRejected',
        'Rejected',
        'StoreOrder',
        'PublishOrder',
        'Published',
        'AlreadyDone',
        'RecordFailure',
        'MarkFailed',
        'Failed',
      ].sort(),
    );
    expect(States.Validate!.Resource).toBe('TOKEN');
    expect(States.Validate!.Next).toBe('IsValid');
    expect(States.IsValid!.Choices!.map((c) => c.Next)).toEqual(['StoreOrder']);
    expect(States.IsValid!.Default).toBe('FormatReasons');
    expect(States.FormatReasons!.Next).toBe('MarkRejected');
    expect(States.MarkRejected!.Next).toBe('Rejected');
    expect(States.StoreOrder!.Next).toBe('PublishOrder');
    // One write per run on the happy path (issue 14): StoreOrder marks the order PUBLISHED.
    expect(States.PublishOrder!.Next).toBe('Published');
    expect(
      (States.StoreOrder as { Parameters?: { UpdateExpression?: string } }).Parameters?.UpdateExpression,
    ).toBe('SET total_amount = :total, #status = :published, updated_at = :now');
    expect(States.RecordFailure!.Next).toBe('MarkFailed');
    expect(States.MarkFailed!.Next).toBe('Failed');
    expect(States.Failed!.Type).toBe('Fail');
    for (const name of ['Rejected', 'Published', 'AlreadyDone']) expect(States[name]!.Type).toBe('Succeed');

    const ccf = 'DynamoDB.ConditionalCheckFailedException';
    expect(catches(States.MarkRejected!)).toEqual({ [ccf]: 'AlreadyDone', 'States.ALL': 'RecordFailure' });
    // Not ACCEPTED (or gone) any more: nothing is published again.
    expect(catches(States.StoreOrder!)).toEqual({ [ccf]: 'AlreadyDone', 'States.ALL': 'RecordFailure' });
    expect(catches(States.Validate!)).toEqual({ 'States.ALL': 'RecordFailure' });
    expect(catches(States.PublishOrder!)).toEqual({ 'States.ALL': 'RecordFailure' });
    expect(catches(States.RecordFailure!)).toEqual({ [ccf]: 'MarkFailed' });
    expect(catches(States.MarkFailed!)).toEqual({ [ccf]: 'Failed' });
    // The workflow fails only orders it has not published; after that the consumers decide.
    expect(
      (States.MarkFailed as { Parameters?: { ConditionExpression?: string } }).Parameters
        ?.ConditionExpression,
    ).toBe('#status = :accepted');
    expect(States.Validate!.Retry![0]!.ErrorEquals).toEqual(
      expect.arrayContaining(['Lambda.ServiceException', 'Lambda.TooManyRequestsException']),
    );
    for (const name of ['StoreOrder', 'MarkRejected', 'RecordFailure', 'MarkFailed']) {
      expect(States[name]!.Retry![0]!.ErrorEquals).toEqual(
        expect.arrayContaining([
          'DynamoDB.ProvisionedThroughputExceededException',
          'DynamoDB.ThrottlingException',
        ]),
      );
    }
    expect(States.PublishOrder!.Retry![0]!.ErrorEquals).toContain('SNS.ThrottledException');
  });

  it('uses direct integrations with the OrderPlaced message and its attributes', () => {
    const id = logicalIds(s.json, 'AWS::StepFunctions::StateMachine')[0]!;
    const text = show(s.json.Resources[id]!.Properties!.DefinitionString);
    expect(text).toContain('"Resource":"arn:AWS::Partition:states:::dynamodb:updateItem"');
    expect(text).toContain('"Resource":"arn:AWS::Partition:states:::dynamodb:putItem"');
    expect(text).toContain('"Resource":"arn:AWS::Partition:states:::sns:publish"');
    expect(text).toContain('"Message":{"version":1,"type":"OrderPlaced","order.$":"$.validation.order"}');
    expect(text).toMatch(/"MessageAttributes":\{"type":\{"DataType":"String","StringValue":"OrderPlaced"\}/);
    expect(text).toContain('"market":{"DataType":"String","StringValue.$":"$.validation.order.market"}');
    expect(text).toContain('":reasons":{"L.$":"$.reasonsAttribute"}');
    expect(text).toContain('"currency":{"DataType":"String","StringValue.$":"$.validation.order.currency"}');
  });

  it('is an Express state machine logging only errors, without order data, and sampling 1 % for X-Ray', () => {
    s.template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'EXPRESS',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ Level: 'ERROR', IncludeExecutionData: false }),
    });
    s.template.resourceCountIs('AWS::XRay::SamplingRule', 1);
    s.template.hasResourceProperties('AWS::XRay::SamplingRule', {
      SamplingRule: Match.objectLike({
        RuleName: 'order-pipeline-prod',
        ReservoirSize: 0,
        FixedRate: 0.01,
        Priority: 100,
      }),
    });
  });

  it("times runs out at the environment's workflow timeout, and the reconciler's deadlines wait past it", () => {
    const config = loadEnvironment('prod');
    expect(definitionOf(s)).toMatchObject({ TimeoutSeconds: config.workflowTimeoutSeconds });
    const reconciler = logicalIds(s.json, 'AWS::Lambda::Function')
      .map((id) => s.json.Resources[id]!.Properties!.Environment as { Variables?: Record<string, unknown> })
      .find((environment) => environment?.Variables?.ACCEPTED_DEADLINE_SECONDS !== undefined)?.Variables;
    // A restart before a live run's timeout would start a second run of the order. The run may
    // have started up to the publisher's timeout after a claim that a failed start released back
    // by the claim's length (its answer lost), or up to the reconciler's timeout after its claim.
    const accepted = Number(reconciler?.ACCEPTED_DEADLINE_SECONDS);
    const publisher = config.functions.publisher.timeoutSeconds;
    const restartAfter = Number(
      logicalIds(s.json, 'AWS::Lambda::Function')
        .map((id) => s.json.Resources[id]!.Properties!.Environment as { Variables?: Record<string, unknown> })
        .find((environment) => environment?.Variables?.RESTART_AFTER_SECONDS !== undefined)?.Variables
        ?.RESTART_AFTER_SECONDS,
    );
    expect(restartAfter).toBeGreaterThan(publisher);
    expect(accepted).toBeGreaterThanOrEqual(config.workflowTimeoutSeconds + publisher + restartAfter + 1);
    expect(accepted).toBeGreaterThanOrEqual(
      config.workflowTimeoutSeconds + config.functions.reconciler.timeoutSeconds,
    );
    // Exactly the later of those starts, plus the margin: no more waiting than needed.
    expect(accepted).toBe(
      config.workflowTimeoutSeconds +
        Math.max(publisher + restartAfter, config.functions.reconciler.timeoutSeconds) +
        config.functions.reconciler.deadlineMarginSeconds,
    );
    expect(Number(reconciler?.PUBLISHED_DEADLINE_SECONDS)).toBeGreaterThan(
      Number(reconciler?.ACCEPTED_DEADLINE_SECONDS),
    );
  });

  it('serves HTTPS with a redirect from HTTP, rules for the publisher paths and a 404 JSON default', () => {
    s.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Protocol: 'HTTPS',
      Port: 443,
      DefaultActions: [
        {
          Type: 'fixed-response',
          FixedResponseConfig: {
            StatusCode: '404',
            ContentType: 'application/json',
            MessageBody: '{"error":"not_found"}',
          },
        },
      ],
    });
    s.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Protocol: 'HTTP',
      DefaultActions: [
        Match.objectLike({ Type: 'redirect', RedirectConfig: Match.objectLike({ Protocol: 'HTTPS' }) }),
      ],
    });
    const rules = logicalIds(s.json, 'AWS::ElasticLoadBalancingV2::ListenerRule').map(
      (id) =>
        (s.json.Resources[id]!.Properties!.Conditions as { PathPatternConfig: { Values: string[] } }[])[0]!,
    );
    expect(rules.flatMap((c) => c.PathPatternConfig.Values).sort()).toEqual([
      '/health',
      '/orders',
      '/orders/*',
    ]);
    s.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', { TargetType: 'lambda' });
  });

  it('drops invalid headers, logs access, protects the prod ALB and attaches a rate-limiting WAF', () => {
    s.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Scheme: 'internet-facing',
      LoadBalancerAttributes: Match.arrayWith([
        { Key: 'deletion_protection.enabled', Value: 'true' },
        { Key: 'routing.http.drop_invalid_header_fields.enabled', Value: 'true' },
        { Key: 'access_logs.s3.enabled', Value: 'true' },
      ]),
    });
    const prod = loadEnvironment('prod');
    const rateLimited = {
      Block: {
        CustomResponse: {
          ResponseCode: 429,
          CustomResponseBodyKey: 'rate-limited',
          ResponseHeaders: Match.arrayWith([{ Name: 'Retry-After', Value: '300' }]),
        },
      },
    };
    s.template.hasResourceProperties('AWS::WAFv2::WebACL', {
      Scope: 'REGIONAL',
      CustomResponseBodies: {
        'rate-limited': { ContentType: 'APPLICATION_JSON', Content: '{"error":"rate_limited"}' },
      },
      Rules: [
        Match.objectLike({
          Name: 'RateLimitPerSourceIp',
          Action: rateLimited,
          Statement: {
            RateBasedStatement: {
              Limit: prod.wafRateLimit,
              EvaluationWindowSec: 300,
              AggregateKeyType: 'IP',
            },
          },
        }),
        Match.objectLike({
          Name: 'RateLimitPerClientId',
          Action: rateLimited,
          Statement: {
            RateBasedStatement: {
              Limit: prod.wafClientRateLimit,
              EvaluationWindowSec: 300,
              AggregateKeyType: 'CUSTOM_KEYS',
              CustomKeys: [
                { Header: { Name: 'x-client-id', TextTransformations: [{ Priority: 0, Type: 'NONE' }] } },
              ],
            },
          },
        }),
      ],
    });
    s.template.resourceCountIs('AWS::WAFv2::WebACLAssociation', 1);
  });

  it('retains data in prod', () => {
    for (const type of [
      'AWS::DynamoDB::Table',
      'AWS::S3::Bucket',
      'AWS::KMS::Key',
      'AWS::SecretsManager::Secret',
    ]) {
      const ids = logicalIds(s.json, type);
      expect(ids.length).toBeGreaterThan(0);
      for (const id of ids) expect(s.json.Resources[id]!.DeletionPolicy).toBe('Retain');
    }
    s.template.hasResourceProperties('AWS::DynamoDB::Table', { DeletionProtectionEnabled: true });
  });

  it('raises the complete alarm set, each notifying the alarm topic', () => {
    // The canaries' alarms (first-deploy.test.ts) roll deployments back and notify no one.
    const alarms = logicalIds(s.json, 'AWS::CloudWatch::Alarm')
      .filter((id) => !id.includes('Canary'))
      .map((id) => s.json.Resources[id]!.Properties!);
    const names = (metric: string) => alarms.filter((a) => a.MetricName === metric).length;
    expect(names('Errors')).toBe(6);
    expect(names('Throttles')).toBe(6);
    // Any order the reconciler finds stuck means a run was lost somewhere.
    expect(alarms.filter((a) => a.MetricName === 'StuckOrders' && a.Threshold === 1)).toHaveLength(1);
    expect(names('ApproximateAgeOfOldestMessage')).toBe(2);
    // DLQs alarm on arrivals (received by their handler), not on depth or NumberOfMessagesSent.
    expect(names('NumberOfMessagesReceived')).toBe(4);
    expect(names('ApproximateNumberOfMessagesVisible')).toBe(0);
    expect(names('NumberOfMessagesSent')).toBe(0);
    expect(names('HTTPCode_ELB_5XX_Count')).toBe(1);
    expect(names('HTTPCode_Target_5XX_Count')).toBe(1);
    expect(
      alarms.filter((a) => a.MetricName === 'TargetResponseTime' && a.ExtendedStatistic === 'p99'),
    ).toHaveLength(1);
    expect(names('ExecutionsFailed')).toBe(1);
    expect(names('ExecutionsTimedOut')).toBe(1);
    expect(names('ExecutionThrottled')).toBe(1);
    expect(alarms.filter((a) => a.Metrics !== undefined)).toHaveLength(3);
    expect(alarms).toHaveLength(6 + 6 + 2 + 4 + 3 + 3 + 3 + 1);
    for (const alarm of alarms) {
      expect(show(alarm.AlarmActions)).toMatch(/^ObservabilityAlarmTopic/);
    }
    s.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'orders-oncall@example.com',
    });
    s.template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });

  it('exposes the outputs the pipeline and the local stack read', () => {
    const outputs = Object.keys(s.json.Outputs ?? {});
    expect(outputs).toEqual(
      expect.arrayContaining([
        'OrdersUrl',
        'OrdersTableName',
        'BillingTableName',
        'FailedOrdersTableName',
        'ArchiveBucketName',
        'ClientSecretsId',
        'BillingQueueUrl',
        'BillingQueueName',
        'ArchiveQueueUrl',
        'ArchiveDeadLetterQueueUrl',
      ]),
    );
    expect(s.json.Outputs!.OrdersUrl!.Value).toBe('https://orders.example.com/orders');
  });
});

describe('API in dev (plain HTTP allowed)', () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synth('dev');
  }, SYNTH_TIMEOUT_MS);

  it('forwards over HTTP without WAF or deletion protection, and deletes data with the stack', () => {
    s.template.resourceCountIs('AWS::ElasticLoadBalancingV2::Listener', 1);
    s.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Protocol: 'HTTP', Port: 80 });
    s.template.resourceCountIs('AWS::WAFv2::WebACL', 0);
    s.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      LoadBalancerAttributes: Match.arrayWith([{ Key: 'deletion_protection.enabled', Value: 'false' }]),
    });
    for (const id of logicalIds(s.json, 'AWS::DynamoDB::Table'))
      expect(s.json.Resources[id]!.DeletionPolicy).toBe('Delete');
  });
  it('keeps the full workflow history with its data in dev', () => {
    s.template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: true }),
    });
  });
  it("keeps Lambda's text START, END and REPORT lines in dev: no JSON format, no level filter", () => {
    for (const id of logicalIds(s.json, 'AWS::Lambda::Function')) {
      const logging = s.json.Resources[id]!.Properties!.LoggingConfig as Record<string, unknown>;
      expect(Object.keys(logging)).toEqual(['LogGroup']);
    }
  });
});
