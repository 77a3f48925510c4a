import { InjectedFailureError, MalformedEventError } from './errors';
import { orderEventRecordHandler, type ConsumerRuntime } from './consumer';
import { METRICS } from './runtime-contract';
import {
  NOW,
  orderPlacedBody,
  recordingMetrics,
  silentLogger,
  sqsRecord,
  validatedOrder,
} from '../testing/fixtures';

function runtime(failureInjectionRate: number, draw = 0.5) {
  const { metrics, count } = recordingMetrics();
  const random = jest.fn(() => draw);
  const deps: ConsumerRuntime = {
    failureInjectionRate,
    random,
    now: () => NOW,
    logger: silentLogger(),
    metrics,
  };
  return { deps, count, random };
}

describe('orderEventRecordHandler', () => {
  it('hands the parsed event to the consumer when the injection rate is 0', async () => {
    // Prepare
    const { deps } = runtime(0, 0);
    const process = jest.fn(async () => undefined);

    // Act
    await orderEventRecordHandler(process, deps)(sqsRecord(orderPlacedBody()));

    // Assess
    expect(process).toHaveBeenCalledWith(
      { version: 1, type: 'OrderPlaced', order: validatedOrder() },
      expect.objectContaining({ messageId: 'msg-1' }),
    );
  });

  it('fails every record before any side effect when the rate is 1', async () => {
    // Prepare
    const { deps, count } = runtime(1, 0.999999);
    const process = jest.fn(async () => undefined);

    // Act / Assess
    await expect(orderEventRecordHandler(process, deps)(sqsRecord(orderPlacedBody()))).rejects.toBeInstanceOf(
      InjectedFailureError,
    );
    expect(process).not.toHaveBeenCalled();
    expect(count(METRICS.injectedFailures)).toBe(1);
    expect(count(METRICS.recordFailures)).toBe(1);
  });

  it('fails a record exactly when the draw falls under the rate', async () => {
    // Prepare
    const process = jest.fn(async () => undefined);
    const under = runtime(0.3, 0.29);
    const over = runtime(0.3, 0.3);

    // Act / Assess
    await expect(
      orderEventRecordHandler(process, under.deps)(sqsRecord(orderPlacedBody())),
    ).rejects.toThrow();
    await expect(
      orderEventRecordHandler(process, over.deps)(sqsRecord(orderPlacedBody())),
    ).resolves.toBeUndefined();
    expect(process).toHaveBeenCalledTimes(1);
  });

  it.each([
    ['not JSON', 'nope'],
    ['another event type', JSON.stringify({ version: 1, type: 'OrderCancelled', order: validatedOrder() })],
    ['an order without total', JSON.stringify({ version: 1, type: 'OrderPlaced', order: { order_id: 'x' } })],
  ])('fails a record whose body is %s, as MalformedEventError', async (_name, body) => {
    // Prepare
    const { deps } = runtime(0);
    const process = jest.fn(async () => undefined);

    // Act / Assess
    await expect(orderEventRecordHandler(process, deps)(sqsRecord(body))).rejects.toBeInstanceOf(
      MalformedEventError,
    );
    expect(process).not.toHaveBeenCalled();
  });

  it("passes the consumer's own failure on (so the record is retried)", async () => {
    // Prepare
    const { deps, count } = runtime(0);
    const failure = new Error('table down');

    // Act / Assess
    await expect(
      orderEventRecordHandler(async () => Promise.reject(failure), deps)(sqsRecord(orderPlacedBody())),
    ).rejects.toBe(failure);
    expect(count(METRICS.recordFailures)).toBe(1);
  });
});
