import { Aspects, CfnOutput, Duration, Fn, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { EnvironmentConfig } from '../../environments';
import type { CompletionRule } from '../../lambdas/shared/order-status';
import { ENV, LIFECYCLE, METRICS } from '../../lambdas/shared/runtime-contract';
import { OrderApi } from '../constructs/api';
import { Data } from '../constructs/data';
import { FanOut, visibilityTimeoutFor } from '../constructs/fan-out';
import { grantItemActions, grantKey } from '../constructs/grants';
import { ServicePrincipalsFromThisAccount } from '../constructs/key-policies';
import { Network } from '../constructs/network';
import { deadLetterArrivals, Observability, type CanarySignal } from '../constructs/observability';
import { OperatorAccess } from '../constructs/operator-access';
import {
  OrderPipelineFunction,
  type OrderPipelineFunctionProps,
} from '../constructs/order-pipeline-function';
import { pascal } from '../constructs/naming';
import { PostDeployAccess } from '../constructs/post-deploy-access';
import { ReconcilerSchedule } from '../constructs/reconciler-schedule';
import { ClientSecrets, SMOKE_CLIENT_ID } from '../constructs/secrets';
import { TraceSampling } from '../constructs/tracing';
import { OrderWorkflow } from '../constructs/workflow';
import { SUBSCRIBERS, type SubscriberDefinition } from './subscribers';

/** Names of the stack outputs (read by the pipeline's post-deploy tests and the local stack). */
export const OUTPUTS = {
  ordersUrl: 'OrdersUrl',
  ordersTable: 'OrdersTableName',
  billingTable: 'BillingTableName',
  failedOrdersTable: 'FailedOrdersTableName',
  archiveBucket: 'ArchiveBucketName',
  clientSecretsId: 'ClientSecretsId',
  clientSecretsCacheSeconds: 'ClientSecretsCacheSeconds',
  stateMachineArn: 'StateMachineArn',
  topicArn: 'OrdersTopicArn',
  alarmTopicArn: 'AlarmTopicArn',
  postDeployRoleArn: 'PostDeployRoleArn',
  smokeClientSecretId: 'SmokeClientSecretId',
  operatorPolicyArn: 'OperatorPolicyArn',
} as const;

/** How a Lambda's new version takes traffic in environments with `canaryDeployments`. */
export const CANARY_DEPLOYMENT = codedeploy.LambdaDeploymentConfig.CANARY_10PERCENT_5MINUTES;

export interface OrderPipelineStackProps extends StackProps {
  /** The validated environment configuration. */
  readonly config: EnvironmentConfig;
  /** The topic's subscribers; @default SUBSCRIBERS */
  readonly subscribers?: readonly SubscriberDefinition[];
  /**
   * The account of the delivery pipeline whose post-deploy test may assume this environment's
   * post-deploy role; @default no post-deploy role
   */
  readonly postDeployTrustedAccount?: string;
}

/** Every box of ARCHITECTURE.md for one environment, in one stack. */
export class OrderPipelineStack extends Stack {
  public readonly network: Network;
  public readonly data: Data;
  public readonly secrets: ClientSecrets;
  public readonly fanOut: FanOut;
  public readonly workflow: OrderWorkflow;
  public readonly api: OrderApi;
  public readonly observability: Observability;
  public readonly functions: Readonly<Record<string, OrderPipelineFunction>>;
  /** The CodeDeploy canary of each function, by function name, in environments with `canaryDeployments`. */
  public readonly deploymentGroups: Readonly<Record<string, codedeploy.LambdaDeploymentGroup>>;
  /** The role the delivery pipeline's post-deploy test assumes, when a pipeline account is trusted. */
  public readonly postDeployAccess?: PostDeployAccess;
  /** The managed policy of the ops tools (redrive, replay, failed-orders). */
  public readonly operatorAccess: OperatorAccess;
  /** The stack's outputs by name ({@link OUTPUTS} and the per-queue ones). */
  public readonly outputs: Readonly<Record<string, CfnOutput>>;
  private readonly zones: string[];

  constructor(scope: Construct, id: string, props: OrderPipelineStackProps) {
    super(scope, id, props);
    const { config } = props;
    // Zones resolved by CloudFormation (Fn::GetAZs) rather than a context lookup, which needs credentials.
    this.zones = Array.from({ length: Math.max(2, config.azCount) }, (_, i) => Fn.select(i, Fn.getAzs()));
    const subscribers = props.subscribers ?? SUBSCRIBERS;
    const removalPolicy = config.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    const logRetention = config.logRetentionDays as logs.RetentionDays;
    Aspects.of(this).add(new ServicePrincipalsFromThisAccount());

    this.network = new Network(this, 'Network', {
      azCount: this.zones.length,
      functionAzCount: config.azCount,
      gatewayPrefixLists: config.gatewayPrefixLists,
      flowLogRetention: logRetention,
      removalPolicy,
    });
    this.data = new Data(this, 'Data', { removalPolicy });
    this.secrets = new ClientSecrets(this, 'ClientSecrets', {
      generateDemoClient: config.name !== 'prod',
      removalPolicy,
    });

    const lambdaFunction = (
      id: string,
      props: Pick<OrderPipelineFunctionProps, 'handler' | 'description' | 'environment' | 'serviceName'> & {
        /** The function's name in the config (`lambda.reservations`). */
        configName: string;
        memoryMb: number;
        timeoutSeconds: number;
      },
    ) =>
      new OrderPipelineFunction(this, id, {
        ...props,
        timeout: Duration.seconds(props.timeoutSeconds),
        vpc: this.network.vpc,
        vpcSubnets: this.network.functionSubnets,
        securityGroup: this.network.lambdaSecurityGroup,
        logRetention,
        logLevel: config.lambdaLogLevel,
        systemLogLevel: config.lambdaSystemLogLevel,
        reservedConcurrency: config.lambda.reservations[props.configName]?.concurrency,
        removalPolicy,
        liveAlias: config.canaryDeployments,
      });

    const { ordersTable, billingTable, failedOrdersTable } = this.data;
    const validate = lambdaFunction('ValidateFunction', {
      configName: 'validate',
      handler: 'validate',
      description: 'Order workflow: business validation',
      ...config.functions.validate,
      environment: {
        [ENV.orderTotalLimit]: String(config.orderTotalLimit),
        [ENV.marketCurrencies]: JSON.stringify(config.marketCurrencies),
      },
    });
    const deadLetterHandler = lambdaFunction('DlqFunction', {
      configName: 'dlq',
      handler: 'dlq',
      description: 'Records messages that reached a DLQ and marks their orders FAILED',
      memoryMb: config.functions.dlq.memoryMb,
      timeoutSeconds: config.functions.dlq.timeoutSeconds,
      environment: {
        [ENV.ordersTable]: ordersTable.tableName,
        [ENV.failedOrdersTable]: failedOrdersTable.tableName,
      },
    });
    grantItemActions(deadLetterHandler.role, ordersTable, ['UpdateItem']);
    grantItemActions(deadLetterHandler.role, failedOrdersTable, ['PutItem']);

    // Which flags an order needs, from the subscribers whose filter lets its event through.
    const completionRules: CompletionRule[] = subscribers.map((subscriber) => {
      const filterPolicy = config.consumers[subscriber.name]?.filterPolicy ?? subscriber.filterPolicy;
      return { flag: subscriber.flag, ...(filterPolicy ? { filterPolicy } : {}) };
    });
    const consumers = subscribers.map((subscriber) => {
      const settings = config.consumers[subscriber.name];
      if (!settings) {
        throw new Error(
          `Environment "${config.name}" has no consumers.${subscriber.name} settings for subscriber "${subscriber.name}"`,
        );
      }
      const fn = lambdaFunction(`${pascal(subscriber.name)}Function`, {
        configName: subscriber.name,
        handler: subscriber.handler,
        serviceName: `order-${subscriber.name}`,
        description: `Orders topic subscriber: ${subscriber.name}`,
        memoryMb: settings.memoryMb,
        timeoutSeconds: settings.timeoutSeconds,
        environment: {
          [ENV.ordersTable]: ordersTable.tableName,
          [ENV.failureInjectionRate]: String(settings.failureInjectionRate),
          [ENV.consumerName]: subscriber.name,
          [ENV.completionRules]: JSON.stringify(completionRules),
          ...subscriber.environment(this.data),
        },
      });
      grantItemActions(fn.role, ordersTable, ['UpdateItem']);
      subscriber.grant(fn, this.data);
      return { subscriber, settings, fn };
    });

    this.fanOut = new FanOut(this, 'FanOut', {
      subscribers: consumers.map(({ subscriber, settings, fn }) => ({
        name: subscriber.name,
        consumer: fn.invokeTarget,
        filterPolicy: settings.filterPolicy ?? subscriber.filterPolicy,
        settings,
      })),
      deadLetterHandler: deadLetterHandler.invokeTarget,
      deadLetterHandlerTimeout: Duration.seconds(config.functions.dlq.timeoutSeconds),
      deadLetterHandlerBatchSize: config.functions.dlq.batchSize,
      deadLetterHandlerMaxConcurrency: config.functions.dlq.maxConcurrency,
      removalPolicy,
    });

    this.workflow = new OrderWorkflow(this, 'Workflow', {
      validateFunction: validate.invokeTarget,
      ordersTable,
      failedOrdersTable,
      topic: this.fanOut.topic,
      workflowType: config.workflowType,
      timeoutSeconds: config.workflowTimeoutSeconds,
      logRetention,
      logging: config.workflowLogs,
      removalPolicy,
    });
    new TraceSampling(this, 'TraceSampling', { environment: config.name, ...config.xraySampling });

    // How long a publisher's start claim holds before a replay may take it over.
    const restartAfterSeconds = config.functions.publisher.timeoutSeconds + 5;
    // How much later than `started_at` a run may start: the publisher's StartExecution comes within
    // its invocation after the claim, and a failed start releases the claim back by
    // restartAfterSeconds (its answer may have been lost, the run started); the reconciler's own
    // StartExecution comes within its invocation after its claim.
    const startSlackSeconds = Math.max(
      config.functions.publisher.timeoutSeconds + restartAfterSeconds,
      config.functions.reconciler.timeoutSeconds,
    );
    const publisher = lambdaFunction('PublisherFunction', {
      configName: 'publisher',
      handler: 'publisher',
      description: 'Verifies signed order requests and starts the order workflow',
      ...config.functions.publisher,
      environment: {
        [ENV.ordersTable]: ordersTable.tableName,
        [ENV.stateMachineArn]: this.workflow.stateMachine.stateMachineArn,
        [ENV.clientSecretsId]: this.secrets.secret.secretArn,
        [ENV.secretsCacheSeconds]: String(config.clientSecretsCacheSeconds),
        [ENV.orderIdKeySecretId]: this.secrets.orderIdKey.secretArn,
        // A start claim outlives the request that made it (lambdas/publisher/order-store.ts).
        [ENV.restartAfterSeconds]: String(restartAfterSeconds),
      },
    });
    // Orders are never deleted (docs/internals.md): PutItem creates, UpdateItem claims a start.
    grantItemActions(publisher.role, ordersTable, ['PutItem', 'GetItem', 'UpdateItem']);
    publisher.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['states:StartExecution'],
        resources: [this.workflow.stateMachine.stateMachineArn],
      }),
    );
    publisher.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['secretsmanager:GetSecretValue'],
        resources: [this.secrets.secret.secretArn, this.secrets.orderIdKey.secretArn],
      }),
    );
    // The client-secrets key decrypts only through Secrets Manager, as its key policy also requires.
    grantKey(publisher.role, this.secrets.key, ['Decrypt'], `secretsmanager.${this.region}.amazonaws.com`);

    // Orders a failure left non-terminal are finished by a scheduled sweep (docs/internals.md).
    const workflowTimeoutSeconds = this.workflow.timeout.toSeconds();
    const redriveWindowSeconds = Math.max(
      ...Object.values(config.consumers).map(
        (settings) =>
          settings.maxReceiveCount *
          visibilityTimeoutFor(settings.timeoutSeconds, settings.maxBatchingWindowSeconds).toSeconds(),
      ),
    );
    const reconciler = lambdaFunction('ReconcilerFunction', {
      configName: 'reconciler',
      handler: 'reconciler',
      description: 'Finishes orders left non-terminal past their deadline: restarts or fails them',
      memoryMb: config.functions.reconciler.memoryMb,
      timeoutSeconds: config.functions.reconciler.timeoutSeconds,
      environment: {
        [ENV.ordersTable]: ordersTable.tableName,
        [ENV.failedOrdersTable]: failedOrdersTable.tableName,
        [ENV.stateMachineArn]: this.workflow.stateMachine.stateMachineArn,
        // No run is alive past its timeout after the start its last `started_at` stands for.
        [ENV.acceptedDeadlineSeconds]: String(
          workflowTimeoutSeconds + startSlackSeconds + config.functions.reconciler.deadlineMarginSeconds,
        ),
        // Past every receive of every consumer queue and the DLQ handler's record.
        [ENV.publishedDeadlineSeconds]: String(
          workflowTimeoutSeconds +
            startSlackSeconds +
            redriveWindowSeconds +
            6 * config.functions.dlq.timeoutSeconds +
            config.functions.reconciler.deadlineMarginSeconds,
        ),
        [ENV.maxRestarts]: String(config.functions.reconciler.maxRestarts),
        [ENV.sweepLimit]: String(config.functions.reconciler.sweepLimit),
      },
    });
    grantItemActions(reconciler.role, ordersTable, ['GetItem', 'UpdateItem']);
    reconciler.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:Query'],
        resources: [`${ordersTable.tableArn}/index/${LIFECYCLE.pendingIndex}`],
      }),
    );
    grantItemActions(reconciler.role, failedOrdersTable, ['PutItem']);
    reconciler.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['states:StartExecution'],
        resources: [this.workflow.stateMachine.stateMachineArn],
      }),
    );
    new ReconcilerSchedule(this, 'ReconcilerSchedule', {
      target: reconciler.invokeTarget,
      every: Duration.minutes(config.functions.reconciler.everyMinutes),
    });

    this.api = new OrderApi(this, 'Api', {
      vpc: this.network.vpc,
      publisher: publisher.invokeTarget,
      domain: config.domain,
      allowHttp: config.allowHttp,
      accessLogBucket: this.data.accessLogBucket,
      deletionProtection: config.retainData,
      waf: config.wafEnabled
        ? { rateLimitPer5Minutes: config.wafRateLimit, clientRateLimitPer5Minutes: config.wafClientRateLimit }
        : undefined,
    });

    this.functions = {
      publisher,
      validate,
      dlq: deadLetterHandler,
      reconciler,
      ...Object.fromEntries(consumers.map(({ subscriber, fn }) => [subscriber.name, fn])),
    };

    this.observability = new Observability(this, 'Observability', {
      alarmEmail: config.alarms.email,
      thresholds: config.alarms,
      functions: Object.fromEntries(
        Object.entries(this.functions).map(([name, fn]) => [pascal(name), fn.function]),
      ),
      queues: Object.fromEntries(this.fanOut.subscribers.map((s) => [`${pascal(s.name)}Queue`, s.queue])),
      deadLetterQueues: Object.fromEntries(
        this.fanOut.subscribers.flatMap((s) => [
          [`${pascal(s.name)}DeadLetterQueue`, s.deadLetterQueue],
          [`${pascal(s.name)}SubscriptionDeadLetterQueue`, s.subscriptionDeadLetterQueue],
        ]),
      ),
      loadBalancer: this.api.loadBalancer,
      targetGroup: this.api.targetGroup,
      stateMachine: this.workflow.stateMachine,
      tables: { Orders: ordersTable, Billing: billingTable, FailedOrders: failedOrdersTable },
      stuckOrders: reconciler.emfMetric(METRICS.stuckOrders, Duration.seconds(config.alarms.periodSeconds)),
      removalPolicy,
    });

    const application = config.canaryDeployments
      ? new codedeploy.LambdaApplication(this, 'Deployments')
      : undefined;
    this.deploymentGroups = application
      ? Object.fromEntries(
          Object.entries(this.functions).map(([name, fn]) => [
            name,
            fn.deployGradually(
              application,
              CANARY_DEPLOYMENT,
              this.observability.canaryAlarms(pascal(name), this.canarySignals(name, fn)),
            ),
          ]),
        )
      : {};

    this.operatorAccess = new OperatorAccess(this, 'OperatorAccess', {
      data: this.data,
      fanOut: this.fanOut,
    });

    const outputs: Record<string, CfnOutput> = {};
    this.outputs = outputs;
    const output = (name: string, value: string, description: string) =>
      (outputs[name] = new CfnOutput(this, name, { value, description }));
    output(OUTPUTS.ordersUrl, this.api.ordersUrl, 'POST orders here');
    output(OUTPUTS.ordersTable, ordersTable.tableName, 'Orders table');
    output(OUTPUTS.billingTable, billingTable.tableName, 'Billing table');
    output(OUTPUTS.failedOrdersTable, failedOrdersTable.tableName, 'Failed-orders table');
    output(OUTPUTS.archiveBucket, this.data.archiveBucket.bucketName, 'Archive bucket');
    output(OUTPUTS.clientSecretsId, this.secrets.secret.secretArn, 'Client secrets (ARN)');
    output(
      OUTPUTS.smokeClientSecretId,
      this.secrets.smokeClientSecret.secretArn,
      `Signing secret of the ${SMOKE_CLIENT_ID} client (ARN)`,
    );
    output(
      OUTPUTS.clientSecretsCacheSeconds,
      String(config.clientSecretsCacheSeconds),
      'Seconds the publisher caches client secrets: a change takes effect within this time',
    );
    output(OUTPUTS.stateMachineArn, this.workflow.stateMachine.stateMachineArn, 'Order workflow');
    output(OUTPUTS.topicArn, this.fanOut.topic.topicArn, 'Orders topic');
    output(OUTPUTS.alarmTopicArn, this.observability.alarmTopic.topicArn, 'Alarm topic');
    output(
      OUTPUTS.operatorPolicyArn,
      this.operatorAccess.policy.managedPolicyArn,
      'Attach to the operators of the ops tools',
    );
    for (const s of this.fanOut.subscribers) {
      const prefix = pascal(s.name);
      output(`${prefix}QueueName`, s.queue.queueName, `${s.name} queue`);
      output(`${prefix}QueueUrl`, s.queue.queueUrl, `${s.name} queue URL`);
      output(`${prefix}DeadLetterQueueName`, s.deadLetterQueue.queueName, `${s.name} DLQ`);
      output(`${prefix}DeadLetterQueueUrl`, s.deadLetterQueue.queueUrl, `${s.name} DLQ URL`);
    }

    if (props.postDeployTrustedAccount) {
      this.postDeployAccess = new PostDeployAccess(this, 'PostDeployAccess', {
        trustedAccount: props.postDeployTrustedAccount,
        environment: config.name,
        clientSecrets: this.secrets,
        data: this.data,
        deadLetterQueues: this.fanOut.deadLetterQueues,
      });
      output(OUTPUTS.postDeployRoleArn, this.postDeployAccess.role.roleArn, 'Role of the post-deploy test');
    }
  }

  /**
   * What a broken version of each function produces, which its canary watches. `Errors` alone sees
   * nothing: the publisher answers failures with 503 and the consumers and DLQ handler report batch
   * item failures, so Lambda counts no error while a broken version serves. Lambda's own metrics
   * are scoped to the new version; the load balancer's, the queues' and the EMF metrics have no
   * version dimension and see both versions during the shift. No signal may refer to anything
   * that refers to an alias (target group, state machine, event source mappings): the alias's
   * CodeDeploy update policy refers to the group and so to its alarms.
   */
  private canarySignals(name: string, fn: OrderPipelineFunction): Record<string, CanarySignal> {
    const period = Duration.minutes(1);
    const signals: Record<string, CanarySignal> = {
      Errors: { metric: fn.newVersionMetric('Errors', period), description: 'the new version failed' },
    };
    const subscriber = this.fanOut.subscribers.find((candidate) => candidate.name === name);
    if (name === 'publisher') {
      // The load balancer's count, not the target group's: the target group refers to the alias,
      // whose CodeDeploy update policy refers to this group and its alarms (a cycle). The
      // publisher is the load balancer's only target.
      signals.Target5xx = {
        metric: this.api.loadBalancer.metrics.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, {
          period,
          statistic: 'Sum',
        }),
        description: 'the publisher answered 5xx (503 on a dependency failure or an unhandled error)',
      };
      signals.DependencyFailures = {
        metric: fn.emfMetric(METRICS.dependencyFailures, period),
        description: 'the publisher could not reach a dependency',
      };
      signals.UnhandledErrors = {
        metric: fn.emfMetric(METRICS.unhandledErrors, period),
        description: 'the publisher hit an unexpected error',
      };
    } else if (subscriber) {
      signals.RecordFailures = {
        metric: fn.emfMetric(METRICS.recordFailures, period),
        description: `${name} failed records`,
      };
      signals.DeadLetters = {
        metric: deadLetterArrivals(subscriber.deadLetterQueue, period),
        description: `${name} messages reached the dead-letter queue`,
      };
    } else if (name === 'validate') {
      // A broken validation throws (Errors above) or returns what the workflow cannot use; either
      // way the execution fails.
      signals.WorkflowFailures = {
        metric: new cloudwatch.Metric({
          namespace: 'AWS/States',
          metricName: 'ExecutionsFailed',
          dimensionsMap: { StateMachineArn: this.workflow.stateMachineArnByName },
          statistic: 'Sum',
          period,
        }),
        description: 'workflow executions failed',
      };
    } else if (name === 'reconciler') {
      // A sweep goes on past an order it cannot finish and counts it; the sweep then fails (Errors).
      signals.DependencyFailures = {
        metric: fn.emfMetric(METRICS.dependencyFailures, period),
        description: 'the reconciler could not finish a stuck order (a dependency failed)',
      };
    } else if (name === 'dlq') {
      // A message the handler recorded is deleted within seconds of arriving; one older than the
      // DLQs' visibility timeout was received and not deleted, i.e. the handler failed on it.
      const ages = Object.fromEntries(
        this.fanOut.deadLetterQueues.map((queue, i) => [
          `age${i}`,
          queue.metricApproximateAgeOfOldestMessage({ period, statistic: 'Maximum' }),
        ]),
      );
      signals.DeadLettersNotRecorded = {
        metric: new cloudwatch.MathExpression({
          label: 'oldest dead-lettered message',
          expression: `MAX([${Object.keys(ages).join(', ')}])`,
          usingMetrics: ages,
          period,
        }),
        threshold: this.fanOut.deadLetterVisibilityTimeout.toSeconds(),
        description: 'a dead-lettered message stayed unrecorded past one receive',
      };
    }
    return signals;
  }

  /** The first zones of the region; overriding the getter keeps synthesis free of AWS lookups. */
  public override get availabilityZones(): string[] {
    return this.zones;
  }
}
