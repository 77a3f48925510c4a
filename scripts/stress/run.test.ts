import type { OrderRow, RequestOutcome } from './accounting';
import { awaitTerminal, observeOutcomes } from './run';

function outcome(index: number, orderId: string, status: number): RequestOutcome {
  return {
    index,
    kind: 'valid',
    orderId,
    startedMs: 0,
    latencyMs: 5,
    status,
    ...(status === 202 ? { acceptedOrderId: orderId } : {}),
  };
}

/** An orders table whose items change with each read, as the pipeline moves them on. */
function tableOverReads(reads: Array<Record<string, OrderRow['status']>>) {
  let read = 0;
  const asked: string[][] = [];
  return {
    asked,
    observer: {
      orders: async (orderIds: readonly string[]) => {
        asked.push([...orderIds]);
        const items = reads[Math.min(read++, reads.length - 1)] ?? {};
        return new Map(
          orderIds
            .filter((orderId) => items[orderId] !== undefined)
            .map((orderId): [string, OrderRow] => [orderId, { order_id: orderId, status: items[orderId]! }]),
        );
      },
    },
  };
}

describe('awaitTerminal', () => {
  it("waits for an ambiguous answer's order that turns up, until it is terminal", async () => {
    // Prepare: o-2's answer was lost; its order appears on the second read, while o-1 is still
    // running, and ends on the fourth, after o-1.
    const { observer } = tableOverReads([
      { 'o-1': 'PUBLISHED' },
      { 'o-1': 'PUBLISHED', 'o-2': 'ACCEPTED' },
      { 'o-1': 'COMPLETED', 'o-2': 'ACCEPTED' },
      { 'o-1': 'COMPLETED', 'o-2': 'COMPLETED' },
    ]);
    const outcomes = [outcome(0, 'o-1', 202), outcome(1, 'o-2', 0)];
    const seen: string[] = [];
    // Act
    const result = await awaitTerminal(observer, outcomes, {
      deadlineMs: 5_000,
      pollIntervalMs: 1,
      onProgress: (done, total) => seen.push(`${done}/${total}`),
    });
    // Assess
    expect(result.deadlineReached).toBe(false);
    expect(seen).toEqual(['0/1', '0/2', '1/2', '2/2']);
  });

  it('does not wait for an ambiguous answer whose order never appears', async () => {
    // Prepare
    const { observer, asked } = tableOverReads([{ 'o-1': 'COMPLETED' }]);
    // Act
    const result = await awaitTerminal(observer, [outcome(0, 'o-1', 202), outcome(1, 'o-2', 503)], {
      deadlineMs: 5_000,
      pollIntervalMs: 1,
    });
    // Assess
    expect(result.deadlineReached).toBe(false);
    expect(asked).toEqual([['o-1', 'o-2']]);
  });

  it('reports the deadline when an accepted order stays non-terminal', async () => {
    // Prepare
    const { observer } = tableOverReads([{ 'o-1': 'PUBLISHED' }]);
    // Act
    const result = await awaitTerminal(observer, [outcome(0, 'o-1', 202)], {
      deadlineMs: 20,
      pollIntervalMs: 5,
    });
    // Assess
    expect(result.deadlineReached).toBe(true);
  });
});

describe('observeOutcomes', () => {
  it("reads the side effects of the orders behind 202s and of the ambiguous answers' orders found", async () => {
    // Prepare
    const { observer: table } = tableOverReads([{ 'o-1': 'COMPLETED', 'o-2': 'COMPLETED' }]);
    const asked: Record<string, string[]> = {};
    const record = (what: string) => async (orderIds: readonly string[]) => {
      asked[what] = [...orderIds];
      return [];
    };
    const observer = {
      ...table,
      billingRecords: record('billing'),
      failedOrderRows: record('failed'),
      archiveVersions: async (orders: ReadonlyMap<string, unknown>) => {
        asked.archive = [...orders.keys()];
        return [];
      },
    };
    // Act
    await observeOutcomes(observer, [outcome(0, 'o-1', 202), outcome(1, 'o-2', 503), outcome(2, 'o-3', 0)]);
    // Assess
    expect(asked).toEqual({ billing: ['o-1', 'o-2'], failed: ['o-1', 'o-2'], archive: ['o-1', 'o-2'] });
  });
});
