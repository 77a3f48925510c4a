import { Annotations, App, Stack } from 'aws-cdk-lib';
import { ENVIRONMENT_NAMES, loadEnvironment, type EnvironmentName } from '../environments';
import { loadDelivery } from '../environments/delivery';
import {
  deliveryFilePath,
  findPlaceholders,
  loadDeliveryFile,
  placeholderRefusal,
  placeholdersFor,
} from '../environments/delivery-file';
import { addDeliveryPipelines } from '../pipeline/delivery-app';
import type { DeliveryPipelineStack } from '../pipeline/delivery-pipeline-stack';
import { pascal } from './constructs/naming';
import { OrderPipelineStage } from './stacks/order-pipeline-stage';
import { addNagChecks } from './stacks/synthesize';

/** What the CDK app holds. */
export interface OrderApp {
  readonly stages: Readonly<Record<EnvironmentName, OrderPipelineStage>>;
  readonly pipelines: readonly DeliveryPipelineStack[];
}

/**
 * The CDK app: every environment as a Stage (`Local`, `Dev`, `Staging`, `Prod`) that deploys on
 * its own, and the delivery pipelines (`NonProdPipeline`, `ProdPipeline`) that deploy the same
 * stages, all from the delivery file `file` (`delivery.config.yaml`, or `DELIVERY_CONFIG`).
 *
 * Each stack that a placeholder of the file would reach carries an error naming every such
 * placeholder: `cdk deploy` refuses a selected stack with an error (so `cdk deploy 'Dev/*'` is
 * stopped by dev's placeholders only), and so does `cdk synth`, which the pipelines' synth step
 * runs. Unit tests build stages and pipelines themselves, without it.
 */
export function composeOrderApp(app: App, file: string): OrderApp {
  const content = loadDeliveryFile(file);
  const delivery = loadDelivery(content);
  const placeholders = findPlaceholders(content);
  const refuse = (stacks: readonly Stack[], scope: Parameters<typeof placeholdersFor>[1]) => {
    const message = placeholderRefusal(file, placeholdersFor(placeholders, scope));
    if (message) for (const stack of stacks) Annotations.of(stack).addError(message);
  };

  const stages = Object.fromEntries(
    ENVIRONMENT_NAMES.map((name) => {
      const stage = new OrderPipelineStage(app, pascal(name), {
        config: loadEnvironment(name, content),
        // Same post-deploy role as the pipeline's stage, so a direct deploy leaves the stack identical.
        postDeployTrustedAccount: name in delivery.accounts ? delivery.toolingAccount : undefined,
      });
      if (name !== 'local') {
        refuse(stage.node.findAll().filter(Stack.isStack), { environments: [name], pipeline: false });
      }
      return [name, stage];
    }),
  ) as Record<EnvironmentName, OrderPipelineStage>;

  const pipelines = addDeliveryPipelines(app, delivery, (name) => loadEnvironment(name, content));
  delivery.pipelines.forEach((pipeline, index) => {
    const stack = pipelines[index]!;
    const environments = pipeline.stages.map((stage) => stage.environment);
    refuse([stack], { environments, pipeline: true });
  });
  return { stages, pipelines };
}

// `cdk synth` and `cdk deploy` run this file (cdk.json), cdk-nag checking all of it; tests import
// composeOrderApp.
if (require.main === module) {
  const app = new App();
  addNagChecks(app);
  composeOrderApp(app, deliveryFilePath());
  app.synth();
}
