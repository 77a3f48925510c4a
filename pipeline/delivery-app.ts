import type { App } from 'aws-cdk-lib';
import type { EnvironmentConfig } from '../environments';
import type { DeliveryConfig } from '../environments/delivery';
import { applyPipelineNagAcknowledgements } from './nag-acknowledgements';
import { DeliveryPipelineStack } from './delivery-pipeline-stack';

/** Construct id (and stack name) of a pipeline's stack. */
export const pipelineStackId = (pipelineName: string) => `${pipelineName}Pipeline`;

/**
 * Adds one `DeliveryPipelineStack` per pipeline of the delivery config. The pull-request check
 * lives in the stack of the pipeline named by `pullRequestCheck.pipeline`.
 */
export function addDeliveryPipelines(
  app: App,
  delivery: DeliveryConfig,
  loadEnvironment?: (name: string) => EnvironmentConfig,
): DeliveryPipelineStack[] {
  return delivery.pipelines.map((pipeline) => {
    const stack = new DeliveryPipelineStack(app, pipelineStackId(pipeline.name), {
      delivery,
      pipeline,
      pullRequestCheck: delivery.pullRequestCheck.pipeline === pipeline.name,
      loadEnvironment,
    });
    applyPipelineNagAcknowledgements(stack);
    return stack;
  });
}
