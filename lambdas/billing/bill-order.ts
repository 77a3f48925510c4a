/** Billing consumer: one billing record per order, made together with the order's billed flag. */
import { TransactionCanceledException, type CancellationReason } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { ConsumerRuntime, OrderEventProcessor } from '../shared/consumer';
import { DependencyUnavailableError, OrderMismatchError } from '../shared/errors';
import {
  firstFlagMode,
  flagUpdate,
  isOperatorRedrive,
  markOrderFlag,
  MAX_FLAG_WRITES,
  nextFlagStep,
  otherRequiredFlags,
  type CompletionRule,
  type EventOrder,
  type FlagWrite,
  type FlagWriteMode,
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
  /** `completed`: this call also moved the order to COMPLETED (the last flag it needed). */
  | { kind: 'billed'; firstTime: boolean; completed: boolean }
  /** FAILED or REJECTED: never billed (nothing was written). */
  | { kind: 'not-wanted'; status: OrderStatus };

/** The billing table and the order's flag. Throws DependencyUnavailableError or OrderMismatchError. */
export interface BillingLedger {
  /**
   * Writes the record and sets the order's `billed` flag, both or neither, completing the order in
   * the same transaction when `billed` was the last flag it needed; `operatorRedrive` also bills a
   * FAILED order (an operator's redrive that says so).
   */
  bill(
    record: BillingRecord,
    order: EventOrder,
    options?: { operatorRedrive?: boolean },
  ): Promise<BillingOutcome>;
}

/** Cancellation reasons that say "try again", not "a condition failed". */
const RETRYABLE_CANCELLATIONS = new Set([
  'TransactionConflict',
  'ThrottlingError',
  'ProvisionedThroughputExceeded',
  'RequestLimitExceeded',
]);

/**
 * {@link BillingLedger} on DynamoDB: one TransactWriteItems of the record and the order's flag
 * (with COMPLETED when the other flags are set: {@link FlagWriteMode}). A cancelled transaction
 * returns the items as they were, so the next step needs no read. One per consumer process: it
 * tries first the mode its last transaction settled in ({@link firstFlagMode}).
 */
export class DynamoBillingLedger implements BillingLedger {
  private settled: FlagWriteMode | undefined;

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
    const others = otherRequiredFlags(this.rules, order, 'billed');
    const now = new Date(record.billed_at);
    // First the mode this process's last transaction settled in (billing, one call, usually
    // finishes first: the flag alone); a cancellation that finds the other flags set says to
    // complete instead.
    let mode: FlagWriteMode = firstFlagMode(others, operatorRedrive, this.settled);
    for (let attempt = 0; attempt < MAX_FLAG_WRITES; attempt++) {
      const cancelled = await this.transact(record, {
        order,
        flag: 'billed',
        others,
        mode,
        now,
        operatorRedrive,
      });
      if (cancelled === undefined) {
        if (!operatorRedrive) this.settled = mode;
        return { kind: 'billed', firstTime: true, completed: mode === 'complete' };
      }
      const [recordReason, orderReason] = cancelled;
      if (recordReason?.Code === 'ConditionalCheckFailed') {
        const existing = this.itemOf(recordReason);
        if (existing?.body_hash !== record.body_hash) {
          throw new OrderMismatchError(record.order_key, 'the billing record was made for another body');
        }
        // Made with the flag in one transaction, by an earlier delivery; that transaction (or the
        // other consumer's flag write after it) completed the order. Unless a billing version
        // without the one-write completion made it (during a deployment): an order left PUBLISHED
        // with every flag it needs is completed here.
        const item = this.itemOf(orderReason);
        const step = item && nextFlagStep(item, order, others, { operatorRedrive });
        if (item?.billed === true && step?.kind === 'write' && step.mode === 'complete') {
          const outcome = await markOrderFlag(this.orders, order, 'billed', now, this.rules, {
            operatorRedrive,
            likely: 'complete',
          });
          return {
            kind: 'billed',
            firstTime: false,
            completed: outcome.kind === 'recorded' && outcome.completed,
          };
        }
        return { kind: 'billed', firstTime: false, completed: false };
      }
      const item = this.itemOf(orderReason);
      if (item?.billed === true) {
        throw new OrderMismatchError(
          record.order_key,
          'the order is marked billed but has no billing record',
        );
      }
      const step = nextFlagStep(item, order, others, { operatorRedrive });
      if (step.kind === 'not-wanted') return step;
      if (step.kind === 'recorded') {
        throw new OrderMismatchError(
          record.order_key,
          'the order is marked billed but has no billing record',
        );
      }
      mode = step.mode;
    }
    throw new DependencyUnavailableError(`billing transaction (not settled in ${MAX_FLAG_WRITES} attempts)`);
  }

  /**
   * The transaction; returns undefined when it committed, or the cancellation reasons (record,
   * order) when a condition failed.
   * @throws DependencyUnavailableError when it failed otherwise (or should be retried later)
   */
  private async transact(record: BillingRecord, write: FlagWrite): Promise<CancellationReason[] | undefined> {
    try {
      await this.client.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.billingTable,
                Item: { ...record },
                ConditionExpression: 'attribute_not_exists(order_key)',
                ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
              },
            },
            {
              Update: {
                ...flagUpdate(this.orders.tableName, write),
                ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
              },
            },
          ],
        }),
      );
      return undefined;
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) {
        throw new DependencyUnavailableError('billing transaction', { cause: error });
      }
      const reasons = error.CancellationReasons ?? [];
      const codes = reasons.map((reason) => reason.Code ?? 'None');
      // Only a failed condition says something about the items; any other code (a conflict, a
      // throttle, a validation error) is the table's, and the delivery is retried.
      const conditionsOnly =
        reasons.length === 2 && codes.every((code) => code === 'None' || code === 'ConditionalCheckFailed');
      if (!conditionsOnly || codes.some((code) => RETRYABLE_CANCELLATIONS.has(code))) {
        throw new DependencyUnavailableError(`billing transaction (${codes.join(', ')})`, { cause: error });
      }
      return reasons;
    }
  }

  /**
   * The item a cancellation reason returned, as it was (the document client does not unmarshall
   * errors); none when there is no such item. DynamoDB returns it for ReturnValuesOnConditionCheckFailure
   * ALL_OLD (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_CancellationReason.html),
   * so no read is needed (and billing has no GetItem grant).
   */
  private itemOf(reason: CancellationReason | undefined): Record<string, unknown> | undefined {
    return reason?.Item ? unmarshall(reason.Item) : undefined;
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
    if (outcome.completed) deps.metrics.addMetric(METRICS.ordersCompleted, MetricUnit.Count, 1);
    deps.logger.info('order billed', {
      order_id: order.order_id,
      first_time: outcome.firstTime,
      completed: outcome.completed,
    });
  };
}
