/** Billing consumer: one billing record per order, made together with the order's billed flag. */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { ConsumerRuntime, OrderEventProcessor } from '../shared/consumer';
import { DependencyUnavailableError, OrderMismatchError } from '../shared/errors';
import {
  completeAfterFlag,
  explainFlagRefusal,
  flagUpdate,
  isOperatorRedrive,
  type CompletionRule,
  type EventOrder,
  type OrdersTable,
} from '../shared/order-status';
import { METRICS, orderKey, type OrderStatus } from '../shared/runtime-contract';

/** An item of the billing table (docs/internals.md). */
export interface BillingRecord {
  order_key: string;
  order_id: string;
  client_id: string;
  customer_id: string;
  /** Minor units. */
  amount: number;
  currency: string;
  /** The body the order was billed for: a redelivery of another body is an error, not "billed". */
  body_hash: string;
  billed_at: string;
}

/** What billing found. */
export type BillingOutcome =
  | { kind: 'billed'; firstTime: boolean }
  /** FAILED or REJECTED: never billed (nothing was written). */
  | { kind: 'not-wanted'; status: OrderStatus };

/** The billing table and the order's flag. Throws DependencyUnavailableError or OrderMismatchError. */
export interface BillingLedger {
  /**
   * Writes the record and sets the order's `billed` flag, both or neither; `operatorRedrive` also
   * bills a FAILED order (an operator's redrive that says so).
   */
  bill(
    record: BillingRecord,
    order: EventOrder,
    options?: { operatorRedrive?: boolean },
  ): Promise<BillingOutcome>;
  /** Completes the order when every flag it needs is set; returns whether this call did. */
  complete(order: EventOrder, now: Date): Promise<boolean>;
}

/** Cancellation reasons that say "try again", not "a condition failed". */
const RETRYABLE_CANCELLATIONS = new Set([
  'TransactionConflict',
  'ThrottlingError',
  'ProvisionedThroughputExceeded',
  'RequestLimitExceeded',
]);

/** {@link BillingLedger} on DynamoDB: one TransactWriteItems of the record and the order's flag. */
export class DynamoBillingLedger implements BillingLedger {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly billingTable: string,
    private readonly orders: OrdersTable,
    private readonly rules: readonly CompletionRule[],
  ) {}

  async bill(
    record: BillingRecord,
    order: EventOrder,
    { operatorRedrive = false }: { operatorRedrive?: boolean } = {},
  ): Promise<BillingOutcome> {
    try {
      await this.client.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.billingTable,
                Item: { ...record },
                ConditionExpression: 'attribute_not_exists(order_key)',
              },
            },
            {
              Update: flagUpdate(this.orders.tableName, order, 'billed', new Date(record.billed_at), {
                operatorRedrive,
              }),
            },
          ],
        }),
      );
      return { kind: 'billed', firstTime: true };
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) {
        throw new DependencyUnavailableError('billing transaction', { cause: error });
      }
      const codes = (error.CancellationReasons ?? []).map((reason) => reason.Code ?? 'None');
      if (codes.some((code) => RETRYABLE_CANCELLATIONS.has(code))) {
        throw new DependencyUnavailableError(`billing transaction (${codes.join(', ')})`, { cause: error });
      }
    }
    // A condition failed: read what is there (strongly consistent) to say which, and why.
    const existing = await this.read(this.billingTable, record.order_key);
    if (existing !== undefined) {
      if (existing.body_hash !== record.body_hash) {
        throw new OrderMismatchError(record.order_key, 'the billing record was made for another body');
      }
      // Made with the flag in one transaction: billed already, by an earlier delivery.
      return { kind: 'billed', firstTime: false };
    }
    const outcome = explainFlagRefusal(
      await this.read(this.orders.tableName, record.order_key),
      order,
      'billed',
    );
    if (outcome.kind === 'not-wanted') return outcome;
    throw new OrderMismatchError(record.order_key, 'the order is marked billed but has no billing record');
  }

  complete(order: EventOrder, now: Date): Promise<boolean> {
    return completeAfterFlag(this.orders, order, this.rules, now);
  }

  private async read(tableName: string, key: string): Promise<Record<string, unknown> | undefined> {
    try {
      const result = await this.client.send(
        new GetCommand({ TableName: tableName, Key: { order_key: key }, ConsistentRead: true }),
      );
      return result.Item;
    } catch (error) {
      throw new DependencyUnavailableError(tableName, { cause: error });
    }
  }
}

/** What billing needs. */
export interface BillingDependencies extends ConsumerRuntime {
  ledger: BillingLedger;
}

/** Bills the order of one OrderPlaced event, idempotently. */
export function billOrder(deps: BillingDependencies): OrderEventProcessor {
  return async ({ order }, message) => {
    const now = deps.now();
    const outcome = await deps.ledger.bill(
      {
        order_key: orderKey(order.client_id, order.order_id),
        order_id: order.order_id,
        client_id: order.client_id,
        customer_id: order.customer_id,
        amount: order.total_amount,
        currency: order.currency,
        body_hash: order.body_hash,
        billed_at: now.toISOString(),
      },
      order,
      { operatorRedrive: isOperatorRedrive(message) },
    );
    if (outcome.kind === 'not-wanted') {
      deps.metrics.addMetric(METRICS.sideEffectsNotWanted, MetricUnit.Count, 1);
      deps.logger.warn('order not billed: it is not wanted any more', {
        order_id: order.order_id,
        status: outcome.status,
      });
      return;
    }
    if (outcome.firstTime) deps.metrics.addMetric(METRICS.ordersBilled, MetricUnit.Count, 1);
    // Also after a redelivery: an earlier delivery may have died between its transaction and here.
    const completed = await deps.ledger.complete(order, now);
    if (completed) deps.metrics.addMetric(METRICS.ordersCompleted, MetricUnit.Count, 1);
    deps.logger.info('order billed', { order_id: order.order_id, first_time: outcome.firstTime, completed });
  };
}
