import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as snsSubscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';

/** Alarm thresholds (the environment's `alarms` section). */
export interface AlarmThresholds {
  readonly periodSeconds: number;
  readonly evaluationPeriods: number;
  readonly lambdaErrors: number;
  readonly lambdaThrottles: number;
  readonly queueOldestMessageAgeSeconds: number;
  readonly albElb5xx: number;
  readonly albTarget5xx: number;
  readonly albP99LatencyMs: number;
  readonly workflowFailures: number;
  readonly dynamoThrottles: number;
}

/**
 * What one failure signal of a canary looks like: a metric that counts what a broken version
 * produces, and the count at which the deployment rolls back.
 */
export interface CanarySignal {
  readonly metric: cloudwatch.IMetric;
  /** @default 1: a canary rolls back on the first failure it sees */
  readonly threshold?: number;
  readonly description: string;
}

export interface ObservabilityProps {
  /** Receives every alarm notification. */
  readonly alarmEmail: string;
  readonly thresholds: AlarmThresholds;
  /** Every Lambda, by a short name used in alarm ids. */
  readonly functions: Readonly<Record<string, lambda.IFunction>>;
  /** Work queues (age of the oldest message is watched), by name. */
  readonly queues: Readonly<Record<string, sqs.IQueue>>;
  /** Dead-letter queues (one arrival is an alarm), by name. */
  readonly deadLetterQueues: Readonly<Record<string, sqs.IQueue>>;
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  readonly stateMachine: sfn.StateMachine;
  readonly tables: Readonly<Record<string, dynamodb.ITable>>;
  /** The reconciler's count of orders it found stuck: any is an alarm (something lost a run). */
  readonly stuckOrders: cloudwatch.IMetric;
  readonly removalPolicy: RemovalPolicy;
}

/** Alarms on every part of the flow, all notifying one encrypted topic, and one dashboard. */
export class Observability extends Construct {
  public readonly alarmTopic: sns.Topic;
  public readonly alarmKey: kms.Key;
  public readonly alarms: cloudwatch.Alarm[] = [];
  /** The errors alarm of each function, by the name given in `functions` (canary rollback watches it). */
  public readonly functionErrorAlarms: Record<string, cloudwatch.Alarm> = {};
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    const t = props.thresholds;
    const period = Duration.seconds(t.periodSeconds);

    this.alarmKey = new kms.Key(this, 'AlarmKey', {
      description: 'Order pipeline alarm topic',
      enableKeyRotation: true,
      removalPolicy: props.removalPolicy,
    });
    // CDK's enforceSSL policy replaces SNS's default topic policy, so CloudWatch may publish only
    // because this statement says so; both it and the key grant are limited to this account's
    // alarms (confused-deputy protection, https://docs.aws.amazon.com/sns/latest/dg/sns-access-policy-use-cases.html).
    const cloudWatch = new iam.ServicePrincipal('cloudwatch.amazonaws.com');
    const fromTheseAlarms = alarmSourceConditions(this);
    this.alarmKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsEncryptNotifications',
        principals: [cloudWatch],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
        conditions: fromTheseAlarms,
      }),
    );
    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', { masterKey: this.alarmKey, enforceSSL: true });
    this.alarmTopic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [cloudWatch],
        actions: ['sns:Publish'],
        resources: [this.alarmTopic.topicArn],
        conditions: fromTheseAlarms,
      }),
    );
    this.alarmTopic.addSubscription(new snsSubscriptions.EmailSubscription(props.alarmEmail));
    const action = new actions.SnsAction(this.alarmTopic);

    const alarm = (
      alarmId: string,
      metric: cloudwatch.IMetric,
      threshold: number,
      description: string,
    ): cloudwatch.Alarm => {
      const created = new cloudwatch.Alarm(this, alarmId, {
        metric,
        threshold,
        evaluationPeriods: t.evaluationPeriods,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      created.addAlarmAction(action);
      created.addOkAction(action);
      this.alarms.push(created);
      return created;
    };

    for (const [name, fn] of Object.entries(props.functions)) {
      this.functionErrorAlarms[name] = alarm(
        `${name}Errors`,
        fn.metricErrors({ period }),
        t.lambdaErrors,
        `${name} Lambda errors`,
      );
      alarm(
        `${name}Throttles`,
        fn.metricThrottles({ period }),
        t.lambdaThrottles,
        `${name} Lambda throttles`,
      );
    }
    for (const [name, queue] of Object.entries(props.queues)) {
      alarm(
        `${name}OldestMessage`,
        queue.metricApproximateAgeOfOldestMessage({ period, statistic: 'Maximum' }),
        t.queueOldestMessageAgeSeconds,
        `${name} queue: oldest message waits too long`,
      );
    }
    // Arrivals, not depth (deadLetterArrivals says why).
    for (const [name, queue] of Object.entries(props.deadLetterQueues)) {
      alarm(
        `${name}Arrivals`,
        deadLetterArrivals(queue, period),
        1,
        `${name}: messages gave up and need attention (see the failed-orders table)`,
      );
    }

    const lb = props.loadBalancer.metrics;
    alarm(
      'AlbElb5xx',
      lb.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, { period }),
      t.albElb5xx,
      'ALB answered 5xx itself',
    );
    alarm(
      'AlbTarget5xx',
      lb.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, { period }),
      t.albTarget5xx,
      'The publisher answered 5xx',
    );
    alarm(
      'AlbTargetResponseTimeP99',
      lb.targetResponseTime({ period, statistic: 'p99' }),
      t.albP99LatencyMs / 1000,
      'p99 target response time too high',
    );

    const sm = props.stateMachine;
    alarm(
      'WorkflowExecutionsFailed',
      sm.metricFailed({ period }),
      t.workflowFailures,
      'Workflow executions failed',
    );
    alarm(
      'WorkflowExecutionsTimedOut',
      sm.metricTimedOut({ period }),
      t.workflowFailures,
      'Workflow executions timed out',
    );
    alarm(
      'WorkflowExecutionsThrottled',
      sm.metricThrottled({ period }),
      t.workflowFailures,
      'Workflow throttled',
    );

    for (const [name, table] of Object.entries(props.tables)) {
      alarm(
        `${name}TableThrottles`,
        new cloudwatch.MathExpression({
          label: `${name} throttled requests`,
          expression: 'reads + writes',
          usingMetrics: {
            reads: table.metric('ReadThrottleEvents', { period, statistic: 'Sum' }),
            writes: table.metric('WriteThrottleEvents', { period, statistic: 'Sum' }),
          },
          period,
        }),
        t.dynamoThrottles,
        `${name} table throttled requests`,
      );
    }

    alarm(
      'StuckOrders',
      props.stuckOrders,
      1,
      'The reconciler found orders left non-terminal past their deadline (it restarts or fails them): a run was lost',
    );

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { defaultInterval: Duration.hours(3) });
    const graph = (title: string, metrics: cloudwatch.IMetric[]) =>
      new cloudwatch.GraphWidget({ title, left: metrics, width: 12, height: 6 });
    this.dashboard.addWidgets(
      graph('ALB requests and 5xx', [
        lb.requestCount({ period }),
        lb.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, { period }),
        lb.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, { period }),
      ]),
      graph('ALB target response time p99', [lb.targetResponseTime({ period, statistic: 'p99' })]),
      graph('Workflow executions', [
        sm.metricStarted({ period }),
        sm.metricSucceeded({ period }),
        sm.metricFailed({ period }),
        sm.metricTimedOut({ period }),
        sm.metricThrottled({ period }),
      ]),
      graph(
        'Queue depth',
        Object.values(props.queues).map((queue) =>
          queue.metricApproximateNumberOfMessagesVisible({ period }),
        ),
      ),
      graph(
        'DLQ arrivals',
        Object.values(props.deadLetterQueues).map((queue) => deadLetterArrivals(queue, period)),
      ),
      graph(
        'Lambda errors',
        Object.values(props.functions).map((fn) => fn.metricErrors({ period })),
      ),
      graph(
        'Lambda duration p99',
        Object.values(props.functions).map((fn) => fn.metricDuration({ period, statistic: 'p99' })),
      ),
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24, height: 6 }),
    );
  }

  /**
   * The alarms a CodeDeploy canary of one function watches: one per signal, not notifying anyone
   * (the rollback is the action, and the pipeline reports the failed deployment). Each evaluates one
   * minute at a time, so a broken version is caught within the canary's first minutes.
   */
  public canaryAlarms(
    functionName: string,
    signals: Readonly<Record<string, CanarySignal>>,
  ): cloudwatch.Alarm[] {
    return Object.entries(signals).map(
      ([signal, { metric, threshold, description }]) =>
        new cloudwatch.Alarm(this, `${functionName}Canary${signal}`, {
          metric,
          threshold: threshold ?? 1,
          evaluationPeriods: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
          alarmDescription: `Canary of ${functionName}: ${description}`,
        }),
    );
  }
}

/**
 * Messages that reached a dead-letter queue. The DLQ handler drains each DLQ in seconds, so the
 * queue's visible messages stay ~0 at every sample; and a redrive from a source queue is not
 * counted in `NumberOfMessagesSent`
 * (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html).
 * The handler receives every message that arrives, whether SQS redrove it or SNS sent it, so its
 * receives count arrivals (and keep counting while it fails and receives a message again).
 */
export function deadLetterArrivals(queue: sqs.IQueue, period: Duration): cloudwatch.Metric {
  return queue.metricNumberOfMessagesReceived({ period, statistic: 'Sum' });
}

/**
 * Conditions limiting a CloudWatch service-principal grant to this account's alarms
 * (`aws:SourceAccount` and `aws:SourceArn`, which CloudWatch sets when an alarm action publishes).
 */
export function alarmSourceConditions(scope: Construct): Record<string, Record<string, unknown>> {
  const stack = Stack.of(scope);
  return {
    StringEquals: { 'aws:SourceAccount': stack.account },
    ArnLike: {
      'aws:SourceArn': stack.formatArn({
        service: 'cloudwatch',
        resource: 'alarm',
        resourceName: '*',
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
    },
  };
}
