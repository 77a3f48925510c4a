import { DefaultStackSynthesizer, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as pipelines from 'aws-cdk-lib/pipelines';
import { Construct } from 'constructs';
import { loadEnvironment, type EnvironmentConfig } from '../environments';
import type { DeliveryConfig, PipelineConfig, PipelineStageConfig } from '../environments/delivery';
import { pascal } from '../infra/constructs/naming';
import { postDeployRoleName, postDeployStepRoleName } from '../infra/constructs/post-deploy-access';
import { OUTPUTS } from '../infra/stacks/order-pipeline-stack';
import { OrderPipelineStage } from '../infra/stacks/order-pipeline-stage';
import { bootstrapRoleName } from '../scripts/preflight/account';
import { installOnly, readBuildSpec } from './build-spec';
import { PullRequestCheck } from './pull-request-check';

/** The image every CodeBuild project of the delivery runs on (its Node.js per buildspec.yml). */
export const BUILD_ENVIRONMENT: codebuild.BuildEnvironment = {
  buildImage: codebuild.LinuxBuildImage.STANDARD_7_0,
  computeType: codebuild.ComputeType.MEDIUM,
};

/** AWS CLI profile the post-deploy test runs under: the stage's post-deploy role. */
export const POST_DEPLOY_PROFILE = 'post-deploy';

/** AWS CLI profile the preflight runs under: the stage account's CDK bootstrap lookup role. */
export const PREFLIGHT_PROFILE = 'preflight';

export interface DeliveryPipelineStackProps extends Omit<StackProps, 'env'> {
  readonly delivery: DeliveryConfig;
  /** The pipeline of `delivery.pipelines` this stack builds. */
  readonly pipeline: PipelineConfig;
  /** Also hold the pull-request check project (once per repository); @default false */
  readonly pullRequestCheck?: boolean;
  /** An environment's configuration by name; @default loadEnvironment */
  readonly loadEnvironment?: (name: string) => EnvironmentConfig;
}

/** What one stage of the pipeline deploys and how it is tested afterwards. */
export interface DeployedStage {
  readonly config: PipelineStageConfig;
  readonly stage: OrderPipelineStage;
  readonly postDeployTest: pipelines.CodeBuildStep;
  /** `npm run preflight` against the stage's account, right before its deploy. */
  readonly preflight: pipelines.CodeBuildStep;
  readonly approval?: pipelines.ManualApprovalStep;
}

/**
 * One self-mutating CDK pipeline in the tooling account: the branch's source through the
 * CodeConnections connection, a synth step running buildspec.yml, then each environment's
 * `OrderPipelineStage` in order (after a manual approval where the config asks for one), each
 * followed by its post-deploy stress or smoke test, whose failure stops the promotion.
 */
export class DeliveryPipelineStack extends Stack {
  public readonly pipeline: pipelines.CodePipeline;
  public readonly source: pipelines.CodePipelineSource;
  public readonly synthStep: pipelines.CodeBuildStep;
  public readonly stages: readonly DeployedStage[];
  public readonly pullRequestCheck?: PullRequestCheck;

  constructor(scope: Construct, id: string, props: DeliveryPipelineStackProps) {
    const { delivery, pipeline } = props;
    super(scope, id, {
      ...props,
      env: { account: delivery.toolingAccount, region: delivery.region },
      description: `Delivery pipeline ${pipeline.name}: branch ${pipeline.branch} -> ${pipeline.stages
        .map((stage) => stage.environment)
        .join(' -> ')}`,
    });
    const buildSpec = readBuildSpec();
    const environment = props.loadEnvironment ?? loadEnvironment;

    this.source = pipelines.CodePipelineSource.connection(
      `${delivery.repository.owner}/${delivery.repository.name}`,
      pipeline.branch,
      { connectionArn: delivery.connectionArn, triggerOnPush: true },
    );
    // The build commands live in buildspec.yml only; the step adds nothing but cdk.out as output.
    this.synthStep = new pipelines.CodeBuildStep('Synth', {
      input: this.source,
      commands: [],
      partialBuildSpec: codebuild.BuildSpec.fromObject(buildSpec),
      primaryOutputDirectory: 'cdk.out',
    });
    this.pipeline = new pipelines.CodePipeline(this, 'Pipeline', {
      synth: this.synthStep,
      pipelineType: codepipeline.PipelineType.V2,
      selfMutation: true,
      crossAccountKeys: true,
      enableKeyRotation: true,
      codeBuildDefaults: { buildEnvironment: BUILD_ENVIRONMENT },
    });

    this.stages = pipeline.stages.map((stageConfig) => {
      const name = stageConfig.environment;
      const account = delivery.accounts[name]!;
      const base = environment(name);
      if (base.account && base.account !== account) {
        throw new Error(
          `environments/${name}.ts names account ${base.account} but the delivery config deploys ${name} to ${account}`,
        );
      }
      const stage = new OrderPipelineStage(this, pascal(name), {
        config: { ...base, account },
        postDeployTrustedAccount: delivery.toolingAccount,
      });
      const approval = stageConfig.manualApproval
        ? new pipelines.ManualApprovalStep(`Approve${pascal(name)}`, {
            comment: `Deploy ${pipeline.branch} to ${name}? It passed every earlier stage of this pipeline.`,
          })
        : undefined;
      const postDeployTest = this.postDeployTest(stage, stageConfig, buildSpec);
      const preflight = this.preflight(stage, buildSpec);
      if (approval) preflight.addStepDependency(approval);
      this.pipeline.addStage(stage, {
        pre: approval ? [approval, preflight] : [preflight],
        post: [postDeployTest],
      });
      return { config: stageConfig, stage, postDeployTest, preflight, approval };
    });

    if (props.pullRequestCheck) {
      this.pullRequestCheck = new PullRequestCheck(this, 'PullRequestCheck', {
        repository: delivery.repository,
        connectionArn: delivery.connectionArn,
        baseBranches: delivery.pullRequestCheck.baseBranches,
        buildEnvironment: BUILD_ENVIRONMENT,
      });
    }
    // Build now rather than at synthesis, so the generated projects and roles can be inspected
    // (and acknowledged for cdk-nag) like any other construct.
    this.pipeline.buildPipeline();
    this.connectionPrefixMatchesArn(delivery.connectionArn);
    this.logArtifactAccess();
    this.roleArnsAsSub();
  }

  /**
   * CDK's source action grants `codestar-connections:UseConnection` whatever the connection's ARN
   * says, but IAM matches an action only within its own service prefix: a connection created as
   * `arn:aws:codeconnections:...` needs `codeconnections:UseConnection`, or the Source stage is
   * denied (https://docs.aws.amazon.com/dtconsole/latest/userguide/security_iam_id-based-policy-examples-connections.html). Every grant on
   * the connection is rewritten to the ARN's prefix.
   */
  private connectionPrefixMatchesArn(connectionArn: string): void {
    const prefix = connectionArn.split(':')[2]!;
    const policies = this.node
      .findAll()
      .filter((c): c is iam.CfnPolicy => c instanceof iam.CfnPolicy && Stack.of(c) === this);
    for (const policy of policies) {
      const document = this.resolve(policy.policyDocument) as {
        Statement: { Action: string | string[]; Resource: unknown }[];
      };
      let changed = false;
      for (const statement of document.Statement) {
        if (![statement.Resource].flat().includes(connectionArn)) continue;
        const actions = [statement.Action].flat();
        const renamed = actions.map((action) =>
          action.replace(/^(codestar-connections|codeconnections):/, `${prefix}:`),
        );
        if (renamed.join() === actions.join()) continue;
        statement.Action = renamed.length === 1 ? renamed[0]! : renamed;
        changed = true;
      }
      if (changed) policy.policyDocument = document;
    }
  }

  /**
   * Server access logs of the artifact bucket (which CDK Pipelines creates, with its cross-account
   * key) into a bucket of their own, like the environments' buckets.
   */
  private logArtifactAccess(): void {
    const artifacts = this.pipeline.pipeline.artifactBucket;
    const accessLogs = new s3.Bucket(this, 'ArtifactAccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ expiration: Duration.days(365), noncurrentVersionExpiration: Duration.days(30) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    accessLogs.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'S3ServerAccessLogsOfArtifacts',
        principals: [new iam.ServicePrincipal('logging.s3.amazonaws.com')],
        actions: ['s3:PutObject'],
        resources: [accessLogs.arnForObjects('artifacts/*')],
        conditions: {
          ArnLike: { 'aws:SourceArn': artifacts.bucketArn },
          StringEquals: { 'aws:SourceAccount': this.account },
        },
      }),
    );
    (artifacts.node.defaultChild as s3.CfnBucket).loggingConfiguration = {
      destinationBucketName: accessLogs.bucketName,
      logFilePrefix: 'artifacts/',
    };
  }

  /**
   * CDK Pipelines renders the target account's CloudFormation execution role of each deploy action
   * as `Fn::Join ["", ["arn:", AWS::Partition, ...]]`; cfn-lint's action schema (E3703) wants the
   * equivalent `Fn::Sub`, so the same ARN is written that way.
   */
  private roleArnsAsSub(): void {
    const cfnPipeline = this.pipeline.pipeline.node.defaultChild as codepipeline.CfnPipeline;
    const stages = this.resolve(cfnPipeline.stages) as {
      actions: { configuration?: { RoleArn?: unknown } }[];
    }[];
    stages.forEach((stage, s) =>
      stage.actions.forEach((action, a) => {
        const join = (action.configuration?.RoleArn as { 'Fn::Join'?: [string, unknown[]] } | undefined)?.[
          'Fn::Join'
        ];
        if (!join || join[0] !== '') return;
        const parts = join[1].map((part) =>
          typeof part === 'string'
            ? part
            : (part as { Ref?: string }).Ref && `\${${(part as { Ref: string }).Ref}}`,
        );
        if (parts.some((part) => !part)) return;
        const template = parts.join('');
        cfnPipeline.addPropertyOverride(`Stages.${s}.Actions.${a}.Configuration.RoleArn`, {
          'Fn::Sub': template,
        });
      }),
    );
  }

  /**
   * `npm run preflight -- --env <env>` before the stage's deploy (after its approval), so a bad
   * account stops the stage with each fix before CloudFormation starts. It reads the stage's
   * account through the CDK bootstrap's lookup role (ReadOnlyAccess, no kms:Decrypt), which exists
   * before the first deploy and trusts the tooling account (`cdk bootstrap --trust`).
   */
  private preflight(
    stage: OrderPipelineStage,
    buildSpec: ReturnType<typeof readBuildSpec>,
  ): pipelines.CodeBuildStep {
    const { config } = stage;
    const qualifier =
      (this.node.tryGetContext('@aws-cdk/core:bootstrapQualifier') as string | undefined) ??
      DefaultStackSynthesizer.DEFAULT_QUALIFIER;
    const lookupRoleArn = this.formatArn({
      service: 'iam',
      region: '',
      account: config.account,
      resource: 'role',
      resourceName: bootstrapRoleName('lookup', qualifier, config.account ?? '', config.region),
    });
    return new pipelines.CodeBuildStep(`Preflight${pascal(config.name)}`, {
      input: this.source,
      partialBuildSpec: codebuild.BuildSpec.fromObject(installOnly(buildSpec)),
      commands: [
        `aws configure set profile.${PREFLIGHT_PROFILE}.role_arn ${lookupRoleArn}`,
        `aws configure set profile.${PREFLIGHT_PROFILE}.credential_source EcsContainer`,
        // The run's Source action has just used the connection: no need to read it.
        `npm run preflight -- --env ${config.name} --profile ${PREFLIGHT_PROFILE} --skip connection`,
      ],
      rolePolicyStatements: [
        new iam.PolicyStatement({
          sid: 'AssumeStageLookupRole',
          actions: ['sts:AssumeRole'],
          resources: [lookupRoleArn],
        }),
      ],
    });
  }

  /**
   * `npm run stress:<env>` against the stage's URL, as the stage's post-deploy role: the step's own
   * role may only assume that one role, which may only read this stage's secret, outputs and
   * records (infra/constructs/post-deploy-access.ts).
   */
  private postDeployTest(
    stage: OrderPipelineStage,
    stageConfig: PipelineStageConfig,
    buildSpec: ReturnType<typeof readBuildSpec>,
  ): pipelines.CodeBuildStep {
    const { stack, config } = stage;
    const output = (name: string) => {
      const cfnOutput = stack.outputs[name];
      if (!cfnOutput) throw new Error(`${stack.stackName} has no output ${name}`);
      return cfnOutput;
    };
    const roleArn = Stack.of(stack).formatArn({
      service: 'iam',
      region: '',
      account: config.account,
      resource: 'role',
      resourceName: postDeployRoleName(stack.stackName, config.region),
    });
    // Named, because the stage's post-deploy role trusts exactly this role (aws:PrincipalArn).
    const stepRole = new iam.Role(this, `${pascal(config.name)}PostDeployStepRole`, {
      roleName: postDeployStepRoleName(config.name),
      assumedBy: new iam.ServicePrincipal('codebuild.amazonaws.com'),
      description: `Runs the post-deploy test of ${config.name}`,
    });
    return new pipelines.CodeBuildStep(`${pascal(stageConfig.postDeployTest)}Test`, {
      input: this.source,
      role: stepRole,
      partialBuildSpec: codebuild.BuildSpec.fromObject(installOnly(buildSpec)),
      envFromCfnOutputs: {
        ORDERS_URL: output(OUTPUTS.ordersUrl),
        CLIENT_SECRETS_ID: output(OUTPUTS.clientSecretsId),
        POST_DEPLOY_ROLE_ARN: output(OUTPUTS.postDeployRoleArn),
      },
      env: { STACK_NAME: stack.stackName, STAGE_REGION: config.region },
      // The stress tool takes the API's base URL; the output is the `/orders` endpoint.
      commands: [
        `aws configure set profile.${POST_DEPLOY_PROFILE}.role_arn "$POST_DEPLOY_ROLE_ARN"`,
        `aws configure set profile.${POST_DEPLOY_PROFILE}.credential_source EcsContainer`,
        `AWS_PROFILE=${POST_DEPLOY_PROFILE} AWS_REGION="$STAGE_REGION" npm run stress:${config.name} -- --url "\${ORDERS_URL%/orders}"`,
      ],
      rolePolicyStatements: [
        new iam.PolicyStatement({
          sid: 'AssumeStagePostDeployRole',
          actions: ['sts:AssumeRole'],
          resources: [roleArn],
        }),
      ],
    });
  }
}
