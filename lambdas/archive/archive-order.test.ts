import { OrderMismatchError } from '../shared/errors';
import { METRICS, OPERATOR_REDRIVE, type OrderPlacedEvent } from '../shared/runtime-contract';
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
    ['2026-01-02T03:04:05.000Z', 'orders/2026/01/02/client-a/order-1.json'],
    ['2025-12-31T23:59:59.999Z', 'orders/2025/12/31/client-a/order-1.json'],
    // Dated in UTC, whatever offset the timestamp was written with.
    ['2026-03-01T00:30:00.000+02:00', 'orders/2026/02/28/client-a/order-1.json'],
  ])('dates %s as %s', (createdAt, key) => {
    // Act / Assess
    expect(archiveKey({ order_id: 'order-1', client_id: 'client-a', created_at: createdAt })).toBe(key);
  });

  it("keeps two clients' orders with one id apart", () => {
    // Act / Assess
    const created_at = '2026-01-02T03:04:05.000Z';
    expect(archiveKey({ order_id: 'o', client_id: 'a', created_at })).not.toBe(
      archiveKey({ order_id: 'o', client_id: 'b', created_at }),
    );
  });
});

/** A bucket in memory: objects with their body-hash metadata, written only if absent. */
function memoryArchive() {
  const objects = new Map<string, { body: string; bodyHash: string }>();
  const archive: OrderArchive = {
    put: async (key, body, bodyHash) => {
      if (objects.has(key)) return false;
      objects.set(key, { body, bodyHash });
      return true;
    },
    bodyHashOf: async (key) => objects.get(key)?.bodyHash,
  };
  return { objects, archive };
}

function setup() {
  const { objects, archive } = memoryArchive();
  const progress = new InMemoryOrderProgress();
  const { metrics, count } = recordingMetrics();
  const run = (order = validatedOrder(), record = sqsRecord('')) =>
    archiveOrder({
      archive,
      progress,
      failureInjectionRate: 0,
      random: () => 0,
      now: () => NOW,
      logger: silentLogger(),
      metrics,
    })({ version: 1, type: 'OrderPlaced', order } satisfies OrderPlacedEvent, record);
  return { objects, progress, count, run };
}

describe('archiveOrder', () => {
  it('writes the validated order JSON under its dated key, with its body hash, and marks the order archived', async () => {
    // Prepare
    const { objects, progress, count, run } = setup();
    const order = validatedOrder();
    await progress.markFlag(order, 'billed');

    // Act
    await run(order);

    // Assess
    expect(objects.get('orders/2026/01/02/client-a/order-1.json')).toEqual({
      body: JSON.stringify(order),
      bodyHash: order.body_hash,
    });
    expect([...(progress.flags.get('client-a#order-1') ?? [])]).toContain('archived');
    expect(count(METRICS.ordersArchived)).toBe(1);
    expect(count(METRICS.ordersCompleted)).toBe(1);
  });

  it('writes nothing and counts no archive when the object of the same body exists already', async () => {
    // Prepare
    const { progress, count, run } = setup();
    await run();

    // Act
    await run();

    // Assess
    expect(count(METRICS.ordersArchived)).toBe(1);
    expect([...(progress.flags.get('client-a#order-1') ?? [])]).toContain('archived');
  });

  it('fails on an existing object written for another body, and sets no flag', async () => {
    // Prepare
    const { objects, progress, run } = setup();
    objects.set('orders/2026/01/02/client-a/order-1.json', { body: '{}', bodyHash: 'b'.repeat(64) });

    // Act / Assess
    await expect(run()).rejects.toBeInstanceOf(OrderMismatchError);
    expect(progress.flags.size).toBe(0);
  });

  it('writes no object of an order that is not wanted any more (FAILED), counts it, and does not fail the record', async () => {
    // Prepare
    const { objects, progress, count, run } = setup();
    await progress.markFailed('client-a#order-1');

    // Act
    await run();

    // Assess
    expect(objects.size).toBe(0);
    expect(count(METRICS.sideEffectsNotWanted)).toBe(1);
    expect(count(METRICS.ordersArchived)).toBe(0);
  });

  it("archives a FAILED order on the operator's redrive that says so", async () => {
    // Prepare
    const { objects, progress, count, run } = setup();
    await progress.markFailed('client-a#order-1');
    const redrive = sqsRecord('', {
      messageAttributes: {
        [OPERATOR_REDRIVE.attribute]: {
          dataType: 'String',
          stringValue: OPERATOR_REDRIVE.value,
          stringListValues: [],
          binaryListValues: [],
        },
      },
    });

    // Act
    await run(validatedOrder(), redrive);

    // Assess
    expect(objects.size).toBe(1);
    expect(count(METRICS.sideEffectsNotWanted)).toBe(0);
  });
});
