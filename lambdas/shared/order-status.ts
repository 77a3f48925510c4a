/**
 * The order lifecycle's forward-only transitions, and the conditional DynamoDB updates the
 * consumers and the DLQ handler make to the orders table (docs/internals.md, writes 5 and 6).
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DependencyUnavailableError } from './errors';
import type { OrderStatus } from './runtime-contract';

/**
 * For each status, the statuses it may move to. Terminal statuses move nowhere. ACCEPTED may
 * complete directly because the consumers can finish before the workflow's MarkPublished runs.
 */
export const ORDER_TRANSITIONS: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
  ACCEPTED: ['REJECTED', 'PUBLISHED', 'FAILED', 'COMPLETED'],
  PUBLISHED: ['COMPLETED', 'FAILED'],
  REJECTED: [],
  COMPLETED: [],
  FAILED: [],
};

/** Whether `from -> to` is a forward move of the lifecycle. */
export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  return ORDER_TRANSITIONS[from].includes(to);
}

/** The statuses an order may be in for a move to `to`: the write's condition. */
export function statusesAllowedBefore(to: OrderStatus): OrderStatus[] {
  return (Object.keys(ORDER_TRANSITIONS) as OrderStatus[]).filter((from) => canTransition(from, to));
}

/** The side effects the consumers record on the order. */
export type CompletionFlag = 'billed' | 'archived';

/** The flags that must all be set before an order is COMPLETED. */
export const COMPLETION_FLAGS: readonly CompletionFlag[] = ['billed', 'archived'];

/** The orders table and the client that writes to it. */
export interface OrdersTable {
  client: DynamoDBDocumentClient;
  tableName: string;
}

/**
 * Moves an order to `to` if the lifecycle allows it from its current status.
 * @returns false when the condition failed (already terminal, or no such order): not an error.
 * @throws DependencyUnavailableError on any other failure.
 */
export async function transitionOrder(
  { client, tableName }: OrdersTable,
  orderId: string,
  to: OrderStatus,
  now: Date,
): Promise<boolean> {
  const allowed = statusesAllowedBefore(to);
  const placeholders = allowed.map((_, index) => `:from${index}`);
  try {
    await client.send(
      new UpdateCommand({
        TableName: tableName,
        Key: { order_id: orderId },
        UpdateExpression: 'SET #status = :to, updated_at = :now',
        ConditionExpression: `attribute_exists(order_id) AND #status IN (${placeholders.join(', ')})`,
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':to': to,
          ':now': now.toISOString(),
          ...Object.fromEntries(allowed.map((status, index) => [`:from${index}`, status])),
        },
      }),
    );
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw new DependencyUnavailableError('orders table', { cause: error });
  }
}

/**
 * Records a consumer's side effect on the order (`SET billed = true` or `archived`) and, when every
 * completion flag is then set, moves the order to COMPLETED.
 * @returns whether this call completed the order.
 * @throws DependencyUnavailableError when the table fails or the order does not exist.
 */
export async function markOrderFlag(
  table: OrdersTable,
  orderId: string,
  flag: CompletionFlag,
  now: Date,
): Promise<boolean> {
  let attributes: Record<string, unknown> | undefined;
  try {
    const result = await table.client.send(
      new UpdateCommand({
        TableName: table.tableName,
        Key: { order_id: orderId },
        UpdateExpression: 'SET #flag = :true, updated_at = :now',
        // Without the condition an update would create a stub order out of nothing.
        ConditionExpression: 'attribute_exists(order_id)',
        ExpressionAttributeNames: { '#flag': flag },
        ExpressionAttributeValues: { ':true': true, ':now': now.toISOString() },
        ReturnValues: 'ALL_NEW',
      }),
    );
    attributes = result.Attributes;
  } catch (error) {
    throw new DependencyUnavailableError(
      error instanceof ConditionalCheckFailedException ? `order ${orderId} in orders table` : 'orders table',
      { cause: error },
    );
  }
  const complete = COMPLETION_FLAGS.every((name) => attributes?.[name] === true);
  return complete ? transitionOrder(table, orderId, 'COMPLETED', now) : false;
}

/** How consumers and the DLQ handler move an order along. Both methods throw DependencyUnavailableError. */
export interface OrderProgress {
  /** Sets a completion flag; returns whether this call completed the order. */
  markFlag(orderId: string, flag: CompletionFlag, now: Date): Promise<boolean>;
  /** Moves the order to FAILED; returns false when it was already terminal or does not exist. */
  markFailed(orderId: string, now: Date): Promise<boolean>;
}

/** {@link OrderProgress} on the DynamoDB orders table. */
export class DynamoOrderProgress implements OrderProgress {
  constructor(private readonly table: OrdersTable) {}

  markFlag(orderId: string, flag: CompletionFlag, now: Date): Promise<boolean> {
    return markOrderFlag(this.table, orderId, flag, now);
  }

  markFailed(orderId: string, now: Date): Promise<boolean> {
    return transitionOrder(this.table, orderId, 'FAILED', now);
  }
}
