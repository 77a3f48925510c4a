import { App } from 'aws-cdk-lib';
import { deliveryFilePath } from '../environments/delivery-file';
import { composeOrderApp } from './order-app';
import { addNagChecks } from './stacks/synthesize';

/**
 * The CDK app: every environment's stage and the delivery pipelines, from the delivery file
 * (`delivery.config.yaml`, or `DELIVERY_CONFIG`), cdk-nag checking all of it.
 */
const app = new App();
addNagChecks(app);
composeOrderApp(app, deliveryFilePath());
app.synth();
