import { App } from 'aws-cdk-lib';
import { ENVIRONMENT_NAMES, loadEnvironment } from '../environments';
import { pascal } from './constructs/naming';
import { OrderPipelineStage } from './stacks/order-pipeline-stage';
import { addNagChecks } from './stacks/synthesize';

/** Every environment as a Stage (`Local`, `Dev`, `Staging`, `Prod`), checked by cdk-nag. */
const app = new App();
addNagChecks(app);
for (const name of ENVIRONMENT_NAMES) {
  new OrderPipelineStage(app, pascal(name), { config: loadEnvironment(name) });
}
app.synth();
