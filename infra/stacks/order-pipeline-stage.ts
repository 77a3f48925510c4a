import { Stage, type StageProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { validateEnvironment, type EnvironmentConfig, type EnvironmentInput } from '../../environments';
import { applyNagAcknowledgements } from '../nag-acknowledgements';
import { OrderPipelineStack } from './order-pipeline-stack';
import type { SubscriberDefinition } from './subscribers';

/** Construct id of the environment's stack inside its stage. */
export const STACK_ID = 'OrderPipeline';

export interface OrderPipelineStageProps extends Omit<StageProps, 'env'> {
  /** The environment's configuration; validated again here, so a bad override fails synthesis. */
  readonly config: EnvironmentInput | EnvironmentConfig;
  /** The topic's subscribers; @default SUBSCRIBERS */
  readonly subscribers?: readonly SubscriberDefinition[];
  /** The delivery pipeline's account, trusted to run the post-deploy test; @default none */
  readonly postDeployTrustedAccount?: string;
}

/**
 * One environment's stacks, deployable on its own (`cdk deploy 'Dev/*'`) or as a CDK Pipelines
 * stage. The stage's env is the config's account (prod) and region; without an account the stage
 * is account-agnostic.
 */
export class OrderPipelineStage extends Stage {
  public readonly config: EnvironmentConfig;
  public readonly stack: OrderPipelineStack;

  constructor(scope: Construct, id: string, props: OrderPipelineStageProps) {
    const config = validateEnvironment(props.config);
    // The stage name (not the construct path) makes the stack name, so the stage deployed by a
    // pipeline updates the same stack as a direct `cdk deploy 'Dev/*'`.
    super(scope, id, {
      stageName: id,
      ...props,
      env: { account: config.account, region: config.region },
    });
    this.config = config;
    this.stack = new OrderPipelineStack(this, STACK_ID, {
      config,
      subscribers: props.subscribers,
      postDeployTrustedAccount: props.postDeployTrustedAccount,
      description: `Serverless order pipeline (${config.name})`,
      tags: { application: 'order-pipeline', environment: config.name },
    });
    applyNagAcknowledgements(this.stack);
  }
}
