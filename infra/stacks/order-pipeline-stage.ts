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
    super(scope, id, { ...props, env: { account: config.account, region: config.region } });
    this.config = config;
    this.stack = new OrderPipelineStack(this, STACK_ID, {
      config,
      subscribers: props.subscribers,
      description: `Serverless order pipeline (${config.name})`,
      tags: { application: 'order-pipeline', environment: config.name },
    });
    applyNagAcknowledgements(this.stack);
  }
}
