import { App } from 'aws-cdk-lib';
import { ENVIRONMENT_NAMES, loadEnvironment } from '../environments';
import { loadDelivery } from '../environments/delivery';
import { addDeliveryPipelines } from '../pipeline/delivery-app';
import { pascal } from './constructs/naming';
import { OrderPipelineStage } from './stacks/order-pipeline-stage';
import { addNagChecks } from './stacks/synthesize';

/**
 * Every environment as a Stage (`Local`, `Dev`, `Staging`, `Prod`) that deploys on its own, and
 * the delivery pipelines (`NonProdPipeline`, `ProdPipeline`) that deploy the same stages from
 * `develop` and `main`; cdk-nag checks all of it.
 */
const app = new App();
addNagChecks(app);
const delivery = loadDelivery();
for (const name of ENVIRONMENT_NAMES) {
  new OrderPipelineStage(app, pascal(name), {
    config: loadEnvironment(name),
    // Same post-deploy role as the pipeline's stage, so a direct deploy leaves the stack identical.
    postDeployTrustedAccount: name in delivery.accounts ? delivery.toolingAccount : undefined,
  });
}
addDeliveryPipelines(app, delivery);
app.synth();
