import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod/mini';
import { DependencyUnavailableError } from '../shared/errors';
import { putIfAbsent } from '../shared/put-if-absent';
import { ORDER_STATUSES, type OrderStatus } from '../shared/runtime-contract';

/** The publisher's view of an orders-table item (docs/internals.md). */
export interface OrderRecord {
  order_id: string;
  client_id: string;
  body_hash: string;
  status: OrderStatus;
  reasons: string[];
  billed: boolean;
  archived: boolean;
  created_at: string;
  updated_at: string;
}

/** What the publisher writes for a new order. */
export type AcceptedOrder = Pick<OrderRecord, 'order_id' | 'client_id' | 'body_hash' | 'created_at'>;

/** The orders table as the publisher uses it. Every method throws DependencyUnavailableError. */
export interface OrderRepository {
  /** Writes the order as ACCEPTED unless its id exists; returns false when it exists. */
  createAccepted(order: AcceptedOrder): Promise<boolean>;
  /** Reads an order (strongly consistent), or undefined. */
  get(orderId: string): Promise<OrderRecord | undefined>;
  /** Deletes an order the publisher made, only while it is still ACCEPTED with that body. */
  deleteAccepted(orderId: string, bodyHash: string): Promise<void>;
}

const orderRecordSchema = z.object({
  order_id: z.string(),
  client_id: z.string(),
  body_hash: z.string(),
  status: z.enum(ORDER_STATUSES),
  reasons: z._default(z.array(z.string()), []),
  billed: z._default(z.boolean(), false),
  archived: z._default(z.boolean(), false),
  created_at: z.string(),
  updated_at: z.string(),
});

/** {@link OrderRepository} on a DynamoDB table. */
export class DynamoOrderRepository implements OrderRepository {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async createAccepted(order: AcceptedOrder): Promise<boolean> {
    const item: OrderRecord = {
      ...order,
      status: 'ACCEPTED',
      reasons: [],
      billed: false,
      archived: false,
      updated_at: order.created_at,
    };
    return putIfAbsent(this.client, this.tableName, { ...item }, 'order_id', 'orders table');
  }

  async get(orderId: string): Promise<OrderRecord | undefined> {
    let item: Record<string, unknown> | undefined;
    try {
      const result = await this.client.send(
        new GetCommand({ TableName: this.tableName, Key: { order_id: orderId }, ConsistentRead: true }),
      );
      item = result.Item;
    } catch (error) {
      throw new DependencyUnavailableError('orders table', { cause: error });
    }
    if (item === undefined) return undefined;
    const parsed = orderRecordSchema.safeParse(item);
    if (!parsed.success) {
      throw new DependencyUnavailableError('orders table (unreadable item)', { cause: parsed.error });
    }
    return parsed.data;
  }

  async deleteAccepted(orderId: string, bodyHash: string): Promise<void> {
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { order_id: orderId },
          ConditionExpression: '#status = :accepted AND body_hash = :hash',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':accepted': 'ACCEPTED', ':hash': bodyHash },
        }),
      );
    } catch (error) {
      // Someone moved the order on (a run did start after all): it is no longer ours to remove.
      if (error instanceof ConditionalCheckFailedException) return;
      throw new DependencyUnavailableError('orders table', { cause: error });
    }
  }
}
