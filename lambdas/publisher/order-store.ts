import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod/mini';
import { DependencyUnavailableError } from '../shared/errors';
import { putIfAbsent } from '../shared/put-if-absent';
import { LIFECYCLE, ORDER_STATUSES, pendingShard, type OrderStatus } from '../shared/runtime-contract';

/** The publisher's view of an orders-table item (docs/internals.md). */
export interface OrderRecord {
  order_key: string;
  order_id: string;
  client_id: string;
  body_hash: string;
  status: OrderStatus;
  reasons: string[];
  billed: boolean;
  archived: boolean;
  created_at: string;
  updated_at: string;
  /** Epoch ms of the last StartExecution a request claimed for the order; 0 = released. */
  started_at: number;
  /** The workflow input's order as JSON: what the reconciler restarts a run with. */
  submitted_json: string;
}

/** What the publisher writes for a new order. */
export type AcceptedOrder = Pick<
  OrderRecord,
  'order_key' | 'order_id' | 'client_id' | 'body_hash' | 'created_at' | 'started_at' | 'submitted_json'
>;

/** The orders table as the publisher uses it. Every method throws DependencyUnavailableError. */
export interface OrderRepository {
  /** Writes the order as ACCEPTED unless its key exists; returns false when it exists. */
  createAccepted(order: AcceptedOrder): Promise<boolean>;
  /** Reads an order (strongly consistent), or undefined. */
  get(key: string): Promise<OrderRecord | undefined>;
  /**
   * Claims the (re)start of a run: sets `started_at` to `now` only while the order is ACCEPTED with
   * this body and its last claim is older than `staleBefore` (that request is
   * over). Of concurrent replays, one wins. Returns whether this call won.
   */
  claimStart(key: string, bodyHash: string, now: number, staleBefore: number): Promise<boolean>;
  /**
   * Gives up a claim whose StartExecution failed: `started_at` back to `releasedTo` (the claim's
   * length before it, so a retry's claim holds at once), only if it is still `claimedAt`. Not 0:
   * a failed start may have started the run (the answer lost), and the reconciler's deadline
   * counts from `started_at`, so it still waits a run's lifetime past this claim.
   */
  releaseStart(key: string, claimedAt: number, releasedTo: number): Promise<void>;
}

const orderRecordSchema = z.object({
  order_key: z.string(),
  order_id: z.string(),
  client_id: z.string(),
  body_hash: z.string(),
  status: z.enum(ORDER_STATUSES),
  reasons: z._default(z.array(z.string()), []),
  billed: z._default(z.boolean(), false),
  archived: z._default(z.boolean(), false),
  created_at: z.string(),
  updated_at: z.string(),
  started_at: z._default(z.number(), 0),
  submitted_json: z._default(z.string(), ''),
});

/** {@link OrderRepository} on a DynamoDB table. */
export class DynamoOrderRepository implements OrderRepository {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async createAccepted(order: AcceptedOrder): Promise<boolean> {
    const item: OrderRecord & { [LIFECYCLE.pendingShard]: string } = {
      ...order,
      status: 'ACCEPTED',
      reasons: [],
      billed: false,
      archived: false,
      updated_at: order.created_at,
      // In the reconciler's pending index until a terminal transition removes it.
      [LIFECYCLE.pendingShard]: pendingShard(order.order_key),
    };
    return putIfAbsent(this.client, this.tableName, { ...item }, 'order_key', 'orders table');
  }

  async get(key: string): Promise<OrderRecord | undefined> {
    let item: Record<string, unknown> | undefined;
    try {
      const result = await this.client.send(
        new GetCommand({ TableName: this.tableName, Key: { order_key: key }, ConsistentRead: true }),
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

  async claimStart(key: string, bodyHash: string, now: number, staleBefore: number): Promise<boolean> {
    return this.conditionalUpdate({
      Key: { order_key: key },
      UpdateExpression: 'SET #started = :now',
      ConditionExpression:
        '#status = :accepted AND body_hash = :hash AND (attribute_not_exists(#started) OR #started < :stale)',
      ExpressionAttributeNames: { '#status': 'status', '#started': LIFECYCLE.startedAt },
      ExpressionAttributeValues: {
        ':now': now,
        ':stale': staleBefore,
        ':hash': bodyHash,
        ':accepted': 'ACCEPTED',
      },
    });
  }

  async releaseStart(key: string, claimedAt: number, releasedTo: number): Promise<void> {
    await this.conditionalUpdate({
      Key: { order_key: key },
      UpdateExpression: 'SET #started = :released',
      ConditionExpression: '#started = :claimed',
      ExpressionAttributeNames: { '#started': LIFECYCLE.startedAt },
      ExpressionAttributeValues: { ':released': releasedTo, ':claimed': claimedAt },
    });
  }

  /** An UpdateItem whose conditional failure is an answer (false), not an error. */
  private async conditionalUpdate(
    input: Omit<ConstructorParameters<typeof UpdateCommand>[0], 'TableName'>,
  ): Promise<boolean> {
    try {
      await this.client.send(new UpdateCommand({ TableName: this.tableName, ...input }));
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw new DependencyUnavailableError('orders table', { cause: error });
    }
  }
}
