import { METRICS, type OrderPlacedEvent } from '../shared/runtime-contract';
import {
  InMemoryOrderProgress,
  NOW,
  recordingMetrics,
  silentLogger,
  sqsRecord,
  validatedOrder,
} from '../testing/fixtures';
import { archiveKey, archiveOrder, type OrderArchive } from './archive-order';

describe('archiveKey', () => {
  it.each([
    ['2026-01-02T03:04:05.000Z', 'orders/2026/01/02/order-1.json'],
    ['2025-12-31T23:59:59.999Z', 'orders/2025/12/31/order-1.json'],
    // Dated in UTC, whatever offset the timestamp was written with.
    ['2026-03-01T00:30:00.000+02:00', 'orders/2026/02/28/order-1.json'],
  ])('dates %s as %s', (createdAt, key) => {
    // Act / Assess
    expect(archiveKey({ order_id: 'order-1', created_at: createdAt })).toBe(key);
  });
});

describe('archiveOrder', () => {
  it('writes the validated order JSON under its dated key and marks the order archived', async () => {
    // Prepare
    const objects = new Map<string, string>();
    const archive: OrderArchive = {
      put: async (key, body) => {
        if (objects.has(key)) return false;
        objects.set(key, body);
        return true;
      },
    };
    const progress = new InMemoryOrderProgress();
    await progress.markFlag('order-1', 'billed');
    const { metrics, count } = recordingMetrics();
    const order = validatedOrder();
    const event: OrderPlacedEvent = { version: 1, type: 'OrderPlaced', order };

    // Act
    await archiveOrder({
      archive,
      progress,
      failureInjectionRate: 0,
      random: () => 0,
      now: () => NOW,
      logger: silentLogger(),
      metrics,
    })(event, sqsRecord(''));

    // Assess
    expect(objects.get('orders/2026/01/02/order-1.json')).toBe(JSON.stringify(order));
    expect([...(progress.flags.get('order-1') ?? [])]).toContain('archived');
    expect(count(METRICS.ordersArchived)).toBe(1);
    expect(count(METRICS.ordersCompleted)).toBe(1);
  });

  it('writes nothing and counts no archive when the object exists already', async () => {
    // Prepare
    const order = validatedOrder();
    const objects = new Map<string, string>([['orders/2026/01/02/order-1.json', JSON.stringify(order)]]);
    const writes: string[] = [];
    const archive: OrderArchive = {
      put: async (key) => {
        writes.push(key);
        return !objects.has(key);
      },
    };
    const progress = new InMemoryOrderProgress();
    const { metrics, count } = recordingMetrics();

    // Act
    await archiveOrder({
      archive,
      progress,
      failureInjectionRate: 0,
      random: () => 0,
      now: () => NOW,
      logger: silentLogger(),
      metrics,
    })({ version: 1, type: 'OrderPlaced', order }, sqsRecord(''));

    // Assess
    expect(writes).toEqual(['orders/2026/01/02/order-1.json']);
    expect(count(METRICS.ordersArchived)).toBe(0);
    expect([...(progress.flags.get('order-1') ?? [])]).toContain('archived');
  });
});
