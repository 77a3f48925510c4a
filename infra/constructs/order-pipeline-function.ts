import * as fs from 'node:fs';
import * as path from 'node:path';
import { Annotations, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { BUNDLE_ALIASES, LAMBDA_BUNDLE } from './lambda-bundling';

/** Repository root: `lambdas/<handler>/handler.ts` is found from here. */
export const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** The handler folders under `lambdas/`. */
export type HandlerName = 'publisher' | 'validate' | 'billing' | 'archive' | 'dlq' | 'reconciler';

/** CloudFormation metadata key naming a function's handler folder (read by the local stack). */
export const ENTRY_METADATA_KEY = 'OrderPipelineEntry';

/** CloudWatch namespace of the Powertools EMF metrics. */
export const METRICS_NAMESPACE = 'OrderPipeline';

/** The newest Node.js runtime this aws-cdk-lib offers. */
export const NODE_RUNTIME = lambda.Runtime.NODEJS_24_X;

export interface OrderPipelineFunctionProps {
  /** Folder under `lambdas/` whose `handler.ts` exports `handler`. */
  readonly handler: HandlerName;
  /** Powertools service name (log and metric dimension); @default `order-<handler>` */
  readonly serviceName?: string;
  readonly description: string;
  readonly memoryMb: number;
  readonly timeout: Duration;
  /** The handler's variables (names from runtime-contract `ENV`). */
  readonly environment: Readonly<Record<string, string>>;
  readonly vpc: ec2.IVpc;
  readonly vpcSubnets: ec2.SubnetSelection;
  readonly securityGroup: ec2.ISecurityGroup;
  readonly logRetention: logs.RetentionDays;
  /** Concurrency reserved (and capped) for this function; @default none */
  readonly reservedConcurrency?: number;
  /** What happens to the log group when the stack is deleted. */
  readonly removalPolicy: RemovalPolicy;
  /** Powertools log level (POWERTOOLS_LOG_LEVEL). */
  readonly logLevel: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  /** Lambda's own log events kept: INFO (text, START/END/REPORT) or WARN (JSON, without them). */
  readonly systemLogLevel: 'INFO' | 'WARN';
  /**
   * Publish a version per deployment behind a `live` alias that callers invoke, so CodeDeploy can
   * shift traffic to a new version gradually (see {@link OrderPipelineFunction.deployGradually}).
   * @default false
   */
  readonly liveAlias?: boolean;
}

/**
 * The log format and level filters: text with every platform line, or, to drop Lambda's INFO
 * events (START/END/REPORT), JSON with a system filter. Lambda gives a line without a "level" key
 * (every Powertools EMF metric blob) the level INFO, so the application filter never goes above
 * INFO: Powertools' own level (POWERTOOLS_LOG_LEVEL) keeps the application's lines down, as the
 * functions' logger hands it to Powertools over Lambda's (lambdas/shared/powertools/log-level.ts).
 * https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-log-level.html
 */
function systemLogFilter(props: Pick<OrderPipelineFunctionProps, 'logLevel' | 'systemLogLevel'>) {
  if (props.systemLogLevel === 'INFO') return {};
  return {
    loggingFormat: lambda.LoggingFormat.JSON,
    applicationLogLevelV2:
      props.logLevel === 'DEBUG' ? lambda.ApplicationLogLevel.DEBUG : lambda.ApplicationLogLevel.INFO,
    systemLogLevelV2: lambda.SystemLogLevel.WARN,
  };
}

/** Name of the alias callers invoke when a function deploys gradually. */
export const LIVE_ALIAS = 'live';

/**
 * The one way this app builds a Lambda: bundled TypeScript on arm64 and the newest Node runtime,
 * in the isolated subnets with the Lambda security group, an explicit log group, active tracing,
 * and its own role holding only what the function is granted afterwards (plus logs, ENIs, X-Ray).
 */
export class OrderPipelineFunction extends Construct {
  public readonly function: nodejs.NodejsFunction;
  public readonly role: iam.Role;
  public readonly logGroup: logs.LogGroup;
  public readonly handlerName: HandlerName;
  /** Powertools service name: the `service` dimension of the function's EMF metrics. */
  public readonly serviceName: string;
  /** The `live` alias, when the function deploys through one. */
  public readonly alias?: lambda.Alias;
  /** What event sources, the ALB and the workflow invoke: the `live` alias if any, else the function. */
  public readonly invokeTarget: lambda.IFunction;

  constructor(scope: Construct, id: string, props: OrderPipelineFunctionProps) {
    super(scope, id);
    this.handlerName = props.handler;
    this.serviceName = props.serviceName ?? `order-${props.handler}`;
    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of the ${props.handler} Lambda`,
    });
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'WriteOwnLogs',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );
    // The ENI actions of AWSLambdaVPCAccessExecutionRole; EC2 offers no narrower resource for them.
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ManageVpcNetworkInterfaces',
        actions: [
          'ec2:CreateNetworkInterface',
          'ec2:DescribeNetworkInterfaces',
          'ec2:DescribeSubnets',
          'ec2:DeleteNetworkInterface',
          'ec2:AssignPrivateIpAddresses',
          'ec2:UnassignPrivateIpAddresses',
        ],
        resources: ['*'],
      }),
    );

    const entry = path.join(REPO_ROOT, 'lambdas', props.handler, 'handler.ts');
    const common: nodejs.NodejsFunctionProps = {
      description: props.description,
      runtime: NODE_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memoryMb,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      ...systemLogFilter(props),
      tracing: lambda.Tracing.ACTIVE,
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      securityGroups: [props.securityGroup],
      reservedConcurrentExecutions: props.reservedConcurrency,
      environment: {
        ...props.environment,
        POWERTOOLS_SERVICE_NAME: this.serviceName,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        POWERTOOLS_LOG_LEVEL: props.logLevel,
        NODE_OPTIONS: '--enable-source-maps',
      },
    };
    if (fs.existsSync(entry)) {
      this.function = new nodejs.NodejsFunction(this, 'Function', {
        ...common,
        entry,
        handler: 'handler',
        projectRoot: REPO_ROOT,
        depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
        bundling: {
          ...LAMBDA_BUNDLE,
          format: nodejs.OutputFormat.ESM,
          mainFields: [...LAMBDA_BUNDLE.mainFields],
          externalModules: [...LAMBDA_BUNDLE.externalModules],
          esbuildArgs: Object.fromEntries(
            Object.entries(BUNDLE_ALIASES).map(([module, replacement]) => [`--alias:${module}`, replacement]),
          ),
        },
      });
    } else if (!Stack.of(this).bundlingRequired) {
      // Synthesis without bundling (tests, the local stack) does not need the handler's code.
      Annotations.of(this).addInfo(`lambdas/${props.handler}/handler.ts is missing; placeholder code used`);
      this.function = new nodejs.NodejsFunction(this, 'Function', {
        ...common,
        code: lambda.Code.fromInline('exports.handler = async () => { throw new Error("not bundled"); };'),
        handler: 'index.handler',
      });
    } else {
      throw new Error(`Cannot bundle the ${props.handler} Lambda: ${entry} does not exist`);
    }
    (this.function.node.defaultChild as lambda.CfnFunction).addMetadata(ENTRY_METADATA_KEY, props.handler);
    if (props.liveAlias) {
      this.alias = new lambda.Alias(this, 'LiveAlias', {
        aliasName: LIVE_ALIAS,
        version: this.function.currentVersion,
      });
    }
    this.invokeTarget = this.alias ?? this.function;
  }

  /**
   * An AWS/Lambda metric of the version this deployment publishes, as invoked through the `live`
   * alias: Lambda reports alias invocations with the `Resource` (`<function>:<alias>`) and
   * `ExecutedVersion` dimensions, so a canary sees the new version apart from the old one
   * (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html).
   */
  public newVersionMetric(metricName: 'Errors' | 'Throttles', period: Duration): cloudwatch.Metric {
    if (!this.alias) throw new Error(`The ${this.handlerName} Lambda has no live alias`);
    return new cloudwatch.Metric({
      namespace: 'AWS/Lambda',
      metricName,
      dimensionsMap: {
        FunctionName: this.function.functionName,
        Resource: `${this.function.functionName}:${LIVE_ALIAS}`,
        ExecutedVersion: this.function.currentVersion.version,
      },
      statistic: 'Sum',
      period,
    });
  }

  /** One of the function's Powertools EMF metrics (namespace {@link METRICS_NAMESPACE}, dimension `service`). */
  public emfMetric(metricName: string, period: Duration): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName,
      dimensionsMap: { service: this.serviceName },
      statistic: 'Sum',
      period,
    });
  }

  /**
   * Shifts traffic of the `live` alias to each new version by a CodeDeploy canary, rolling back
   * when any of `alarms` fires during the shift. The alias waits for the alarms that watch the new
   * version ({@link newVersionMetric}), so they point at it before CodeDeploy starts shifting.
   */
  public deployGradually(
    application: codedeploy.ILambdaApplication,
    deploymentConfig: codedeploy.ILambdaDeploymentConfig,
    alarms: readonly cloudwatch.Alarm[],
  ): codedeploy.LambdaDeploymentGroup {
    if (!this.alias) throw new Error(`The ${this.handlerName} Lambda has no live alias to deploy gradually`);
    if (alarms.length === 0 || alarms.length > 10) {
      // CodeDeploy accepts 1 to 10 alarms per deployment group.
      throw new Error(`The ${this.handlerName} canary needs 1 to 10 alarms, got ${alarms.length}`);
    }
    for (const alarm of alarms) {
      if (alarm.metric instanceof cloudwatch.Metric && alarm.metric.dimensions?.ExecutedVersion) {
        this.alias.node.addDependency(alarm);
      }
    }
    return new codedeploy.LambdaDeploymentGroup(this, 'Deployment', {
      application,
      alias: this.alias,
      deploymentConfig,
      alarms: [...alarms],
      autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: true },
    });
  }
}
