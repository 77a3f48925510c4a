import { DependencyUnavailableError } from '../shared/errors';
import { METRICS, type OrderPlacedEvent } from '../shared/runtime-contract';
import {
  InMemoryOrderProgress,
  NOW,
  recordingMetrics,
  silentLogger,
  sqsRecord,
  validatedOrder,
} from '../testing/fixtures';
import { billOrder, type BillingLedger, type BillingRecord } from './bill-order';

class InMemoryLedger implements BillingLedger {
  readonly records = new Map<string, BillingRecord>();
  async record(billing: BillingRecord): Promise<boolean> {
    if (this.records.has(billing.order_id)) return false;
    this.records.set(billing.order_id, billing);
    return true;
  }
}

function setup() {
  const ledger = new InMemoryLedger();
  const progress = new InMemoryOrderProgress();
  const { metrics, count } = recordingMetrics();
  const bill = billOrder({
    ledger,
    progress,
    failureInjectionRate: 0,
    random: () => 0,
    now: () => NOW,
    logger: silentLogger(),
    metrics,
  });
  const event: OrderPlacedEvent = { version: 1, type: 'OrderPlaced', order: validatedOrder() };
  return { ledger, progress, count, run: () => bill(event, sqsRecord('')) };
}

describe('billOrder', () => {
  it('writes one billing record and marks the order billed', async () => {
    // Prepare
    const { ledger, progress, count, run } = setup();

    // Act
    await run();

    // Assess
    expect(ledger.records.get('order-1')).toEqual({
      order_id: 'order-1',
      client_id: 'client-a',
      customer_id: 'cust-1',
      amount: 3998,
      currency: 'USD',
      billed_at: NOW.toISOString(),
    });
    expect([...(progress.flags.get('order-1') ?? [])]).toEqual(['billed']);
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
  });

  it('counts the completion when the archive flag is already set', async () => {
    // Prepare
    const { progress, count, run } = setup();
    await progress.markFlag('order-1', 'archived');

    // Act
    await run();

    // Assess
    expect(count(METRICS.ordersCompleted)).toBe(1);
  });

  it('fails when the orders table cannot be updated', async () => {
    // Prepare
    const { progress, run } = setup();
    progress.failWith = new DependencyUnavailableError('orders table');

    // Act / Assess
    await expect(run()).rejects.toBeInstanceOf(DependencyUnavailableError);
  });
});
