import { METRICS, type FailedOrderRecord, type SubmittedOrder } from '../shared/runtime-contract';
import { NOW, recordingMetrics, silentLogger } from '../testing/fixtures';
import { sweep, type PendingOrder, type ReconcilerDependencies, type ReconcilerSettings } from './reconcile';

const SETTINGS: ReconcilerSettings = {
  acceptedDeadlineMs: 200_000,
  publishedDeadlineMs: 900_000,
  maxRestarts: 3,
  sweepLimit: 100,
};

const submitted = (orderId: string): SubmittedOrder => ({
  order_id: orderId,
  client_id: 'client-a',
  customer_id: 'c',
  market: 'us',
  currency: 'USD',
  items: [{ product_id: 'p', quantity: 1, unit_price: 1 }],
  created_at: NOW.toISOString(),
  body_hash: 'a'.repeat(64),
});

function pending(orderId: string, overrides: Partial<PendingOrder> = {}): PendingOrder {
  return {
    order_key: `client-a#${orderId}`,
    order_id: orderId,
    client_id: 'client-a',
    status: 'ACCEPTED',
    started_at: NOW.getTime() - 300_000,
    restart_attempts: 0,
    submitted_json: JSON.stringify(submitted(orderId)),
    ...overrides,
  };
}

/** The orders table as the sweep sees it, in memory, with the conditions of DynamoPendingOrders. */
function setup(orders: PendingOrder[]) {
  const table = new Map(orders.map((order) => [order.order_key, { ...order }]));
  const started: Array<{ order: SubmittedOrder; attempt: number }> = [];
  const failures: FailedOrderRecord[] = [];
  const { metrics, count } = recordingMetrics();
  const queried: Array<{ before: number; limit: number }> = [];
  const deps: ReconcilerDependencies = {
    stale: async (before, limit) => {
      queried.push({ before, limit });
      return [...table.values()]
        .filter((order) => !['COMPLETED', 'FAILED', 'REJECTED'].includes(order.status))
        .filter((order) => order.started_at < before)
        .sort((a, b) => a.started_at - b.started_at)
        .slice(0, limit)
        .map((order) => order.order_key);
    },
    read: async (key) => {
      const order = table.get(key);
      return order && { ...order };
    },
    claimRestart: async (order, now) => {
      const current = table.get(order.order_key);
      if (current?.status !== order.status || current.started_at !== order.started_at) return false;
      table.set(order.order_key, {
        ...current,
        started_at: now,
        restart_attempts: current.restart_attempts + 1,
      });
      return true;
    },
    markFailed: async (order) => {
      const current = table.get(order.order_key);
      if (current?.status !== order.status || current.started_at !== order.started_at) return false;
      table.set(order.order_key, { ...current, status: 'FAILED' });
      return true;
    },
    recordFailure: async (failure) => {
      failures.push(failure);
    },
    start: async (order, attempt) => {
      started.push({ order, attempt });
    },
    now: () => NOW,
    settings: SETTINGS,
    logger: silentLogger(),
    metrics,
  };
  return { deps, table, started, failures, count, queried };
}

describe('sweep', () => {
  it('restarts an ACCEPTED order past its deadline, and a PUBLISHED one past every consumer redrive, with a new execution name', async () => {
    // Prepare
    const { deps, table, started, count } = setup([
      pending('o-1'),
      pending('o-2', { status: 'PUBLISHED', restart_attempts: 1, started_at: NOW.getTime() - 1_000_000 }),
    ]);

    // Act
    const result = await sweep(deps);

    // Assess
    // Oldest start first.
    expect(result.restarted).toEqual(['client-a#o-2', 'client-a#o-1']);
    expect(started).toEqual([
      { order: submitted('o-2'), attempt: 2 },
      { order: submitted('o-1'), attempt: 1 },
    ]);
    expect(table.get('client-a#o-1')?.started_at).toBe(NOW.getTime());
    expect(count(METRICS.stuckOrders)).toBe(2);
    expect(count(METRICS.ordersRestarted)).toBe(2);
  });

  it('leaves orders alone within their deadline: a live run, or a PUBLISHED order its consumers still work on', async () => {
    // Prepare
    const { deps, started, count } = setup([
      pending('young', { started_at: NOW.getTime() - 100_000 }),
      pending('consuming', { status: 'PUBLISHED', started_at: NOW.getTime() - 300_000 }),
    ]);

    // Act
    const result = await sweep(deps);

    // Assess
    expect(result).toEqual({ examined: 1, restarted: [], failed: [] });
    expect(started).toEqual([]);
    expect(count(METRICS.stuckOrders)).toBe(0);
  });

  it('marks an order FAILED, with a failed-orders row first, once its restarts are used up', async () => {
    // Prepare
    const { deps, table, started, failures } = setup([pending('o-1', { restart_attempts: 3 })]);

    // Act
    const result = await sweep(deps);

    // Assess
    expect(result.failed).toEqual(['client-a#o-1']);
    expect(started).toEqual([]);
    expect(table.get('client-a#o-1')?.status).toBe('FAILED');
    expect(failures).toEqual([
      expect.objectContaining({
        order_key: 'client-a#o-1',
        source: 'reconciler',
        failure_id: `reconciler#ACCEPTED#${NOW.getTime() - 300_000}`,
        error: expect.stringContaining('not finished after 3 restart(s)'),
      }),
    ]);
  });

  it('marks a PUBLISHED order FAILED past every consumer redrive once its restarts are used up', async () => {
    // Prepare
    const { deps, table, failures, started } = setup([
      pending('o-1', { status: 'PUBLISHED', started_at: NOW.getTime() - 1_000_000, restart_attempts: 3 }),
    ]);

    // Act
    await sweep(deps);

    // Assess
    expect(started).toEqual([]);
    expect(table.get('client-a#o-1')?.status).toBe('FAILED');
    expect(failures[0]?.error).toMatch(
      /^PUBLISHED without its side effects .*not finished after 3 restart\(s\)/,
    );
  });

  it('does not publish again a PUBLISHED order one consumer has recorded: it fails it past every redrive', async () => {
    // Prepare
    const { deps, table, failures, started } = setup([
      pending('o-1', {
        status: 'PUBLISHED',
        started_at: NOW.getTime() - 1_000_000,
        side_effects_started: true,
      }),
    ]);

    // Act
    await sweep(deps);

    // Assess
    expect(started).toEqual([]);
    expect(table.get('client-a#o-1')?.status).toBe('FAILED');
    expect(failures[0]?.error).toMatch(/^PUBLISHED without its side effects/);
  });

  it('starts nothing when a replay claimed the order between the read and the claim', async () => {
    // Prepare
    const { deps, table, started } = setup([pending('o-1')]);
    const read = deps.read;
    deps.read = async (key) => {
      const order = await read(key);
      const current = table.get(key);
      if (current) table.set(key, { ...current, started_at: NOW.getTime() - 1 });
      return order;
    };

    // Act
    const result = await sweep(deps);

    // Assess
    expect(result.restarted).toEqual([]);
    expect(started).toEqual([]);
  });

  it('does a bounded amount of work: at most sweepLimit orders, oldest first', async () => {
    // Prepare
    const orders = Array.from({ length: 5 }, (_, index) =>
      pending(`o-${index}`, { started_at: NOW.getTime() - 300_000 - index }),
    );
    const { deps, started, queried } = setup(orders);
    deps.settings = { ...SETTINGS, sweepLimit: 2 };

    // Act
    await sweep(deps);

    // Assess
    expect(queried).toEqual([{ before: NOW.getTime() - SETTINGS.acceptedDeadlineMs, limit: 2 }]);
    expect(started.map(({ order }) => order.order_id)).toEqual(['o-4', 'o-3']);
  });

  it('fails the order it cannot restart for want of its submitted body, rather than leaving it stuck', async () => {
    // Prepare
    const { deps, table } = setup([pending('o-1', { submitted_json: undefined })]);

    // Act
    await sweep(deps);

    // Assess
    expect(table.get('client-a#o-1')?.status).toBe('FAILED');
  });
});

describe('sweep, when a dependency fails', () => {
  it('goes on with the other orders, counts the failure, and fails the sweep at the end', async () => {
    // Prepare
    const { deps, started, count } = setup([
      pending('o-1', { started_at: NOW.getTime() - 300_001 }),
      pending('o-2'),
    ]);
    const start = deps.start;
    deps.start = async (order, attempt) => {
      if (order.order_id === 'o-1') throw new Error('ThrottlingException');
      return start(order, attempt);
    };

    // Act / Assess
    await expect(sweep(deps)).rejects.toThrow('reconciler (1 of 2 orders)');
    expect(started.map(({ order }) => order.order_id)).toEqual(['o-2']);
    expect(count(METRICS.dependencyFailures)).toBe(1);
  });
});
