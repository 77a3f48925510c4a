import { ExecutionAlreadyExists, StartExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { DependencyUnavailableError } from '../shared/errors';
import type { SubmittedOrder, WorkflowInput } from '../shared/runtime-contract';
import { executionName } from './order-id';

/** Starts the order workflow. Throws DependencyUnavailableError. */
export interface WorkflowStarter {
  start(order: SubmittedOrder): Promise<void>;
}

/** {@link WorkflowStarter} on a Step Functions state machine. */
export class StepFunctionsWorkflowStarter implements WorkflowStarter {
  constructor(
    private readonly client: SFNClient,
    private readonly stateMachineArn: string,
  ) {}

  async start(order: SubmittedOrder): Promise<void> {
    const input: WorkflowInput = { order };
    try {
      await this.client.send(
        new StartExecutionCommand({
          stateMachineArn: this.stateMachineArn,
          name: executionName(order.client_id, order.order_id),
          input: JSON.stringify(input),
        }),
      );
    } catch (error) {
      // A standard workflow already ran (or runs) this order: the order is in the pipeline.
      if (error instanceof ExecutionAlreadyExists) return;
      throw new DependencyUnavailableError('order workflow', { cause: error });
    }
  }
}
