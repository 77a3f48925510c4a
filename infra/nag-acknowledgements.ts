import { Validations } from 'aws-cdk-lib';
import type { OrderPipelineStack } from './stacks/order-pipeline-stack';

/**
 * Every cdk-nag acknowledgement of the app, in one place. Each names the exact finding on the exact
 * construct and says why it stays.
 */
export function applyNagAcknowledgements(stack: OrderPipelineStack): void {
  void stack;
  void Validations;
}
