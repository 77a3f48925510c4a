/** Billing consumer: one billing record per order, then the order marked billed. */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { ConsumerRuntime, OrderEventProcessor } from '../shared/consumer';
import type { OrderProgress } from '../shared/order-status';
import { putIfAbsent } from '../shared/put-if-absent';
import { METRICS } from '../shared/runtime-contract';

/** An item of the billing table (docs/internals.md). */
export interface BillingRecord {
  order_id: string;
  client_id: string;
  customer_id: string;
  /** Minor units. */
  amount: number;
  currency: string;
  billed_at: string;
}

/** The billing table. Throws DependencyUnavailableError. */
export interface BillingLedger {
  /** Writes the record unless the order is billed already; returns whether it was written now. */
  record(billing: BillingRecord): Promise<boolean>;
}

/** {@link BillingLedger} on DynamoDB. */
export class DynamoBillingLedger implements BillingLedger {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  record(billing: BillingRecord): Promise<boolean> {
    // False: already billed by an earlier delivery of the same event, which is success.
    return putIfAbsent(this.client, this.tableName, { ...billing }, 'order_id', 'billing table');
  }
}

/** What billing needs. */
export interface BillingDependencies extends ConsumerRuntime {
  ledger: BillingLedger;
  progress: OrderProgress;
}

/** Bills the order of one OrderPlaced event, idempotently. */
export function billOrder(deps: BillingDependencies): OrderEventProcessor {
  return async ({ order }) => {
    const now = deps.now();
    const billedNow = await deps.ledger.record({
      order_id: order.order_id,
      client_id: order.client_id,
      customer_id: order.customer_id,
      amount: order.total_amount,
      currency: order.currency,
      billed_at: now.toISOString(),
    });
    if (billedNow) deps.metrics.addMetric(METRICS.ordersBilled, MetricUnit.Count, 1);
    const completed = await deps.progress.markFlag(order.order_id, 'billed', now);
    if (completed) deps.metrics.addMetric(METRICS.ordersCompleted, MetricUnit.Count, 1);
    deps.logger.info('order billed', { order_id: order.order_id, first_time: billedNow, completed });
  };
}
