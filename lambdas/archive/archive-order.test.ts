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

/**
 * A versioned bucket in memory: each key's history of versions and delete markers; a write only
 * if no current object (If-None-Match), a withdrawal adds a delete marker.
 */
function memoryArchive() {
  type Entry = { body: string; bodyHash: string } | 'marker';
  const history = new Map<string, Entry[]>();
  const calls: string[] = [];
  const current = (key: string) => {
    const latest = history.get(key)?.at(-1);
    return latest === undefined || latest === 'marker' ? undefined : latest;
  };
  const add = (key: string, entry: Entry) => history.set(key, [...(history.get(key) ?? []), entry]);
  const archive: OrderArchive = {
    put: async (key, body, bodyHash) => {
      calls.push('put');
      if (current(key)) return false;
      add(key, { body, bodyHash });
      return true;
    },
    bodyHashOf: async (key) => {
      calls.push('head');
      return current(key)?.bodyHash;
    },
    withdraw: async (key) => {
      calls.push('withdraw');
      add(key, 'marker');
    },
  };
  /** Versions written under a key (delete markers apart). */
  const versions = (key: string) => (history.get(key) ?? []).filter((entry) => entry !== 'marker').length;
  return { history, calls, current, versions, add, archive };
}

function setup(progress: OrderProgress = new InMemoryOrderProgress()) {
  const bucket = memoryArchive();
  const { archive } = bucket;
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
  return { ...bucket, progress, count, run };
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
  const ORDER_KEY = 'client-a#order-1';
  const flagsOf = (progress: InMemoryOrderProgress) => [...(progress.flags.get(ORDER_KEY) ?? [])];

  it('writes the validated order JSON under its dated key, with its body hash, and marks the order archived', async () => {
    // Prepare
    const progress = new InMemoryOrderProgress();
    const { current, calls, count, run } = setup(progress);
    const order = validatedOrder();
    await progress.markFlag(order, 'billed');

    // Act
    await run(order);

    // Assess
    expect(current(KEY)).toEqual({ body: JSON.stringify(order), bodyHash: order.body_hash });
    // Nothing read first: the object, then the flag write.
    expect(calls).toEqual(['put']);
    expect(flagsOf(progress)).toContain('archived');
    expect(count(METRICS.ordersArchived)).toBe(1);
    expect(count(METRICS.ordersCompleted)).toBe(1);
  });

  it('writes nothing and counts no archive when the object of the same body exists already', async () => {
    // Prepare
    const progress = new InMemoryOrderProgress();
    const { versions, count, run } = setup(progress);
    await run();

    // Act
    await run();

    // Assess
    expect(versions(KEY)).toBe(1);
    expect(count(METRICS.ordersArchived)).toBe(1);
    expect(flagsOf(progress)).toContain('archived');
  });

  it('fails on an existing object written for another body, and sets no flag', async () => {
    // Prepare
    const progress = new InMemoryOrderProgress();
    const { add, run } = setup(progress);
    add(KEY, { body: '{}', bodyHash: 'b'.repeat(64) });

    // Act / Assess
    await expect(run()).rejects.toBeInstanceOf(OrderMismatchError);
    expect(progress.flags.size).toBe(0);
  });

  it('takes back the object of an order that is not wanted any more (FAILED), counts it, and does not fail the record', async () => {
    // Prepare
    const progress = new InMemoryOrderProgress();
    const { current, calls, count, run } = setup(progress);
    await progress.markFailed(ORDER_KEY);

    // Act
    await run();

    // Assess: under a delete marker, so flag and bucket agree
    expect(current(KEY)).toBeUndefined();
    expect(calls).toEqual(['put', 'withdraw']);
    expect(count(METRICS.sideEffectsNotWanted)).toBe(1);
    expect(count(METRICS.ordersArchived)).toBe(0);
  });

  it('keeps the object of a FAILED order that has archived set already (recorded before it failed)', async () => {
    // Prepare
    const progress = new InMemoryOrderProgress();
    const { current, calls, run } = setup(progress);
    await run();
    await progress.markFailed(ORDER_KEY);

    // Act: a late redelivery
    await run();

    // Assess
    expect(current(KEY)).toBeDefined();
    expect(calls).toEqual(['put', 'put', 'head']);
  });

  it("puts the object back when an operator's redrive recorded the flag on it while it was being taken back", async () => {
    // Prepare: FAILED; the redrive's flag write lands between the withdrawal and the re-read
    const inner = new InMemoryOrderProgress();
    await inner.markFailed(ORDER_KEY);
    const progress: OrderProgress = {
      markFlag: (...args) => inner.markFlag(...args),
      markFailed: (key) => inner.markFailed(key),
      hasFlag: async (order, flag) => {
        await inner.markFlag(order, flag, NOW, { operatorRedrive: true });
        return inner.hasFlag(order, flag);
      },
    };
    const { current, calls, run } = setup(progress);

    // Act
    await run();

    // Assess
    expect(calls).toEqual(['put', 'withdraw', 'put']);
    expect(current(KEY)).toBeDefined();
  });

  it.each([
    ['found', true],
    ['wrote itself', false],
  ])(
    "has an operator's redrive put the object it %s back when a stale delivery took it away before the flag",
    async (_how, existed) => {
      // Prepare: a stale delivery withdraws the object while the redrive writes its flag
      const inner = new InMemoryOrderProgress();
      await inner.markFailed(ORDER_KEY);
      const bucket: { add?: (key: string, entry: 'marker') => void } = {};
      const { add, current, calls, run } = setup({
        markFlag: async (...args) => {
          bucket.add?.(KEY, 'marker');
          return inner.markFlag(...args);
        },
        markFailed: (key) => inner.markFailed(key),
        hasFlag: (...args) => inner.hasFlag(...args),
      });
      bucket.add = add;
      if (existed) add(KEY, { body: JSON.stringify(validatedOrder()), bodyHash: BODY_HASH });

      // Act
      await run(validatedOrder(), redrive());

      // Assess
      expect(calls).toEqual(existed ? ['put', 'head', 'put'] : ['put', 'put']);
      expect(current(KEY)).toBeDefined();
      expect(flagsOf(inner)).toEqual(['archived']);
    },
  );

  it('takes back an object it wrote and fails the record when the stored order is another body or none', async () => {
    // Prepare
    const { current, calls, run } = setup({
      markFlag: async () => {
        throw new OrderMismatchError(ORDER_KEY, 'the order does not exist');
      },
      markFailed: async () => false,
      hasFlag: async () => false,
    });

    // Act / Assess
    await expect(run()).rejects.toBeInstanceOf(OrderMismatchError);
    expect(current(KEY)).toBeUndefined();
    expect(calls).toEqual(['put', 'withdraw']);
  });

  it('keeps an object it found when the order is missing: it may be the archive a restore replays from', async () => {
    // Prepare
    const { add, current, calls, run } = setup({
      markFlag: async () => {
        throw new OrderMismatchError(ORDER_KEY, 'the order does not exist');
      },
      markFailed: async () => false,
      hasFlag: async () => false,
    });
    add(KEY, { body: JSON.stringify(validatedOrder()), bodyHash: BODY_HASH });

    // Act / Assess
    await expect(run()).rejects.toBeInstanceOf(OrderMismatchError);
    expect(current(KEY)).toBeDefined();
    expect(calls).toEqual(['put', 'head']);
  });

  it('keeps the object and fails for a retry when the flag cannot be written', async () => {
    // Prepare
    const progress = new InMemoryOrderProgress();
    progress.failWith = new DependencyUnavailableError('orders table');
    const { current, calls, run } = setup(progress);

    // Act / Assess: the redelivery finds the object (412) and writes the flag
    await expect(run()).rejects.toBeInstanceOf(DependencyUnavailableError);
    expect(current(KEY)).toBeDefined();
    progress.failWith = undefined;
    await run();
    expect(calls).toEqual(['put', 'put', 'head']);
    expect(flagsOf(progress)).toEqual(['archived']);
  });

  it("archives a FAILED order on the operator's redrive that says so", async () => {
    // Prepare
    const progress = new InMemoryOrderProgress();
    const { current, count, run } = setup(progress);
    await progress.markFailed(ORDER_KEY);

    // Act
    await run(validatedOrder(), redrive());

    // Assess
    expect(current(KEY)).toBeDefined();
    expect(count(METRICS.sideEffectsNotWanted)).toBe(0);
  });
});
