import { DependencyUnavailableError, OrderMismatchError } from '../shared/errors';
import type { EventOrder } from '../shared/order-status';
import { METRICS, orderKey, type OrderPlacedEvent, type OrderStatus } from '../shared/runtime-contract';
import { NOW, recordingMetrics, silentLogger, sqsRecord, validatedOrder } from '../testing/fixtures';
import { billOrder, type BillingLedger, type BillingOutcome, type BillingRecord } from './bill-order';

/**
 * The billing table and the order's flag in memory, with the transaction's all-or-nothing rule and
 * the completion in the same write when the archive flag is already set.
 */
class InMemoryLedger implements BillingLedger {
  readonly records = new Map<string, BillingRecord>();
  status: OrderStatus = 'PUBLISHED';
  billed = false;
  archived = false;
  failWith: Error | undefined;

  async bill(record: BillingRecord, order: EventOrder): Promise<BillingOutcome> {
    if (this.failWith) throw this.failWith;
    const existing = this.records.get(record.order_key);
    if (existing) {
      if (existing.body_hash !== order.body_hash)
        throw new OrderMismatchError(record.order_key, 'other body');
      return { kind: 'billed', firstTime: false, completed: false };
    }
    if (this.status === 'FAILED' || this.status === 'REJECTED')
      return { kind: 'not-wanted', status: this.status };
    this.records.set(record.order_key, record);
    this.billed = true;
    const completed = this.archived && this.status === 'PUBLISHED';
    if (completed) this.status = 'COMPLETED';
    return { kind: 'billed', firstTime: true, completed };
  }
}

function setup() {
  const ledger = new InMemoryLedger();
  const { metrics, count } = recordingMetrics();
  const bill = billOrder({
    ledger,
    failureInjectionRate: 0,
    random: () => 0,
    now: () => NOW,
    logger: silentLogger(),
    metrics,
  });
  const order = validatedOrder();
  const event: OrderPlacedEvent = { version: 1, type: 'OrderPlaced', order };
  return { ledger, count, order, run: (e: OrderPlacedEvent = event) => bill(e, sqsRecord('')) };
}

describe('billOrder', () => {
  it('writes one billing record, keyed by client and order, with the body hash', async () => {
    // Prepare
    const { ledger, count, run, order } = setup();

    // Act
    await run();

    // Assess
    expect(ledger.records.get(orderKey('client-a', 'order-1'))).toEqual({
      order_key: 'client-a#order-1',
      order_id: 'order-1',
      client_id: 'client-a',
      customer_id: 'cust-1',
      amount: 3998,
      currency: 'USD',
      body_hash: order.body_hash,
      billed_at: NOW.toISOString(),
    });
    expect(ledger.billed).toBe(true);
    expect(count(METRICS.ordersBilled)).toBe(1);
  });

  it('treats a redelivery as success without billing twice', async () => {
    // Prepare
    const { ledger, count, run } = setup();
    await run();

    // Act
    await run();

    // Assess
    expect(ledger.records.size).toBe(1);
    expect(count(METRICS.ordersBilled)).toBe(1);
    expect(count(METRICS.ordersCompleted)).toBe(0);
  });

  it('counts the completion when the archive flag is already set', async () => {
    // Prepare
    const { ledger, count, run } = setup();
    ledger.archived = true;

    // Act
    await run();

    // Assess
    expect(ledger.status).toBe('COMPLETED');
    expect(count(METRICS.ordersCompleted)).toBe(1);
  });

  it('bills a FAILED order never, and drops its message (nothing to retry)', async () => {
    // Prepare
    const { ledger, count, run } = setup();
    ledger.status = 'FAILED';

    // Act
    await run();

    // Assess
    expect(ledger.records.size).toBe(0);
    expect(count(METRICS.sideEffectsNotWanted)).toBe(1);
  });

  it('fails on a billing record made for another body', async () => {
    // Prepare
    const { run, order } = setup();
    await run();

    // Act / Assess
    await expect(
      run({ version: 1, type: 'OrderPlaced', order: { ...order, body_hash: 'b'.repeat(64) } }),
    ).rejects.toBeInstanceOf(OrderMismatchError);
  });

  it('fails when the tables cannot be written', async () => {
    // Prepare
    const { ledger, run } = setup();
    ledger.failWith = new DependencyUnavailableError('billing transaction');

    // Act / Assess
    await expect(run()).rejects.toBeInstanceOf(DependencyUnavailableError);
  });
});
