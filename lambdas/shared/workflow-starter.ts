/** Starting the order workflow: the publisher starts runs, the reconciler restarts them. */
import { createHash } from 'node:crypto';
import { ExecutionAlreadyExists, StartExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { DependencyUnavailableError } from './errors';
import { orderKey, type SubmittedOrder, type WorkflowInput } from './runtime-contract';

const MAX_EXECUTION_NAME = 80;
const KEY_DIGEST_LENGTH = 12;

/**
 * The workflow execution name of an order: deterministic, within Step Functions' 80 characters of
 * `[A-Za-z0-9-_]`, and distinct for two clients' orders with one id. A digest of the order key
 * comes first (order ids are per client), then the order id (at most 64 characters, already in
 * that alphabet) for a reader. A reconciler restart (`attempt` > 0) gets a name of its own, as a
 * STANDARD workflow refuses a name it ran in the last 90 days.
 */
export function executionName(clientId: string, orderId: string, attempt = 0): string {
  const digest = createHash('sha256')
    .update(orderKey(clientId, orderId))
    .digest('hex')
    .slice(0, KEY_DIGEST_LENGTH);
  const safeOrderId = orderId.replace(/[^A-Za-z0-9_-]/g, '_');
  const suffix = attempt > 0 ? `-r${attempt}` : '';
  return `${digest}-${safeOrderId.slice(0, MAX_EXECUTION_NAME - KEY_DIGEST_LENGTH - 1 - suffix.length)}${suffix}`;
}

/** Starts the order workflow. Throws DependencyUnavailableError. */
export interface WorkflowStarter {
  /** Starts a run; `attempt` > 0 is a reconciler restart (a name of its own). */
  start(order: SubmittedOrder, attempt?: number): Promise<void>;
}

/** {@link WorkflowStarter} on a Step Functions state machine. */
export class StepFunctionsWorkflowStarter implements WorkflowStarter {
  constructor(
    private readonly client: SFNClient,
    private readonly stateMachineArn: string,
  ) {}

  async start(order: SubmittedOrder, attempt = 0): Promise<void> {
    const input: WorkflowInput = { order };
    try {
      await this.client.send(
        new StartExecutionCommand({
          stateMachineArn: this.stateMachineArn,
          name: executionName(order.client_id, order.order_id, attempt),
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
