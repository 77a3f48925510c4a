import { DependencyUnavailableError, OrderMismatchError } from '../shared/errors';
import type { OrderProgress } from '../shared/order-status';
import { METRICS, OPERATOR_REDRIVE, type OrderPlacedEvent } from '../shared/runtime-contract';
import {
  BODY_HASH,
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

/** A versioned bucket in memory: objects with their body-hash metadata, written only if absent. */
function memoryArchive() {
  const objects = new Map<string, { body: string; bodyHash: string; versionId: string }>();
  const calls: string[] = [];
  let versions = 0;
  const archive: OrderArchive = {
    put: async (key, body, bodyHash) => {
      calls.push('put');
      if (objects.has(key)) return undefined;
      const versionId = `v${++versions}`;
      objects.set(key, { body, bodyHash, versionId });
      return { versionId };
    },
    stored: async (key) => {
      calls.push('stored');
      const object = objects.get(key);
      return { bodyHash: object?.bodyHash, versionId: object?.versionId };
    },
    remove: async (key, versionId) => {
      calls.push(`remove ${versionId}`);
      if (objects.get(key)?.versionId === versionId) objects.delete(key);
    },
  };
  return { objects, calls, archive };
}

function setup(progress: OrderProgress = new InMemoryOrderProgress()) {
  const { objects, calls, archive } = memoryArchive();
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
  return { objects, calls, progress, count, run };
}

const KEY = 'orders/2026/01/02/client-a/order-1.json';

const redrive = () =>
  sqsRecord('', {
    messageAttributes: {
      [OPERATOR_REDRIVE.attribute]: {
        dataType: 'String',
        stringValue: OPERATOR_REDRIVE.value,
        stringListValues: [],
        binaryListValues: [],
      },
    },
  });

describe('archiveOrder', () => {
  it('writes the validated order JSON under its dated key, with its body hash, and marks the order archived', async () => {
    // Prepare
    const progress = new InMemoryOrderProgress();
    const { objects, calls, count, run } = setup(progress);
    const order = validatedOrder();
    await progress.markFlag(order, 'billed');

    // Act
    await run(order);

    // Assess
    expect(objects.get(KEY)).toEqual({
      body: JSON.stringify(order),
      bodyHash: order.body_hash,
      versionId: 'v1',
    });
    // Nothing read first: the object, then the flag write.
    expect(calls).toEqual(['put']);
    expect([...(progress.flags.get('client-a#order-1') ?? [])]).toContain('archived');
    expect(count(METRICS.ordersArchived)).toBe(1);
    expect(count(METRICS.ordersCompleted)).toBe(1);
  });

  it('writes nothing and counts no archive when the object of the same body exists already', async () => {
    // Prepare
    const progress = new InMemoryOrderProgress();
    const { count, run } = setup(progress);
    await run();

    // Act
    await run();

    // Assess
    expect(count(METRICS.ordersArchived)).toBe(1);
    expect([...(progress.flags.get('client-a#order-1') ?? [])]).toContain('archived');
  });

  it('fails on an existing object written for another body, and sets no flag', async () => {
    // Prepare
    const progress = new InMemoryOrderProgress();
    const { objects, run } = setup(progress);
    objects.set(KEY, { body: '{}', bodyHash: 'b'.repeat(64), versionId: 'v0' });

    // Act / Assess
    await expect(run()).rejects.toBeInstanceOf(OrderMismatchError);
    expect(progress.flags.size).toBe(0);
  });

  it('takes back the object of an order that is not wanted any more (FAILED), counts it, and does not fail the record', async () => {
    // Prepare
    const progress = new InMemoryOrderProgress();
    const { objects, calls, count, run } = setup(progress);
    await progress.markFailed('client-a#order-1');

    // Act
    await run();

    // Assess: its own version deleted, so flag and bucket agree
    expect(objects.size).toBe(0);
    expect(calls).toEqual(['put', 'remove v1']);
    expect(count(METRICS.sideEffectsNotWanted)).toBe(1);
    expect(count(METRICS.ordersArchived)).toBe(0);
  });

  it('keeps the object of a FAILED order that has archived set already (recorded before it failed)', async () => {
    // Prepare
    const progress = new InMemoryOrderProgress();
    const { objects, calls, run } = setup(progress);
    await run();
    await progress.markFailed('client-a#order-1');

    // Act: a late redelivery
    await run();

    // Assess
    expect(objects.get(KEY)?.versionId).toBe('v1');
    expect(calls).toEqual(['put', 'put', 'stored']);
  });

  it("puts the object back when an operator's redrive recorded the flag on it while it was being taken back", async () => {
    // Prepare: FAILED; the redrive's flag write lands between the delete and the re-read
    const inner = new InMemoryOrderProgress();
    await inner.markFailed('client-a#order-1');
    let reads = 0;
    const progress: OrderProgress = {
      markFlag: (...args) => inner.markFlag(...args),
      markFailed: (key) => inner.markFailed(key),
      hasFlag: async (order, flag) => {
        reads++;
        if (reads === 2) await inner.markFlag(order, flag, NOW, { operatorRedrive: true });
        return inner.hasFlag(order, flag);
      },
    };
    const { objects, calls, run } = setup(progress);

    // Act
    await run();

    // Assess
    expect(calls).toEqual(['put', 'remove v1', 'put']);
    expect(objects.get(KEY)?.versionId).toBe('v2');
  });

  it("has an operator's redrive that found the object put it back if a stale delivery took it away", async () => {
    // Prepare: the object exists (412) and is gone again by the time the flag is recorded
    const inner = new InMemoryOrderProgress();
    await inner.markFailed('client-a#order-1');
    const { objects, calls, run } = setup({
      markFlag: async (...args) => {
        objects.delete(KEY);
        return inner.markFlag(...args);
      },
      markFailed: (key) => inner.markFailed(key),
      hasFlag: (...args) => inner.hasFlag(...args),
    });
    objects.set(KEY, { body: JSON.stringify(validatedOrder()), bodyHash: BODY_HASH, versionId: 'v0' });

    // Act
    await run(validatedOrder(), redrive());

    // Assess
    expect(calls).toEqual(['put', 'stored', 'put']);
    expect(objects.get(KEY)?.versionId).toBe('v1');
    expect([...(inner.flags.get('client-a#order-1') ?? [])]).toEqual(['archived']);
  });

  it('takes the object back and fails the record when the stored order is another body or none', async () => {
    // Prepare
    const { objects, calls, run } = setup({
      markFlag: async () => {
        throw new OrderMismatchError(
          'client-a#order-1',
          'the stored order has another body hash than the event',
        );
      },
      markFailed: async () => false,
      hasFlag: async () => false,
    });

    // Act / Assess
    await expect(run()).rejects.toBeInstanceOf(OrderMismatchError);
    expect(objects.size).toBe(0);
    expect(calls).toEqual(['put', 'remove v1']);
  });

  it('keeps the object and fails for a retry when the flag cannot be written', async () => {
    // Prepare
    const progress = new InMemoryOrderProgress();
    progress.failWith = new DependencyUnavailableError('orders table');
    const { objects, calls, run } = setup(progress);

    // Act / Assess: the redelivery finds the object (412) and writes the flag
    await expect(run()).rejects.toBeInstanceOf(DependencyUnavailableError);
    expect(objects.size).toBe(1);
    progress.failWith = undefined;
    await run();
    expect(calls).toEqual(['put', 'put', 'stored']);
    expect([...(progress.flags.get('client-a#order-1') ?? [])]).toEqual(['archived']);
  });

  it("archives a FAILED order on the operator's redrive that says so", async () => {
    // Prepare
    const progress = new InMemoryOrderProgress();
    const { objects, count, run } = setup(progress);
    await progress.markFailed('client-a#order-1');

    // Act
    await run(validatedOrder(), redrive());

    // Assess
    expect(objects.size).toBe(1);
    expect(count(METRICS.sideEffectsNotWanted)).toBe(0);
  });
});
