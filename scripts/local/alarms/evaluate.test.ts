import { TemplateSet, type CfnTemplate } from '../cfn-template';
import { MetricStore } from '../metrics/metric-store';
import { alarmDefinitions, type AlarmDefinition } from './definitions';
import { evaluateAlarm } from './evaluate';
import { parseExpression, evaluateExpression, UnsupportedExpressionError } from './metric-math';
import { TopicPolicyCheck } from './notifier';

const METRIC = {
  namespace: 'AWS/ApplicationELB',
  metricName: 'HTTPCode_Target_5XX_Count',
  dimensions: { LoadBalancer: 'lb' },
};

function alarm(overrides: Partial<AlarmDefinition> = {}): AlarmDefinition {
  return {
    logicalId: 'Target5xx',
    stack: 'S',
    name: 'S-Target5xx',
    arn: 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:S-Target5xx',
    metric: { ...METRIC, statistic: 'Sum', periodSeconds: 60 },
    periodSeconds: 60,
    evaluationPeriods: 3,
    datapointsToAlarm: 2,
    threshold: 5,
    comparisonOperator: 'GreaterThanOrEqualToThreshold',
    treatMissingData: 'missing',
    evaluateLowSampleCountPercentile: 'evaluate',
    actionsEnabled: true,
    alarmActions: [],
    okActions: [],
    insufficientDataActions: [],
    ...overrides,
  };
}

/** One datapoint per listed period (undefined = none), periods 0..n-1 of 60 s. */
function storeWith(values: Array<number | undefined>, metric = METRIC): MetricStore {
  const store = new MetricStore();
  values.forEach((value, index) => {
    if (value !== undefined) store.put({ ...metric, timestamp: index * 60_000 + 1_000, value });
  });
  return store;
}

const AT_END = 3 * 60_000 + 5_000;

describe('evaluateAlarm', () => {
  it('goes to ALARM when M of the last N complete periods breach, and to OK when fewer do', () => {
    expect(evaluateAlarm(alarm(), storeWith([5, 0, 9]), AT_END, 'OK').state).toBe('ALARM');
    expect(evaluateAlarm(alarm(), storeWith([5, 0, 1]), AT_END, 'ALARM').state).toBe('OK');
    // The period still running (the fourth) is not evaluated.
    const running = storeWith([0, 0, 0, 50]);
    expect(evaluateAlarm(alarm(), running, AT_END, 'OK').state).toBe('OK');
  });

  it('aggregates every datapoint of a period with the statistic before comparing', () => {
    const store = storeWith([]);
    for (let i = 0; i < 5; i += 1) store.put({ ...METRIC, timestamp: 2 * 60_000 + i, value: 1 });
    const single = alarm({ evaluationPeriods: 1, datapointsToAlarm: 1 });
    expect(evaluateAlarm(single, store, AT_END, 'OK').state).toBe('ALARM');
    const average = alarm({
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      metric: { ...METRIC, statistic: 'Average', periodSeconds: 60 },
    });
    expect(evaluateAlarm(average, store, AT_END, 'OK').state).toBe('OK');
  });

  it('treats missing periods as the alarm says', () => {
    const oneBreach = storeWith([undefined, undefined, 9]);
    expect(evaluateAlarm(alarm({ treatMissingData: 'breaching' }), oneBreach, AT_END, 'OK').state).toBe(
      'ALARM',
    );
    expect(evaluateAlarm(alarm({ treatMissingData: 'notBreaching' }), oneBreach, AT_END, 'OK').state).toBe(
      'OK',
    );
    expect(evaluateAlarm(alarm({ treatMissingData: 'missing' }), oneBreach, AT_END, 'OK').state).toBe('OK');
    const empty = new MetricStore();
    expect(evaluateAlarm(alarm({ treatMissingData: 'missing' }), empty, AT_END, 'OK').state).toBe(
      'INSUFFICIENT_DATA',
    );
    expect(evaluateAlarm(alarm({ treatMissingData: 'ignore' }), empty, AT_END, 'ALARM').state).toBe('ALARM');
    expect(evaluateAlarm(alarm({ treatMissingData: 'breaching' }), empty, AT_END, 'OK').state).toBe('ALARM');
    expect(evaluateAlarm(alarm({ treatMissingData: 'notBreaching' }), empty, AT_END, 'ALARM').state).toBe(
      'OK',
    );
  });

  it('ignores missing data on AWS/DynamoDB metrics whatever the alarm says', () => {
    const dynamo = {
      namespace: 'AWS/DynamoDB',
      metricName: 'WriteThrottleEvents',
      dimensions: { TableName: 't' },
    };
    const definition = alarm({
      metric: { ...dynamo, statistic: 'Sum', periodSeconds: 60 },
      treatMissingData: 'notBreaching',
    });
    expect(evaluateAlarm(definition, new MetricStore(), AT_END, 'ALARM').state).toBe('ALARM');
  });

  it('skips percentile periods with too few samples only when told to ignore them', () => {
    const latency = {
      namespace: 'AWS/ApplicationELB',
      metricName: 'TargetResponseTime',
      dimensions: { LoadBalancer: 'lb' },
    };
    const store = storeWith([3, 3, 3], latency);
    const p99 = (low: 'evaluate' | 'ignore') =>
      alarm({
        metric: { ...latency, statistic: 'p99', periodSeconds: 60 },
        threshold: 2,
        evaluateLowSampleCountPercentile: low,
      });
    expect(evaluateAlarm(p99('evaluate'), store, AT_END, 'OK').state).toBe('ALARM');
    expect(evaluateAlarm(p99('ignore'), store, AT_END, 'OK').state).toBe('INSUFFICIENT_DATA');
  });

  it('evaluates metric math one period at a time', () => {
    const reads = {
      namespace: 'AWS/DynamoDB',
      metricName: 'ReadThrottleEvents',
      dimensions: { TableName: 't' },
    };
    const writes = { ...reads, metricName: 'WriteThrottleEvents' };
    const store = new MetricStore();
    store.put({ ...reads, timestamp: 2 * 60_000, value: 2 });
    store.put({ ...writes, timestamp: 2 * 60_000, value: 3 });
    const math = alarm({
      metric: undefined,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      queries: [
        { id: 'reads', metricStat: { ...reads, statistic: 'Sum', periodSeconds: 60 }, returnData: false },
        { id: 'writes', metricStat: { ...writes, statistic: 'Sum', periodSeconds: 60 }, returnData: false },
        { id: 'expr', expression: 'reads + writes', returnData: true },
      ],
    });
    const evaluation = evaluateAlarm(math, store, AT_END, 'OK');
    expect(evaluation.state).toBe('ALARM');
    expect(evaluation.datapoints).toEqual([5]);
  });
});

describe('metric math', () => {
  it('does arithmetic with precedence and FILL', () => {
    const values: Record<string, number | undefined> = { a: 2, b: 3, gone: undefined };
    const run = (expression: string) => evaluateExpression(parseExpression(expression), (id) => values[id]);
    expect(run('a + b * 2')).toBe(8);
    expect(run('(a + b) * 2')).toBe(10);
    expect(run('a - -b')).toBe(5);
    expect(run('a + gone')).toBeUndefined();
    expect(run('a + FILL(gone, 0)')).toBe(2);
    expect(run('MAX([a, b, gone])')).toBe(3);
    expect(run('SUM([a, b])')).toBe(5);
    expect(run('MAX([gone])')).toBeUndefined();
    expect(() => parseExpression('ANOMALY_DETECTION_BAND(m1)')).toThrow(UnsupportedExpressionError);
  });
});

describe('alarmDefinitions', () => {
  it('reads an alarm of the template with its defaults and registers its name', () => {
    const template: CfnTemplate = {
      Resources: {
        Topic: { Type: 'AWS::SNS::Topic' },
        Errors12345678: {
          Type: 'AWS::CloudWatch::Alarm',
          Properties: {
            Namespace: 'AWS/Lambda',
            MetricName: 'Errors',
            Dimensions: [{ Name: 'FunctionName', Value: 'f' }],
            Statistic: 'Sum',
            Period: 60,
            EvaluationPeriods: 3,
            Threshold: 1,
            ComparisonOperator: 'GreaterThanOrEqualToThreshold',
            AlarmActions: [{ Ref: 'Topic' }],
          },
        },
      },
    };
    const templates = new TemplateSet({ S: template }, { region: 'us-east-1', accountId: '123456789012' });
    templates.register('S', 'Topic', { ref: 'arn:aws:sns:us-east-1:123456789012:t', attributes: {} });
    const [definition] = alarmDefinitions(templates, 'us-east-1', '123456789012');
    expect(definition).toMatchObject({
      name: 'S-Errors12345678',
      arn: 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:S-Errors12345678',
      datapointsToAlarm: 3,
      treatMissingData: 'missing',
      alarmActions: ['arn:aws:sns:us-east-1:123456789012:t'],
      metric: { dimensions: { FunctionName: 'f' }, statistic: 'Sum' },
    });
  });
});

describe('TopicPolicyCheck', () => {
  const topicArn = 'arn:aws:sns:us-east-1:123456789012:alarms';
  const alarmArn = 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:a';
  const enforceSsl = {
    Effect: 'Deny',
    Principal: '*',
    Action: 'sns:Publish',
    Resource: { Ref: 'Topic' },
    Condition: { Bool: { 'aws:SecureTransport': 'false' } },
  };
  const cloudWatchPublish = {
    Effect: 'Allow',
    Principal: { Service: 'cloudwatch.amazonaws.com' },
    Action: 'sns:Publish',
    Resource: { Ref: 'Topic' },
    Condition: { ArnLike: { 'aws:SourceArn': 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:*' } },
  };
  const keyStatement = (actions: string[]) => ({
    Effect: 'Allow',
    Principal: { Service: 'cloudwatch.amazonaws.com' },
    Action: actions,
    Resource: '*',
  });

  function check(topicStatements: unknown[], keyActions: string[] = ['kms:Decrypt', 'kms:GenerateDataKey']) {
    const template: CfnTemplate = {
      Resources: {
        Key: {
          Type: 'AWS::KMS::Key',
          Properties: { KeyPolicy: { Version: '2012-10-17', Statement: [keyStatement(keyActions)] } },
        },
        Topic: { Type: 'AWS::SNS::Topic', Properties: { KmsMasterKeyId: { 'Fn::GetAtt': ['Key', 'Arn'] } } },
        Policy: {
          Type: 'AWS::SNS::TopicPolicy',
          Properties: {
            Topics: [{ Ref: 'Topic' }],
            PolicyDocument: { Version: '2012-10-17', Statement: topicStatements },
          },
        },
      },
    };
    const templates = new TemplateSet({ S: template }, { region: 'us-east-1', accountId: '123456789012' });
    templates.register('S', 'Topic', { ref: topicArn, attributes: {} });
    return new TopicPolicyCheck(templates, 'us-east-1', '123456789012').check(topicArn, alarmArn);
  }

  it('refuses a topic whose policy only enforces TLS (the review finding)', async () => {
    await expect(check([enforceSsl])).resolves.toMatchObject({ allowed: false });
  });

  it('allows a topic that lets cloudwatch.amazonaws.com publish and a key it may use', async () => {
    await expect(check([enforceSsl, cloudWatchPublish])).resolves.toEqual({ allowed: true });
  });

  it("refuses when the topic's key does not let CloudWatch generate data keys", async () => {
    const result = await check([enforceSsl, cloudWatchPublish], ['kms:Decrypt']);
    expect(result.allowed).toBe(false);
    expect(result.reason).toContain('kms:GenerateDataKey');
  });
});
